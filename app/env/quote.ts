/** Writing values so that a given reader reads back exactly the intended string. */
import { hasEscapedBytes } from '../fs/lossless.js';
import { dialectModules, type Dialect } from './dialects/index.js';
import { unrepresentable } from './errors.js';

/**
 * The text to put after `KEY=` so the dialect's reader reads back exactly `value`.
 * A bcrypt hash comes out single-quoted for compose and dotenv, bare for raw.
 */
export function quoteForDialect(value: string, dialect: Dialect): string {
  const fix = 'Change the value; every reader stores text without it.';
  if (value.includes('\0')) throw unrepresentable(dialect, 'it contains a NUL character', fix);
  if (hasEscapedBytes(value)) throw unrepresentable(dialect, 'it holds bytes that are not valid UTF-8 text', fix);
  return dialectModules[dialect].quote(value);
}
