/** Findings across every env file under a root: each names file, line, key, kind, message and fix. */
import path from 'node:path';
import type { EnvAudit, EnvFileSummary, EnvFinding } from '../contract/ops/env.js';
import type { PanelConfig } from '../config/schema.js';
import { fingerprint } from '../redact.js';
import { expandEscapes, unescapeQuote, type Lookup } from './compose-template.js';
import { discoverEnvFiles, type DiscoveredEnvFile } from './discover.js';
import { envEntries, firstError, parseEnvDocument, type EnvDocument, type EnvEntry } from './document.js';
import { EnvSyntaxError } from './errors.js';
import { readEnvText } from './files.js';
import { quoteForDialect } from './quote.js';
import { readDocumentValues } from './read.js';
import { comfyCredentialKind, describeValue, isExampleFile, isSecret, isSecretKey } from './secrets.js';

const BCRYPT_PREFIX = /\$2[abxy]\$\d\d\$/;

interface LoadedFile {
  info: DiscoveredEnvFile;
  doc?: EnvDocument;
  /** What the reader sees; absent when it rejects the file. */
  values?: Record<string, string>;
  /** Line of the last assignment of each key. */
  lastLine: Map<string, number>;
  /** Entries where compose met an unset `$NAME`. */
  unset: Map<EnvEntry, string[]>;
  error?: EnvFileSummary['error'];
}

export interface AuditOptions {
  /** The environment readers run with; default: this process's environment. */
  lookup?: Lookup;
}

export async function auditEnvTree(root: string, config: PanelConfig['env'], opts: AuditOptions = {}): Promise<EnvAudit> {
  const absRoot = path.resolve(root);
  const discovery = await discoverEnvFiles(absRoot, config);
  const findings: EnvFinding[] = [...discovery.findings];
  const loaded: LoadedFile[] = [];
  for (const info of discovery.files) loaded.push(await loadFile(info, opts.lookup, findings));

  for (const f of loaded) {
    if (!f.doc) continue;
    findings.push(...duplicateFindings(f.info.file, f.doc));
    if (f.info.dialect === 'compose') findings.push(...composeUnsafeFindings(f));
    if (f.info.dialect === 'raw') findings.push(...rawQuotedFindings(f.info.file, f.doc));
    if (f.values && !isExampleFile(f.info.file)) findings.push(...emptySecretFindings(f));
  }
  findings.push(...missingKeyFindings(loaded), ...crossFileFindings(loaded));
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.kind.localeCompare(b.kind));

  const files = loaded.map((f): EnvFileSummary => {
    const keys = [...f.lastLine.keys()];
    const values = f.values ?? {};
    return {
      ...f.info,
      keys: keys.length,
      secretKeys: keys.filter((k) => isSecret(k, values[k] ?? '')).length,
      ...(f.error ? { error: f.error } : {}),
    };
  });
  return { root: absRoot, files, findings };
}

async function loadFile(info: DiscoveredEnvFile, lookup: Lookup | undefined, findings: EnvFinding[]): Promise<LoadedFile> {
  const out: LoadedFile = { info, lastLine: new Map(), unset: new Map() };
  if (!info.exists) return out;
  const malformed = (line: number, message: string, severity: 'error' | 'warning' = 'error') =>
    findings.push({ file: info.file, line, kind: 'malformed', severity, message, fix: severity === 'error' ? `Fix line ${line}; until then the ${info.dialect} reader rejects the whole file.` : `Fix line ${line} so the ${info.dialect} reader reads what you mean.` });
  let text: string;
  try {
    text = await readEnvText(info.path);
  } catch (e) {
    if (!(e instanceof EnvSyntaxError)) throw e;
    out.error = { message: e.message, line: e.line };
    malformed(e.line, out.error.message);
    return out;
  }
  const doc = parseEnvDocument(text, info.dialect);
  out.doc = doc;
  for (const e of envEntries(doc)) out.lastLine.set(e.key, e.line);
  for (const p of doc.problems) if (p.severity === 'warning') malformed(p.line, p.message, 'warning');
  try {
    out.values = readDocumentValues(doc, { lookup, file: info.file }, { unset: (name, entry) => out.unset.set(entry, [...(out.unset.get(entry) ?? []), name]) });
  } catch (e) {
    if (!(e instanceof EnvSyntaxError)) throw e;
    const message = e.message;
    out.error = { message, line: e.line, ...(e.column !== undefined ? { column: e.column } : {}) };
    // Point at the statement that failed (an unclosed quote is reported by compose at the last line).
    const scanError = firstError(doc);
    malformed(scanError?.message === message ? (scanError.startLine ?? e.line) : e.line, message);
  }
  return out;
}

function duplicateFindings(file: string, doc: EnvDocument): EnvFinding[] {
  const seen = new Map<string, EnvEntry[]>();
  for (const e of envEntries(doc)) seen.set(e.key, [...(seen.get(e.key) ?? []), e]);
  const out: EnvFinding[] = [];
  for (const [key, entries] of seen) {
    const [first, ...again] = entries;
    if (!first) continue;
    const last = entries[entries.length - 1] ?? first;
    for (const e of again) {
      out.push({
        file,
        line: e.line,
        key,
        kind: 'duplicate-key',
        severity: 'warning',
        message: `${key} is set again (first at line ${first.line}); the reader keeps the last one, at line ${last.line}`,
        fix: `Keep one assignment of ${key}: delete the others (lines ${entries.filter((x) => x !== last).map((x) => x.line).join(', ')}).`,
      });
    }
  }
  return out;
}

/** A value compose reads differently from how it is written: a `$` taken as a variable. */
function composeUnsafeFindings(f: LoadedFile): EnvFinding[] {
  const out: EnvFinding[] = [];
  for (const [entry, names] of f.unset) {
    const written = entry.quote === 'double' ? expandEscapes(unescapeQuote(entry.written, '"')).replace(/\$\$/g, '$') : entry.written;
    const read = f.values?.[entry.key];
    const hashLike = BCRYPT_PREFIX.test(entry.written);
    const secret = hashLike || isSecret(entry.key, written);
    const style = entry.quote === 'double' ? 'double-quoted' : 'unquoted';
    const readAs = read === undefined ? '' : ` compose reads it as ${secret ? `${fingerprint(read)} (${read.length} chars)` : JSON.stringify(read)}, not as written (${secret ? `${fingerprint(written)}, ${written.length} chars` : JSON.stringify(written)}):`;
    const why = secret
      ? ' each "$" followed by a letter starts a variable reference, which is not set, so that part is dropped'
      : ` ${names.map((n) => `$${n}`).join(', ')} ${names.length > 1 ? 'are' : 'is'} not set, so compose puts an empty string there`;
    const shown = hashLike ? `'${written.slice(0, 7)}…'` : secret ? "'…'" : quoteForDialect(written, 'compose');
    out.push({
      file: f.info.file,
      line: entry.line,
      key: entry.key,
      kind: 'compose-unsafe',
      severity: secret ? 'error' : 'warning',
      message: `${entry.key} is ${style} in a file compose reads;${readAs}${why}`,
      fix: `Write it single-quoted so compose keeps every "$": ${entry.key}=${shown}${secret ? ' (the same value between single quotes)' : ''}${hashLike ? ', or run `comfy-panel env sync`' : ''}.`,
    });
  }
  return out;
}

function rawQuotedFindings(file: string, doc: EnvDocument): EnvFinding[] {
  return envEntries(doc)
    .filter((e) => !e.inherit && e.written.length >= 2 && /^(['"]).*\1$/s.test(e.written))
    .map((e) => ({
      file,
      line: e.line,
      key: e.key,
      kind: 'raw-quoted' as const,
      severity: 'warning' as const,
      message: `${e.key} is quoted, but a raw env file (docker --env-file, env_file format: raw) keeps the quotes as part of the value`,
      fix: `Remove the quotes around the value of ${e.key}.`,
    }));
}

function emptySecretFindings(f: LoadedFile): EnvFinding[] {
  return Object.entries(f.values ?? {})
    .filter(([key, value]) => value === '' && isSecretKey(key))
    .map(([key]) => ({
      file: f.info.file,
      line: f.lastLine.get(key) ?? 1,
      key,
      kind: 'empty-secret' as const,
      severity: 'warning' as const,
      message: `${key} looks like a secret but is empty`,
      fix: `Set ${key}, or remove it; for configured targets \`comfy-panel env sync\` fills it.`,
    }));
}

/** Keys of a `.env.example` (or .sample, .template) that its sibling `.env` lacks. */
function missingKeyFindings(loaded: LoadedFile[]): EnvFinding[] {
  const out: EnvFinding[] = [];
  const byPath = new Map(loaded.map((f) => [f.info.path, f]));
  for (const example of loaded) {
    if (!example.doc || !isExampleFile(example.info.file)) continue;
    const sibling = byPath.get(path.join(path.dirname(example.info.path), '.env'));
    if (!sibling?.doc) continue;
    const lastLine = sibling.doc.nodes.reduce((n, node) => Math.max(n, node.line), 0);
    for (const [key, line] of example.lastLine) {
      if (key === '' || sibling.lastLine.has(key)) continue;
      out.push({
        file: sibling.info.file,
        line: lastLine + 1,
        key,
        kind: 'missing-key',
        severity: 'warning',
        message: `${key} is in ${example.info.file} (line ${line}) but missing here`,
        fix: `Add ${key}=… to ${sibling.info.file}, or remove it from ${example.info.file} if it is no longer used.`,
      });
    }
  }
  return out;
}

interface Occurrence {
  file: string;
  line: number;
  key: string;
  value: string;
}

/** conflict: one key, different values in different files; token-mismatch: several ComfyUI tokens (or passwords). */
function crossFileFindings(loaded: LoadedFile[]): EnvFinding[] {
  const occurrences: Occurrence[] = [];
  for (const f of loaded) {
    if (!f.values || isExampleFile(f.info.file)) continue;
    for (const [key, value] of Object.entries(f.values)) occurrences.push({ file: f.info.file, line: f.lastLine.get(key) ?? 1, key, value });
  }
  const out: EnvFinding[] = [];
  const credentials = { token: [] as Occurrence[], password: [] as Occurrence[] };
  for (const o of occurrences) {
    const kind = comfyCredentialKind(o.key, o.value);
    if (kind) credentials[kind].push(o);
  }
  for (const [kind, group] of Object.entries(credentials)) {
    if (new Set(group.map((o) => o.value)).size < 2) continue;
    for (const o of group) {
      const others = group.filter((x) => x.value !== o.value).map((x) => `${fingerprint(x.value)} (${x.file}:${x.line} ${x.key})`);
      out.push({
        file: o.file,
        line: o.line,
        key: o.key,
        kind: 'token-mismatch',
        severity: 'error',
        message: `the ComfyUI ${kind} differs between files: here ${fingerprint(o.value)}; elsewhere ${[...new Set(others)].join(', ')}`,
        fix: 'Keep one credential: list these files in env.targets and run `comfy-panel env sync` (it writes the vault\'s current credential everywhere).',
      });
    }
  }
  const credentialKeys = new Set([...credentials.token, ...credentials.password].map((o) => o.key));
  const byKey = new Map<string, Occurrence[]>();
  for (const o of occurrences) if (!credentialKeys.has(o.key)) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  for (const [key, group] of byKey) {
    if (new Set(group.map((o) => o.value)).size < 2) continue;
    for (const o of group) {
      const others = group.filter((x) => x.value !== o.value).map((x) => `${x.file}:${x.line} has ${describeValue(key, x.value)}`);
      out.push({
        file: o.file,
        line: o.line,
        key,
        kind: 'conflict',
        severity: 'warning',
        message: `${key} differs between files: here ${describeValue(key, o.value)}; ${others.join('; ')}`,
        fix: `Give ${key} one value everywhere (or list the files in env.targets and run \`comfy-panel env sync\` for the URL and credential keys).`,
      });
    }
  }
  return out;
}

