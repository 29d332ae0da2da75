/** In-place updates of env files that leave every other byte alone. */
import type { Dialect } from '../config/schema.js';
import { PanelError } from '../errors.js';
import { envEntries, firstError, parseEnvDocument, serializeEnvDocument } from './document.js';
import { EnvSyntaxError } from './errors.js';
import { quoteForDialect } from './quote.js';
import { literalValue, literalValues } from './read.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Sets each key to its value: every occurrence is rewritten in place (export, comments
 * and line ends kept), missing keys are appended, entries that already read as the
 * value are left as they are, so a second call with the same updates changes nothing.
 */
export function setEnvValues(text: string, dialect: Dialect, updates: Record<string, string>): string {
  const doc = parseEnvDocument(text, dialect);
  const error = firstError(doc);
  if (error) throw new EnvSyntaxError(error);
  const quoted = new Map<string, string>();
  for (const [key, value] of Object.entries(updates)) {
    if (!KEY.test(key)) throw new PanelError(`invalid env key ${JSON.stringify(key)}`, 'env-key', 'Use letters, digits and _ (not starting with a digit).');
    quoted.set(key, quoteForDialect(value, dialect));
  }

  const present = new Set(envEntries(doc).map((e) => e.key));
  const missing = [...quoted].filter(([key]) => !present.has(key));
  if (missing.length > 0 && text !== '' && text !== '\uFEFF' && !text.endsWith('\n')) {
    // End the last line first (a lone CR becomes CRLF, not part of a value) and re-read:
    // for compose a last line without LF can change meaning once it ends.
    return setEnvValues(text + (text.endsWith('\r') ? '\n' : doc.eol), dialect, updates);
  }
  for (const entry of envEntries(doc)) {
    const q = quoted.get(entry.key);
    if (q === undefined || literalValue(entry, dialect) === updates[entry.key]) continue;
    const before = entry.raw.slice(0, entry.valueStart) + (entry.inherit ? '=' : '');
    entry.raw = before + q + entry.raw.slice(entry.valueEnd);
  }
  let out = serializeEnvDocument(doc);
  for (const [key, q] of missing) out += `${key}=${q}${doc.eol}`;

  assertReadsBack(out, dialect, updates);
  return out;
}

/** A last check that the new text holds every value for its reader. */
function assertReadsBack(text: string, dialect: Dialect, updates: Record<string, string>): void {
  const last = literalValues(text, dialect);
  for (const [key, value] of Object.entries(updates)) {
    if (last.get(key) !== value) {
      throw new PanelError(
        `${key} would not read back as written: another line of this ${dialect} file swallows it (such as \`KEY:\` with nothing after it, or an unclosed quote)`,
        'env-write-check',
        'Fix the lines the audit reports as malformed, then retry; nothing was written.',
      );
    }
  }
}
