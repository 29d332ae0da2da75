import type Docker from 'dockerode';
import { doubleArgs, ensureDoubleImage, type DoubleImageMode } from '../support/double-image.js';

/** Where runDoubleContainer mounts the secret file, as the recipe's compose file does. */
export const SECRET_IN_CONTAINER = '/run/secrets/comfyui-password';

export interface DoubleContainerOptions extends DoubleImageMode {
  /** Part of the container name: `double-<name>-<pid>`. */
  name: string;
  /** `--user`, e.g. '1000:1000' (the recipe's user); default the image's (root). */
  user?: string;
  /** A host file mounted read-only at SECRET_IN_CONTAINER, with COMFYUI_SECRET_FILE pointing at it. */
  secretFile?: string;
  /** COMFYUI_SECRET_FILE without a mount (e.g. a path that does not exist). */
  secretPath?: string;
  /** COMFYUI_AUTH_REQUIRED=1 (the recipe's default in compose). */
  authRequired?: boolean;
  /** docker run --init (docker-init as PID 1, then the image's tini). */
  init?: boolean;
  env?: string[];
  binds?: string[];
  /** Publish 8188 on a random loopback port (default true). */
  publish?: boolean;
  /** The recipe's healthcheck, every 0.5 s (default true). */
  healthcheck?: boolean;
}

export interface DoubleContainer {
  container: Docker.Container;
  name: string;
  /** The published URL (after each start the port may differ). */
  url(): Promise<string>;
  /** Waits until /system_stats answers anything, then returns the URL. */
  ready(timeoutMs?: number): Promise<string>;
  logs(): Promise<string>;
  /** Runs `node -e script` inside (the image has no shell) and returns its stdout. */
  execNode(script: string, user?: string): Promise<string>;
  /** Waits for the container to exit and returns its exit code. */
  exitCode(): Promise<number>;
  remove(): Promise<void>;
}

/** Joins the frames of a non-TTY log or exec stream (8-byte header: stream, 0, 0, 0, size). */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8 + buf.readUInt32BE(off + 4)) out.push(buf.subarray(off + 8, off + 8 + buf.readUInt32BE(off + 4)));
  return Buffer.concat(out).toString('utf8');
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Creates and starts a container of the double's image in a mode, as a user, with a secret
 * file: the container-side twin of startDouble(). Remove it with remove() (force).
 */
export async function runDoubleContainer(docker: Docker, opts: DoubleContainerOptions): Promise<DoubleContainer> {
  const image = await ensureDoubleImage(docker);
  const name = `double-${opts.name}-${process.pid}`;
  const env = [...(opts.env ?? [])];
  if (opts.secretFile) env.push(`COMFYUI_SECRET_FILE=${SECRET_IN_CONTAINER}`);
  else if (opts.secretPath) env.push(`COMFYUI_SECRET_FILE=${opts.secretPath}`);
  if (opts.authRequired) env.push('COMFYUI_AUTH_REQUIRED=1');
  const container = await docker.createContainer({
    name,
    Image: image,
    Cmd: doubleArgs(opts),
    Env: env,
    User: opts.user,
    ExposedPorts: { '8188/tcp': {} },
    Healthcheck: opts.healthcheck === false ? undefined : { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], Interval: 500_000_000, Timeout: 3_000_000_000, Retries: 3, StartPeriod: 0 },
    HostConfig: {
      Init: opts.init,
      PortBindings: opts.publish === false ? undefined : { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      Binds: [...(opts.secretFile ? [`${opts.secretFile}:${SECRET_IN_CONTAINER}:ro`] : []), ...(opts.binds ?? [])],
    },
  });
  await container.start();
  const url = async () => {
    const port = (await container.inspect()).NetworkSettings.Ports['8188/tcp']?.[0]?.HostPort;
    if (!port) throw new Error(`${name}: port 8188 is not published (is it running?)`);
    return `http://127.0.0.1:${port}`;
  };
  return {
    container,
    name,
    url,
    ready: async (timeoutMs) => {
      const u = await waitFor(`${name} to publish its port`, url, timeoutMs);
      await waitFor(`${name} to answer`, async () => (await fetch(`${u}/system_stats`, { redirect: 'manual', signal: AbortSignal.timeout(2000) })).status, timeoutMs);
      return u;
    },
    logs: async () => demux(await container.logs({ stdout: true, stderr: true, follow: false })),
    execNode: async (script, user) => {
      const exec = await container.exec({ Cmd: ['/usr/bin/node', '-e', script], AttachStdout: true, AttachStderr: true, User: user });
      const stream = await exec.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      await new Promise<void>((ok, fail) => {
        stream.on('data', (b: Buffer) => chunks.push(b));
        stream.on('end', () => ok());
        stream.on('error', fail);
      });
      return demux(Buffer.concat(chunks)).trim();
    },
    exitCode: async () => (await container.wait()).StatusCode as number,
    remove: async () => {
      await container.remove({ force: true }).catch(() => undefined);
    },
  };
}
