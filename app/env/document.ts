/**
 * The lossless model of an env file: every byte belongs to exactly one node, so
 * serializeEnvDocument(parseEnvDocument(text, d)) === text for any text and dialect.
 */
import { dialectModules, type Dialect } from './dialects/index.js';
import { MAX_ENV_FILE_BYTES } from './errors.js';
import type { QuoteStyle, ScanProblem } from './scan.js';
import { GO_SPACE, LineIndex } from './text.js';

export { valueToken, type QuoteStyle } from './scan.js';

export interface EnvEntry {
  type: 'entry';
  /** Line and column of the key, 1-based. */
  line: number;
  column: number;
  key: string;
  exported: boolean;
  /** `KEY` without a value: compose and raw take it from the environment. */
  inherit: boolean;
  quote: QuoteStyle;
  /** The value as written: between the quotes, or the unquoted text. */
  written: string;
  /** The exact text of the statement, incl. indentation, inline comment and line end. */
  raw: string;
  /** Span of the value token (quotes included) inside `raw`. */
  valueStart: number;
  valueEnd: number;
}

export interface EnvLineNode {
  type: 'comment' | 'blank' | 'invalid';
  line: number;
  raw: string;
}

export type EnvNode = EnvEntry | EnvLineNode;

export interface EnvProblem {
  /** The line the reader reports (compose: the line where it gave up). */
  line: number;
  /** Where the failing statement starts, when that is an earlier line (an unclosed quote). */
  startLine?: number;
  column?: number;
  message: string;
  /** error: the reader rejects the file; warning: it skips or misreads part of it. */
  severity: 'error' | 'warning';
}

export interface EnvDocument {
  dialect: Dialect;
  bom: boolean;
  /** The file's line ending, used for lines the panel adds. */
  eol: '\n' | '\r\n';
  nodes: EnvNode[];
  /** The entry nodes of `nodes`, the same objects, in file order. */
  entries: EnvEntry[];
  problems: EnvProblem[];
}

const BLANK = new RegExp(`^${GO_SPACE.source}*$`);

export function parseEnvDocument(text: string, dialect: Dialect): EnvDocument {
  const bom = text.startsWith('\uFEFF');
  const body = bom ? text.slice(1) : text;
  const lf = body.indexOf('\n');
  const eol = lf > 0 && body[lf - 1] === '\r' ? '\r\n' : '\n';
  const lines = new LineIndex(body);
  const guard = guardProblem(text, body, lines);
  if (guard) return { dialect, bom, eol, nodes: body ? [{ type: 'invalid', line: 1, raw: body }] : [], entries: [], problems: [guard] };

  const scan = dialectModules[dialect].scan(body);
  const nodes: EnvNode[] = [];
  const pushGap = (from: number, to: number) => {
    for (let at = from; at < to; ) {
      const end = Math.min(lines.lineEnd(at), to);
      const raw = body.slice(at, end);
      const content = raw.replace(/\r?\n$/, '');
      const type = BLANK.test(content) ? 'blank' : content.trimStart().startsWith('#') ? 'comment' : 'invalid';
      nodes.push({ type, line: lines.lineOf(at), raw });
      at = end;
    }
  };
  const entries: EnvEntry[] = [];
  let pos = 0;
  // Entries come in file order: their lines are found by walking forward, not searched for each.
  let line = 1;
  for (const e of scan.entries) {
    if (pos < e.start) pushGap(pos, e.start);
    line = lines.lineFrom(line, e.keyOffset);
    // The scanner's object becomes the entry, completed in place (see ScannedEntry).
    e.line = line;
    e.column = e.keyOffset - lines.startOf(line) + 1;
    e.raw = body.slice(e.start, e.end);
    e.valueStart -= e.start;
    e.valueEnd -= e.start;
    const entry: EnvEntry = e;
    nodes.push(entry);
    entries.push(entry);
    pos = e.end;
  }
  pushGap(pos, body.length);

  const problems = scan.problems.map((p) => toProblem(p, lines.lineOf(p.offset)));
  if (!problems.some((p) => p.severity === 'error')) {
    for (const node of nodes) {
      if (node.type === 'invalid') problems.push({ line: node.line, column: 1, severity: 'warning', message: `line ${node.line}: ${dialect} skips this line: it is not KEY=VALUE` });
    }
    problems.sort((a, b) => a.line - b.line);
  }
  return { dialect, bom, eol, nodes, entries, problems };
}

export function serializeEnvDocument(doc: EnvDocument): string {
  return (doc.bom ? '\uFEFF' : '') + doc.nodes.map((n) => n.raw).join('');
}

/** Only entries, in file order. */
export function envEntries(doc: EnvDocument): EnvEntry[] {
  return doc.entries;
}

export function firstError(doc: EnvDocument): EnvProblem | undefined {
  return doc.problems.find((p) => p.severity === 'error');
}

function toProblem(p: ScanProblem, startLine: number): EnvProblem {
  const problem: EnvProblem = { line: p.line, message: p.message, severity: p.severity };
  if (p.column !== undefined) problem.column = p.column;
  if (startLine < p.line) problem.startLine = startLine;
  return problem;
}

/** Binary or oversized text is not read as an env file at all. */
function guardProblem(text: string, body: string, lines: LineIndex): EnvProblem | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_ENV_FILE_BYTES) {
    return { line: 1, severity: 'error', message: `file is ${bytes} bytes, over the 1 MiB limit for an env file; not read` };
  }
  const nul = body.indexOf('\0');
  if (nul !== -1) {
    const { line, column } = lines.position(nul);
    return { line, column, severity: 'error', message: `line ${line}: binary content (a NUL byte at column ${column}); not read as an env file` };
  }
  return undefined;
}
