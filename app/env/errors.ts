import { PanelError } from '../errors.js';

/** Files above this size are refused: an env file that large is a mistake or not an env file. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

/**
 * A `.env` file its reader would reject (compose, raw) or that the panel refuses to
 * treat as one (binary, oversized). The message is the reader's own text (compose's,
 * exactly); the file is a separate field and is named in the fix.
 */
export class EnvSyntaxError extends PanelError {
  readonly line: number;
  readonly column?: number;
  readonly file?: string;

  constructor(problem: { message: string; line: number; column?: number; file?: string }) {
    super(problem.message, 'env-syntax', `Fix line ${problem.line} of ${problem.file ?? 'the file'}.`);
    this.name = 'EnvSyntaxError';
    this.line = problem.line;
    this.column = problem.column;
    this.file = problem.file;
  }
}
