/**
 * Drain before a ComfyUI restart with a slow prompt in flight, the gateway killed and
 * restarted, and key-store writes interrupted (a SIGKILLed writer, a failed rename, a
 * torn file from a careless writer): the gateway keeps the last good store in force.
 */
import { spawn } from 'node:child_process';
import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKey, GatewayControl, readKeyStore, revokeKey, usage, type CreatedKey } from '../../app/gateway/index.js';
import { qwenGraph } from '../comfy-double/graphs.js';
import { requireDocker } from '../support/docker.js';
import { startRig, waitFor, type Rig } from './rig.js';

const d = await requireDocker();

async function status(url: string, key: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, { ...init, headers: { Authorization: `Bearer ${key}`, ...(init.headers ?? {}) }, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return res.status;
}

// Generous: these wait for containers on a shared, loaded 2-core machine (conditions, never fixed sleeps).
describe.skipIf(!d.ok)('drain and faults, against the containers', { timeout: 180_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  let rig: Rig;
  let gw: string;
  let gen: CreatedKey;
  let control: GatewayControl;
  let controlKey: string;

  beforeAll(async () => {
    rig = await startRig(docker, { samplerMs: 3000, models: true });
    gw = await rig.url();
    gen = await rig.key('renderer', 'generate', { maxQueued: 1 });
    const panel = await rig.key('panel', 'control');
    controlKey = panel.key;
    control = new GatewayControl({ url: gw, controlKey });
    // Each key is its own store write; the gateway may load the first before the second is written.
    await waitFor('the keys', async () => ((await status(`${gw}/system_stats`, gen.key)) === 200 && (await control.status()) ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('drains with a prompt in flight: new prompts get 503, the render finishes, ComfyUI restarts on a new credential, the image is fetched, intake resumes', async () => {
    const submit = () => fetch(`${gw}/prompt`, { method: 'POST', headers: { Authorization: `Bearer ${gen.key}` }, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: 3, prefix: 'drain' }), client_id: 'drainer' }) });
    const first = await submit();
    expect(first.status).toBe(200);
    const { prompt_id: id } = (await first.json()) as { prompt_id: string };
    // Its fair share is one prompt: a second one waits its turn at the gateway.
    const second = await submit();
    expect(second.status).toBe(429);

    const draining = await control.drain(120_000);
    expect(draining.intake.state).toBe('draining');
    const refused = await submit();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const drained = await control.waitDrained({ maxWaitMs: 150_000 });
    expect(drained.intake.timedOut).toBeUndefined();
    expect(drained.queue).toMatchObject({ running: 0, pending: 0 });
    const history = (await (await fetch(`${gw}/history/${id}`, { headers: { Authorization: `Bearer ${gen.key}` } })).json()) as Record<string, { status: { status_str: string }; outputs: Record<string, { images: { filename: string }[] }> }>;
    expect(history[id]!.status.status_str).toBe('success');
    const filename = history[id]!.outputs['10']!.images[0]!.filename;

    // The credential rotation the drain protects: new hash, ComfyUI restarted; the gateway reloads it without a restart.
    const before = drained.secret.fingerprint;
    await rig.rotateSecret();
    await rig.comfy.restart({ t: 10 });
    await waitFor('the new credential in the gateway', async () => ((await control.status()).secret.fingerprint !== before ? true : undefined));
    const image = await waitFor('the image after the restart', async () => {
      const res = await fetch(`${gw}/view?filename=${filename}&type=output&token=${gen.key}`);
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
    });
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await control.resume()).intake.state).toBe('serving');
    const after = await submit();
    expect(after.status).toBe(200);
    const u = await waitFor('the execution time in the usage log', async () => {
      const e = (await usage(rig.stateDir)).find((x) => x.key === gen.id);
      return e && e.executionSeconds > 0 && e.prompts >= 2 ? e : undefined;
    });
    // The first render's sampler alone sleeps 3 s.
    expect(u.executionSeconds).toBeGreaterThan(2.5);
  });

  it('a drain that times out reports drained with timedOut', async () => {
    await control.resume(); // whatever the test before left
    await waitFor('an empty queue', async () => ((await control.status()).queue.running === 0 ? true : undefined), 60_000);
    const res = await fetch(`${gw}/prompt`, { method: 'POST', headers: { Authorization: `Bearer ${gen.key}` }, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: 3, prefix: 'timeout', seed: 7 }) }) });
    expect(res.status).toBe(200);
    await control.drain(200);
    const s = await control.waitDrained({ maxWaitMs: 30_000 });
    expect(s.intake.timedOut).toBe(true);
    await control.resume();
  });

  it('the gateway killed and started again keeps every key and every revocation', async () => {
    const kept = await rig.key('survivor', 'read');
    const gone = await rig.key('revoked-before-kill', 'read');
    await revokeKey(rig.stateDir, 'revoked-before-kill');
    await waitFor('the store', async () => ((await status(`${gw}/system_stats`, kept.key)) === 200 ? true : undefined));
    await rig.gateway.kill({ signal: 'SIGKILL' });
    await rig.gateway.start();
    const url = await rig.url();
    await waitFor('the restarted gateway', async () => ((await status(`${url}/system_stats`, kept.key)) === 200 ? true : undefined), 60_000);
    expect(await status(`${url}/system_stats`, gone.key)).toBe(401);
    expect(await status(`${url}/system_stats`, gen.key)).toBe(200);
    // A restarted container gets a new published port.
    gw = url;
    control = new GatewayControl({ url, controlKey });
  });

  it('a key-store writer killed mid-write, a failed rename and a torn file all leave the last good store in force', async () => {
    const writer = fileURLToPath(new URL('store-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, rig.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    await new Promise<void>((ok, fail) => {
      child.stdout.once('data', () => ok());
      child.once('exit', (code) => fail(new Error(`the writer exited (${code}) before its first key: ${errors}`)));
    });
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Whatever instant the kill hit, keys.json is a whole store (old or new, never half).
    const store = await readKeyStore(rig.stateDir);
    expect(store.keys.some((k) => k.name === 'churn-0')).toBe(true);
    expect(store.keys.some((k) => k.name === 'renderer')).toBe(true);

    const before = readFileSync(join(rig.stateDir, 'keys.json'), 'utf8');
    const rename = vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' }));
    await expect(createKey(rig.stateDir, { name: 'never-written', scope: 'admin' })).rejects.toThrow('EIO');
    rename.mockRestore();
    expect(readFileSync(join(rig.stateDir, 'keys.json'), 'utf8')).toBe(before);

    // A careless writer tears the file: the gateway reports it and keeps the keys it had.
    writeFileSync(join(rig.stateDir, 'keys.json'), before.slice(0, before.length / 2));
    await waitFor('the torn store to be reported', async () => ((await control.status()).keys.error ? true : undefined));
    expect((await control.status()).keys.error).toContain('keys.json');
    expect(await status(`${gw}/system_stats`, gen.key)).toBe(200);
    writeFileSync(join(rig.stateDir, 'keys.json'), before);
    await waitFor('the store to be whole again', async () => ((await control.status()).keys.error ? undefined : true));
  });
});
