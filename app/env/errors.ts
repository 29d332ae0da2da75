import { PanelError } from '../errors.js';
import type { Dialect } from './dialects/names.js';

/** Files above this size are refused: an env file that large is a mistake or not an env file. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

/** Messages about a file's content are cut here: a 64 KiB line must not become a 64 KiB finding. */
export const MAX_MESSAGE_CHARS = 400;

/** The text, cut to `max` characters with an ellipsis. */
export function bounded(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A `.env` file its reader would reject (compose, raw) or that the panel refuses to
 * treat as one (binary, oversized). The message is the reader's own text (compose's,
 * exactly, unless it would quote a secret); the file is a separate field and is named in
 * the fix.
 */
export class EnvSyntaxError extends PanelError {
  readonly line: number;
  readonly column?: number;
  readonly file?: string;

  constructor(problem: { message: string; line: number; column?: number; file?: string }) {
    super(bounded(problem.message), 'env-syntax', `Fix line ${problem.line} of ${problem.file ?? 'the file'}.`);
    this.name = 'EnvSyntaxError';
    this.line = problem.line;
    this.column = problem.column;
    this.file = problem.file;
  }
}

/** A dialect's reader rejects one value (compose: an invalid template, a required variable unset). */
export class EnvValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvValueError';
  }
}

/** A value a dialect's reader cannot read back exactly, whatever the quoting. Never quotes the value. */
export function unrepresentable(dialect: Dialect, why: string, fix: string): PanelError {
  return new PanelError(`this value cannot be written for the ${dialect} reader: ${why}`, 'env-unrepresentable', fix);
}
