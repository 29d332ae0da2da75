/** npm dotenv's classic parse() (python-dotenv agrees on what the panel writes): no interpolation, `#` always starts a comment. */
import type { EnvFinding } from '../../contract/ops/env.js';
import { asReplacementDecoded } from '../../fs/lossless.js';
import { unrepresentable } from '../errors.js';
import { valueToken } from '../scan.js';
import { dotenvValue, scanDotenv } from './dotenv-scan.js';
import { dialectLabels } from './names.js';
import type { DialectModule } from './types.js';

/** Safe bare for dotenv: nothing it trims, unquotes or cuts. */
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** dotenv reads the file with Buffer#toString, so bytes that are not UTF-8 reach it as U+FFFD. */
const valueOf = (entry: Parameters<DialectModule['literal']>[0]) => asReplacementDecoded(dotenvValue(valueToken(entry)));

export const dotenv: DialectModule = {
  name: 'dotenv',
  label: dialectLabels.dotenv,
  scan: scanDotenv,
  quote(value) {
    if (BARE.test(value)) return value;
    const backslashLast = value.endsWith('\\');
    // dotenv turns CR into LF before parsing; only `\r` inside double quotes gives a CR back.
    if (!value.includes("'") && !backslashLast && !value.includes('\r')) return `'${value}'`;
    if (!value.includes('"') && !backslashLast && !/\\[nr]/.test(value)) return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
    throw unrepresentable(
      'dotenv',
      "dotenv has no escape for it (it holds both ' and \", a line break or CR next to those, a backslash before n or r, or a trailing backslash)",
      'Change the value, or write it to a file of another dialect.',
    );
  },
  // dotenv skips bare keys, so its scanner never produces inherit lines.
  read: (entry) => valueOf(entry),
  literal: (entry) => valueOf(entry),
  lint({ file, doc }) {
    const out: EnvFinding[] = [];
    for (const e of doc.nodes) {
      // `KEY=abc#def`: dotenv reads "abc" (compose and raw would read all of it). A space before `#` is a comment on purpose.
      if (e.type !== 'entry' || e.quote !== 'none' || e.valueEnd === e.valueStart || e.raw[e.valueEnd] !== '#') continue;
      out.push({
        file,
        line: e.line,
        key: e.key,
        kind: 'malformed',
        severity: 'warning',
        message: `dotenv cuts the value of ${e.key} at the "#" right after it: unquoted, "#" starts a comment even without a space before it`,
        fix: `If the "#" belongs to the value, quote it: ${e.key}='…'; if it is a comment, put a space before the "#".`,
      });
    }
    return out;
  },
};
