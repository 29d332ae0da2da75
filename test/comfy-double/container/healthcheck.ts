/**
 * The recipe's healthcheck (assets/docker/comfyui-qwen/comfy-healthcheck): ComfyUI is up when
 * GET /system_stats with Accept: application/json answers 200 (redirects followed, as urllib
 * does) or 401 (the API is there and wants a token). Exit 0 healthy, 1 otherwise.
 */
export {};
try {
  const res = await fetch('http://127.0.0.1:8188/system_stats', { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  process.exit(res.status === 200 || res.status === 401 ? 0 : 1);
} catch {
  process.exit(1);
}
