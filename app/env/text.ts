/** Character classes and position helpers shared by the dialect scanners. */

/** Go's unicode.IsSpace: what compose skips between statements and trims off values. */
export const GO_SPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/;
const GO_SPACE_TRAIL = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$/;

export function isGoSpace(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const c = ch.charCodeAt(0);
  // ASCII without a regex: this runs for every character between statements.
  if (c < 0x80) return c === 32 || (c >= 9 && c <= 13);
  return GO_SPACE.test(ch);
}

/** compose-go's parser isSpace: horizontal whitespace only (no LF). */
export function isHorizontalSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\v' || ch === '\f' || ch === '\r' || ch === '\u0085' || ch === '\u00A0';
}

export function trimRightGoSpace(s: string): string {
  return s.replace(GO_SPACE_TRAIL, '');
}

const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's strconv.Quote (`%q`), used verbatim in compose's error messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = GO_ESCAPES[ch];
    const cp = ch.codePointAt(0) ?? 0;
    if (esc) out += esc;
    // A byte that was not valid UTF-8 (see app/fs/lossless.ts): Go prints it as \xNN.
    else if (cp >= 0xdc80 && cp <= 0xdcff) out += `\\x${(cp - 0xdc00).toString(16)}`;
    else if (GO_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Maps offsets to 1-based line and column (LF counts as the line break). */
export class LineIndex {
  /** Offset where each line starts (a typed array: 4 bytes a line, no regrowth). */
  private readonly starts: Uint32Array;

  constructor(readonly text: string) {
    let count = 1;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    this.starts = new Uint32Array(count);
    let n = 1;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts[n++] = i + 1;
  }

  /** Offset where the line holding `offset` begins. */
  lineStart(offset: number): number {
    return this.starts[this.lineOf(offset) - 1] ?? 0;
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Offset where 1-based `line` begins. */
  startOf(line: number): number {
    return this.starts[line - 1] ?? 0;
  }

  /** The line holding `offset`, searched forward from `line` (for offsets visited in order). */
  lineFrom(line: number, offset: number): number {
    let l = line;
    while (l < this.starts.length && (this.starts[l] ?? Infinity) <= offset) l++;
    return l;
  }

  position(offset: number): { line: number; column: number } {
    const line = this.lineOf(offset);
    return { line, column: offset - (this.starts[line - 1] ?? 0) + 1 };
  }

  /** Offset just past the LF ending the line that holds `offset` (or the end of text). */
  lineEnd(offset: number): number {
    const lf = this.text.indexOf('\n', offset);
    return lf === -1 ? this.text.length : lf + 1;
  }
}
