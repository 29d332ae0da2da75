/**
 * Keeps ComfyUI-Login's hash from reaching a client: ComfyUI prints it in its log
 * ("use token=<hash>"), which /internal/logs and the logs WebSocket serve to whoever asks.
 * Each occurrence (raw or percent-encoded) is replaced by a marker of the same length, so
 * Content-Length stays true and a body can be scrubbed as it streams.
 */
import { Transform, type TransformCallback } from 'node:stream';

const MARK = '[comfyui-credential-redacted]';

function marker(length: number): string {
  return MARK.length >= length ? MARK.slice(0, length) : MARK + '*'.repeat(length - MARK.length);
}

/** The forms a secret takes in text: as is, and percent-encoded as in a URL. */
export function secretForms(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  const forms = new Set([secret, encoded, encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())]);
  return [...forms].filter((f) => f.length >= 8);
}

export function scrubText(text: string, needles: readonly string[]): string {
  let out = text;
  for (const n of needles) if (out.includes(n)) out = out.split(n).join(marker(n.length));
  return out;
}

export function scrubBuffer(buf: Buffer, needles: readonly Buffer[]): Buffer {
  let out = buf;
  for (const n of needles) {
    let at = out.indexOf(n);
    if (at < 0) continue;
    if (out === buf) out = Buffer.from(buf);
    const mark = Buffer.from(marker(n.length));
    while (at >= 0) {
      mark.copy(out, at);
      at = out.indexOf(n, at + n.length);
    }
  }
  return out;
}

/** Scrubs a streamed body, holding back the last few bytes of each chunk so a split secret is still found. */
export class ScrubStream extends Transform {
  private tail: Buffer = Buffer.alloc(0);
  private readonly keep: number;

  constructor(private readonly needles: readonly Buffer[]) {
    super();
    this.keep = Math.max(0, ...needles.map((n) => n.length - 1));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const joined = scrubBuffer(this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk, this.needles);
    const cut = Math.max(0, joined.length - this.keep);
    this.tail = joined.subarray(cut);
    done(null, joined.subarray(0, cut));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.tail);
  }
}
