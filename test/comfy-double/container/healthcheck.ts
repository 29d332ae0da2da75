/**
 * The recipe's healthcheck (assets/docker/comfyui-qwen/comfy-healthcheck): ComfyUI is up when
 * GET /system_stats with Accept: application/json answers 200 (redirects followed, as urllib
 * does) or 401 (the API is there and wants a token). Exit 0 healthy, 1 otherwise. node:http,
 * not fetch: loading undici costs a second, which a loaded machine cannot spare inside the
 * healthcheck's timeout.
 */
import { get } from 'node:http';

function probe(url: string, hops: number): void {
  get(url, { headers: { Accept: 'application/json' }, timeout: 4000 }, (res) => {
    res.resume();
    const next = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && next && hops > 0) return probe(new URL(next, url).href, hops - 1);
    process.exit(res.statusCode === 200 || res.statusCode === 401 ? 0 : 1);
  })
    .on('timeout', () => process.exit(1))
    .on('error', () => process.exit(1));
}

probe('http://127.0.0.1:8188/system_stats', 5);
