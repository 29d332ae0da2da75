/**
 * Builds the ComfyUI double's container image with `docker import` (no registry needed): a
 * rootfs holding this machine's node binary and the shared libraries it loads, the double
 * bundled by esbuild, and the ComfyUI folder layout with the ComfyUI-Login node installed.
 *
 *   const tag = await ensureDoubleImage(docker);    // comfy-panel-double:<content hash>, reused
 *   docker run -d -p 127.0.0.1:P:8188 \
 *     -v /path/secret:/run/secrets/comfyui-password:ro -e COMFYUI_SECRET_FILE=/run/secrets/comfyui-password \
 *     [-e COMFYUI_AUTH_REQUIRED=1] \
 *     <tag> [--no-login] [--sampler-ms N]
 *
 * Inside: ComfyUI root /workspace/ComfyUI (login/, output/, models/<kind>/, custom_nodes/ComfyUI-Login),
 * port 8188, the ComfyUI child's pid in /tmp/comfyui.pid (SIGKILL it to simulate a crash: the
 * container exits 137). No shell and no nvidia-smi in the image. Like the recipe, the image sets
 * no HEALTHCHECK (an image's values would fill in every zero field of the container's own, e.g.
 * StartPeriod 0); the container passes Healthcheck: { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], ... }
 * (exits 0 on 200 or 401). The docker CLI's --health-cmd needs a shell, which the image lacks.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { build } from 'esbuild';
import { pack, type Pack } from 'tar-stream';

export const DOUBLE_IMAGE_REPO = 'comfy-panel-double';
const COMFY_ROOT = 'workspace/ComfyUI';
const DOUBLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'comfy-double');

/** One file, folder or link of an imported rootfs (also used by test/support/gateway-image.ts). */
export interface Entry {
  name: string;
  mode: number;
  type?: 'file' | 'directory' | 'symlink';
  body?: Buffer | string;
  linkname?: string;
  /** Owner in the image (default root). */
  uid?: number;
  gid?: number;
}

/** The double's three programs as self-contained ESM files (ws, bcryptjs, commander inside). */
async function bundle(): Promise<Record<string, string>> {
  const result = await build({
    entryPoints: {
      'comfy-double': join(DOUBLE_DIR, 'cli.ts'),
      entrypoint: join(DOUBLE_DIR, 'container', 'entrypoint.ts'),
      healthcheck: join(DOUBLE_DIR, 'container', 'healthcheck.ts'),
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: '/app',
    outExtension: { '.js': '.mjs' },
    write: false,
    logLevel: 'silent',
    // ws loads these native speed-ups only if present; the image does without.
    external: ['bufferutil', 'utf-8-validate'],
    // CommonJS dependencies bundled into ESM still call require() for node built-ins.
    banner: { js: "#!/usr/bin/node\nimport { createRequire as __comfyRequire } from 'node:module'; const require = __comfyRequire(import.meta.url);" },
  });
  return Object.fromEntries(result.outputFiles.map((f) => [f.path.slice(1), f.text]));
}

/** The node binary and every shared object it has loaded (what `ldd node` lists), by absolute path. */
export function runtimeFiles(): string[] {
  const libs = (process.report.getReport() as { sharedObjects: string[] }).sharedObjects.filter((p) => p.startsWith('/'));
  return [process.execPath, ...libs];
}

/** Folder entries for `dirs` (relative paths) and all their parents, parents first, each once: tar readers need them in order. */
export function directoryEntries(dirs: string[], owner: (name: string) => { uid: number; gid: number } | undefined = () => undefined): Entry[] {
  return [...new Set(dirs)]
    .flatMap((d) => {
      const parts = d.split('/');
      return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    })
    .filter((d, i, all) => all.indexOf(d) === i)
    .map((name) => ({ name, type: 'directory' as const, mode: name === 'tmp' ? 0o1777 : 0o755, ...owner(name) }));
}

function rootfs(programs: Record<string, string>): Entry[] {
  const dirs = ['etc', 'tmp', 'root', 'app', 'usr/local/bin', 'run/secrets', `${COMFY_ROOT}/login`, `${COMFY_ROOT}/output`, `${COMFY_ROOT}/input`, `${COMFY_ROOT}/temp`];
  for (const kind of ['unet', 'diffusion_models', 'text_encoders', 'clip', 'vae', 'checkpoints', 'loras']) dirs.push(`${COMFY_ROOT}/models/${kind}`);
  dirs.push(`${COMFY_ROOT}/custom_nodes/ComfyUI-Login`);
  const runtime = runtimeFiles();
  for (const f of runtime) dirs.push(dirname(f).slice(1));
  const entries = directoryEntries(dirs);
  entries.push(
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: `${COMFY_ROOT}/custom_nodes/ComfyUI-Login/__init__.py`, mode: 0o644, body: '# ComfyUI-Login (test double)\n' },
    ...Object.entries(programs).map(([name, body]) => ({ name, mode: 0o755, body })),
    { name: 'usr/local/bin/comfy-healthcheck', mode: 0o755, type: 'symlink', linkname: '/app/healthcheck.mjs' },
    // Installed where the recipe's scripts expect node, whatever this machine's path is.
    ...runtime.map((f) => ({ name: (f === process.execPath ? '/usr/bin/node' : f).slice(1), mode: 0o755, body: readFileSync(f) })),
  );
  return entries;
}

/** Tag of an image of `programs` on this machine's node; `recipe` is the file that decides the layout (an edit there is a new image too). */
export function contentHash(programs: Record<string, string>, recipe = fileURLToPath(import.meta.url)): string {
  const h = createHash('sha256');
  h.update(readFileSync(recipe));
  for (const [name, body] of Object.entries(programs).sort()) h.update(name).update(body);
  for (const f of runtimeFiles()) {
    const s = statSync(f);
    h.update(`${f}:${s.size}:${s.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

function writeEntries(tar: Pack, entries: Entry[]): void {
  for (const e of entries) {
    const header = { name: e.name, mode: e.mode, type: e.type ?? 'file', linkname: e.linkname, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(0) };
    if (e.body === undefined) tar.entry(header);
    else tar.entry(header, e.body);
  }
  tar.finalize();
}

const DOUBLE_CHANGES = ['ENTRYPOINT ["/usr/bin/node", "/app/entrypoint.mjs"]', 'WORKDIR /workspace/ComfyUI', 'EXPOSE 8188/tcp', 'ENV PATH=/usr/local/bin:/usr/bin:/bin'];

/** Imports `entries` as image `tag` with Dockerfile-like `changes` (default: the double's). */
export async function importRootfs(docker: Docker, tag: string, entries: Entry[], changes: string[] = DOUBLE_CHANGES): Promise<void> {
  const tar = pack();
  const [repo, version] = tag.split(':') as [string, string];
  // tar-stream's streamx Readable pipes like a Node stream, which is all docker-modem needs.
  const importing = docker.importImage(tar as unknown as NodeJS.ReadableStream, {
    repo,
    tag: version,
    changes: [...changes, `LABEL org.opencontainers.image.title=${repo}`],
  });
  writeEntries(tar, entries);
  const progress = await importing;
  // The engine reports failures inside the progress stream, not as an HTTP status.
  const text = await new Promise<string>((ok, fail) => {
    const chunks: Buffer[] = [];
    progress.on('data', (c: Buffer) => chunks.push(c));
    progress.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    progress.on('error', fail);
  });
  const error = text.split('\n').find((l) => l.includes('"error"'));
  if (error) throw new Error(`docker import of ${tag} failed: ${error}`);
}

/** Serialises concurrent builds of one tag across test workers; a lock older than 2 min is stale. */
export async function withBuildLock<T>(tag: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `${tag.replace(/[:/]/g, '-')}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Returns the tag of the double's image, building it only if this content has no image yet. */
export async function ensureDoubleImage(docker: Docker): Promise<string> {
  const programs = await bundle();
  const tag = `${DOUBLE_IMAGE_REPO}:${contentHash(programs)}`;
  if (await imageExists(docker, tag)) return tag;
  return withBuildLock(tag, async () => {
    if (await imageExists(docker, tag)) return tag;
    // Older versions are left alone: other sessions sharing this engine may still use them.
    await importRootfs(docker, tag, rootfs(programs));
    return tag;
  });
}
