/**
 * Findings across every env file of a scope: each names file, line, key, kind, message and
 * fix. Linear in the size of the files, and every finding's text is bounded, so a hostile
 * file (20,000 identical lines) costs what reading it costs.
 */
import path from 'node:path';
import type { EnvAudit, EnvFileSummary, EnvFinding } from '../contract/ops/env.js';
import { errorMessage, PanelError } from '../errors.js';
import { fingerprint } from '../redact.js';
import { dialectModules, type Lookup } from './dialects/index.js';
import { discoverEnvFiles, type DiscoveredEnvFile } from './discover.js';
import { envEntries, firstError, parseEnvDocument, type EnvDocument, type EnvEntry } from './document.js';
import { bounded, EnvSyntaxError } from './errors.js';
import { readEnvFile } from './files.js';
import { readDocumentValues } from './read.js';
import type { EnvConfig, EnvScope } from './root.js';
import { comfyCredentialKind, describeValue, heldCredential, isExampleFile, isSecret, isSecretKey } from './secrets.js';

/** Past this many findings of one kind in one file, the rest are summed up in one more. */
const MAX_FINDINGS_PER_FILE_KIND = 50;
/** Lines or places listed in one message. */
const MAX_LISTED = 10;
const MAX_FINDING_CHARS = 1000;

interface LoadedFile {
  info: DiscoveredEnvFile;
  doc?: EnvDocument;
  /** Permission bits, when the file could be read. */
  mode?: number;
  /** What the reader sees; absent when it rejects the file. */
  values?: Record<string, string>;
  /** Every assignment of each key, in file order (one pass serves duplicates and last lines). */
  byKey: Map<string, EnvEntry[]>;
  /** Entries where compose met an unset `$NAME`. */
  unset: Map<EnvEntry, string[]>;
  error?: EnvFileSummary['error'];
}

export interface AuditOptions {
  /** The environment readers run with; default: this process's environment. */
  lookup?: Lookup;
}

/** `a, b, c, … and N more` for at most MAX_LISTED items (of `total`, when only the first ones are passed). */
function listed(items: readonly (string | number)[], total = items.length): string {
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return total > MAX_LISTED ? `${shown}, … and ${total - MAX_LISTED} more` : shown;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byPlace = (a: EnvFinding, b: EnvFinding) => cmp(a.file, b.file) || a.line - b.line || cmp(a.kind, b.kind);

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export async function auditEnvTree(scope: EnvScope, patterns: Pick<EnvConfig, 'include' | 'exclude'>, opts: AuditOptions = {}): Promise<EnvAudit> {
  const discovery = await discoverEnvFiles(scope, patterns);
  const findings = new FindingSet();
  findings.addAll(discovery.findings);
  const loaded: LoadedFile[] = [];
  for (const info of discovery.files) loaded.push(await loadFile(info, opts.lookup, findings));

  for (const f of loaded) {
    if (!f.doc) continue;
    duplicateFindings(f.info.file, f.byKey, findings);
    findings.addAll(dialectModules[f.info.dialect].lint({ file: f.info.file, doc: f.doc, unset: f.unset, ...(f.values ? { values: f.values } : {}) }));
    if (f.values && !isExampleFile(f.info.file)) findings.addAll([...emptySecretFindings(f), ...readableSecretFindings(f, scope)]);
  }
  findings.addAll([...missingKeyFindings(loaded), ...crossFileFindings(loaded)]);

  const files = loaded.map((f): EnvFileSummary => {
    const values = f.values ?? {};
    let secretKeys = 0;
    for (const k of f.byKey.keys()) if (isSecret(k, values[k] ?? '')) secretKeys++;
    return { ...f.info, keys: f.byKey.size, secretKeys, ...(f.error ? { error: f.error } : {}) };
  });
  return { root: scope.root, files, findings: findings.list() };
}

async function loadFile(info: DiscoveredEnvFile, lookup: Lookup | undefined, findings: FindingSet): Promise<LoadedFile> {
  const out: LoadedFile = { info, byKey: new Map(), unset: new Map() };
  if (!info.exists) return out;
  const malformed = (line: number, message: string, severity: 'error' | 'warning' = 'error') =>
    findings.add({ file: info.file, line, kind: 'malformed', severity, message, fix: severity === 'error' ? `Fix line ${line}; until then the ${info.dialect} reader rejects the whole file.` : `Fix line ${line} so the ${info.dialect} reader reads what you mean.` });
  let text: string;
  try {
    const content = await readEnvFile(info.path);
    text = content.text;
    out.mode = content.stat.mode & 0o777;
  } catch (e) {
    out.error = { message: bounded(errorMessage(e)), line: e instanceof EnvSyntaxError ? e.line : 1 };
    if (e instanceof EnvSyntaxError) malformed(e.line, out.error.message);
    // One file the panel cannot read is that file's finding, never the end of the audit.
    else findings.add({ file: info.file, line: 1, kind: 'unreadable', severity: 'error', message: out.error.message, fix: e instanceof PanelError && e.fix ? e.fix : `Check ${info.file}.` });
    return out;
  }
  const doc = parseEnvDocument(text, info.dialect);
  out.doc = doc;
  for (const e of envEntries(doc)) pushTo(out.byKey, e.key, e);
  for (const p of doc.problems) {
    if (p.severity !== 'warning') continue;
    if (findings.room(info.file, 'malformed') > 0) malformed(p.line, p.message, 'warning');
    else findings.more(info.file, 'malformed', [p.line], undefined, 'warning');
  }
  try {
    out.values = readDocumentValues(doc, { ...(lookup ? { lookup } : {}), file: info.file }, { unset: (name, entry) => pushTo(out.unset, entry, name) });
  } catch (e) {
    const message = bounded(errorMessage(e));
    out.error = { message, line: e instanceof EnvSyntaxError ? e.line : 1, ...(e instanceof EnvSyntaxError && e.column !== undefined ? { column: e.column } : {}) };
    if (!(e instanceof EnvSyntaxError)) {
      malformed(1, `the panel could not read this file as ${info.dialect}: ${message}`);
      return out;
    }
    // Point at the statement that failed (an unclosed quote is reported by compose at the last line).
    const scanError = firstError(doc);
    malformed(scanError && bounded(scanError.message) === message ? (scanError.startLine ?? e.line) : e.line, message);
  }
  return out;
}

/** Line of the key's last assignment: the one its reader keeps. */
function lastLine(f: LoadedFile, key: string): number {
  const entries = f.byKey.get(key);
  return entries?.[entries.length - 1]?.line ?? 1;
}

function duplicateFindings(file: string, byKey: ReadonlyMap<string, EnvEntry[]>, findings: FindingSet): void {
  for (const [key, entries] of byKey) {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (!first || !last || entries.length < 2) continue;
    // Built once per key, not per line: listing every line in every finding was quadratic.
    const fix = `Keep one assignment of ${key}: delete the others (lines ${listed(entries.slice(0, Math.min(MAX_LISTED, entries.length - 1)).map((x) => x.line), entries.length - 1)}).`;
    const shown = Math.min(entries.length, 1 + findings.room(file, 'duplicate-key'));
    for (let i = 1; i < shown; i++) {
      findings.add({
        file,
        line: entries[i]!.line,
        key,
        kind: 'duplicate-key',
        severity: 'warning',
        message: `${key} is set again (first at line ${first.line}); the reader keeps the last one, at line ${last.line}`,
        fix,
      });
    }
    if (shown < entries.length) findings.more(file, 'duplicate-key', entries.slice(shown).map((e) => e.line), key, 'warning');
  }
}

function emptySecretFindings(f: LoadedFile): EnvFinding[] {
  return Object.entries(f.values ?? {})
    .filter(([key, value]) => value === '' && isSecretKey(key))
    .map(([key]) => ({
      file: f.info.file,
      line: lastLine(f, key),
      key,
      kind: 'empty-secret' as const,
      severity: 'warning' as const,
      message: `${key} looks like a secret but is empty`,
      fix: `Set ${key}, or remove it; for configured targets \`comfy-panel env sync\` fills it.`,
    }));
}

/** A file holding the ComfyUI token or password, or a gateway client key, that group or others may read (file modes mean nothing on Windows). */
function readableSecretFindings(f: LoadedFile, scope: EnvScope): EnvFinding[] {
  if (f.mode === undefined || (f.mode & 0o077) === 0 || process.platform === 'win32') return [];
  const held = Object.entries(f.values ?? {}).flatMap(([key, value]) => {
    const what = heldCredential(key, value);
    return what ? [{ key, what }] : [];
  })[0];
  if (!held) return [];
  const { key, what } = held;
  const who = [(f.mode & 0o070) !== 0 ? 'its group' : '', (f.mode & 0o007) !== 0 ? 'every user of this machine' : ''].filter(Boolean).join(' and ');
  const target = scope.targets.has(f.info.path);
  return [
    {
      file: f.info.file,
      line: lastLine(f, key),
      key,
      kind: 'readable-secret',
      severity: (f.mode & 0o007) !== 0 ? 'error' : 'warning',
      message: `this file holds ${what} (${key}) and ${who} may read it (mode 0${f.mode.toString(8)}); secrets belong in 0600 files`,
      fix: `Run \`chmod 600 ${f.info.path}\`${target ? ', or `comfy-panel env sync` (it writes its targets 0600)' : ''}.`,
    },
  ];
}

/** Keys of a `.env.example` (or .sample, .template) that its sibling `.env` lacks. */
function missingKeyFindings(loaded: LoadedFile[]): EnvFinding[] {
  const out: EnvFinding[] = [];
  const byPath = new Map(loaded.map((f) => [f.info.path, f]));
  for (const example of loaded) {
    if (!example.doc || !isExampleFile(example.info.file)) continue;
    const sibling = byPath.get(path.join(path.dirname(example.info.path), '.env'));
    if (!sibling?.doc) continue;
    const end = sibling.doc.nodes.reduce((n, node) => Math.max(n, node.line), 0);
    for (const key of example.byKey.keys()) {
      if (key === '' || sibling.byKey.has(key)) continue;
      const line = lastLine(example, key);
      out.push({
        file: sibling.info.file,
        line: end + 1,
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

/** Occurrences grouped by value; for each value, how the others are described (built once per value, at most MAX_LISTED places). */
function othersByValue(group: Occurrence[], describe: (o: Occurrence) => string): Map<string, string> | undefined {
  const byValue = new Map<string, Occurrence[]>();
  for (const o of group) pushTo(byValue, o.value, o);
  if (byValue.size < 2) return undefined;
  const described = [...byValue].map(([value, os]) => [value, [...new Set(os.map(describe))]] as const);
  const out = new Map<string, string>();
  for (const [value] of described) out.set(value, listed(described.filter(([v]) => v !== value).flatMap(([, d]) => d)));
  return out;
}

/** conflict: one key, different values in different files; token-mismatch: several ComfyUI tokens (or passwords). */
function crossFileFindings(loaded: LoadedFile[]): EnvFinding[] {
  const occurrences: Occurrence[] = [];
  for (const f of loaded) {
    if (!f.values || isExampleFile(f.info.file)) continue;
    for (const [key, value] of Object.entries(f.values)) occurrences.push({ file: f.info.file, line: lastLine(f, key), key, value });
  }
  const out: EnvFinding[] = [];
  const credentials = new Map<'token' | 'password', Occurrence[]>();
  for (const o of occurrences) {
    const kind = comfyCredentialKind(o.key, o.value);
    if (kind) pushTo(credentials, kind, o);
  }
  for (const [kind, group] of credentials) {
    const others = othersByValue(group, (x) => `${fingerprint(x.value)} (${x.file}:${x.line} ${x.key})`);
    if (!others) continue;
    for (const o of group) {
      out.push({
        file: o.file,
        line: o.line,
        key: o.key,
        kind: 'token-mismatch',
        severity: 'error',
        message: `the ComfyUI ${kind} differs between files: here ${fingerprint(o.value)}; elsewhere ${others.get(o.value) ?? ''}`,
        fix: 'Keep one credential: list these files in env.targets and run `comfy-panel env sync` (it writes the vault\'s current credential everywhere).',
      });
    }
  }
  const credentialKeys = new Set([...credentials.values()].flat().map((o) => o.key));
  const byKey = new Map<string, Occurrence[]>();
  for (const o of occurrences) if (!credentialKeys.has(o.key)) pushTo(byKey, o.key, o);
  for (const [key, group] of byKey) {
    const others = othersByValue(group, (x) => `${x.file}:${x.line} has ${describeValue(key, x.value)}`);
    if (!others) continue;
    for (const o of group) {
      out.push({
        file: o.file,
        line: o.line,
        key,
        kind: 'conflict',
        severity: 'warning',
        message: `${key} differs between files: here ${describeValue(key, o.value)}; ${others.get(o.value) ?? ''}`,
        fix: `Give ${key} one value everywhere (or list the files in env.targets and run \`comfy-panel env sync\` for the URL and credential keys).`,
      });
    }
  }
  return out;
}

/**
 * The findings of one audit, each text bounded; past MAX_FINDINGS_PER_FILE_KIND findings of
 * one kind in one file the rest are only counted (line and key) and become one finding
 * that lists where they are. Producers of many findings ask `room` first, so a file with
 * 20,000 repeated lines costs 20,000 counts, not 20,000 messages.
 */
class FindingSet {
  private readonly kept: EnvFinding[] = [];
  private readonly groups = new Map<string, Map<EnvFinding['kind'], FindingGroup>>();

  private group(file: string, kind: EnvFinding['kind']): FindingGroup {
    let byKind = this.groups.get(file);
    if (!byKind) this.groups.set(file, (byKind = new Map<EnvFinding['kind'], FindingGroup>()));
    let g = byKind.get(kind);
    if (!g) byKind.set(kind, (g = { count: 0, lines: [], keys: new Set(), error: false }));
    return g;
  }

  /** How many more findings of this kind in this file are still listed on their own. */
  room(file: string, kind: EnvFinding['kind']): number {
    return Math.max(0, MAX_FINDINGS_PER_FILE_KIND - this.group(file, kind).count);
  }

  add(f: EnvFinding): void {
    const g = this.group(f.file, f.kind);
    if (g.count >= MAX_FINDINGS_PER_FILE_KIND) return this.more(f.file, f.kind, [f.line], f.key, f.severity);
    g.count++;
    g.last = f;
    this.kept.push(bound(f));
  }

  /** Findings past the cap, at these lines, without building their text. */
  more(file: string, kind: EnvFinding['kind'], lines: readonly number[], key: string | undefined, severity: EnvFinding['severity']): void {
    const g = this.group(file, kind);
    g.count += lines.length;
    for (const line of lines) g.lines.push(line);
    if (key !== undefined) g.keys.add(key);
    if (severity === 'error') g.error = true;
  }

  addAll(fs: EnvFinding[]): void {
    for (const f of fs) this.add(f);
  }

  /** Everything, sorted by file, line and kind, with one summing-up finding per capped group. */
  list(): EnvFinding[] {
    const out = [...this.kept];
    for (const [file, byKind] of this.groups) {
      for (const [kind, g] of byKind) {
        const first = g.lines[0];
        if (first === undefined) continue;
        const keys = [...g.keys];
        out.push({
          file,
          line: first,
          kind,
          severity: g.error ? 'error' : (g.last?.severity ?? 'warning'),
          ...(keys.length === 1 ? { key: keys[0] } : {}),
          message: bounded(`and ${g.lines.length} more ${kind} findings in this file, not listed one by one: at lines ${listed(g.lines)}${keys.length ? ` (${keys.length === 1 ? 'key' : 'keys'} ${listed(keys)})` : ''}`, MAX_FINDING_CHARS),
          fix: bounded(g.last?.fix ?? `See the ${kind} findings above.`, MAX_FINDING_CHARS),
        });
      }
    }
    return out.sort(byPlace);
  }
}

interface FindingGroup {
  /** Findings of this kind in this file so far, listed or not. */
  count: number;
  /** The last one listed on its own: its fix stands for the rest. */
  last?: EnvFinding;
  /** Lines (and keys) of those past the cap. */
  lines: number[];
  keys: Set<string>;
  error: boolean;
}

function bound(f: EnvFinding): EnvFinding {
  if (f.message.length > MAX_FINDING_CHARS) f.message = bounded(f.message, MAX_FINDING_CHARS);
  if (f.fix.length > MAX_FINDING_CHARS) f.fix = bounded(f.fix, MAX_FINDING_CHARS);
  return f;
}
