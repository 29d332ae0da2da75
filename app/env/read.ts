/** What each reader sees in a document: values after its own unquoting and interpolation. */
import { dialectModules, type Dialect, type Lookup, type ReadContext } from './dialects/index.js';
import { envEntries, firstError, parseEnvDocument, type EnvDocument, type EnvEntry } from './document.js';
import { EnvSyntaxError, EnvValueError } from './errors.js';

export type { Lookup } from './dialects/index.js';

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
 * Values as the document's reader sees them: entries in order, each visible to later
 * ones (compose: the lookup winning over the file); the first error stops the read.
 */
export function readDocumentValues(doc: EnvDocument, opts: ReadEnvOptions = {}, hooks: ReadHooks = {}): Record<string, string> {
  const dialect = dialectModules[doc.dialect];
  // A plain object built in place: Map + Object.fromEntries cost twice as much on large files.
  const values: Record<string, string> = {};
  const set = (key: string, value: string) => {
    if (key === '__proto__') Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
    else values[key] = value;
  };
  const env = opts.lookup ?? processLookup;
  const earlier: Lookup = (name) => (Object.hasOwn(values, name) ? values[name] : undefined);
  // One context for the whole file (not a closure per entry): `current` tells the hook where it is.
  let current: EnvEntry | undefined;
  const onUnset = hooks.unset;
  const ctx: ReadContext = { env, earlier, ...(onUnset ? { unset: (name: string) => current && onUnset(name, current) } : {}) };
  for (const entry of envEntries(doc)) {
    current = entry;
    let value: string | undefined;
    try {
      value = dialect.read(entry, ctx);
    } catch (e) {
      if (e instanceof EnvValueError) throw new EnvSyntaxError({ message: e.message, line: entry.line, file: opts.file });
      throw e;
    }
    if (value !== undefined) set(entry.key, value);
  }
  const error = firstError(doc);
  if (error) throw new EnvSyntaxError({ ...error, file: opts.file });
  return values;
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
  const out = new Map<string, string | undefined>();
  for (const e of envEntries(doc)) out.set(e.key, literalValue(e, dialect));
  return out;
}

/**
 * The value the reader sees when it depends on nothing else (no variable, no inherit),
 * else undefined. Lets writers leave entries that already hold the wanted value alone.
 */
export function literalValue(entry: EnvEntry, dialect: Dialect): string | undefined {
  return dialectModules[dialect].literal(entry);
}
