import { PanelError } from '../errors.js';
import { redact } from '../redact.js';

export type ComfyErrorKind =
  | 'unauthorized'
  | 'forbidden-origin'
  | 'malformed-auth'
  | 'unreachable'
  | 'timeout'
  | 'invalid-prompt'
  /** The prompt was accepted but a node failed while running (execution_error). */
  | 'execution'
  | 'not-found'
  /** The server answered 2xx with a body that is not what ComfyUI sends. */
  | 'bad-response'
  /** The answer was larger than the panel reads from a ComfyUI server (a broken or hostile server). */
  | 'too-large'
  | 'http';

/** A ComfyUI failure classified into something the operator can act on. Never carries the token. */
export class ComfyError extends PanelError {
  constructor(
    readonly kind: ComfyErrorKind,
    message: string,
    fix?: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, `comfy-${kind}`, fix, options);
    this.name = 'ComfyError';
  }
}

export function isComfyError(err: unknown, kind?: ComfyErrorKind): err is ComfyError {
  return err instanceof ComfyError && (kind === undefined || err.kind === kind);
}

/** What an HTTP status from ComfyUI (+ ComfyUI-Login) means, per the measured reference. */
export function errorForStatus(status: number, contentType: string, what: string, hadToken: boolean): ComfyError {
  if (status === 401) {
    return hadToken
      ? new ComfyError(
          'unauthorized',
          `${what}: the server rejected the token — the API token is the bcrypt hash from login/PASSWORD, not the raw password`,
          'Use line 1 of <ComfyUI>/login/PASSWORD as the token; after changing PASSWORD, restart ComfyUI (it reads the file once at start)',
          status,
        )
      : new ComfyError(
          'unauthorized',
          `${what}: authentication required and no token was sent`,
          'Store the credential in the panel or set COMFYUI_TOKEN to the bcrypt hash from login/PASSWORD',
          status,
        );
  }
  if (status === 403) {
    return new ComfyError(
      'forbidden-origin',
      `${what}: 403 Forbidden — ComfyUI refused the request's Origin header`,
      'Call the API without a browser Origin header, or start ComfyUI with --enable-cors-header for that origin',
      status,
    );
  }
  if (status === 500 && contentType.startsWith('text/plain')) {
    return new ComfyError(
      'malformed-auth',
      `${what}: 500 from the login node — the Authorization header must be exactly "Bearer <hash>" (two words, the token without spaces or line breaks)`,
      'Check the stored token: it must be the single-line bcrypt hash from login/PASSWORD',
      status,
    );
  }
  if (status === 404) return new ComfyError('not-found', `${what}: not found (404)`, undefined, status);
  return new ComfyError('http', `${what}: HTTP ${status}`, undefined, status);
}

/** Classifies a failure of fetch() or of a WebSocket connect (no HTTP status). */
export function errorForNetwork(err: unknown, url: string, timeoutMs: number): ComfyError {
  if (err instanceof ComfyError) return err;
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'TimeoutError') {
    return new ComfyError('timeout', `${url}: no answer within ${timeoutMs} ms`, 'Is ComfyUI busy or hung? Raise comfyui.timeoutMs if the server is just slow', undefined, { cause: err });
  }
  // Library messages may quote a URL; redact() drops any token= or hash they carry.
  const code = e?.cause?.code ?? e?.code ?? redact(e?.cause?.message ?? (err instanceof Error ? err.message : String(err)));
  return new ComfyError(
    'unreachable',
    `${url}: cannot connect (${code})`,
    'Is the container running, and is its port published on that address?',
    undefined,
    { cause: err },
  );
}
