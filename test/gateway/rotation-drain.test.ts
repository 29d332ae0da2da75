/**
 * `token rotate` behind the gateway, through the real CLI on the private engine: the restart of
 * ComfyUI drains through the gateway first (drain -> wait drained -> restart -> resume), so the
 * slow render in flight finishes and its image is fetched after the restart; the client's key
 * keeps working across the rotation (only the gateway holds the ComfyUI-Login hash).
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys } from '../../app/gateway/keys.js';
import { installQwenModels, qwenGraph } from '../comfy-double/graphs.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { ensureGatewayImage, GATEWAY_UID } from '../support/gateway-image.js';
import { freePort } from '../docker/helpers.js';
import { cli, cliJson as json } from '../support/cli-run.js';
import { demux, waitFor } from './rig.js';

const d = await requireDocker();
const run = `fd-${process.pid}-${randomBytes(3).toString('hex')}`;
const names = { comfy: `${run}-comfy`, gateway: `${run}-gw`, network: `${run}-net` };



describe.skipIf(!d.ok)('token rotate drains through the gateway', { timeout: 400_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  const home = mkdtempSync(path.join(os.tmpdir(), `${run}-`));
  const secretDir = path.join(home, 'secret');
  const secretFile = path.join(secretDir, 'password');
  const configFile = path.join(home, 'config.json');
  const saved = process.env.COMFY_PANEL_HOME;
  let config: Record<string, unknown>;
  let gatewayUrl = '';

  beforeAll(async () => {
    process.env.COMFY_PANEL_HOME = home;
    const [doubleTag, gatewayTag] = await Promise.all([ensureDoubleImage(docker), ensureGatewayImage(docker)]);
    mkdirSync(secretDir, { mode: 0o755 });
    chmodSync(secretDir, 0o755);
    writeFileSync(secretFile, `${bcrypt.hashSync(`${run}-pw`, 4)}\nadmin`, { mode: 0o600 });
    chownSync(secretFile, GATEWAY_UID, GATEWAY_UID);
    installQwenModels(path.join(home, 'comfy'));
    const gatewayPort = await freePort();
    config = {
      comfyui: { url: 'http://127.0.0.1:9', timeoutMs: 5000 },
      container: {
        name: names.comfy,
        image: doubleTag,
        hostPort: await freePort(),
        gpus: 'none',
        restartPolicy: 'no',
        stopTimeoutSec: 5,
        secretFile,
        command: ['--sampler-ms', '6000'],
        mounts: [{ source: path.join(home, 'comfy', 'models'), target: '/workspace/ComfyUI/models', readOnly: false }],
        healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
      },
      credential: { healthyTimeoutSec: 180 },
      gateway: { enabled: true, name: names.gateway, image: gatewayTag, network: names.network, hostPort: gatewayPort, restartPolicy: 'no', drainTimeoutSec: 120, healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 } },
    };
    writeFileSync(configFile, JSON.stringify(config));
    // Up returns once ComfyUI answers on the private network and is protected (maybe before Docker's healthcheck ran).
    expect(await json<{ ok: boolean }>(['container', 'up'])).toMatchObject({ ok: true });
    // The panel reaches ComfyUI itself on the private network (its address on this host's bridge, from gateway status).
    expect(await json<{ phase: string }>(['gateway', 'up'])).toMatchObject({ phase: 'healthy' });
    const status = await json<{ url: string; upstream: { directUrl: string } }>(['gateway', 'status']);
    gatewayUrl = status.url;
    config = { ...config, comfyui: { url: status.upstream.directUrl, timeoutMs: 5000 } };
    writeFileSync(configFile, JSON.stringify(config));
    const init = await cli(['--json', 'token', 'init', '--force']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
  }, 400_000);

  afterAll(async () => {
    await Promise.all([names.gateway, names.comfy].map((n) => docker.getContainer(n).remove({ force: true }).catch(() => undefined)));
    await docker.getNetwork(names.network).remove().catch(() => undefined);
    if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  });

  it('the render in flight finishes, ComfyUI restarts on the new credential, the image is fetched after it, intake resumes', async () => {
    const k = await json<{ key: string }>(['key', 'create', 'renderer', '--scope', 'generate']);
    const auth = { Authorization: `Bearer ${k.key}` };
    await waitFor('the key', async () => ((await fetch(`${gatewayUrl}/system_stats`, { headers: auth })).status === 200 ? true : undefined), 60_000);
    const hashBefore = readFileSync(secretFile, 'utf8').split('\n')[0]!;
    const sent = await fetch(`${gatewayUrl}/prompt`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: 2, prefix: 'drain' }), client_id: 'fd' }) });
    expect(sent.status).toBe(200);
    const { prompt_id: id } = (await sent.json()) as { prompt_id: string };

    // Human mode: the drain's progress lines go to stderr.
    const rotation = await cli(['token', 'rotate']);
    expect(rotation.code, rotation.stdout + rotation.stderr).toBe(0);
    expect(rotation.stdout).toMatch(/rotate: done/);
    expect(readFileSync(secretFile, 'utf8').split('\n')[0]).not.toBe(hashBefore);
    expect(rotation.stderr).toContain('gateway: drained, no prompt running');

    // The render ran to its end before the restart: the gateway read its execution time (the sampler alone sleeps 6 s) from ComfyUI's history.
    const used = await waitFor('the execution of the render', async () => {
      const row = (await json<{ keys: { name: string; prompts: number; executionSeconds: number }[] }>(['key', 'usage'])).keys.find((u) => u.name === 'renderer');
      return row && row.executionSeconds > 5 ? row : undefined;
    }, 60_000);
    expect(used.prompts).toBe(1);
    // Its image is on disk and served after the restart, with the same client key.
    const exec = await docker.getContainer(names.comfy).exec({ Cmd: ['/usr/bin/node', '-e', "console.log(require('fs').readdirSync('/workspace/ComfyUI/output').filter((f) => f.startsWith('drain')).join(','))"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((ok, fail) => stream.on('data', (b: Buffer) => chunks.push(b)).on('end', ok).on('error', fail));
    const filename = demux(Buffer.concat(chunks)).trim().split(',')[0];
    expect(filename, `${id}: no image in output/`).toMatch(/^drain.*\.png$/);
    const image = await waitFor('the image after the restart', async () => {
      const res = await fetch(`${gatewayUrl}/view?filename=${filename}&type=output`, { headers: auth });
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
    }, 60_000);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    // Intake resumed: a new prompt is accepted; the gateway log shows drain, drained, resume in order.
    const after = await fetch(`${gatewayUrl}/prompt`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: 1, prefix: 'after', seed: 3 }) }) });
    expect(after.status).toBe(200);
    const logs = (await cli(['gateway', 'logs', '--tail', '500'])).stdout;
    // The rotation's drain is the last one (token init drained too, on an idle queue).
    const last = logs.slice(logs.lastIndexOf('[gateway] draining'));
    expect(last).toContain('[gateway] draining');
    expect(last.indexOf('[gateway] drained')).toBeGreaterThan(-1);
    expect(last.indexOf('[gateway] drained')).toBeLessThan(last.indexOf('[gateway] intake resumed'));
    // The control key minted for the drain is gone; no raw key in what the CLI printed.
    expect((await listKeys(path.join(home, 'data', 'gateway'))).filter((x) => x.scope === 'control')).toEqual([]);
    expect(rotation.stdout + rotation.stderr).not.toMatch(/cpk_[A-Za-z0-9_-]{43}/);
  });
});
