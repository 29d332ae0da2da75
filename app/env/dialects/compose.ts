/** docker compose v2 (compose-go): the project `.env` and `env_file`, with `$` interpolation. */
import type { EnvFinding } from '../../contract/ops/env.js';
import { fingerprint } from '../../redact.js';
import type { EnvEntry } from '../document.js';
import { EnvValueError } from '../errors.js';
import { isSecret } from '../secrets.js';
import { scanCompose } from './compose-scan.js';
import { expandEscapes, substitute, unescapeQuote, type SubstituteHooks } from './compose-template.js';
import { dialectLabels } from './names.js';
import type { DialectModule, LintInput, Lookup } from './types.js';

/** Safe bare for compose: no quotes, `$`, `#`, whitespace or backslash. */
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;
const BCRYPT_PREFIX = /\$2[abxy]\$\d\d\$/;

function quote(value: string): string {
  if (BARE.test(value)) return value;
  // Single quotes are literal; only `\'` and a backslash before the closing quote are special.
  if (!value.includes("'") && !value.endsWith('\\')) return `'${value}'`;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** One compose value (not an inherit line): unescaped per its quotes, then interpolated unless single-quoted. */
function composeValue(entry: EnvEntry, lookup: Lookup, hooks: SubstituteHooks = {}): string {
  if (entry.quote === 'single') return unescapeQuote(entry.written, "'");
  const text = entry.quote === 'double' ? expandEscapes(unescapeQuote(entry.written, '"')) : entry.written;
  return substitute(text, lookup, hooks);
}

/** What the value is as written, for messages: the escapes undone, `$$` as `$`. */
function asWritten(entry: EnvEntry): string {
  return entry.quote === 'double' ? expandEscapes(unescapeQuote(entry.written, '"')).replace(/\$\$/g, '$') : entry.written;
}

/** A value compose reads differently from how it is written: a `$` taken as a variable. */
function composeUnsafeFindings(f: LintInput): EnvFinding[] {
  const out: EnvFinding[] = [];
  for (const [entry, names] of f.unset) {
    const written = asWritten(entry);
    const read = f.values?.[entry.key];
    const hashLike = BCRYPT_PREFIX.test(entry.written);
    const secret = hashLike || isSecret(entry.key, written);
    const style = entry.quote === 'double' ? 'double-quoted' : 'unquoted';
    const readAs = read === undefined ? '' : ` compose reads it as ${secret ? `${fingerprint(read)} (${read.length} chars)` : JSON.stringify(read)}, not as written (${secret ? `${fingerprint(written)}, ${written.length} chars` : JSON.stringify(written)}):`;
    const listed = names.slice(0, 5).map((n) => `$${n}`).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
    const why = secret ? ' each "$" followed by a letter starts a variable reference, which is not set, so that part is dropped' : ` ${listed} ${names.length > 1 ? 'are' : 'is'} not set, so compose puts an empty string there`;
    const shown = hashLike ? `'${written.slice(0, 7)}…'` : secret ? "'…'" : quote(written);
    out.push({
      file: f.file,
      line: entry.line,
      key: entry.key,
      kind: 'compose-unsafe',
      severity: secret ? 'error' : 'warning',
      message: `${entry.key} is ${style} in a file compose reads;${readAs}${why}`,
      fix: `Write it single-quoted so compose keeps every "$": ${entry.key}=${shown}${secret ? ' (the same value between single quotes)' : ''}${hashLike ? ', or run `comfy-panel env sync`' : ''}.`,
    });
  }
  return out;
}

export const compose: DialectModule = {
  name: 'compose',
  label: dialectLabels.compose,
  scan: scanCompose,
  quote,
  read(entry, ctx) {
    // compose's lookup: the environment first, then the keys this file set before.
    const resolve: Lookup = (name) => ctx.env(name) ?? ctx.earlier(name);
    if (entry.inherit) return resolve(entry.key);
    try {
      return composeValue(entry, resolve, ctx.unset ? { unset: ctx.unset } : {});
    } catch (e) {
      // compose's message quotes the value ("Invalid template: …"): not when it may be a secret.
      if (e instanceof EnvValueError && e.message.startsWith('Invalid template') && isSecret(entry.key, asWritten(entry))) {
        throw new EnvValueError(`Invalid template in the value of ${entry.key} (not shown: it may be a secret); check its $ and \${…}`);
      }
      throw e;
    }
  },
  literal(entry) {
    if (entry.inherit) return undefined;
    let referenced = false;
    try {
      const value = composeValue(entry, () => {
        referenced = true;
        return undefined;
      });
      return referenced ? undefined : value;
    } catch {
      return undefined;
    }
  },
  lint: composeUnsafeFindings,
};
