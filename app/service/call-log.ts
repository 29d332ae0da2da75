import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PanelHandlers } from '../contract/index.js';
import { errorMessage, PanelError } from '../errors.js';
import { redact } from '../redact.js';

const MAX_BYTES = 5 * 1024 * 1024;

/**
 * The panel's own log (logs/panel.log): one line per operation with its outcome and time.
 * Inputs and results are never logged (they can hold secrets), only a result's own outcome
 * fields (see outcomeOf); error text passes redact().
 * Past 5 MiB the file moves to panel.log.1.
 */
export function fileLog(logDir: string): (line: string) => void {
  const file = path.join(logDir, 'panel.log');
  // Sizes are tracked in memory so a call costs one append, not a mkdir and a stat as well.
  let size: number | undefined;
  return (line) => {
    try {
      if (size === undefined) {
        mkdirSync(logDir, { recursive: true, mode: 0o700 });
        size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      }
      if (size > MAX_BYTES) {
        renameSync(file, `${file}.1`);
        size = 0;
      }
      const text = `${new Date().toISOString()} ${redact(line)}\n`;
      appendFileSync(file, text, { mode: 0o600 });
      size += Buffer.byteLength(text);
    } catch {
      // A full or read-only disk must not break the operation being logged.
    }
  };
}

interface OutcomeFields {
  ok?: unknown;
  outcome?: unknown;
  failedStep?: unknown;
  errorKind?: unknown;
  error?: unknown;
}

const MAX_ERROR_CHARS = 300;

/**
 * How a call that returned ended: a result may report a failure itself (a rotation that rolled
 * back, a failed generation: `ok: false`, `outcome`), which the line must say. Only these
 * enumerated fields and the error text are taken from a result, never its other values.
 */
export function outcomeOf(result: unknown): { word: 'ok' | 'not-ok'; detail: string } {
  if (!result || typeof result !== 'object') return { word: 'ok', detail: '' };
  const r = result as OutcomeFields;
  const word = r.ok === false ? 'not-ok' : 'ok';
  const fields = (['outcome', 'failedStep', 'errorKind'] as const).filter((k) => typeof r[k] === 'string' && r[k] !== '').map((k) => ` ${k}=${String(r[k])}`);
  const error = word === 'not-ok' && typeof r.error === 'string' && r.error ? `: ${r.error.length > MAX_ERROR_CHARS ? `${r.error.slice(0, MAX_ERROR_CHARS)}…` : r.error}` : '';
  return { word, detail: fields.join('') + error };
}

/** Wraps every handler so each call leaves one line in the log. */
export function withCallLog<H extends Partial<PanelHandlers>>(handlers: H, log: (line: string) => void): H {
  const wrapped: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (input: unknown) => Promise<unknown>][]) {
    wrapped[name] = async (input) => {
      const started = performance.now();
      try {
        const result = await handler(input);
        const { word, detail } = outcomeOf(result);
        log(`${name} ${word} ${Math.round(performance.now() - started)}ms${detail}`);
        return result;
      } catch (e) {
        const code = e instanceof PanelError ? e.code : 'error';
        log(`${name} failed ${Math.round(performance.now() - started)}ms ${code}: ${errorMessage(e)}`);
        throw e;
      }
    };
  }
  return wrapped as unknown as H;
}
