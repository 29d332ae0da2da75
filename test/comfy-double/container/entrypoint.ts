/**
 * PID 1 of the double's image, mimicking the real recipe's entrypoint: installs the password
 * from a mounted secret file at every start, refuses to start unauthenticated when auth is
 * required, then runs ComfyUI (the double) as a child whose exit status becomes the container's.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { applyLoginFlag, loginNodeInstalled } from '../login-node.js';

const ROOT = '/workspace/ComfyUI';
const args = process.argv.slice(2);

const secret = process.env.COMFYUI_SECRET_FILE;
if (secret) {
  try {
    copyFileSync(secret, join(ROOT, 'login', 'PASSWORD'));
    chmodSync(join(ROOT, 'login', 'PASSWORD'), 0o600);
    console.log(`[entrypoint] login/PASSWORD installed from ${secret}`);
  } catch (e) {
    console.log(`[entrypoint] COMFYUI_SECRET_FILE=${secret} is not readable (${(e as NodeJS.ErrnoException).code}); keeping the existing login/PASSWORD`);
  }
}

// --no-login plays an image built without the login node: remove it before the guard looks.
if (args.includes('--no-login')) applyLoginFlag(ROOT, false);
if (process.env.COMFYUI_AUTH_REQUIRED === '1' && !loginNodeInstalled(ROOT)) {
  console.error(`[entrypoint] COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing (${ROOT}/custom_nodes/ComfyUI-Login): refusing to serve ComfyUI without authentication.`);
  process.exit(1);
}

const child = spawn(process.execPath, ['/app/comfy-double.mjs', '--dir', ROOT, '--host', '0.0.0.0', '--port', '8188', ...args], { stdio: 'inherit' });
writeFileSync('/tmp/comfyui.pid', String(child.pid));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) console.error(`[entrypoint] ComfyUI was killed by ${signal}`);
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1));
});
