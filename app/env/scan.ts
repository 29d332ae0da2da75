/** What every dialect scanner produces: assignments with exact offsets, and problems. */

export type QuoteStyle = 'none' | 'single' | 'double' | 'backtick';

export interface ScannedEntry {
  /** Span of the whole statement in the text (BOM removed), incl. its indentation, inline comment and line end. */
  start: number;
  end: number;
  keyOffset: number;
  key: string;
  exported: boolean;
  /** `KEY` alone: the reader takes the value from its environment. */
  inherit: boolean;
  quote: QuoteStyle;
  /**
   * Span of the value token, quotes included (empty span right after the key for inherit
   * lines): offsets in the text, until parseEnvDocument rebases them onto `raw`.
   */
  valueStart: number;
  valueEnd: number;
  /** The value as written: between the quotes, or the unquoted text the reader keeps. */
  written: string;
  /**
   * Filled in by parseEnvDocument, which turns this very object into the document's
   * EnvEntry (scanners set them to 'entry', 0, 0, ''): one object per entry, because on
   * large files a second one doubled the garbage collector's work.
   */
  type: 'entry';
  line: number;
  column: number;
  raw: string;
}

export interface ScanProblem {
  /** Where the reader stopped or what it skipped; the rest of the text from here is not read. */
  offset: number;
  line: number;
  column?: number;
  message: string;
  /** error: the reader rejects the file; warning: the reader silently skips or misreads something. */
  severity: 'error' | 'warning';
}

export interface ScanResult {
  entries: ScannedEntry[];
  problems: ScanProblem[];
}

/** The value token of an entry as written, quotes included. */
export function valueToken(entry: { raw: string; valueStart: number; valueEnd: number }): string {
  return entry.raw.slice(entry.valueStart, entry.valueEnd);
}
