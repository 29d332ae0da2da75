/**
 * Issue 19's evidence: one panel, five instances on two separate Docker engines: a and c on the
 * first (DOCKER_HOST), b and d on the second (COMFY_PANEL_DOCKER_HOST_2) reached only over ssh
 * through a real sshd on loopback, and e whose engine is down (hung: it takes connections and
 * never answers). Each live instance is a container of the ComfyUI double with its own secret
 * file, adopted into its own vault. c's ComfyUI URL goes through a gate that knows only c's old
 * token: its rotation restarts the container with the new one, the verification gets 401, and it
 * rolls back.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { instancePaths } from '../../app/config/instances.js';
import { panelPaths } from '../../app/config/paths.js';
import { PanelConfigSchema, type PanelConfig } from '../../app/config/schema.js';
import type { FleetRow } from '../../app/contract/ops/fleet.js';
import { processSshPool } from '../../app/docker/connection.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { fingerprint } from '../../app/redact.js';
import { FLEET_ROW_DEADLINE_MS } from '../../app/fleet/status.js';
import { createPanelRuntime, type PanelRuntime } from '../../app/service/runtime.js';
import { createCredential, passwordFileContent, type Credential } from '../../app/tokens/credential.js';
import { freePort, removeContainers, testConfig } from '../docker/helpers.js';
import { requireDocker, requireSecondDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireSshEngine, type SshEngine } from '../support/ssh-engine.js';
import { startTokenGate, type TokenGate } from '../support/token-gate.js';
import { useFastBcrypt } from '../tokens/support.js';

useFastBcrypt();

/** sha256 of every file under `dir` by relative path ({} when it does not exist). */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries.filter((x) => x.isFile())) {
    const p = path.join(e.parentPath, e.name);
    out[path.relative(dir, p)] = createHash('sha256').update(await fs.readFile(p)).digest('hex');
  }
  return out;
}
const first = await requireDocker();
const second = first.ok ? await requireSecondDocker(first.docker) : ({ ok: false, reason: 'no first engine' } as const);
const sshd = second.ok ? await requireSshEngine({ dockerHost: second.host }) : ({ ok: false, reason: 'no second engine' } as const);

const IDS = ['a', 'b', 'c', 'd', 'e'] as const;
type Id = (typeof IDS)[number];
const LIVE: Id[] = ['a', 'b', 'c', 'd'];
const PASSWORD = '/workspace/ComfyUI/login/PASSWORD';
const CLI = path.resolve('test/tokens/fixtures/cli.ts');

interface Deployment {
  name: string;
  hostPort: number;
  secretFile: string;
  initial: Credential;
  /** The engine as the test reaches it directly (set-up, inspection). */
  manager: ContainerManager;
}

describe.skipIf(!first.ok || !second.ok || !sshd.ok)('the fleet on two Docker engines, one over ssh, one down', { timeout: 240_000 }, () => {
  const docker1 = first.ok ? first.docker : (undefined as never);
  const docker2 = second.ok ? second.docker : (undefined as never);
  const ssh: SshEngine = sshd.ok ? sshd.engine : (undefined as never);
  const tag = Math.random().toString(36).slice(2, 8);
  // Made in beforeAll: a skipped run leaves nothing behind.
  const home = path.join(os.tmpdir(), `fd-fleet-${process.pid}-${tag}`);
  const paths = panelPaths({ COMFY_PANEL_HOME: home });
  const configFile = path.join(home, 'config.json');
  // e's engine: a hung one, a socket that takes connections and never answers (until the test
  // puts a link to a real engine there). Every call to it runs into its deadline.
  const downSocket = path.join(home, 'engine-e', 'docker.sock');
  let hung: net.Server | undefined;
  const hungClients = new Set<net.Socket>();
  const dep = {} as Record<Id, Deployment>;
  let eSpot: { name: string; hostPort: number; secretFile: string };
  let image1 = '';
  let gate: TokenGate;
  let config: PanelConfig;
  let rt: PanelRuntime;
  /** Each instance's rotation steps as the bus reported them, for failure messages. */
  const steps: Record<string, string[]> = {};

  const hostOf: Record<Id, () => string> = {
    a: () => (first.ok ? first.host : ''),
    b: () => ssh.url,
    c: () => (first.ok ? first.host : ''),
    // The same sshd by another spelling: one ssh connection must serve both b and d.
    d: () => ssh.directUrl,
    e: () => `unix://${downSocket}`,
  };
  const dataDir = (id: Id) => instancePaths(paths, id).dataDir;
  const fp = async (id: Id) => (await rt.handlers.tokenAudit({}, id)).vault.fingerprint;
  const containerSecret = async (id: Id) => (await dep[id].manager.readFile(PASSWORD)).toString();
  const secretFile = (id: Id) => fs.readFile(path.join(home, 'secrets', `${id}.token`), 'utf8').catch(() => null);
  /** Every file of an instance's data folder and project folder, by content hash: byte for byte. */
  const files = async (id: Id) => ({ data: await hashes(dataDir(id)), project: await hashes(path.join(home, 'projects', id)), secret: await secretFile(id) });

  /** Container of the double for instance `id`, started on `docker` and healthy. */
  async function deploy(id: Id, engineHost: string, image: string, spot?: { hostPort: number }): Promise<Deployment> {
    const name = `fd-${id}-${process.pid}-${tag}`;
    const hostPort = spot?.hostPort ?? (await freePort());
    const secretFile = path.join(home, 'secrets', `${id}.token`);
    const initial = await createCredential('qwen');
    await fs.mkdir(path.dirname(secretFile), { recursive: true });
    await fs.writeFile(secretFile, passwordFileContent(initial), { mode: 0o600 });
    const cfg = testConfig({ name, image, hostPort, secretFile });
    const manager = new ContainerManager({ ...cfg, docker: { host: engineHost, timeoutMs: 20_000 } });
    await manager.start();
    await manager.waitFor('healthy', 60_000);
    return { name, hostPort, secretFile, initial, manager };
  }

  function instance(id: Id, d: { name: string; hostPort: number; secretFile: string }, image: string, url: string) {
    const cfg = testConfig({ name: d.name, image, hostPort: d.hostPort, secretFile: d.secretFile });
    return {
      id,
      label: `instance ${id}`,
      docker: { host: hostOf[id](), timeoutMs: id === 'e' ? 2_000 : 20_000 },
      container: cfg.container,
      comfyui: { url, timeoutMs: 3_000 },
      credential: { username: 'qwen', healthyTimeoutSec: 60 },
      env: { root: path.join(home, 'projects', id), targets: [{ path: '.env', dialect: 'dotenv' as const, keys: { COMFYUI_BEARER_TOKEN: 'token' as const, COMFYUI_URL: 'url' as const } }] },
    };
  }

  beforeAll(async () => {
    // The ssh client side (~/.ssh/config, known_hosts, key) is the operator's HOME, as the panel reads it.
    vi.stubEnv('HOME', ssh.home);
    await fs.mkdir(home, { mode: 0o700 });
    let image2: string;
    [image1, image2] = await Promise.all([ensureDoubleImage(docker1), ensureDoubleImage(docker2)]);
    const host2 = second.ok ? second.host : '';
    const [a, b, c, d] = await Promise.all([deploy('a', hostOf.a(), image1), deploy('b', host2, image2), deploy('c', hostOf.c(), image1), deploy('d', host2, image2)]);
    Object.assign(dep, { a, b, c, d });
    gate = await startTokenGate(`http://127.0.0.1:${c.hostPort}`, [c.initial.hash]);
    await fs.mkdir(path.dirname(downSocket), { recursive: true });
    hung = net.createServer((c) => (hungClients.add(c), c.on('close', () => hungClients.delete(c))));
    await new Promise<void>((r) => hung!.listen(downSocket, r));
    eSpot = { name: `fd-e-${process.pid}-${tag}`, hostPort: await freePort(), secretFile: path.join(home, 'secrets', 'e.token') };
    const url = (id: Id, port: number) => (id === 'c' ? gate.url : `http://127.0.0.1:${port}`);
    config = PanelConfigSchema.parse({
      ...testConfig({ name: 'unused', image: image1, hostPort: 1 }),
      health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 8_000 },
      instances: [...LIVE.map((id) => instance(id, dep[id], image1, url(id, dep[id].hostPort))), instance('e', eSpot, image1, url('e', eSpot.hostPort))],
    });
    await fs.writeFile(configFile, JSON.stringify(config, null, 2));
    rt = createPanelRuntime({ mode: 'browser', loaded: { config, path: configFile, configured: true }, paths, version: 'test' });
    rt.bus.on('rotationStep', (st, id) => (steps[id ?? '?'] ??= []).push(`${st.step}:${st.status}${st.message ? ` (${st.message})` : ''}`));
    // The tests sweep on demand; a background sweep would write history between two snapshots.
    await Promise.all(rt.fleet.ids().map((id) => rt.fleet.member(id).ctx.health.stop()));
    // Adopted into each vault, then written to each project's env file, as an operator's first run does.
    for (const id of LIVE) {
      expect((await rt.handlers.tokenImport({ from: 'container' }, id)).fingerprint).toBe(fingerprint(dep[id].initial.hash));
      expect((await rt.handlers.envSyncApply({}, id)).verified).toBe(true);
    }
  }, 240_000);

  async function stopHung(): Promise<void> {
    for (const c of hungClients) c.destroy();
    if (hung?.listening) await new Promise((r) => hung!.close(r));
  }

  afterAll(async () => {
    await rt?.dispose();
    await stopHung();
    await gate?.close();
    await removeContainers(docker1, [dep.a?.name, dep.c?.name, dep.e?.name].filter((n): n is string => Boolean(n)));
    await removeContainers(docker2, [dep.b?.name, dep.d?.name].filter((n): n is string => Boolean(n)));
    processSshPool.close();
    await ssh?.stop();
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  it('fleet view: five rows in config order; the hung engine has an error and does not hold up the others', async () => {
    const started = performance.now();
    const s = await rt.handlers.fleetStatus({});
    const ms = performance.now() - started;
    expect(s.instances.map((r) => r.id)).toEqual([...IDS]);
    // The row deadline bounds the call, whatever a dead engine does; the margin is for a loaded machine.
    expect(ms).toBeLessThan(FLEET_ROW_DEADLINE_MS + 1_500);
    const byId = Object.fromEntries(s.instances.map((r) => [r.id, r])) as Record<Id, FleetRow>;
    for (const id of LIVE) {
      expect(byId[id].error, id).toBeUndefined();
      expect(byId[id].queue, id).toEqual({ running: 0, pending: 0 });
      expect(Date.parse(byId[id].tokenCreatedAt ?? ''), id).toBeGreaterThan(Date.now() - 10 * 60_000);
    }
    expect(byId.b.engine).toBe(ssh.url);
    // e's row names its engine before any sweep ran (and its ComfyUI, which nothing serves either).
    expect(byId.e.error).toMatch(/^engine: .*; ComfyUI: /);
    expect(byId.e.tokenCreatedAt).toBeNull();

    // Once a sweep ran, e's checks name the engine; the live instances' docker checks stay green.
    await Promise.all(IDS.map((id) => rt.handlers.healthRun({}, id)));
    const after = Object.fromEntries((await rt.handlers.fleetStatus({})).instances.map((r) => [r.id, r])) as Record<Id, FleetRow>;
    const docker = (id: Id) => after[id].checks.find((c) => c.id === 'docker');
    expect(docker('e')).toMatchObject({ status: 'fail' });
    expect(docker('e')?.message).toMatch(/engine|docker/i);
    for (const id of LIVE) expect(docker(id)?.status, `${id}: ${docker(id)?.message}`).toBe('ok');
  });

  it('the CLI: `container status --all --json` is one document, e with its error and the others with their container', async () => {
    const r = await cli(['--json', '--all', 'container', 'status']);
    const doc = JSON.parse(r.out) as { instances: { id: string; phase?: string; problem?: { message: string } }[] };
    // The instance names the row; the container's own id is containerId.
    expect(doc.instances.map((i) => i.id)).toEqual([...IDS]);
    for (const row of doc.instances.filter((i) => i.id !== 'e')) expect(row, JSON.stringify(row)).toMatchObject({ phase: 'healthy', containerId: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    // e's engine does not answer: its row says so (the command's own problem), the others are unaffected.
    expect(doc.instances.find((i) => i.id === 'e'), r.out).toMatchObject({ phase: 'unknown', problem: { message: expect.any(String) as unknown } });
  });

  it('staged rotation: the canary, then waves of 2; c fails its verification, rolls back and halts the rest', async () => {
    const before = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, { files: await files(id), fp: await fp(id) }] as const))) as Record<Id, { files: Awaited<ReturnType<typeof files>>; fp?: string }>;
    const stepsBefore = Object.fromEntries(IDS.map((id) => [id, steps[id]?.length ?? 0]));
    const r = await rt.handlers.fleetRotate({ canary: 'a', wave: 2, resume: false });
    expect(r.instances.map((i) => `${i.id}:${i.wave}:${i.outcome}`), steps.c?.join('\n')).toEqual(['a:0:committed', 'b:1:committed', 'c:1:rolled-back', 'd:2:not-started', 'e:2:not-started']);
    expect(r).toMatchObject({ halted: true, haltedAt: 'c' });
    expect(r.instances[2]).toMatchObject({ failedStep: 'verify', fingerprint: before.c.fp });
    // Each rotation's steps reached the bus tagged with its instance (what the Fleet page shows live); none of those not started.
    const stepsNow = Object.fromEntries(IDS.map((id) => [id, (steps[id] ?? []).slice(stepsBefore[id])]));
    expect(IDS.filter((id) => stepsNow[id]!.length > 0)).toEqual(['a', 'b', 'c']);
    expect(stepsNow.c).toContainEqual(expect.stringMatching(/^verify:failed/));
    expect(stepsNow.a).toContain('verify:ok');

    // Before it: committed, the new token in the vault, the secret file and the container.
    for (const id of ['a', 'b'] as const) {
      const now = await fp(id);
      expect(now).toBe(r.instances.find((i) => i.id === id)?.fingerprint);
      expect(now).not.toBe(before[id].fp);
      expect(await containerSecret(id)).toBe(await secretFile(id));
      expect(await secretFile(id)).not.toBe(before[id].files.secret);
    }
    // c: rolled back everywhere, and the server takes the old token again.
    expect(await fp('c')).toBe(before.c.fp);
    expect(await secretFile('c')).toBe(before.c.files.secret);
    expect(await containerSecret('c')).toBe(passwordFileContent(dep.c.initial));
    const audit = await rt.handlers.tokenAudit({}, 'c');
    expect(audit.consistent, JSON.stringify(audit.locations)).toBe(true);
    expect(audit.live.acceptsCurrent).toBe(true);
    // After it: not a byte changed.
    for (const id of ['d', 'e'] as const) {
      expect(await files(id), id).toEqual(before[id].files);
      expect(await fp(id)).toBe(before[id].fp);
    }
    expect(await containerSecret('d')).toBe(passwordFileContent(dep.d.initial));
  });

  it('the cause fixed, `token rotate --all --resume` (another process) takes c and d, and halts at e, whose engine is down', async () => {
    const done = { a: await fp('a'), b: await fp('b') };
    gate.allowAll();
    const r = await cli(['--json', 'token', 'rotate', '--all', '--resume']);
    expect(r.code, r.out).not.toBe(0);
    const doc = JSON.parse(r.out) as { instances: { id: string; outcome: string; error?: string }[]; halted: boolean; haltedAt: string | null };
    expect(doc.instances.map((i) => `${i.id}:${i.outcome}`)).toEqual(['a:committed', 'b:committed', 'c:committed', 'd:committed', 'e:failed']);
    expect(doc).toMatchObject({ halted: true, haltedAt: 'e' });
    // The committed ones were not rotated again.
    expect({ a: await fp('a'), b: await fp('b') }).toEqual(done);
    for (const id of ['c', 'd'] as const) {
      expect(await fp(id)).not.toBe(fingerprint(dep[id].initial.hash));
      expect(await containerSecret(id)).toBe(await secretFile(id));
    }
  });

  it('e\'s engine back (its socket now reaches the first engine, its container adopted): resume finishes, nothing halted', async () => {
    const done = Object.fromEntries(await Promise.all(LIVE.map(async (id) => [id, await fp(id)] as const)));
    await stopHung();
    await fs.symlink(first.ok ? first.host.slice('unix://'.length) : '', downSocket);
    // Its 2 s deadline was for failing fast while hung; a live engine gets the others' (on a loaded CI machine
    // the rotation's recheck found the container's PASSWORD unreadable within 2 s and rolled it back).
    const whole = rt.fleet.loaded.config;
    await rt.handlers.configSave({ config: { ...whole, instances: (whole.instances ?? []).map((i) => (i.id === 'e' ? { ...i, docker: { ...i.docker, timeoutMs: 20_000 } } : i)) } });
    expect(rt.fleet.member('e').ctx.loaded.config.docker.timeoutMs).toBe(20_000);
    dep.e = await deploy('e', `unix://${downSocket}`, image1, eSpot);
    expect((await rt.handlers.tokenImport({ from: 'container' }, 'e')).fingerprint).toBe(fingerprint(dep.e.initial.hash));
    expect((await rt.handlers.envSyncApply({}, 'e')).verified).toBe(true);
    const r = await rt.handlers.fleetRotate({ wave: 1, resume: true });
    expect(r, steps.e?.join('\n')).toMatchObject({ halted: false, haltedAt: null });
    expect(r.instances.every((i) => i.outcome === 'committed'), JSON.stringify(r)).toBe(true);
    expect(await fp('e')).not.toBe(fingerprint(dep.e.initial.hash));
    expect(await containerSecret('e')).toBe(await secretFile('e'));
    expect(Object.fromEntries(await Promise.all(LIVE.map(async (id) => [id, await fp(id)] as const)))).toEqual(done);
  });

  it('isolation: a rotation of b (over ssh) changes no file, vault or container secret of any other instance', async () => {
    const others = IDS.filter((id) => id !== 'b');
    const snapshot = async () => Object.fromEntries(await Promise.all(others.map(async (id) => [id, { ...(await files(id)), container: await containerSecret(id), fp: await fp(id) }] as const)));
    const fleetState = await hashes(path.join(paths.dataDir, 'fleet'));
    const before = await snapshot();
    const oldB = await fp('b');
    const r = await rt.handlers.tokenRotate({}, 'b');
    expect(r, JSON.stringify(r.steps)).toMatchObject({ ok: true, outcome: 'committed', previousFingerprint: oldB });
    expect(await containerSecret('b')).toBe(await secretFile('b'));
    expect(await snapshot()).toEqual(before);
    expect(await hashes(path.join(paths.dataDir, 'fleet'))).toEqual(fleetState);
  });

  it('ssh: b and d, two instances behind one sshd (two spellings of it), share one ssh connection', async () => {
    const count = (what: string) => ssh.log().split('\n').filter((l) => l.includes(what)).length;
    const [logins, sessions] = [count('Accepted publickey'), count('Starting session')];
    const [b, d] = await Promise.all([rt.handlers.containerStatus({}, 'b'), rt.handlers.containerStatus({}, 'd'), rt.handlers.healthRun({}, 'b'), rt.handlers.healthRun({}, 'd')]);
    // b was restarted by the rotation above: Docker's own health may still be starting.
    expect(b).toMatchObject({ exists: true, phase: expect.stringMatching(/^(healthy|starting)$/) as unknown, name: dep.b.name });
    expect(d).toMatchObject({ exists: true, phase: 'healthy', name: dep.d.name });
    // They are the second engine's containers, seen through ssh.
    expect(b.id).toBe((await docker2.getContainer(dep.b.name).inspect()).Id);
    // Both instances' calls ran as sessions (dial-stdio channels) on the process's connections to
    // that sshd: at most one new login, opened when a connection holds 8 channels (OpenSSH's
    // MaxSessions is 10), never one per instance. Over the whole file: many sessions, few logins.
    expect(count('Starting session') - sessions).toBeGreaterThan(0);
    expect(count('Accepted publickey') - logins, ssh.log()).toBeLessThanOrEqual(1);
    expect(count('Accepted publickey') * 4).toBeLessThan(count('Starting session'));
    const pool = processSshPool.connections();
    expect(Object.keys(pool)).toEqual([`${ssh.user}@127.0.0.1:${ssh.port}`]);
  });

  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const env = { ...process.env, NODE_ENV: 'test', COMFY_PANEL_TEST_BCRYPT_COST: '4', COMFY_PANEL_HOME: home, HOME: ssh.home };
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, '--config', configFile, ...args], { env, timeout: 180_000 });
      return { code: 0, out: stdout };
    } catch (e) {
      const f = e as { code?: number; stdout?: string; stderr?: string };
      return { code: f.code ?? -1, out: f.stdout ?? '' };
    }
  }
});
