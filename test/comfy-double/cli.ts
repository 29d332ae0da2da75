/**
 * Runs the ComfyUI double in the foreground, logging like ComfyUI on stdout:
 *   npm run comfy-double -- --port 8188 --dir /tmp/comfy [--no-login] [--sampler-ms 3000] [--host 0.0.0.0]
 *     [--login-node-version pre-token] [--login-import-failed] [--cors-origin ORIGIN | --enable-cors-header [ORIGIN]]
 * (the modes also come from COMFY_DOUBLE_LOGIN_NODE_VERSION, COMFY_DOUBLE_LOGIN_IMPORT_FAILED=1,
 * COMFY_DOUBLE_CORS_ORIGIN). SIGTERM / SIGINT close it promptly (exit 0).
 */
import { CommanderError } from 'commander';
import { parseDoubleArgs } from './cli-options.js';
import { startComfyDouble } from './server.js';

let opts;
try {
  opts = parseDoubleArgs(process.argv.slice(2));
} catch (e) {
  process.exit(e instanceof CommanderError ? e.exitCode : 2);
}
const comfy = await startComfyDouble({ ...opts, log: (line) => process.stdout.write(`${line}\n`) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void comfy.close().then(() => process.exit(0));
  });
}
