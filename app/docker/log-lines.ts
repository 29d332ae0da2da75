import { StringDecoder } from 'node:string_decoder';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import stripAnsi from 'strip-ansi';
import type { LogLine } from '../contract/events.js';
import { redact } from '../redact.js';
import { DockerDemux, type Chunk, type StreamName } from './demux.js';

/** Longest text a line shows; it is cut only after the whole line was redacted. */
export const MAX_LINE_CHARS = 16_384;
/** A line is reassembled up to this many characters; a longer one (no newline in sight) is emitted in pieces, so memory stays bounded. */
const MAX_PARTIAL_CHARS = 1024 * 1024;
/** Characters masked at the start of a piece after such a cut: a secret straddling the cut shows neither half. */
const CUT_GUARD_CHARS = 128;
/** Lines buffered before the Docker stream is paused (a slow consumer pushes back to the daemon). */
export const LOG_HIGH_WATER_LINES = 256;

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?/;

/** One shown line: timestamp split off (Docker's `timestamps=true`), ANSI removed, secrets redacted, then cut to MAX_LINE_CHARS. */
export function cleanLine(raw: string, stream: StreamName, seq: number, receivedAt = new Date()): LogLine {
  const m = TIMESTAMP.exec(raw);
  const time = m?.[1] ? new Date(m[1]).toISOString() : receivedAt.toISOString();
  const body = m ? raw.slice(m[0].length) : raw;
  const text = redact(stripAnsi(body.replace(/\r$/, '')));
  return { seq, stream, time, text: text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}… [${text.length - MAX_LINE_CHARS} more characters]` : text };
}

interface Partial {
  text: string;
  /** Decodes each stream's bytes: a UTF-8 character split between two of Docker's messages comes out whole. */
  decoder: StringDecoder;
  /** The last message ended inside a line. */
  open: boolean;
  /** The next piece follows a forced cut: mask its start. */
  guard: boolean;
}

/**
 * Cuts demultiplexed chunks into LogLines. Docker splits a line longer than 16 KiB into
 * several messages, one frame each, every one with its own timestamp: a frame that continues
 * an open line loses that inserted timestamp, and the line is redacted only once whole.
 */
class LineSplitter extends Transform {
  private readonly partial: Record<StreamName, Partial> = { stdout: this.fresh(), stderr: this.fresh() };
  private seq = 0;

  constructor(
    highWaterMark: number,
    /** Chunks are Docker's messages (a multiplexed stream), not arbitrary reads (a TTY stream). */
    private readonly framed: boolean,
  ) {
    super({ objectMode: true, highWaterMark });
  }

  private fresh(): Partial {
    return { text: '', decoder: new StringDecoder('utf8'), open: false, guard: false };
  }

  private emitLine(p: Partial, raw: string, stream: StreamName): void {
    const guarded = p.guard ? `[…]${raw.slice(CUT_GUARD_CHARS)}` : raw;
    p.guard = false;
    this.push(cleanLine(guarded, stream, ++this.seq));
  }

  override _transform(chunk: Chunk, _enc: BufferEncoding, done: TransformCallback): void {
    const p = this.partial[chunk.stream];
    let data = chunk.data;
    if (this.framed && p.open) {
      const ts = TIMESTAMP.exec(data.subarray(0, 48).toString('latin1'));
      if (ts) data = data.subarray(ts[0].length);
    }
    if (this.framed) p.open = data.length > 0 ? data[data.length - 1] !== 0x0a : p.open;
    const parts = (p.text + p.decoder.write(data)).split('\n');
    p.text = parts.pop() ?? '';
    for (const line of parts) this.emitLine(p, line, chunk.stream);
    if (p.text.length > MAX_PARTIAL_CHARS) {
      this.emitLine(p, p.text, chunk.stream);
      p.text = '';
      p.guard = true;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.partial[stream];
      const rest = p.text + p.decoder.end();
      if (rest) this.emitLine(p, rest, stream);
    }
    done();
  }
}

export interface PumpOptions {
  /** The container has a TTY: the stream carries no multiplex headers. */
  tty: boolean;
  /** Called per line; returning a promise holds further lines (and the Docker stream) until it settles. */
  onLine: (line: LogLine) => void | Promise<void>;
  signal?: AbortSignal;
  highWaterMark?: number;
}

/**
 * Streams a raw Docker log stream into onLine, line by line. Node's pipe does the
 * backpressure: when the consumer lags, buffers fill to the high-water mark and the
 * source is paused until they drain. Resolves with the number of lines when the stream
 * ends or the signal aborts.
 */
export async function pumpLogLines(source: Readable, opts: PumpOptions): Promise<number> {
  const hwm = opts.highWaterMark ?? LOG_HIGH_WATER_LINES;
  let count = 0;
  const sink = new Writable({
    objectMode: true,
    highWaterMark: hwm,
    write(line: LogLine, _enc, done) {
      count++;
      try {
        Promise.resolve(opts.onLine(line)).then(() => done(), done);
      } catch (e) {
        done(e as Error);
      }
    },
  });
  try {
    await pipeline(source, new DockerDemux(opts.tty), new LineSplitter(hwm, !opts.tty), sink, { signal: opts.signal });
  } catch (e) {
    if (!opts.signal?.aborted) throw e;
  }
  return count;
}
