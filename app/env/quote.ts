/** Writing values so that a given reader reads back exactly the intended string. */
import type { Dialect } from '../config/schema.js';
import { PanelError } from '../errors.js';

/** Safe bare in every dialect: no quotes, `$`, `#`, whitespace or backslash. */
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;

function unrepresentable(dialect: Dialect, why: string): PanelError {
  return new PanelError(
    `this value cannot be written for the ${dialect} reader: ${why}`,
    'env-unrepresentable',
    dialect === 'raw' ? 'Use a compose or dotenv file for multi-line values.' : 'Change the value, or write it to a file of another dialect.',
  );
}

/**
 * The text to put after `KEY=` so the dialect's reader reads back exactly `value`.
 * A bcrypt hash comes out single-quoted for compose and dotenv, bare for raw.
 */
export function quoteForDialect(value: string, dialect: Dialect): string {
  if (value.includes('\0')) throw unrepresentable(dialect, 'it contains a NUL character');
  if (dialect === 'raw') {
    if (value.includes('\n')) throw unrepresentable(dialect, 'raw env files hold one line per value and it contains a line break');
    if (value.endsWith('\r')) throw unrepresentable(dialect, 'docker drops a carriage return at the end of a line');
    return value;
  }
  if (BARE.test(value)) return value;
  const backslashLast = value.endsWith('\\');
  if (dialect === 'compose') {
    // Single quotes are literal; only `\'` and a backslash before the closing quote are special.
    if (!value.includes("'") && !backslashLast) return `'${value}'`;
    return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
  }
  // dotenv turns CR into LF before parsing; only `\r` inside double quotes gives a CR back.
  if (!value.includes("'") && !backslashLast && !value.includes('\r')) return `'${value}'`;
  if (!value.includes('"') && !backslashLast && !/\\[nr]/.test(value)) return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  throw unrepresentable(dialect, "dotenv has no escape for it (it holds both ' and \", a line break or CR next to those, a backslash before n or r, or a trailing backslash)");
}
