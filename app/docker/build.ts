import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import type { BuildResult } from '../contract/ops/container.js';
import { PanelError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { redact } from '../redact.js';

export interface BuildOptions {
  tag: string;
  /** Folder with the Dockerfile; default assets/docker/comfyui-qwen of the package. */
  contextDir?: string;
  onProgress?: (line: string) => void;
}

interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export function defaultBuildContext(): string {
  return path.join(packageRoot(), 'assets', 'docker', 'comfyui-qwen');
}

/** The build context as a tar, file modes kept (the entrypoint must stay executable). */
async function packContext(dir: string): Promise<tar.Pack> {
  const pack = tar.pack();
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const st = await fs.stat(full);
    const name = path.relative(dir, full).split(path.sep).join('/');
    pack.entry({ name, mode: st.mode & 0o777, mtime: st.mtime }, await fs.readFile(full));
  }
  pack.finalize();
  return pack;
}

/** The base image of the Dockerfile's first FROM, for the error message. */
async function baseImage(dir: string): Promise<string | undefined> {
  const text = await fs.readFile(path.join(dir, 'Dockerfile'), 'utf8').catch(() => '');
  return /^\s*FROM\s+(?:--\S+\s+)*(\S+)/im.exec(text)?.[1];
}

const PULL_FAILED = /pull access denied|manifest unknown|not found|no such host|dial tcp|failed to resolve|TLS handshake|i\/o timeout|no such image/i;

/** Builds the image through the engine's build API, streaming its output lines. */
export async function buildImage(docker: Docker, opts: BuildOptions): Promise<BuildResult> {
  const dir = opts.contextDir ?? defaultBuildContext();
  await fs.access(path.join(dir, 'Dockerfile')).catch(() => {
    throw new PanelError(`no Dockerfile in ${dir}`, 'build-no-dockerfile', 'Reinstall the panel, or pass the folder that holds the Dockerfile.');
  });
  let lines = 0;
  let imageId: string | undefined;
  let failure: string | undefined;
  const onEvent = (ev: BuildEvent) => {
    if (ev.aux?.ID) imageId = ev.aux.ID;
    const msg = ev.errorDetail?.message ?? ev.error;
    if (msg) failure = msg;
    for (const line of (ev.stream ?? ev.status ?? msg ?? '').split('\n')) {
      if (!line.trim()) continue;
      lines++;
      opts.onProgress?.(redact(line));
    }
  };
  try {
    // tar-stream packs are streamx streams; docker-modem only needs pipe() and 'error'.
    const context = (await packContext(dir)) as unknown as NodeJS.ReadableStream;
    const stream = await docker.buildImage(context, { t: opts.tag, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), onEvent);
    });
  } catch (e) {
    failure ??= (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
  }
  if (failure) {
    const base = await baseImage(dir);
    const pull = PULL_FAILED.test(failure);
    throw new PanelError(
      `building ${opts.tag} failed: ${redact(failure)}`,
      pull ? 'build-base-image-unavailable' : 'build-failed',
      pull
        ? `The base image ${base ?? '(see the Dockerfile FROM line)'} could not be pulled. Pull or load it first (\`docker pull ${base ?? '<base>'}\` where a registry is reachable, or \`docker load -i <file>.tar\`), then build again.`
        : 'Read the build output above; fix the Dockerfile or the files it copies, then build again.',
    );
  }
  return { tag: opts.tag, ...(imageId ? { imageId } : {}), lines };
}
