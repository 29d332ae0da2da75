/**
 * Builds the gateway's test image with `docker import` (no registry): this machine's node
 * binary and its shared libraries, the gateway bundle (scripts/gateway-bundle.ts) and a
 * non-root user, as assets/docker/gateway/Dockerfile builds it on a node base image.
 *
 *   const tag = await ensureGatewayImage(docker);   // comfy-panel-gateway:<content hash>, reused
 *   docker run -d --network N -p 127.0.0.1::8189 -v STATE:/state -v SECRET:/run/secrets/comfyui-password:ro \
 *     -e GATEWAY_UPSTREAM=http://comfyui:8188 <tag>
 *
 * Inside: tini as PID 1 running /app/gateway.mjs (entrypoint), /app/healthcheck.mjs, user gateway (1000:1000),
 * /state owned by it, GATEWAY_HOST=0.0.0.0, GATEWAY_PORT=8189, GATEWAY_STATE_DIR=/state,
 * GATEWAY_SECRET_FILE=/run/secrets/comfyui-password. Like the double's image it sets no
 * HEALTHCHECK; the container passes Healthcheck: { Test: ['CMD', '/usr/bin/node', '/app/healthcheck.mjs'] }.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { bundleGateway } from '../../scripts/gateway-bundle.js';
import { contentHash, directoryEntries, imageExists, importRootfs, runtimeFiles, withBuildLock, type Entry } from './double-image.js';

// gw-: the prefix of this helper's resources on the shared engine (rename at integration if wanted).
export const GATEWAY_IMAGE_REPO = 'gw-comfy-panel-gateway';
export const GATEWAY_UID = 1000;

/** Like the double's image and the recipe: tini as PID 1 forwards SIGTERM and reaps, node is its child. */
const TINI = '/usr/bin/tini-static';
const CHANGES = [
  'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/node", "/app/gateway.mjs"]',
  'USER 1000:1000',
  'WORKDIR /app',
  'EXPOSE 8189/tcp',
  'ENV PATH=/usr/bin:/bin GATEWAY_HOST=0.0.0.0 GATEWAY_PORT=8189 GATEWAY_STATE_DIR=/state GATEWAY_SECRET_FILE=/run/secrets/comfyui-password',
];

function rootfs(programs: Record<string, string>): Entry[] {
  const runtime = runtimeFiles();
  const owned = (name: string) => (name === 'state' ? { uid: GATEWAY_UID, gid: GATEWAY_UID } : undefined);
  const entries = directoryEntries(['etc', 'tmp', 'app', 'state', 'run/secrets', ...runtime.map((f) => dirname(f).slice(1))], owned);
  entries.find((e) => e.name === 'state')!.mode = 0o700;
  entries.push(
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/sbin/nologin\ngateway:x:1000:1000:gateway:/app:/sbin/nologin\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\ngateway:x:1000:\n' },
    ...Object.entries(programs).map(([name, body]) => ({ name: `app/${name}`, mode: 0o755, body })),
    ...runtime.map((f) => ({ name: (f === process.execPath ? '/usr/bin/node' : f).slice(1), mode: 0o755, body: readFileSync(f) })),
    { name: 'usr/bin/tini', mode: 0o755, body: readFileSync(TINI) },
  );
  return entries;
}

/** Returns the tag of the gateway's test image, building it only if this content has no image yet. */
export async function ensureGatewayImage(docker: Docker): Promise<string> {
  const files = await bundleGateway('/bundle', false);
  const programs = Object.fromEntries(files.map((f) => [f.path.slice('/bundle/'.length), f.text]));
  const tag = `${GATEWAY_IMAGE_REPO}:${contentHash(programs, fileURLToPath(import.meta.url))}`;
  if (await imageExists(docker, tag)) return tag;
  return withBuildLock(tag, async () => {
    if (!(await imageExists(docker, tag))) await importRootfs(docker, tag, rootfs(programs), CHANGES);
    return tag;
  });
}
