/**
 * npm dotenv's classic parse() (lib/main.js), with offsets: the same line regex (a
 * capture added around the separator only) run over the text with CRLF and CR turned
 * into LF, mapped back to the original offsets so documents stay lossless.
 */
import type { ScanProblem, ScanResult, ScannedEntry } from '../scan.js';
import { LineIndex } from '../text.js';

const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)((?:\s*=\s*?|:\s+?))(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;
const EXPORT = /export\s+/y;
const QUOTES: Record<string, ScannedEntry['quote']> = { "'": 'single', '"': 'double', '`': 'backtick' };

/** dotenv's value processing: trim, strip one pair of matching quotes, `\n`/`\r` in double quotes. */
export function dotenvValue(token: string): string {
  let value = (token.includes('\r') ? token.replace(/\r\n?/g, '\n') : token).trim();
  const first = value[0];
  if (/[\n\u2028\u2029]/.test(value)) {
    // dotenv's multiline regex can strip quote pairs line by line inside a multiline value.
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2');
  } else if (value.length >= 2 && (first === "'" || first === '"' || first === '`') && value.endsWith(first)) {
    // The same result for a one-line value, without the regex (this is the hot path).
    value = value.slice(1, -1);
  }
  if (first === '"' && value.includes('\\')) value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
  return value;
}

/** The text with every CRLF and CR as LF, and a map from its offsets back to the original. */
function normalizeNewlines(text: string): { norm: string; toOriginal: (offset: number) => number } {
  if (!text.includes('\r')) return { norm: text, toOriginal: (offset) => offset };
  const collapsed: number[] = [];
  const norm = text.replace(/\r\n?/g, (m, offset: number) => {
    if (m.length === 2) collapsed.push(offset - collapsed.length);
    return '\n';
  });
  return {
    norm,
    toOriginal(offset) {
      let lo = 0;
      let hi = collapsed.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((collapsed[mid] ?? 0) < offset) lo = mid + 1;
        else hi = mid;
      }
      return offset + lo;
    },
  };
}

// Offset scanning instead of trim()/slice(): a 10,000-line file would otherwise allocate
// several strings per line, and the garbage collector dominated the parse.
function isJsSpace(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(s[i]!));
}

function skipSpace(s: string, from: number, to: number): number {
  while (from < to && isJsSpace(s, from)) from++;
  return from;
}

function trimEnd(s: string, from: number, to: number): number {
  while (to > from && isJsSpace(s, to - 1)) to--;
  return to;
}

function hasLineBreak(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isLineBreak(s, i)) return true;
  return false;
}

/** CR, LF, U+2028 and U+2029: where dotenv's multiline regex sees a line end. */
function isLineBreak(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

export function scanDotenv(text: string): ScanResult {
  const { norm, toOriginal } = normalizeNewlines(text);
  let lineIndex: LineIndex | undefined;
  // Only problems need line numbers; most files have none.
  const lines = () => (lineIndex ??= new LineIndex(text));
  const entries: ScannedEntry[] = [];
  const problems: ScanProblem[] = [];
  let prevEnd = 0;
  // Plain offsets rather than span tuples, exec rather than matchAll: on a 20,000-line file the garbage collector dominated.
  LINE.lastIndex = 0;
  for (let m = LINE.exec(norm); m !== null; m = LINE.exec(norm)) {
    // An empty match (never expected from this pattern) must not stall the scan.
    if (m[0] === '') LINE.lastIndex++;
    const key = m[1];
    const sep = m[2];
    if (key === undefined || sep === undefined || m[0] === '') continue;
    const statementStart = skipSpace(norm, m.index, m.index + m[0].length);
    // Group offsets worked out from the match (the /d flag would cost twice the regex time).
    EXPORT.lastIndex = statementStart;
    const exported = EXPORT.exec(norm);
    const keyStart = exported && norm.startsWith(key, statementStart + exported[0].length) ? statementStart + exported[0].length : statementStart;
    const keyEnd = keyStart + key.length;
    const sepEnd = keyEnd + sep.length;
    const rawValue = m[3];
    const valueFrom = rawValue === undefined ? sepEnd : skipSpace(norm, sepEnd, sepEnd + rawValue.length);
    const normValueEnd = rawValue === undefined ? sepEnd : Math.max(valueFrom, trimEnd(norm, valueFrom, sepEnd + rawValue.length));
    const valueStart = toOriginal(valueFrom);
    const valueEnd = toOriginal(normValueEnd);
    const token = text.slice(valueStart, valueEnd);
    const first = token[0] ?? '';
    const quoted = token.length >= 2 && first in QUOTES && token.endsWith(first);
    if (first in QUOTES && !quoted) {
      const at = lines().position(valueStart);
      problems.push({ offset: valueStart, ...at, severity: 'warning', message: `line ${at.line}: the ${first} quote is not closed at the end of the value, so dotenv keeps it as part of the value` });
    }
    let lineStart = statementStart;
    while (lineStart > 0 && !isLineBreak(norm, lineStart - 1)) lineStart--;
    let lineEnd = normValueEnd;
    while (lineEnd < norm.length && !isLineBreak(norm, lineEnd)) lineEnd++;
    if (hasLineBreak(norm, keyEnd, valueFrom)) {
      const at = lines().position(toOriginal(keyStart));
      problems.push({ offset: toOriginal(keyStart), ...at, severity: 'warning', message: `line ${at.line}: ${key} has no value on its own line, so dotenv takes the next line as its value` });
    }
    const start = Math.max(prevEnd, toOriginal(lineStart));
    const end = lineEnd >= norm.length ? text.length : toOriginal(lineEnd + 1);
    entries.push({
      start,
      end,
      keyOffset: toOriginal(keyStart),
      key,
      exported: statementStart < keyStart,
      inherit: false,
      quote: quoted ? (QUOTES[first] ?? 'none') : 'none',
      valueStart,
      valueEnd,
      written: quoted ? token.slice(1, -1) : token,
      type: 'entry',
      line: 0,
      column: 0,
      raw: '',
    });
    prevEnd = end;
  }
  return { entries, problems };
}
