import { Readable } from 'node:stream';
import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../app/contract/events.js';
import { DockerDemux, type Chunk } from '../../app/docker/demux.js';
import { cleanLine, pumpLogLines } from '../../app/docker/log-lines.js';

const HASH = bcrypt.hashSync('pw', 4);

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Cuts a buffer at the given offsets, so headers and payloads straddle reads. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    if (p > prev) parts.push(buf.subarray(prev, p));
    prev = p;
  }
  return parts;
}

async function demux(parts: Buffer[], tty = false): Promise<Chunk[]> {
  const out: Chunk[] = [];
  const d = new DockerDemux(tty);
  d.on('data', (c: Chunk) => out.push(c));
  await new Promise<void>((resolve, reject) => {
    d.on('end', resolve).on('error', reject);
    for (const p of parts) d.write(p);
    d.end();
  });
  return out;
}

async function lines(parts: Buffer[]): Promise<LogLine[]> {
  const got: LogLine[] = [];
  await pumpLogLines(Readable.from(parts), { tty: false, onLine: (l) => void got.push(l) });
  return got;
}

describe('DockerDemux', () => {
  it('splits stdout and stderr frames however the bytes are cut', async () => {
    const whole = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (at) => {
        const got = await demux(cut(whole, at));
        const joined = { stdout: '', stderr: '' };
        for (const c of got) joined[c.stream] += c.data.toString();
        expect(joined).toEqual({ stdout: 'out one\nout two\n', stderr: 'err one\n' });
      }),
      { numRuns: 60 },
    );
  });

  it('one byte at a time still works', async () => {
    const whole = frame(2, 'x'.repeat(300));
    const got = await demux([...whole].map((b) => Buffer.from([b])));
    expect(Buffer.concat(got.map((c) => c.data)).toString()).toBe('x'.repeat(300));
    expect(got.every((c) => c.stream === 'stderr')).toBe(true);
  });

  it('a TTY stream has no headers and passes through as stdout', async () => {
    expect(await demux([Buffer.from('raw text\n')], true)).toEqual([{ stream: 'stdout', data: Buffer.from('raw text\n') }]);
  });

  it('says so when the stream is not multiplexed or ends inside a frame', async () => {
    await expect(demux([Buffer.from('plain text without headers')])).rejects.toThrow(/not multiplexed.*TTY/);
    await expect(demux([frame(1, 'hello').subarray(0, 10)])).rejects.toThrow(/ended inside a frame/);
  });
});

describe('log lines', () => {
  it('joins a line split across frames, strips ANSI, takes Docker timestamps and redacts the token line', async () => {
    const ts = '2026-11-24T11:00:00.123456789Z';
    const got = await lines([
      frame(1, `${ts} \u001b[32mFor direct API calls, use tok`),
      frame(1, `en=${HASH.slice(0, 20)}`),
      frame(1, `${HASH.slice(20)}\n${ts} next\n`),
      frame(2, `${ts} warn: no newline at end`),
    ]);
    expect(got.map((l) => l.text)).toEqual([expect.stringMatching(/^For direct API calls, use token=\[redacted fp:[0-9a-f]{12}\]$/), 'next', 'warn: no newline at end']);
    expect(got[0]).toMatchObject({ seq: 1, stream: 'stdout', time: '2026-11-24T11:00:00.123Z' });
    expect(got[2]?.stream).toBe('stderr');
    expect(JSON.stringify(got)).not.toContain(HASH.slice(7, 30));
  });

  it('keeps the receive time when a line has no timestamp', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(cleanLine('plain\r', 'stdout', 7, at)).toEqual({ seq: 7, stream: 'stdout', time: at.toISOString(), text: 'plain' });
  });

  it('a slow consumer pauses the source: it is never read far ahead of what was consumed', async () => {
    const total = 20_000;
    let produced = 0;
    let producedBytes = 0;
    let consumed = 0;
    let consumedBytes = 0;
    let maxAheadBytes = 0;
    const source = new Readable({
      highWaterMark: 1024,
      read() {
        if (produced >= total) return void this.push(null);
        produced++;
        const f = frame(1, `line ${produced}\n`);
        producedBytes += f.length;
        this.push(f);
      },
    });
    const n = await pumpLogLines(source, {
      tty: false,
      highWaterMark: 16,
      onLine: async (l) => {
        consumed++;
        consumedBytes += 8 + Buffer.byteLength(l.text) + 1;
        maxAheadBytes = Math.max(maxAheadBytes, producedBytes - consumedBytes);
        await new Promise((r) => setImmediate(r));
      },
    });
    expect(n).toBe(total);
    expect(consumed).toBe(total);
    // Bounded by the pipe's buffers (16 KiB of bytes plus a few lines), far below the ~350 KB sent.
    expect(producedBytes).toBeGreaterThan(300_000);
    expect(maxAheadBytes).toBeLessThan(40_000);
  });

  it('an aborted follow resolves quietly with what was read', async () => {
    const ac = new AbortController();
    const source = new Readable({ read() {} });
    source.push(frame(1, 'first\n'));
    const got: string[] = [];
    const done = pumpLogLines(source, {
      tty: false,
      signal: ac.signal,
      onLine: (l) => {
        got.push(l.text);
        ac.abort();
      },
    });
    await expect(done).resolves.toBe(1);
    expect(got).toEqual(['first']);
  });
});
