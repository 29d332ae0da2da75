/**
 * `comfy-panel serve` against a hostile ComfyUI (issue 16 item 4): its RSS after a while of
 * health sweeps and auth probes against a server whose answers never end, against the same
 * host in the same run talking to no ComfyUI at all (idle). Both run side by side for
 * BENCH_SERVE_SECONDS, driven alike; memory is read after gc by the reporter.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Vault } from '../../app/tokens/vault.js';
import { startHostileComfy } from '../../test/hostile/server.js';
import { measurement, type Figure } from '../measurement.js';
import { ensureBuilt, startServe, stopServe, type ServeProcess } from '../support/serve.js';

const REPORTER = fileURLToPath(new URL('../support/memory-reporter.cjs', import.meta.url));
const MB = 1024 * 1024;
const DRIVE_EVERY_MS = 2_000;

function memoryOf(child: ChildProcess): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the serve process did not report its memory')), 10_000);
    child.once('message', (m: { type?: string; usage?: NodeJS.MemoryUsage }) => {
      clearTimeout(timer);
      if (m.type === 'memory' && m.usage) resolve(m.usage);
      else reject(new Error('unexpected message from the serve process'));
    });
    child.send('memory');
  });
}

/** What the UI would keep asking for: a sweep and a probe burst. Failures are expected (the server is broken). */
async function drive(serve: ServeProcess): Promise<void> {
  const call = (name: string, input: unknown) =>
    fetch(`${serve.origin}/api/op/${name}`, { method: 'POST', headers: { Authorization: serve.auth, 'Content-Type': 'application/json' }, body: JSON.stringify(input) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  await Promise.all([call('healthRun', {}), call('healthProbe', { requests: 20 })]);
}

/** A port nobody listens on: the idle host's ComfyUI. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export const serveFigure: Figure = {
  id: 'serve',
  title: 'serve memory against a ComfyUI whose answers never end',
  async run(sizes, progress) {
    await ensureBuilt(sizes.build);
    const hostile = await startHostileComfy({ '/system_stats': { kind: 'endless' }, '/queue': { kind: 'endless' }, '/object_info': { kind: 'endless' } });
    // Both hosts hold a credential, so the auth probes run (with the token) as in production.
    const vaultDir = await mkdtemp(path.join(tmpdir(), 'bench-serve-vault-'));
    await new Vault(vaultDir).write({ current: { hash: `$2b$12$${'b'.repeat(53)}`, username: 'comfy', createdAt: new Date().toISOString() } });
    const config = (url: string) => ({ comfyui: { url, timeoutMs: 5_000 }, vault: { dir: vaultDir }, health: { intervalSec: 5, retries: 0, checkTimeoutMs: 5_000, probeRequests: 20 } });
    const started: ServeProcess[] = [];
    try {
      const endless = await startServe({ config: config(hostile.url), nodeOptions: `--require ${REPORTER}`, ipc: true });
      started.push(endless);
      const idle = await startServe({ config: config(`http://127.0.0.1:${await closedPort()}`), nodeOptions: `--require ${REPORTER}`, ipc: true });
      started.push(idle);
      const until = Date.now() + sizes.serveSeconds * 1000;
      let rounds = 0;
      while (Date.now() < until) {
        await Promise.all([drive(endless), drive(idle), sleep(DRIVE_EVERY_MS)]);
        rounds++;
      }
      const [a, b] = await Promise.all([memoryOf(endless.child), memoryOf(idle.child)]);
      progress(`serve: ${rounds} rounds of sweep + 20 probes each, ${hostile.hits.get('/system_stats') ?? 0} endless answers served`);
      return [
        measurement({
          id: 'serve.rss-endless',
          label: `RSS after ${sizes.serveSeconds} s of sweeps and probes against endless answers`,
          value: a.rss / MB,
          unit: 'MB',
          baseline: b.rss / MB,
          baselineLabel: 'RSS of the same, talking to no ComfyUI (idle)',
          target: { kind: 'ratio-max', limit: 1.5, text: '<= 1.5x' },
          note: `comfy-panel serve x2 side by side, health every 5 s plus a sweep and 20 probes every ${DRIVE_EVERY_MS / 1000} s; after gc`,
        }),
      ];
    } finally {
      for (const s of started) await stopServe(s, progress);
      await hostile.close();
      await rm(vaultDir, { recursive: true, force: true });
    }
  },
};
