/** What each reader sees in a document: values after its own unquoting and interpolation. */
import type { Dialect } from '../config/schema.js';
import { expandEscapes, substitute, TemplateError, unescapeQuote, type Lookup, type SubstituteHooks } from './compose-template.js';
import { envEntries, firstError, parseEnvDocument, valueToken, type EnvDocument, type EnvEntry } from './document.js';
import { dotenvValue } from './dotenv-scan.js';
import { EnvSyntaxError } from './errors.js';

export type { Lookup } from './compose-template.js';

export interface ReadEnvOptions {
  /** The reader's environment; default: this process's environment. compose consults it before the file's own keys. */
  lookup?: Lookup;
  /** Named in errors. */
  file?: string;
}

export interface ReadHooks {
  /** compose found a plain `$NAME` reference with nothing set: it warns and reads "" there. */
  unset?: (name: string, entry: EnvEntry) => void;
}

const processLookup: Lookup = (name) => process.env[name];

export function readEnvValues(text: string, dialect: Dialect, opts: ReadEnvOptions = {}): Record<string, string> {
  return readDocumentValues(parseEnvDocument(text, dialect), opts);
}

/**
 * Values as the document's reader sees them. compose: entries in order, each visible to
 * later ones, the lookup winning over the file; the first error stops the read.
 */
export function readDocumentValues(doc: EnvDocument, opts: ReadEnvOptions = {}, hooks: ReadHooks = {}): Record<string, string> {
  const lookup = opts.lookup ?? processLookup;
  // A plain object built in place: Map + Object.fromEntries cost twice as much on large files.
  const values: Record<string, string> = {};
  const set = (key: string, value: string) => {
    if (key === '__proto__') Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
    else values[key] = value;
  };
  const resolve: Lookup = (name) => lookup(name) ?? (Object.hasOwn(values, name) ? values[name] : undefined);
  for (const entry of envEntries(doc)) {
    if (entry.inherit) {
      const v = doc.dialect === 'compose' ? resolve(entry.key) : lookup(entry.key);
      if (v !== undefined) set(entry.key, v);
      continue;
    }
    if (doc.dialect !== 'compose') {
      set(entry.key, doc.dialect === 'dotenv' ? dotenvValue(valueToken(entry)) : entry.written);
      continue;
    }
    try {
      set(entry.key, composeValue(entry, resolve, { unset: (name) => hooks.unset?.(name, entry) }));
    } catch (e) {
      if (e instanceof TemplateError) throw new EnvSyntaxError({ message: e.message, line: entry.line, file: opts.file });
      throw e;
    }
  }
  const error = firstError(doc);
  if (error) throw new EnvSyntaxError({ ...error, file: opts.file });
  return values;
}

/** One compose value (not an inherit line): unescaped per its quotes, then interpolated unless single-quoted. */
export function composeValue(entry: EnvEntry, lookup: Lookup, hooks: SubstituteHooks = {}): string {
  if (entry.quote === 'single') return unescapeQuote(entry.written, "'");
  const text = entry.quote === 'double' ? expandEscapes(unescapeQuote(entry.written, '"')) : entry.written;
  return substitute(text, lookup, hooks);
}

/**
 * For each key, the value its last assignment holds on its own (see literalValue), without
 * evaluating the rest of the file: a `${X:?}` elsewhere cannot fail it. Throws
 * EnvSyntaxError when the reader rejects the file's syntax.
 */
export function literalValues(text: string, dialect: Dialect, file?: string): Map<string, string | undefined> {
  const doc = parseEnvDocument(text, dialect);
  const error = firstError(doc);
  if (error) throw new EnvSyntaxError({ ...error, file });
  return new Map(envEntries(doc).map((e) => [e.key, literalValue(e, dialect)]));
}

/**
 * The value the reader sees when it depends on nothing else (no variable, no inherit),
 * else undefined. Lets writers leave entries that already hold the wanted value alone.
 */
export function literalValue(entry: EnvEntry, dialect: Dialect): string | undefined {
  if (entry.inherit) return undefined;
  if (dialect === 'dotenv') return dotenvValue(valueToken(entry));
  if (dialect === 'raw') return entry.written;
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
}
