import { Transform, type TransformCallback } from 'node:stream';

export type StreamName = 'stdout' | 'stderr';

export interface Chunk {
  stream: StreamName;
  data: Buffer;
}

const HEADER_BYTES = 8;

/**
 * Splits Docker's multiplexed attach/logs stream (8-byte header: stream type, 3 zero bytes,
 * big-endian payload length) into {stream, data} chunks. Headers and payloads may arrive
 * split across any number of reads. A TTY container's stream has no headers: pass tty=true.
 * Written as a Transform (not docker-modem's demuxStream) so backpressure flows through.
 */
export class DockerDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly tty = false) {
    super({ readableObjectMode: true });
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.tty) {
      this.push({ stream: 'stdout', data } satisfies Chunk);
      return done();
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= HEADER_BYTES) {
      const type = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (type !== 0 && type !== 1 && type !== 2) {
        return done(new Error(`Docker log stream is not multiplexed (byte 0 is ${type}); was the container created with a TTY?`));
      }
      if (this.pending.length < HEADER_BYTES + size) break;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
      if (size > 0) this.push({ stream: type === 2 ? 'stderr' : 'stdout', data: Buffer.from(payload) } satisfies Chunk);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    done(this.pending.length ? new Error(`Docker log stream ended inside a frame (${this.pending.length} bytes left)`) : undefined);
  }
}
