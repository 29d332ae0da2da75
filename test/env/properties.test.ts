import { parse as dotenvParse } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dialects } from '../../app/config/schema.js';
import { parseEnvDocument, quoteForDialect, readEnvValues, serializeEnvDocument, setEnvValues } from '../../app/env/index.js';

const none = () => undefined;
const RUNS = { numRuns: 300 };

/** Characters that matter to at least one reader, plus plain ones. */
const tricky = fc.constantFrom('A', 'b', '_', '1', '.', '-', '=', ':', "'", '"', '`', '#', '$', '{', '}', '\\', ' ', '\t', '\n', '\r', '\r\n', 'export ', '\uFEFF', '\u00A0', '\u2028', 'é', 'n', 'r');
const trickyText = fc.array(tricky, { maxLength: 60 }).map((parts) => parts.join(''));

/** Files made of plausible lines, so the readers see real assignments and not only noise. */
const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
const lineText = fc.oneof(
  fc.tuple(fc.constantFrom('', 'export ', '  '), key, fc.constantFrom('=', ' = ', ': ', ':'), trickyText).map(([p, k, s, v]) => `${p}${k}${s}${v}`),
  fc.tuple(key, fc.constantFrom("'", '"', '`'), trickyText).map(([k, q, v]) => `${k}=${q}${v}${q}`),
  trickyText.map((t) => `# ${t}`),
  trickyText,
);
const envFile = fc.tuple(fc.array(lineText, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([lines, eol, bom]) => (bom ? '\uFEFF' : '') + lines.join(eol));

describe('properties', () => {
  it('parse then serialize returns the exact input, for every dialect', () => {
    fc.assert(
      fc.property(fc.oneof(envFile, trickyText, fc.string({ unit: 'binary', maxLength: 80 })), fc.constantFrom(...dialects), (text, dialect) => {
        expect(serializeEnvDocument(parseEnvDocument(text, dialect))).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  it('dotenv reading equals the real dotenv package parse()', () => {
    fc.assert(
      fc.property(envFile, (text) => {
        expect(readEnvValues(text, 'dotenv', { lookup: none })).toEqual(dotenvParse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('compose: single-quoted values are literal (no interpolation, only \\\' unescaped)', () => {
    const inner = fc.string({ unit: fc.constantFrom('a', '$', '{', '}', '\\', '"', '#', ' ', '\n', 'x', ':', '-', '?'), maxLength: 30 }).filter((s) => !s.endsWith('\\'));
    fc.assert(
      fc.property(inner, (v) => {
        expect(readEnvValues(`K='${v}'\n`, 'compose', { lookup: () => 'SET' })).toEqual({ K: v });
      }),
      RUNS,
    );
  });

  it('compose: $$ reads as one literal $ in unquoted and double-quoted values', () => {
    const plain = fc.string({ unit: fc.constantFrom('a', 'B', '1', '.', '/', '$$'), minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(plain, (v) => {
        const expected = v.replace(/\$\$/g, '$');
        expect(readEnvValues(`A=${v}\nB="${v}"\n`, 'compose', { lookup: () => 'SET' })).toEqual({ A: expected, B: expected });
      }),
      RUNS,
    );
  });

  it('quoteForDialect then the reader gives back the value, in every dialect that can hold it', () => {
    let written = 0;
    fc.assert(
      fc.property(fc.oneof(trickyText, fc.string({ unit: 'grapheme', maxLength: 30 })), fc.constantFrom(...dialects), (value, dialect) => {
        fc.pre(!value.includes('\0'));
        let q: string;
        try {
          q = quoteForDialect(value, dialect);
        } catch (e) {
          // Only values the dialect truly cannot hold may be refused.
          expect(dialect).not.toBe('compose');
          expect((e as Error).message).toMatch(/cannot be written/);
          return;
        }
        written++;
        expect(readEnvValues(`X=1\nK=${q}\nY=2\n`, dialect, { lookup: () => 'SET' })).toEqual({ X: '1', K: value, Y: '2' });
      }),
      { numRuns: 500 },
    );
    expect(written).toBeGreaterThan(400);
  });

  it('setEnvValues: sets the values, keeps everything else, and a second call is a no-op', () => {
    const valueArb = fc.oneof(trickyText, fc.constantFrom('$2b$04$abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234', ''));
    fc.assert(
      fc.property(envFile, fc.constantFrom(...dialects), fc.dictionary(key, valueArb, { maxKeys: 3 }), (text, dialect, updates) => {
        let before: Record<string, string>;
        try {
          before = readEnvValues(text, dialect, { lookup: none });
        } catch {
          // A file its reader rejects outright is never edited; an interpolation error alone does not block writing.
          if (parseEnvDocument(text, dialect).problems.some((p) => p.severity === 'error')) expect(() => setEnvValues(text, dialect, updates)).toThrow();
          return;
        }
        let once: string;
        try {
          once = setEnvValues(text, dialect, updates);
        } catch (e) {
          const message = (e as Error).message;
          // Refused only when the value cannot be written, or when a line the reader already warns about would swallow it.
          if (!/cannot be written/.test(message)) {
            expect(message).toMatch(/would not read back|line \d+: /);
            expect(parseEnvDocument(text, dialect).problems.length).toBeGreaterThan(0);
          }
          return;
        }
        expect(setEnvValues(once, dialect, updates)).toBe(once);
        const after = readEnvValues(once, dialect, { lookup: none });
        for (const [k, v] of Object.entries(updates)) expect(after[k]).toBe(v);
        if (dialect !== 'compose') {
          // compose values may interpolate updated keys; the others never do.
          for (const [k, v] of Object.entries(before)) if (!Object.hasOwn(updates, k)) expect(after[k]).toBe(v);
        }
        if (Object.keys(updates).every((k) => before[k] === updates[k])) expect(once).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
