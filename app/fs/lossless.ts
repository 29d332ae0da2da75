/**
 * Text that keeps every byte. Valid UTF-8 decodes as usual; each byte that is not part of
 * valid UTF-8 becomes a lone surrogate U+DC80–U+DCFF (Python's "surrogateescape"), and
 * encoding turns it back into that same byte. A file with stray Latin-1 bytes therefore
 * round-trips exactly instead of having them replaced by U+FFFD, and JSON keeps such a
 * string intact too (it escapes lone surrogates as \udcXX).
 */
import { isUtf8 } from 'node:buffer';

const isContinuation = (b: number | undefined) => b !== undefined && b >= 0x80 && b <= 0xbf;

/** Length of the well-formed UTF-8 sequence starting at i (shortest form, no surrogates, at most U+10FFFF), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return isContinuation(b[i + 1]) ? 2 : 0;
  const c1 = b[i + 1] ?? 0;
  if (c >= 0xe0 && c <= 0xef) {
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return c1 >= lo && c1 <= hi && isContinuation(b[i + 2]) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return c1 >= lo && c1 <= hi && isContinuation(b[i + 2]) && isContinuation(b[i + 3]) ? 4 : 0;
  }
  return 0;
}

export function decodeLossless(data: Uint8Array): string {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  const parts: string[] = [];
  let runStart = 0;
  for (let i = 0; i < buf.length; ) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (runStart < i) parts.push(buf.toString('utf8', runStart, i));
    parts.push(String.fromCharCode(0xdc00 + (buf[i] ?? 0)));
    i++;
    runStart = i;
  }
  if (runStart < buf.length) parts.push(buf.toString('utf8', runStart));
  return parts.join('');
}

/** An escaped byte: a low surrogate U+DC80–U+DCFF not preceded by a high one. */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const ESCAPED_BYTES = new RegExp(ESCAPED_BYTE.source, 'g');

export function encodeLossless(text: string): Buffer {
  if (!ESCAPED_BYTE.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(ESCAPED_BYTES)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([(m[0].charCodeAt(0) - 0xdc00) & 0xff]));
    last = m.index + 1;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Whether the text holds bytes that are not valid UTF-8 (escaped by decodeLossless). */
export function hasEscapedBytes(text: string): boolean {
  return ESCAPED_BYTE.test(text);
}

/** The text as a reader that decodes with U+FFFD sees it (Node's Buffer#toString, npm dotenv). */
export function asReplacementDecoded(text: string): string {
  return hasEscapedBytes(text) ? encodeLossless(text).toString('utf8') : text;
}
