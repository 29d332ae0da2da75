/**
 * A gateway container in front of a ComfyUI double container on a private Docker network
 * of its own (gw-net-…): the double is not published, the gateway is (127.0.0.1, random
 * port). The state folder and the secret's folder are host folders, as the panel would
 * bind-mount them; a secret replaced by rename is seen because the folder is mounted.
 */
import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import bcrypt from 'bcryptjs';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { createKey, type CreatedKey, type Scope } from '../../app/gateway/index.js';
import { installQwenModels } from '../comfy-double/graphs.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { ensureGatewayImage, GATEWAY_UID } from '../support/gateway-image.js';

export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8 + buf.readUInt32BE(off + 4)) out.push(buf.subarray(off + 8, off + 8 + buf.readUInt32BE(off + 4)));
  return Buffer.concat(out).toString('utf8');
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Rig {
  docker: Docker;
  run: string;
  stateDir: string;
  secretFile: string;
  /** The hash ComfyUI-Login holds now (line 1 of the secret). */
  hash: string;
  comfy: Docker.Container;
  gateway: Docker.Container;
  /** The gateway as clients reach it (published port). */
  url(): Promise<string>;
  /** The double's address on the private network, reachable from this host (the bench's "direct"). */
  comfyUrl(): Promise<string>;
  key(name: string, scope: Scope, extra?: Partial<Parameters<typeof createKey>[1]>): Promise<CreatedKey>;
  logs(c: Docker.Container): Promise<string>;
  /** Writes a new hash into the secret (by rename, as the panel's atomic write does). */
  rotateSecret(): Promise<string>;
  close(): Promise<void>;
}

export async function startRig(docker: Docker, opts: { samplerMs?: number; models?: boolean } = {}): Promise<Rig> {
  const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const [doubleTag, gatewayTag] = await Promise.all([ensureDoubleImage(docker), ensureGatewayImage(docker)]);
  const base = mkdtempSync(join(tmpdir(), 'gw-rig-'));
  const stateDir = join(base, 'state');
  const secretDir = join(base, 'secret');
  const modelsRoot = join(base, 'comfy');
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(secretDir, { recursive: true });
  // The gateway runs as uid 1000; the panel (root here) owns what it writes, world-readable.
  chownSync(stateDir, GATEWAY_UID, GATEWAY_UID);
  chmodSync(secretDir, 0o755);
  const secretFile = join(secretDir, 'password');
  let hash = bcrypt.hashSync(`gw-${run}`, 4);
  await writeFileAtomic(secretFile, `${hash}\nadmin`, { mode: 0o644, backup: false });
  if (opts.models) installQwenModels(modelsRoot);

  const network = await docker.createNetwork({ Name: `gw-net-${run}`, Driver: 'bridge' });
  const created: Docker.Container[] = [];
  const comfy = await docker.createContainer({
    name: `gw-comfy-${run}`,
    Image: doubleTag,
    Cmd: opts.samplerMs ? ['--sampler-ms', String(opts.samplerMs)] : [],
    Env: ['COMFYUI_SECRET_FILE=/run/secrets/comfy/password', 'COMFYUI_AUTH_REQUIRED=1'],
    HostConfig: { NetworkMode: network.id, Binds: [`${secretDir}:/run/secrets/comfy:ro`, ...(opts.models ? [`${join(modelsRoot, 'models')}:/workspace/ComfyUI/models`] : [])] },
    NetworkingConfig: { EndpointsConfig: { [network.id]: { Aliases: ['comfyui'] } } },
  });
  created.push(comfy);
  const gateway = await docker.createContainer({
    name: `gw-gateway-${run}`,
    Image: gatewayTag,
    Env: ['GATEWAY_UPSTREAM=http://comfyui:8188', 'GATEWAY_SECRET_FILE=/run/secrets/comfy/password'],
    ExposedPorts: { '8189/tcp': {} },
    Healthcheck: { Test: ['CMD', '/usr/bin/node', '/app/healthcheck.mjs'], Interval: 500_000_000, Timeout: 3_000_000_000, Retries: 3, StartPeriod: 0 },
    HostConfig: { NetworkMode: network.id, PortBindings: { '8189/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Binds: [`${stateDir}:/state`, `${secretDir}:/run/secrets/comfy:ro`] },
  });
  created.push(gateway);
  await comfy.start();
  await gateway.start();

  const url = async () => {
    const port = (await gateway.inspect()).NetworkSettings.Ports['8189/tcp']?.[0]?.HostPort;
    if (!port) throw new Error('the gateway port is not published');
    return `http://127.0.0.1:${port}`;
  };
  const comfyUrl = async () => {
    const ip = Object.values((await comfy.inspect()).NetworkSettings.Networks)[0]?.IPAddress;
    if (!ip) throw new Error('the double has no address on the network');
    return `http://${ip}:8188`;
  };
  const rig: Rig = {
    docker,
    run,
    stateDir,
    secretFile,
    get hash() {
      return hash;
    },
    comfy,
    gateway,
    url,
    comfyUrl,
    key: (name, scope, extra = {}) => createKey(stateDir, { name, scope, ...extra }),
    logs: async (c) => demux(await c.logs({ stdout: true, stderr: true, follow: false })),
    async rotateSecret() {
      hash = bcrypt.hashSync(`gw-${run}-${randomBytes(4).toString('hex')}`, 4);
      await writeFileAtomic(secretFile, `${hash}\nadmin`, { mode: 0o644, backup: false });
      return hash;
    },
    async close() {
      await Promise.all(created.map((c) => c.remove({ force: true }).catch(() => undefined)));
      await network.remove().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
  // Ready: the gateway answers and ComfyUI behind it does (a key-less probe of a gateway page, then a real one).
  try {
    const probe = await rig.key(`probe-${run}`, 'read');
    const gw = await url();
    await waitFor('the gateway and ComfyUI behind it', async () => ((await fetch(`${gw}/system_stats`, { headers: { Authorization: `Bearer ${probe.key}` }, signal: AbortSignal.timeout(2000) })).status === 200 ? true : undefined), 120_000);
  } catch (e) {
    await rig.close(); // the caller never gets the rig to close
    throw e;
  }
  return rig;
}
