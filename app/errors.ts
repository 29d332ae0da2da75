/**
 * An error an operator can act on: what went wrong, where, and what to do.
 * Messages must never contain a secret; callers pass fingerprints or masked values.
 */
export class PanelError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PanelError';
  }
}

/** Bad configuration or command-line usage: the CLI exits with code 2. */
export class ConfigError extends PanelError {
  constructor(message: string, fix?: string) {
    super(message, 'config', fix);
    this.name = 'ConfigError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
