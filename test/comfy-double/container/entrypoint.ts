/**
 * The double image's entrypoint, run by tini (PID 1) like the recipe's entrypoint.sh, with the
 * same contract (assets/docker/comfyui-qwen/entrypoint.sh):
 *  1. with COMFYUI_SECRET_FILE: refuse (exit 1) when it is missing or unreadable by this uid;
 *     else `umask 077` and install it as login/PASSWORD (0600, trailing newlines dropped) by
 *     write-then-rename, at every start. The umask stays for ComfyUI, as after the shell's exec.
 *  2. with COMFYUI_AUTH_REQUIRED=1: refuse when the login node or login/PASSWORD is missing;
 *  3. "exec" ComfyUI: the double runs in this same process (its pid in /tmp/comfyui.pid) with no
 *     signal handlers, so SIGTERM from `docker stop` ends it at once and tini exits 143.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { parseDoubleArgs } from '../cli-options.js';
import { installLoginNode, LOGIN_NODE_DIR, loginNodeInstalled } from '../login-node.js';
import { startComfyDouble } from '../server.js';

const ROOT = process.env.COMFYUI_ROOT ?? '/workspace/ComfyUI';
const LOGIN_DIR = join(ROOT, 'login');
const args = process.argv.slice(2);
const refuse = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};

const secret = process.env.COMFYUI_SECRET_FILE;
if (secret) {
  try {
    accessSync(secret, constants.R_OK);
    if (statSync(secret).isDirectory()) throw new Error('a directory');
  } catch {
    refuse(`[entrypoint] COMFYUI_SECRET_FILE=${secret} is missing or not readable by uid ${process.getuid?.() ?? '?'}; mount the secret file there read-only, readable by this user`);
  }
  mkdirSync(LOGIN_DIR, { recursive: true });
  process.umask(0o077);
  const tmp = join(LOGIN_DIR, `.PASSWORD.${process.pid}`);
  // $(cat) drops every trailing newline and keeps the one between hash and user name.
  writeFileSync(tmp, readFileSync(secret, 'utf8').replace(/\n+$/, ''));
  chmodSync(tmp, 0o600);
  renameSync(tmp, join(LOGIN_DIR, 'PASSWORD'));
  console.log(`[entrypoint] login/PASSWORD installed from ${secret}`);
}

let opts;
try {
  opts = parseDoubleArgs(['--dir', ROOT, '--host', '0.0.0.0', '--port', '8188', ...args]);
} catch (e) {
  process.exit(e instanceof CommanderError ? e.exitCode : 2);
}

// --no-login plays an image built without the login node: remove it before the guard looks.
if (opts.login === false) installLoginNode(ROOT, false);
if (process.env.COMFYUI_AUTH_REQUIRED === '1') {
  if (!loginNodeInstalled(ROOT)) {
    refuse(`[entrypoint] COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing (${join(ROOT, LOGIN_NODE_DIR)}): refusing to serve ComfyUI without authentication.`);
  }
  const pw = join(LOGIN_DIR, 'PASSWORD');
  if (!existsSync(pw) || statSync(pw).size === 0) {
    // Without a PASSWORD file ComfyUI-Login lets the first visitor choose the password.
    refuse(`[entrypoint] COMFYUI_AUTH_REQUIRED=1 but ${LOGIN_DIR}/PASSWORD is missing: set COMFYUI_SECRET_FILE to the mounted secret; refusing to start.`);
  }
}

process.chdir(ROOT);
writeFileSync('/tmp/comfyui.pid', String(process.pid));
await startComfyDouble({ ...opts, log: (line) => process.stdout.write(`${line}\n`) });
