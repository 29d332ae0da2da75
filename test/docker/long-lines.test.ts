/**
 * Issue 16 item 13: Docker splits a log line longer than 16 KiB into several messages, each
 * with its own timestamp when timestamps are on. They are reassembled before redaction, so a
 * token anywhere in a long line never leaks in part. Against a real container printing such a
 * line (the double's image, its node binary as the command), and a faithful multiplexed stream.
 */
import { Readable } from 'node:stream';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../app/contract/events.js';
import { pumpLogLines } from '../../app/docker/log-lines.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { removeContainers, testConfig } from './helpers.js';

const HASH = bcrypt.hashSync('pw', 4);
const TS = '2026-11-24T11:00:00.123456789Z';
/** Leaks are searched by any 12 consecutive characters of the hash after its "$2b$04$" head. */
const pieces = (h: string) => Array.from({ length: h.length - 19 }, (_, i) => h.slice(7 + i, 19 + i));

function frame(stream: 1 | 2, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** What Docker's logs API sends for one long line: 16 KiB messages (bytes, so UTF-8 may split), each with its timestamp. */
function dockerFrames(line: string): Buffer[] {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16 * 1024) out.push(frame(1, Buffer.concat([Buffer.from(`${TS} `), bytes.subarray(i, i + 16 * 1024)])));
  return out;
}

async function linesOf(frames: Buffer[]): Promise<LogLine[]> {
  const got: LogLine[] = [];
  await pumpLogLines(Readable.from(frames), { tty: false, onLine: (l) => void got.push(l) });
  return got;
}

function expectNoLeak(lines: LogLine[]): void {
  const all = JSON.stringify(lines);
  for (const p of pieces(HASH)) expect(all, `leaked ${p}`).not.toContain(p);
}

describe('a long line in a multiplexed stream', () => {
  it('a token across the 16 KiB split is redacted whole; the timestamps Docker inserted are gone', async () => {
    for (const offset of [16_384 - 40, 16_384 - 30, 16_384 - 5, 2 * 16_384 - 33, 40_000]) {
      const line = `${'a'.repeat(offset)} token=${HASH} ${'é'.repeat(3000)} tail`;
      const got = await linesOf(dockerFrames(line));
      expect(got, `offset ${offset}`).toHaveLength(1);
      expectNoLeak(got);
      if (offset < 16_000) expect(got[0]!.text).toContain('[redacted fp:'); // past the display cut the line ends before it
      expect(got[0]!.text).not.toContain('2026-11-24T11:00:00');
      expect(got[0]!.time).toBe('2026-11-24T11:00:00.123Z');
      expect(got[0]!.text).not.toContain('\ufffd'); // a character split between messages is whole again
    }
  });

  it('a bare hash (no token=) straddling the split is redacted too, and a huge line stays bounded', async () => {
    const got = await linesOf(dockerFrames(`${'b'.repeat(16_384 - 2 - 30)}${HASH}${'c'.repeat(3 * 1024 * 1024)}`));
    expectNoLeak(got);
    for (const l of got) expect(l.text.length).toBeLessThanOrEqual(16_384 + 64);
    expect(got[0]!.text).toMatch(/more characters\]$/);
  });

  it('a forced cut of a line with no end in sight does not show half a token either', async () => {
    const cutAt = 1024 * 1024;
    const got = await linesOf(dockerFrames(`${'d'.repeat(cutAt - 30)}${HASH}${'e'.repeat(40_000)}`));
    expect(got.length).toBeGreaterThan(1);
    expectNoLeak(got);
  });
});

const d = await requireDocker();

describe.skipIf(!d.ok)('a real container printing a 40 KiB line with a token', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const name = `hostile-longline-${process.pid}-${Date.now() % 100_000}`;
  let manager: ContainerManager;
  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    const script = `process.stdout.write('x'.repeat(16384 - 25) + ' token=' + process.env.T + ' ' + 'y'.repeat(24000) + '\\n' + 'done\\n')`;
    await docker.createContainer({ name, Image: image, Entrypoint: ['/usr/bin/node', '-e', script], Env: [`T=${HASH}`], Labels: { 'io.comfy-panel.test': 'hostile' } });
    await docker.getContainer(name).start();
    await docker.getContainer(name).wait();
    manager = new ContainerManager(testConfig({ name, image, hostPort: 1 }), docker);
  }, 180_000);
  afterAll(() => removeContainers(docker, [name]));

  it('reads it back as one redacted line', async () => {
    const got: LogLine[] = [];
    await manager.logs({ tail: 'all', onLine: (l) => void got.push(l) });
    expect(got.map((l) => l.text.slice(0, 5))).toEqual(['xxxxx', 'done']);
    expect(got[0]!.text).toContain('token=[redacted fp:');
    expectNoLeak(got);
  });
});
