/** `comfy-panel serve` (browser mode) as a child process, the host of the core the renderer and memory figures measure. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { packageRoot } from '../../app/package-root.js';
import { LOGIN_URL_PATH } from '../../app/serve/server.js';

const ROOT = packageRoot();
const BUILT = ['dist/cli.mjs', 'dist/renderer/index.html'];
let built: Promise<void> | undefined;

/** Builds the CLI and the renderer once per bench run; with build off, only checks they exist. */
export function ensureBuilt(build: boolean): Promise<void> {
  built ??= (async () => {
    if (build) for (const job of ['cli', 'renderer']) await promisify(execFile)(process.execPath, ['scripts/build.mjs', job], { cwd: ROOT });
    const missing = BUILT.filter((f) => !existsSync(path.join(ROOT, f)));
    if (missing.length) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` (or leave BENCH_BUILD unset)`);
  })();
  return built;
}

export interface ServeProcess {
  child: ChildProcess;
  /** The printed sign-in link (works once). */
  url: string;
  origin: string;
  /** Authorization header value for scripted calls (the printed launch key as a Bearer token). */
  auth: string;
  /** SIGTERM, then SIGKILL after STOP_GRACE_MS; tells whether SIGTERM alone ended it. */
  stop(): Promise<{ exitedOnSigterm: boolean }>;
}

const STOP_GRACE_MS = 5_000;

/**
 * Starts `node bin/comfy-panel.mjs serve --port 0 --json` with COMFY_PANEL_HOME in a fresh
 * folder holding `config`, and waits for the printed URL. `ipc` opens a channel to the child
 * (for the memory reporter loaded through nodeOptions).
 */
export async function startServe(opts: { config: object; nodeOptions?: string; ipc?: boolean }): Promise<ServeProcess> {
  const home = await mkdtemp(path.join(tmpdir(), 'bench-serve-'));
  await writeFile(path.join(home, 'config.json'), JSON.stringify(opts.config));
  const env = { ...process.env, COMFY_PANEL_HOME: home, ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}) };
  const child = spawn(process.execPath, ['bin/comfy-panel.mjs', 'serve', '--port', '0', '--json'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? (['ipc'] as const) : [])],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2000)));
  const stop = async () => {
    let exitedOnSigterm = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        exitedOnSigterm = false;
        child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
    return { exitedOnSigterm };
  };
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`comfy-panel serve exited with ${code} before printing its URL: ${stderr.trim()}`)));
    });
    const { url, key } = JSON.parse(first) as { url: string; key: string };
    return { child, url, origin: new URL(url).origin, auth: `Bearer ${key}`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A new sign-in link from the launch key (each link works once: one per cold load). */
export async function signInLink(serve: ServeProcess): Promise<string> {
  const res = await fetch(`${serve.origin}${LOGIN_URL_PATH}`, { method: 'POST', headers: { Authorization: serve.auth } });
  return ((await res.json()) as { url: string }).url;
}

/** Stops the child, saying so when it ignored SIGTERM (a host that cannot shut down cleanly is worth knowing). */
export async function stopServe(serve: ServeProcess, progress: (line: string) => void): Promise<void> {
  const { exitedOnSigterm } = await serve.stop();
  if (!exitedOnSigterm) progress(`comfy-panel serve did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM; killed it`);
}
