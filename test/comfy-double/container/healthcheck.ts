/**
 * The recipe's healthcheck: ComfyUI is up when /system_stats answers 200, or 401 (the API is
 * there and wants a token). Exit 0 healthy, 1 otherwise.
 */
import { get } from 'node:http';

get('http://127.0.0.1:8188/system_stats', { timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 || res.statusCode === 401 ? 0 : 1);
})
  .on('timeout', () => process.exit(1))
  .on('error', () => process.exit(1));
