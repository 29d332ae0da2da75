/**
 * Builds the ComfyUI double's container image with `docker import` (no registry needed): a
 * rootfs holding this machine's node binary and the shared libraries it loads, tini, the double
 * bundled by esbuild, and the ComfyUI folder layout with the ComfyUI-Login node installed.
 *
 *   const tag = await ensureDoubleImage(docker);    // comfy-panel-double:<content hash>, reused
 *   docker run -d -p 127.0.0.1:P:8188 [--user 1000:1000] \
 *     -v /path/secret:/run/secrets/comfyui-password:ro -e COMFYUI_SECRET_FILE=/run/secrets/comfyui-password \
 *     [-e COMFYUI_AUTH_REQUIRED=1] \
 *     <tag> [--no-login] [--sampler-ms N] [--login-node-version pre-token] [--login-import-failed] [--cors-origin ORIGIN]
 *
 * The modes can also be set with COMFY_DOUBLE_LOGIN_NODE_VERSION, COMFY_DOUBLE_LOGIN_IMPORT_FAILED=1
 * and COMFY_DOUBLE_CORS_ORIGIN (`doubleArgs()` builds the arguments). Like the recipe: tini is
 * PID 1 (`docker stop` ends ComfyUI with 143), the entrypoint installs the secret as
 * login/PASSWORD at every start under umask 077 and refuses an unreadable secret (exit 1), and
 * the ComfyUI tree belongs to uid/gid 1000 ("comfy"), so `--user 1000:1000` works; the default
 * user stays root. Inside: ComfyUI root /workspace/ComfyUI (login/ 0700, output/, user/,
 * models/<kind>/, custom_nodes/ComfyUI-Login), port 8188, ComfyUI's pid in /tmp/comfyui.pid
 * (SIGKILL it to simulate a crash: the container exits 137). No shell and no nvidia-smi in the
 * image. Like the recipe, the image sets no HEALTHCHECK (an image's values would fill in every
 * zero field of the container's own, e.g. StartPeriod 0); the container passes
 * Healthcheck: { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], ... } (exits 0 on 200 or 401).
 * The docker CLI's --health-cmd needs a shell, which the image lacks.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { build } from 'esbuild';
import { pack, type Pack } from 'tar-stream';
import { installLoginNode, LOGIN_NODE_DIR, type LoginNodeVersion } from '../comfy-double/login-node.js';

export const DOUBLE_IMAGE_REPO = 'comfy-panel-double';
const COMFY_ROOT = 'workspace/ComfyUI';
const DOUBLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'comfy-double');
/** The recipe's non-root user: the ComfyUI tree belongs to it. */
export const DOUBLE_IMAGE_UID = 1000;
const TINI = '/usr/bin/tini-static';

/** The modes the image's arguments select (after the image name), each reproducing a real failure. */
export interface DoubleImageMode {
  /** false: an image without ComfyUI-Login (--no-login). */
  login?: boolean;
  loginNodeVersion?: LoginNodeVersion;
  loginImportFailed?: boolean;
  corsOrigin?: string;
  samplerMs?: number;
}

/** The container command (arguments after the image name) for a mode. */
export function doubleArgs(mode: DoubleImageMode = {}): string[] {
  return [
    ...(mode.login === false ? ['--no-login'] : []),
    ...(mode.loginNodeVersion ? ['--login-node-version', mode.loginNodeVersion] : []),
    ...(mode.loginImportFailed ? ['--login-import-failed'] : []),
    ...(mode.corsOrigin !== undefined ? ['--cors-origin', mode.corsOrigin] : []),
    ...(mode.samplerMs !== undefined ? ['--sampler-ms', String(mode.samplerMs)] : []),
  ];
}

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
  const programs = Object.fromEntries(result.outputFiles.map((f) => [f.path.slice(1), f.text]));
  // The node classes the double lists, read next to the bundles (new URL('./object_info.json', import.meta.url)).
  programs['app/object_info.json'] = readFileSync(join(DOUBLE_DIR, 'object_info.json'), 'utf8');
  return programs;
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

/** The ComfyUI-Login folder as the double installs it (`__init__.py`, `js/`, `old_css/`), read from a throw-away root. */
function loginNodeFiles(): Entry[] {
  const scratch = mkdtempSync(join(tmpdir(), 'double-image-node-'));
  try {
    installLoginNode(scratch, 'current');
    const base = join(scratch, LOGIN_NODE_DIR);
    const found = readdirSync(base, { recursive: true, withFileTypes: true }).sort((x, y) => Number(y.isDirectory()) - Number(x.isDirectory()) || x.parentPath.length - y.parentPath.length);
    return found.map((e) => {
      const rel = relative(base, join(e.parentPath, e.name)).split(sep).join('/');
      const name = `${COMFY_ROOT}/${LOGIN_NODE_DIR}/${rel}`;
      return e.isDirectory() ? { name, type: 'directory' as const, mode: 0o755, uid: DOUBLE_IMAGE_UID, gid: DOUBLE_IMAGE_UID } : { name, mode: 0o644, body: readFileSync(join(base, rel)), uid: DOUBLE_IMAGE_UID, gid: DOUBLE_IMAGE_UID };
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function rootfs(programs: Record<string, string>): Entry[] {
  const comfyDirs = ['login', 'output', 'input', 'temp', 'user', 'custom_nodes', LOGIN_NODE_DIR, ...['unet', 'diffusion_models', 'text_encoders', 'clip', 'vae', 'checkpoints', 'loras'].map((k) => `models/${k}`)].map((d) => `${COMFY_ROOT}/${d}`);
  const dirs = ['etc', 'tmp', 'root', 'app', 'home/comfy', 'usr/local/bin', 'run/secrets', ...comfyDirs];
  const runtime = runtimeFiles();
  for (const f of runtime) dirs.push(dirname(f).slice(1));
  const owned = (name: string) => name === 'home/comfy' || name === COMFY_ROOT || name.startsWith(`${COMFY_ROOT}/`);
  const entries = directoryEntries(dirs, (name) => (owned(name) ? { uid: DOUBLE_IMAGE_UID, gid: DOUBLE_IMAGE_UID } : undefined)).map((e) =>
    e.name === `${COMFY_ROOT}/login` ? { ...e, mode: 0o700 } : e,
  );
  entries.push(
    { name: 'etc/passwd', mode: 0o644, body: `root:x:0:0:root:/root:/sbin/nologin\ncomfy:x:${DOUBLE_IMAGE_UID}:${DOUBLE_IMAGE_UID}::/home/comfy:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n` },
    { name: 'etc/group', mode: 0o644, body: `root:x:0:\ncomfy:x:${DOUBLE_IMAGE_UID}:\nnogroup:x:65534:\n` },
    ...loginNodeFiles().filter((e) => e.type !== 'directory' || e.name !== `${COMFY_ROOT}/${LOGIN_NODE_DIR}`),
    ...Object.entries(programs).map(([name, body]) => ({ name, mode: name.endsWith('.json') ? 0o644 : 0o755, body })),
    { name: 'usr/local/bin/comfy-healthcheck', mode: 0o755, type: 'symlink', linkname: '/app/healthcheck.mjs' },
    // PID 1, as in the recipe: forwards SIGTERM to ComfyUI and exits with its status (143 after a stop).
    { name: 'usr/bin/tini', mode: 0o755, body: readFileSync(TINI) },
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
  for (const f of [...runtimeFiles(), TINI]) {
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

const DOUBLE_CHANGES = ['ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/node", "/app/entrypoint.mjs"]', 'WORKDIR /workspace/ComfyUI', 'EXPOSE 8188/tcp', 'ENV PATH=/usr/local/bin:/usr/bin:/bin'];

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
  if (!existsSync(TINI)) throw new Error(`${TINI} is missing: the double's image runs it as PID 1, like the recipe; install Debian's tini (docker.io depends on it)`);
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
