/**
 * Issue 16.8: bytes that are not valid UTF-8 must survive every read and write of an env
 * file; a sync must change only the lines of the keys it sets, byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dialects } from '../../app/config/schema.js';
import { readEnvFile, setEnvValues } from '../../app/env/index.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { decodeLossless, encodeLossless } from '../../app/fs/lossless.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const NL = 0x0a;

/** Bytes of other lines: plain text, quotes and `$`, stray high bytes, broken and valid multi-byte sequences; never a "T" (so never TOKEN) or a LF. */
const chunk = fc.oneof(
  fc.constantFrom(...['A', 'b', '1', '_', '=', ':', ' ', '#', "'", '"', '$', '{', '}', '\\', '\r', 'é', '€', 'export '].map((s) => Buffer.from(s))),
  fc.integer({ min: 0x80, max: 0xff }).map((b) => Buffer.from([b])),
  fc.constantFrom(Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from([0xc0, 0xaf])),
);
const otherLine = fc.tuple(fc.constantFrom('A=', 'B = ', 'export C=', '# ', ''), fc.array(chunk, { maxLength: 12 })).map(([lead, parts]) => Buffer.concat([Buffer.from(lead), ...parts]));
const tokenLine = fc.constantFrom('TOKEN=old', "export TOKEN='old'", 'TOKEN="old" # note').map((s) => Buffer.from(s));
const file = fc
  .tuple(fc.array(fc.oneof({ weight: 4, arbitrary: otherLine }, { weight: 1, arbitrary: tokenLine }), { maxLength: 10 }), fc.boolean())
  .map(([lines, endsWithLf]) => Buffer.concat([Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from([NL]), l]))), Buffer.from(endsWithLf && lines.length ? [NL] : [])]));

/** The file's lines (split at LF, bytes) without those naming TOKEN. */
function otherLines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === NL) {
      const line = bytes.subarray(start, i);
      if (!line.includes('TOKEN')) out.push(line);
      start = i + 1;
    }
  }
  return out.filter((l, i, all) => !(i === all.length - 1 && l.length === 0));
}

describe('lossless text', () => {
  it('decode then encode gives back any bytes at all', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(encodeLossless(decodeLossless(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('valid UTF-8 decodes exactly as Node does, so nothing changes for ordinary files', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
        const bytes = Buffer.from(s, 'utf8');
        expect(decodeLossless(bytes)).toBe(bytes.toString('utf8'));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('setting a key leaves every other line byte for byte, whatever bytes it holds', () => {
  it('in every dialect: lines not naming the key are identical, and no U+FFFD appears', () => {
    let written = 0;
    fc.assert(
      fc.property(file, fc.constantFrom(...dialects), (bytes, dialect) => {
        let out: string;
        try {
          out = setEnvValues(decodeLossless(bytes), dialect, { TOKEN: HASH });
        } catch {
          return; // a file its reader rejects, or whose lines would swallow the key, is refused: nothing is written
        }
        written++;
        const after = encodeLossless(out);
        // Appending the key ends an unterminated last line first, with the file's own line ending: that is the one change allowed.
        const lf = bytes.indexOf(NL);
        const eol = Buffer.from(lf > 0 && bytes[lf - 1] === 0x0d ? '\r\n' : '\n');
        const ended = bytes.length && bytes[bytes.length - 1] !== NL ? Buffer.concat([bytes, eol]) : bytes;
        expect([otherLines(bytes), otherLines(ended)]).toContainEqual(otherLines(after));
        const replacement = Buffer.from([0xef, 0xbf, 0xbd]);
        expect(after.includes(replacement)).toBe(bytes.includes(replacement));
      }),
      { numRuns: 1_500 },
    );
    expect(written).toBeGreaterThan(300);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'env-bytes-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('through the disk: readEnvFile and writeFileAtomic round-trip the exact bytes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(file, async (bytes) => {
        const f = path.join(dir, `case-${n++}.env`);
        writeFileSync(f, bytes);
        const { text } = await readEnvFile(f);
        await writeFileAtomic(f, `${text}X=1\n`, { backup: false });
        expect(readFileSync(f).equals(Buffer.concat([bytes, Buffer.from('X=1\n')]))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
