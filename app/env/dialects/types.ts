/** What one env dialect must provide; ./index.ts registers one module per dialect name. */
import type { EnvFinding } from '../../contract/ops/env.js';
import type { EnvDocument, EnvEntry } from '../document.js';
import type { ScanResult } from '../scan.js';
import type { Dialect, DialectLabel } from './names.js';

export type Lookup = (name: string) => string | undefined;

export interface ReadContext {
  /** The reader's environment (compose: consulted before the file's own keys). */
  env: Lookup;
  /** The keys this file has set so far, each with its latest value. */
  earlier: Lookup;
  /** The reader met a plain reference (`$NAME`) with nothing set: compose warns and reads "" there. */
  unset?: (name: string) => void;
}

export interface LintInput {
  /** The file as findings name it (relative to the audited root). */
  file: string;
  doc: EnvDocument;
  /** What the reader sees; absent when it rejects the file. */
  values?: Record<string, string>;
  /** The references each entry made that the reader found unset (see ReadContext.unset). */
  unset: ReadonlyMap<EnvEntry, readonly string[]>;
}

export interface DialectModule {
  readonly name: Dialect;
  readonly label: DialectLabel;
  /** The reader's statement scanner: every assignment with exact offsets, and what it rejects (error) or skips or misreads (warning). */
  scan(text: string): ScanResult;
  /**
   * The text to put after `KEY=` so this reader reads back exactly `value`, or a PanelError
   * (code env-unrepresentable) naming why it cannot. The value is already known to be text
   * without NUL or stray bytes (see quoteForDialect).
   */
  quote(value: string): string;
  /**
   * What the reader reads for one entry, or undefined when it leaves the key out (an inherit
   * line with nothing set). Throws EnvValueError with the reader's own message when it
   * rejects the value.
   */
  read(entry: EnvEntry, ctx: ReadContext): string | undefined;
  /** The value the entry holds on its own, or undefined when it depends on anything else (a variable, the environment). */
  literal(entry: EnvEntry): string | undefined;
  /** Findings only this dialect has (a value its reader reads differently from how it is written). */
  lint(input: LintInput): EnvFinding[];
}
