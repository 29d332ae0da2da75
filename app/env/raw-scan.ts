/**
 * `docker run --env-file` (docker/cli kvfile) semantics, also compose's `format: raw`:
 * one KEY=VALUE per line, the value taken literally (quotes included), `#` lines are
 * comments, `KEY` alone inherits from the environment, no interpolation.
 */
import type { ScanResult, ScannedEntry } from './scan.js';
import { GO_SPACE } from './text.js';

const LEADING_SPACE = new RegExp(`^${GO_SPACE.source}+`);
/** bufio.Scanner's default limit: docker fails on longer lines. */
const MAX_LINE = 64 * 1024;

export function scanRaw(text: string): ScanResult {
  const entries: ScannedEntry[] = [];
  let start = 0;
  for (let lineNo = 1; start < text.length; lineNo++) {
    const lf = text.indexOf('\n', start);
    const end = lf === -1 ? text.length : lf + 1;
    const body = text.slice(start, lf === -1 ? text.length : lf).replace(/\r$/, '');
    const indent = body.length - body.replace(LEADING_SPACE, '').length;
    const line = body.slice(indent);
    const fail = (message: string, column: number): ScanResult => ({
      entries,
      problems: [{ offset: start, line: lineNo, column, message: `line ${lineNo}: ${message}`, severity: 'error' }],
    });
    if (Buffer.byteLength(body) > MAX_LINE) return fail('line longer than 64 KiB (docker: bufio.Scanner: token too long)', 1);
    if (line !== '' && !line.startsWith('#')) {
      const eq = line.indexOf('=');
      const key = eq === -1 ? line : line.slice(0, eq);
      const space = key.search(/[ \t]/);
      if (space !== -1) return fail(`variable '${key}' contains whitespaces`, indent + space + 1);
      if (key === '') return fail(`no variable name on line '${line}'`, indent + 1);
      const keyOffset = start + indent;
      const valueStart = eq === -1 ? keyOffset + key.length : keyOffset + eq + 1;
      const written = eq === -1 ? '' : line.slice(eq + 1);
      entries.push({ start, end, keyOffset, key, exported: false, inherit: eq === -1, quote: 'none', valueStart, valueEnd: valueStart + written.length, written });
    }
    start = end;
  }
  return { entries, problems: [] };
}
