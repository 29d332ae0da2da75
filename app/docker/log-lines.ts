import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import stripAnsi from 'strip-ansi';
import type { LogLine } from '../contract/events.js';
import { redact } from '../redact.js';
import { DockerDemux, type Chunk, type StreamName } from './demux.js';

/** A line longer than this is cut, so one runaway line cannot hold memory. */
const MAX_LINE_CHARS = 16_384;
/** Lines buffered before the Docker stream is paused (a slow consumer pushes back to the daemon). */
export const LOG_HIGH_WATER_LINES = 256;

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?/;

/** One shown line: timestamp split off (Docker's `timestamps=true`), ANSI removed, secrets redacted. */
export function cleanLine(raw: string, stream: StreamName, seq: number, receivedAt = new Date()): LogLine {
  const m = TIMESTAMP.exec(raw);
  const time = m?.[1] ? new Date(m[1]).toISOString() : receivedAt.toISOString();
  const body = m ? raw.slice(m[0].length) : raw;
  return { seq, stream, time, text: redact(stripAnsi(body.replace(/\r$/, ''))) };
}

/** Cuts demultiplexed chunks into LogLines, keeping a partial line per stream until its newline. */
class LineSplitter extends Transform {
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  private seq = 0;

  constructor(highWaterMark: number) {
    super({ objectMode: true, highWaterMark });
  }

  private emitLine(raw: string, stream: StreamName): void {
    this.push(cleanLine(raw, stream, ++this.seq));
  }

  override _transform(chunk: Chunk, _enc: BufferEncoding, done: TransformCallback): void {
    const parts = (this.partial[chunk.stream] + chunk.data.toString('utf8')).split('\n');
    this.partial[chunk.stream] = parts.pop() ?? '';
    for (const line of parts) this.emitLine(line, chunk.stream);
    if (this.partial[chunk.stream].length > MAX_LINE_CHARS) {
      this.emitLine(this.partial[chunk.stream], chunk.stream);
      this.partial[chunk.stream] = '';
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    for (const stream of ['stdout', 'stderr'] as const) if (this.partial[stream]) this.emitLine(this.partial[stream], stream);
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
    await pipeline(source, new DockerDemux(opts.tty), new LineSplitter(hwm), sink, { signal: opts.signal });
  } catch (e) {
    if (!opts.signal?.aborted) throw e;
  }
  return count;
}
