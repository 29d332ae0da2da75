/**
 * `docker run --env-file` (docker/cli kvfile) semantics, also compose's `format: raw`:
 * one KEY=VALUE per line, the value taken literally (quotes included), `#` lines are
 * comments, `KEY` alone inherits from the environment, no interpolation.
 */
import type { EnvFinding } from '../../contract/ops/env.js';
import { unrepresentable } from '../errors.js';
import type { ScanResult, ScannedEntry } from '../scan.js';
import { isGoSpace } from '../text.js';
import { dialectLabels } from './names.js';
import type { DialectModule } from './types.js';

/** bufio.Scanner's default limit: docker fails on longer lines. */
const MAX_LINE = 64 * 1024;
const FIX = 'Use a compose or dotenv file for multi-line values.';

/**
 * docker's messages quote the line (`variable 'export B' contains whitespaces`, `no variable
 * name on line '=2'`); ours say what is wrong without it: that line may be a pasted secret.
 */
function scanRaw(text: string): ScanResult {
  const entries: ScannedEntry[] = [];
  let start = 0;
  for (let lineNo = 1; start < text.length; lineNo++) {
    const lf = text.indexOf('\n', start);
    const end = lf === -1 ? text.length : lf + 1;
    let bodyEnd = lf === -1 ? text.length : lf;
    if (text.charCodeAt(bodyEnd - 1) === 13 && bodyEnd > start) bodyEnd--;
    let indent = 0;
    while (start + indent < bodyEnd && isGoSpace(text[start + indent])) indent++;
    const body = text.slice(start, bodyEnd);
    const line = body.slice(indent);
    const fail = (message: string, column: number): ScanResult => ({
      entries,
      problems: [{ offset: start, line: lineNo, column, message: `line ${lineNo}: ${message}`, severity: 'error' }],
    });
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long lines need counting.
    if (body.length * 3 > MAX_LINE && Buffer.byteLength(body) > MAX_LINE) return fail('line longer than 64 KiB (docker: bufio.Scanner: token too long)', 1);
    if (line !== '' && !line.startsWith('#')) {
      const eq = line.indexOf('=');
      const key = eq === -1 ? line : line.slice(0, eq);
      const space = key.search(/[ \t]/);
      if (space !== -1) {
        const what = eq === -1 ? 'this line has no "=" and contains whitespace, so docker takes the whole line as a variable name' : 'the variable name contains whitespace';
        return fail(`${what} (column ${indent + space + 1}); docker refuses the file`, indent + space + 1);
      }
      if (key === '') return fail('no variable name before the "="; docker refuses the file', indent + 1);
      const keyOffset = start + indent;
      const valueStart = eq === -1 ? keyOffset + key.length : keyOffset + eq + 1;
      const written = eq === -1 ? '' : line.slice(eq + 1);
      entries.push({ start, end, keyOffset, key, exported: false, inherit: eq === -1, quote: 'none', valueStart, valueEnd: valueStart + written.length, written, type: 'entry', line: 0, column: 0, raw: '' });
    }
    start = end;
  }
  return { entries, problems: [] };
}

export const raw: DialectModule = {
  name: 'raw',
  label: dialectLabels.raw,
  scan: scanRaw,
  quote(value) {
    if (value.includes('\n')) throw unrepresentable('raw', 'raw env files hold one line per value and it contains a line break', FIX);
    if (value.endsWith('\r')) throw unrepresentable('raw', 'docker drops a carriage return at the end of a line', FIX);
    return value;
  },
  // Inherit lines come from the environment only; raw never sees the file's own keys.
  read: (entry, ctx) => (entry.inherit ? ctx.env(entry.key) : entry.written),
  literal: (entry) => (entry.inherit ? undefined : entry.written),
  lint({ file, doc }) {
    const out: EnvFinding[] = [];
    for (const e of doc.nodes) {
      if (e.type !== 'entry' || e.inherit || e.written.length < 2 || !/^(['"]).*\1$/s.test(e.written)) continue;
      out.push({
        file,
        line: e.line,
        key: e.key,
        kind: 'raw-quoted',
        severity: 'warning',
        message: `${e.key} is quoted, but a raw env file (docker --env-file, env_file format: raw) keeps the quotes as part of the value`,
        fix: `Remove the quotes around the value of ${e.key}.`,
      });
    }
    return out;
  },
};
