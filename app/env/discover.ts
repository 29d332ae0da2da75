/**
 * Finding env files under a root: names matching env.include, plus every file a compose
 * file reads through env_file, plus the configured targets; each with the dialect its reader uses.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { EnvFileSummary, EnvFinding } from '../contract/ops/env.js';
import { errorMessage } from '../errors.js';
import { decodeLossless } from '../fs/lossless.js';
import { readRegularFile } from '../fs/regular.js';
import type { Dialect } from './dialects/names.js';
import { bounded } from './errors.js';
import { isInside, type EnvConfig, type EnvScope } from './root.js';

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
/** Our own atomic-write temp files and backups, and editor leftovers, are never env files. */
const NOT_ENV = /(\.bak|\.tmp|\.swp|~)$/;

export type DiscoveredEnvFile = Omit<EnvFileSummary, 'keys' | 'secretKeys' | 'error'>;

export interface Discovery {
  files: DiscoveredEnvFile[];
  /** Compose files that could not be read, env_file entries pointing nowhere. */
  findings: EnvFinding[];
}

/** Shell-style pattern (`*`, `?`) to a regex over a name or a relative path. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function matcher(patterns: string[]): (rel: string) => boolean {
  const res = patterns.map((p) => ({ re: globToRegExp(p), onPath: p.includes('/') }));
  return (rel) => res.some(({ re, onPath }) => re.test(onPath ? rel : path.posix.basename(rel)));
}

export function relativeName(root: string, file: string): string {
  return isInside(root, file) && file !== root ? path.relative(root, file).split(path.sep).join('/') : file;
}

/**
 * Everything under root that is not a folder: regular files, links to them (a linked env
 * file, .env -> ../shared.env, counts) and also FIFOs, devices and sockets, which are
 * listed so their name gets a finding, but never read. Linked folders are not followed (no loops).
 */
async function walk(root: string, excluded: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (excluded(relativeName(root, full))) continue;
      if (e.isDirectory()) await visit(full);
      else if (!e.isSymbolicLink() || (await kindOf(full)) !== 'folder') out.push(full);
    }
  };
  await visit(root);
  return out.sort();
}

interface EnvFileRef {
  path: string;
  compose: string;
  service: string;
  line: number;
  required: boolean;
  format?: string;
}

/** env_file: a string, a list of strings, or a list of {path, required, format}. */
function envFileRefs(composePath: string, text: string, root: string): { refs: EnvFileRef[]; finding?: EnvFinding } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const compose = relativeName(root, composePath);
  const lineOf = (node: Node | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? 1;
    return { refs: [], finding: { file: compose, line, kind: 'malformed', severity: 'error', message: `not valid YAML: ${bounded(err.message.split('\n')[0] ?? '', 200)}`, fix: `Fix the YAML at line ${line}.` } };
  }
  const refs: EnvFileRef[] = [];
  const services = doc.get('services', true);
  if (!isMap(services)) return { refs };
  const dir = path.dirname(composePath);
  for (const pair of services.items) {
    const service = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!isMap(pair.value)) continue;
    const envFile = pair.value.get('env_file', true);
    const items: unknown[] = isSeq(envFile) ? envFile.items : envFile ? [envFile] : [];
    for (const item of items) {
      const node = item as Node;
      if (isScalar(node) && typeof node.value === 'string') {
        refs.push({ path: path.resolve(dir, node.value), compose, service, line: lineOf(node), required: true });
      } else if (isMap(node)) {
        const p = node.get('path');
        if (typeof p !== 'string') continue;
        const required = node.get('required');
        const format = node.get('format');
        refs.push({ path: path.resolve(dir, p), compose, service, line: lineOf(node), required: required !== false, ...(typeof format === 'string' ? { format } : {}) });
      }
    }
  }
  return { refs };
}

/** What is at a path, following links: a regular file, a folder, nothing, or something else (a FIFO, a device, a dangling or looping link). */
async function kindOf(file: string): Promise<'file' | 'folder' | 'missing' | 'other'> {
  return fs.stat(file).then(
    (st) => (st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other'),
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'missing' : 'other'),
  );
}

/** A compose file larger than this is not read for env_file entries. */
const MAX_COMPOSE_BYTES = 4 * 1024 * 1024;

async function composeRefs(composePath: string, root: string): Promise<{ refs: EnvFileRef[]; finding?: EnvFinding }> {
  let text: string;
  try {
    text = decodeLossless((await readRegularFile(composePath, MAX_COMPOSE_BYTES)).data);
  } catch (e) {
    const file = relativeName(root, composePath);
    const why = (e as NodeJS.ErrnoException).code ?? errorMessage(e);
    return { refs: [], finding: { file, line: 1, kind: 'unreadable', severity: 'warning', message: `cannot read this compose file (${bounded(why, 200)}), so its env_file entries are not known`, fix: `Make ${file} readable by the panel, or exclude it (env.exclude).` } };
  }
  return envFileRefs(composePath, text, root);
}

/**
 * The env files of a scope: names matching env.include under its root (env.exclude
 * skipped), every file a compose file there reads through env_file, and the scope's
 * configured targets; each with the dialect its reader uses.
 */
export async function discoverEnvFiles(scope: EnvScope, patterns: Pick<EnvConfig, 'include' | 'exclude'>): Promise<Discovery> {
  const { root, targets } = scope;
  const excluded = matcher(patterns.exclude);
  const included = matcher(patterns.include);
  const all = await walk(root, excluded);
  const findings: EnvFinding[] = [];
  const composeFiles = all.filter((f) => COMPOSE_FILE_NAMES.includes(path.basename(f)));
  const composeDirs = new Set(composeFiles.map((f) => path.dirname(f)));

  const refsByPath = new Map<string, EnvFileRef[]>();
  for (const composePath of composeFiles) {
    const parsed = await composeRefs(composePath, root);
    for (const r of parsed.refs) {
      const list = refsByPath.get(r.path);
      if (list) list.push(r);
      else refsByPath.set(r.path, [r]);
    }
    if (parsed.finding) findings.push(parsed.finding);
  }

  const candidates = new Set(all.filter((f) => included(relativeName(root, f)) && !NOT_ENV.test(f)));
  for (const p of refsByPath.keys()) candidates.add(p);
  for (const t of targets.keys()) candidates.add(t);

  const files: DiscoveredEnvFile[] = [];
  for (const file of [...candidates].sort()) {
    const fileRefs = refsByPath.get(file) ?? [];
    // Anything but "missing" is listed: a FIFO or unreadable file gets its finding when it is loaded.
    const present = (await kindOf(file)) !== 'missing';
    const rel = relativeName(root, file);
    if (!present) {
      for (const r of fileRefs) {
        findings.push({
          file: r.compose,
          line: r.line,
          kind: 'missing-file',
          severity: r.required ? 'error' : 'warning',
          message: `service ${r.service} reads env_file ${rel}, which does not exist${r.required ? ': compose refuses to start it' : ' (required: false, so compose skips it)'}`,
          fix: `Create ${rel}, or fix the env_file path.`,
        });
      }
      if (!targets.has(file)) continue;
    }
    const configured = targets.get(file);
    let dialect: Dialect = 'dotenv';
    let dialectSource: DiscoveredEnvFile['dialectSource'] = 'default';
    if (configured) [dialect, dialectSource] = [configured, 'config'];
    else if (fileRefs.some((r) => r.format === 'raw')) [dialect, dialectSource] = ['raw', 'env_file'];
    else if (fileRefs.length > 0) [dialect, dialectSource] = ['compose', 'env_file'];
    else if (composeDirs.has(path.dirname(file))) [dialect, dialectSource] = ['compose', 'compose-dir'];
    files.push({
      file: rel,
      path: file,
      dialect,
      dialectSource,
      exists: present,
      referencedBy: fileRefs.map(({ compose, service, line, required, format }) => ({ compose, service, line, required, ...(format ? { format } : {}) })),
    });
  }
  return { files, findings };
}

/**
 * The dialect of a single file without a full scan: the scope's configured target, else
 * compose beside a compose file, else dotenv.
 */
export async function guessDialect(file: string, scope: EnvScope): Promise<Dialect> {
  const abs = path.resolve(scope.root, file);
  const target = scope.targets.get(abs);
  if (target) return target;
  for (const name of COMPOSE_FILE_NAMES) if ((await kindOf(path.join(path.dirname(abs), name))) === 'file') return 'compose';
  return 'dotenv';
}
