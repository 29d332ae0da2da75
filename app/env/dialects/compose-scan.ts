/**
 * The statement scanner of compose-go's dotenv parser (dotenv/parser.go), ported
 * faithfully: cursor over the whole text, same character classes, same error texts and
 * line counting. Values are evaluated in compose.ts (escapes and interpolation: compose-template.ts).
 * The one departure: where compose's message would quote text that may be a secret (a
 * pasted hash, an unclosed quoted token), that text is replaced by its length.
 */
import { hasEscapedBytes } from '../../fs/lossless.js';
import { bounded } from '../errors.js';
import type { ScanProblem, ScanResult, ScannedEntry } from '../scan.js';
import { isSecret } from '../secrets.js';
import { goQuote, isGoSpace, isHorizontalSpace, LineIndex, trimRightGoSpace } from '../text.js';

/**
 * `display` (compose's rendering of `text`) unless `text` may hold a secret: a secret-looking
 * key (given, or the part before its first `=`/`:`) or value. Long text is cut.
 */
function shown(text: string, display: string, key?: string): string {
  const eq = key === undefined ? text.search(/[=:]/) : -1;
  const [k, v] = key !== undefined ? [key, text] : eq === -1 ? ['', text] : [text.slice(0, eq), text.slice(eq + 1)];
  if (isSecret(k, v) || isSecret('', text)) return `(${text.length} characters, not shown: they may hold a secret)`;
  return bounded(display, 120);
}

const KEY_PUNCTUATION = new Set(['_', '.', '-', '[', ']']);
const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
const EXPORT_FOLLOWER = new Set([' ', '\t', '\n', '\f', '\r']);
const REST_IS_COMMENT = /^[\t\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(#[^\n]*)?$/;

/** Letters, digits, `_ . - [ ]` and the horizontal spaces compose steps over in a key. */
function isAsciiKeyChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45 || c === 91 || c === 93 || c === 32 || c === 9 || c === 11 || c === 12 || c === 13;
}

export function scanCompose(text: string): ScanResult {
  const lines = new LineIndex(text);
  const entries: ScannedEntry[] = [];
  const n = text.length;
  let pos = 0;
  let line = 1;
  let prevEnd = 0;
  const fail = (offset: number, message: string, column?: number): ScanResult => {
    const problem: ScanProblem = { offset, line, message, severity: 'error' };
    if (column !== undefined) problem.column = column;
    return { entries, problems: [problem] };
  };

  for (;;) {
    // Statement start: skip all Unicode whitespace (counting LFs) and whole comments.
    for (;;) {
      while (pos < n && isGoSpace(text[pos])) {
        if (text[pos] === '\n') line++;
        pos++;
      }
      if (pos >= n) return { entries, problems: [] };
      if (text[pos] !== '#') break;
      const lf = text.indexOf('\n', pos);
      if (lf === -1) return { entries, problems: [] };
      pos = lf;
    }
    const start = pos;
    // `line` counts LFs up to here, so the statement's line start is known without a search.
    const nodeStart = Math.max(prevEnd, lines.startOf(line));

    let k = pos;
    let exported = false;
    if (text.startsWith('export', k) && EXPORT_FOLLOWER.has(text[k + 6] ?? '')) {
      k += 6;
      while (k < n && isHorizontalSpace(text[k])) k++;
      exported = true;
    }
    if (k >= n) return fail(start, 'zero length string');

    // Key: up to the first `=`, `:` or LF; horizontal whitespace is stepped over.
    const keyStart = k;
    let i = k;
    let sep: string | undefined;
    while (i < n) {
      // ASCII key characters without building a string: the common case on every line.
      const c = text.charCodeAt(i);
      if (isAsciiKeyChar(c)) {
        i++;
        continue;
      }
      let ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
      if (ch === '=' || ch === ':' || ch === '\n') {
        sep = ch;
        break;
      }
      if (!isHorizontalSpace(ch) && !KEY_PUNCTUATION.has(ch) && !LETTER_OR_NUMBER.test(ch)) {
        const lf = text.indexOf('\n', keyStart);
        // Go ranges over a byte that is not UTF-8 as U+FFFD.
        if (hasEscapedBytes(ch)) ch = '\uFFFD';
        const rest = text.slice(keyStart, lf === -1 ? n : lf);
        return fail(start, `line ${line}: unexpected character ${goQuote(ch)} in variable name ${shown(rest, goQuote(rest))}`, lines.position(i).column);
      }
      i += ch.length;
    }

    // Entries are built as whole literals (no spreads): on a 20,000-line file spreads cost ten times the scan.
    if (sep === undefined) {
      // No separator before the end: compose reads an empty key and the rest as its value.
      const valueEnd = unquotedEnd(text, keyStart);
      entries.push({ start: nodeStart, end: n, keyOffset: keyStart, key: '', exported, inherit: false, quote: 'none', valueStart: keyStart, valueEnd, written: text.slice(keyStart, valueEnd), type: 'entry', line: 0, column: 0, raw: '' });
      const message = `line ${line}: the last line has no "=" and no line end, so compose reads it as the value of an empty key`;
      return { entries, problems: [{ offset: keyStart, line, column: lines.position(keyStart).column, message, severity: 'warning' }] };
    }
    const key = trimRightGoSpace(text.slice(keyStart, i));
    if (key.includes(' ')) return fail(start, `line ${line}: key cannot contain a space`, lines.position(keyStart).column);

    if (sep === '\n') {
      line++;
      pos = i + 1;
      const at = keyStart + key.length;
      entries.push({ start: nodeStart, end: pos, keyOffset: keyStart, key, exported, inherit: true, quote: 'none', valueStart: at, valueEnd: at, written: '', type: 'entry', line: 0, column: 0, raw: '' });
      prevEnd = pos;
      continue;
    }

    let v = i + 1;
    while (v < n && isHorizontalSpace(text[v])) v++;
    const q = text[v];
    if (q !== "'" && q !== '"') {
      const valueEnd = unquotedEnd(text, v);
      const lf = text.indexOf('\n', v);
      line++;
      pos = lf === -1 ? n : lf + 1;
      entries.push({ start: nodeStart, end: pos, keyOffset: keyStart, key, exported, inherit: false, quote: 'none', valueStart: v, valueEnd, written: text.slice(v, valueEnd), type: 'entry', line: 0, column: 0, raw: '' });
      prevEnd = pos;
      continue;
    }

    let escaped = false;
    let close = -1;
    for (let j = v + 1; j < n; j++) {
      const c = text[j];
      if (c === '\n') line++;
      if (c !== q) {
        escaped = !escaped && c === '\\';
        continue;
      }
      if (escaped) {
        escaped = false;
        continue;
      }
      close = j;
      break;
    }
    if (close === -1) {
      const lf = text.indexOf('\n', v);
      const quoteAt = lines.position(v);
      const snippet = text.slice(v, lf === -1 ? n : lf);
      return fail(start, `line ${line}: unterminated quoted value ${shown(snippet.slice(1), snippet, key)}`, quoteAt.line === line ? quoteAt.column : undefined);
    }
    pos = close + 1;
    // A trailing comment on the same line belongs to this statement; other text starts the next one.
    const lineEnd = lines.lineEnd(pos);
    const rest = text.slice(pos, lineEnd).replace(/\n$/, '');
    const end = REST_IS_COMMENT.test(rest) ? lineEnd : pos;
    const quote = q === "'" ? 'single' : 'double';
    entries.push({ start: nodeStart, end, keyOffset: keyStart, key, exported, inherit: false, quote, valueStart: v, valueEnd: close + 1, written: text.slice(v + 1, close), type: 'entry', line: 0, column: 0, raw: '' });
    prevEnd = end;
  }
}

/** End of an unquoted value starting at `from`: to the LF, cut at the first " #", trailing whitespace trimmed. */
function unquotedEnd(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  let end = lf === -1 ? text.length : lf;
  // Within this line only (an indexOf(' #') would search the rest of the file from every line).
  for (let i = from; i < end - 1; i++) {
    if (text.charCodeAt(i) === 32 && text.charCodeAt(i + 1) === 35) {
      end = i;
      break;
    }
  }
  while (end > from && isGoSpace(text[end - 1])) end--;
  return end;
}
