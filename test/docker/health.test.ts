import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerState } from '../../app/contract/ops/container.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

// Generous limits: containers start slowly on a loaded machine (waits end as soon as the state is reached).
describe.skipIf(!d.ok)('health, crash, login node and logs against the ComfyUI double', { timeout: 180_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const secret = makeSecret('docker-health');
  const names = { guarded: uniqueName('docker-health'), open: uniqueName('docker-health'), refused: uniqueName('docker-health'), sick: uniqueName('docker-health') };
  let image = '';
  let guarded: ContainerManager;
  let guardedPort = 0;

  beforeAll(async () => {
    image = await ensureDoubleImage(docker);
    guardedPort = await freePort();
    guarded = new ContainerManager(testConfig({ name: names.guarded, image, hostPort: guardedPort, secretFile: secret.file }), docker);
    await guarded.start();
    await guarded.waitFor('healthy', 90_000);
  });
  afterAll(async () => {
    await removeContainers(docker, Object.values(names));
    secret.cleanup();
  });

  it('with the login node: installed, loaded and enforced are each true', async () => {
    const r = await guarded.verifyLoginNode();
    expect(r.installed).toEqual({ value: true, detail: expect.stringContaining('custom_nodes/ComfyUI-Login') });
    expect(r.loaded.value).toBe(true);
    expect(r.enforced).toEqual({ value: true, detail: expect.stringMatching(/anonymous GET .*\/system_stats got 401/) });
  });

  it('the token line is redacted in tail and in follow; the hash never appears', async () => {
    const tail: string[] = [];
    await guarded.logs({ tail: 'all', onLine: (l) => void tail.push(l.text) });
    const followed: string[] = [];
    const ac = new AbortController();
    await guarded.logs({
      tail: 'all',
      follow: true,
      signal: ac.signal,
      onLine: (l) => {
        followed.push(l.text);
        if (/use token=/.test(l.text)) ac.abort();
      },
    });
    for (const lines of [tail, followed]) {
      expect(lines.find((l) => l.includes('use token='))).toMatch(/use token=\[redacted fp:[0-9a-f]{12}\]/);
      expect(lines.join('\n')).not.toContain(secret.hash);
      expect(lines.join('\n')).not.toMatch(/\$2[aby]\$/);
    }
  });

  it('overview: healthy, protected, CPU (from two samples) and memory measured, "no GPU" with its reason', async () => {
    await guarded.overview({ statsWithinMs: Infinity });
    const o = await guarded.overview({ statsWithinMs: Infinity });
    expect(o).toMatchObject({ phase: 'healthy', ok: true, reasons: [], gpu: { gpus: null, reason: expect.stringMatching(/^no GPU/) } });
    expect(o.stats?.memoryUsedBytes).toBeGreaterThan(0);
    expect(o.stats?.cpuPercent).toBeGreaterThanOrEqual(0);
  });

  it('overview: one inspect for all its parts, the node folder stat-ed not packed, the logs read once per run', async () => {
    const requests: string[] = [];
    const modem = docker.modem as { dial: (opts: { method: string; path: string }, cb: unknown) => unknown };
    const dial = modem.dial.bind(modem);
    modem.dial = (opts, cb) => {
      requests.push(`${opts.method} ${opts.path.replace(/\?.*$/, '')}`);
      return dial(opts, cb);
    };
    try {
      const counted = new ContainerManager(testConfig({ name: names.guarded, image, hostPort: guardedPort, secretFile: secret.file }), docker);
      await counted.overview();
      const first = [...requests];
      requests.length = 0;
      await counted.overview();
      expect(first.filter((r) => r.endsWith('/json')), first.join(', ')).toHaveLength(1);
      expect(first.some((r) => r.startsWith('GET') && r.includes('/archive')), first.join(', ')).toBe(false);
      expect(first.some((r) => r.endsWith('/logs'))).toBe(true);
      // The second look reads no logs: what they said about ComfyUI-Login is known for this run.
      expect(requests.some((r) => r.endsWith('/logs')), requests.join(', ')).toBe(false);
      expect(requests.filter((r) => r.endsWith('/json'))).toHaveLength(1);
    } finally {
      modem.dial = dial;
    }
  });

  it('killing the server inside is detected as crashed (not stopped) through events', async () => {
    const seen: ContainerState[] = [];
    const unwatch = guarded.watch((s) => seen.push(s));
    try {
      await guarded.waitFor('healthy', 5_000);
      await guarded.exec(['node', '-e', "process.kill(Number(require('fs').readFileSync('/tmp/comfyui.pid','utf8')),'SIGKILL')"]);
      const s = await guarded.waitFor('crashed', 10_000);
      expect(s).toMatchObject({ phase: 'crashed', exitCode: 137, oomKilled: false });
      await expect.poll(() => seen.map((x) => x.phase)).toContain('crashed');
      const o = await guarded.overview();
      expect(o.ok).toBe(false);
      expect(o.loginNode.enforced.value).toBeNull();
    } finally {
      unwatch();
    }
  });

  it('without the login node (auth not required): installed, loaded and enforced are false', async () => {
    const open = new ContainerManager(
      testConfig({ name: names.open, image, hostPort: await freePort(), secretFile: secret.file, command: ['--no-login'], extra: { authRequired: false } }),
      docker,
    );
    await open.start();
    await open.waitFor('healthy', 90_000);
    const r = await open.verifyLoginNode();
    expect(r.installed.value).toBe(false);
    expect(r.loaded.value).toBe(false);
    expect(r.enforced).toMatchObject({ value: false, detail: expect.stringMatching(/got 200/) });
    // The same container seen by a config that requires auth: not ok, and it says why.
    const strict = new ContainerManager(testConfig({ name: names.open, image, hostPort: 1, secretFile: secret.file }), docker);
    const o = await strict.overview();
    expect(o.ok).toBe(false);
    expect(o.reasons.join(' ')).toMatch(/ComfyUI-Login is not installed.*authentication is not enforced/);
  });

  it('auth required but the node missing: the entrypoint refuses and the panel shows a crash with the reason in the logs', async () => {
    const refused = new ContainerManager(testConfig({ name: names.refused, image, hostPort: await freePort(), secretFile: secret.file, command: ['--no-login'] }), docker);
    await refused.start();
    expect(await refused.waitFor('crashed', 10_000)).toMatchObject({ exitCode: 1 });
    const lines: string[] = [];
    await refused.logs({ tail: 50, onLine: (l) => void lines.push(l.text) });
    expect(lines.join('\n')).toMatch(/COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing/);
    expect((await refused.verifyLoginNode()).installed.value).toBe(false);
  });

  it('a failing healthcheck moves the phase from starting to unhealthy, seen through health_status events', async () => {
    const sick = new ContainerManager(
      testConfig({
        name: names.sick,
        image,
        hostPort: await freePort(),
        secretFile: secret.file,
        extra: { healthcheck: { command: ['node', '-e', 'process.exit(1)'], intervalSec: 1, timeoutSec: 1, retries: 1, startPeriodSec: 1 } },
      }),
      docker,
    );
    const seen: ContainerState[] = [];
    const unwatch = sick.watch((s) => seen.push(s));
    try {
      await sick.start();
      expect(await sick.waitFor('unhealthy', 15_000)).toMatchObject({ phase: 'unhealthy', health: 'unhealthy' });
      await expect.poll(() => seen.map((s) => s.phase)).toEqual(expect.arrayContaining(['starting', 'unhealthy']));
      expect(seen.map((s) => s.phase)).not.toContain('healthy');
    } finally {
      unwatch();
    }
  });
});
