/**
 * Finding env files under a root: names matching env.include, plus every file a compose
 * file reads through env_file; each with the dialect its reader uses.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { EnvFileSummary, EnvFinding } from '../contract/ops/env.js';
import type { Dialect, PanelConfig } from '../config/schema.js';

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
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

async function walk(root: string, excluded: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (excluded(relativeName(root, full))) continue;
      if (e.isDirectory()) await visit(full);
      // A linked env file (.env -> ../shared.env) counts; linked folders are not followed (no loops).
      else if (e.isFile() || (e.isSymbolicLink() && (await exists(full)))) out.push(full);
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
    return { refs: [], finding: { file: compose, line, kind: 'malformed', severity: 'error', message: `not valid YAML: ${err.message.split('\n')[0]}`, fix: `Fix the YAML at line ${line}.` } };
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

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

export async function discoverEnvFiles(root: string, config: PanelConfig['env']): Promise<Discovery> {
  const excluded = matcher(config.exclude);
  const included = matcher(config.include);
  const all = await walk(root, excluded);
  const findings: EnvFinding[] = [];
  const composeFiles = all.filter((f) => COMPOSE_FILE_NAMES.includes(path.basename(f)));
  const composeDirs = new Set(composeFiles.map((f) => path.dirname(f)));

  const refs: EnvFileRef[] = [];
  for (const composePath of composeFiles) {
    const parsed = envFileRefs(composePath, await fs.readFile(composePath, 'utf8'), root);
    refs.push(...parsed.refs);
    if (parsed.finding) findings.push(parsed.finding);
  }

  const candidates = new Set(all.filter((f) => included(relativeName(root, f)) && !NOT_ENV.test(f)));
  for (const r of refs) candidates.add(r.path);
  const targets = new Map(config.targets.map((t) => [path.resolve(root, config.root ?? '.', t.path), t.dialect]));
  for (const t of targets.keys()) candidates.add(t);

  const files: DiscoveredEnvFile[] = [];
  for (const file of [...candidates].sort()) {
    const fileRefs = refs.filter((r) => r.path === file);
    const present = await exists(file);
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
 * The dialect of a single file without a full scan: the configured target (paths relative
 * to env.root, else to `root`), else compose beside a compose file, else dotenv.
 */
export async function guessDialect(file: string, config: PanelConfig['env'], root: string): Promise<Dialect> {
  const abs = path.resolve(root, file);
  const target = config.targets.find((t) => path.resolve(root, config.root ?? '.', t.path) === abs);
  if (target) return target.dialect;
  for (const name of COMPOSE_FILE_NAMES) if (await exists(path.join(path.dirname(abs), name))) return 'compose';
  return 'dotenv';
}
