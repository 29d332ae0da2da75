import type { Readable } from 'node:stream';
import { ComfyError } from './errors.js';

export interface BodyLimits {
  what: string;
  limit: number;
  /** The request's deadline: the body must be complete before it fires. */
  signal: AbortSignal;
  timeoutMs: number;
}

/** A body as both transports give it (fetch's web stream, undici's Node stream): read chunks, or give up on it. */
export interface BodySource {
  /** content-length, NaN when not declared. */
  declared: number;
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<unknown>;
}

/** A fetch Response's body. */
export function responseBody(res: Response): BodySource {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (!res.body) return { declared, read: () => Promise.resolve({ done: true }), cancel: () => Promise.resolve() };
  // Typed: the DOM and Node stream typings disagree on what getReader() yields, and it is bytes here.
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  return { declared, read: () => reader.read(), cancel: () => reader.cancel() };
}

/** A Node stream's body (undici's request API). */
export function streamBody(body: Readable, declared: number): BodySource {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return {
    declared,
    read: async () => {
      const r = await chunks.next();
      return r.done ? { done: true } : { done: false, value: r.value };
    },
    cancel: async () => void body.destroy(),
  };
}

/**
 * Hands every chunk of the body to onChunk. The body must end before the deadline and stay
 * within the limit: a server that stalls, never ends, cuts off or sends too much is an error,
 * never a partial success. The deadline is raced here too, since not every transport honours it mid-body.
 */
export async function eachChunk(body: BodySource, o: BodyLimits, onChunk: (chunk: Uint8Array) => unknown): Promise<number> {
  const tooLarge = () => new ComfyError('too-large', `${o.what}: the answer is larger than ${o.limit} bytes`, 'Is this URL really a ComfyUI server? A proxy or another service may be answering.');
  if (body.declared > o.limit) {
    await body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ComfyError('timeout', `${o.what}: the answer did not complete within ${o.timeoutMs} ms`, 'Is ComfyUI busy or hung? Raise comfyui.timeoutMs if the server is just slow'));
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([body.read(), aborted]);
      if (done || !value) return size;
      size += value.byteLength;
      if (size > o.limit) throw tooLarge();
      await onChunk(value);
    }
  } catch (e) {
    await body.cancel().catch(() => undefined);
    if (e instanceof ComfyError) throw e;
    if (o.signal.aborted) throw await aborted.catch((t: unknown) => t);
    const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code ?? (e as Error).message;
    throw new ComfyError('unreachable', `${o.what}: the connection broke before the answer was complete (${code})`, 'Is the container restarting? See `comfy-panel container logs`.', undefined, { cause: e });
  } finally {
    if (onAbort) o.signal.removeEventListener('abort', onAbort);
  }
}

export async function readBody(body: BodySource, o: BodyLimits): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await eachChunk(body, o, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}
