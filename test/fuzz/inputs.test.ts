import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../app/config/load.js';
import { operations, opNames, type PanelHandlers } from '../../app/contract/index.js';
import { ConfigError } from '../../app/errors.js';
import { ContractError, dispatch } from '../../app/service/dispatch.js';

/** Inputs an attacker's page, a buggy UI or a corrupted file could send. */
const hostile = fc.oneof(
  fc.anything({ withBigInt: false, withObjectString: true, withNullPrototype: true, maxDepth: 4 }),
  fc.json().map((j) => JSON.parse(j) as unknown),
  fc.record({ __proto__: fc.anything(), constructor: fc.anything() }, { requiredKeys: [] }),
  fc.string({ maxLength: 2_000 }),
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1')),
);

describe('every contract input schema under hostile input', () => {
  const seen: Record<string, unknown> = {};
  const handlers = Object.fromEntries(opNames.map((n) => [n, async (input: unknown) => ((seen[n] = input), 'ran')])) as unknown as PanelHandlers;

  it('either rejects with a field-naming invalid-input error or passes schema-valid data; never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...opNames), hostile, async (name, input) => {
        delete seen[name];
        try {
          expect(await dispatch(handlers, name, input)).toBe('ran');
          // What reached the handler is exactly what the schema accepts.
          expect(operations[name].input.safeParse(seen[name]).success).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ContractError);
          const shape = (err as ContractError).shape;
          expect(shape.code).toBe('invalid-input');
          expect(shape.message).toContain(name);
          expect(shape.message.length).toBeLessThan(700);
          expect(seen[name]).toBeUndefined();
        }
      }),
      { numRuns: 1_500 },
    );
  });

  it('rejects a huge input with a bounded message', async () => {
    // Every input schema is strict, so the unknown key is refused by each of them.
    const huge = { x: 'A'.repeat(2_000_000) };
    for (const name of opNames) {
      const err = await dispatch(handlers, name, huge).then(() => undefined, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(ContractError);
      expect((err as ContractError).shape.message.length).toBeLessThan(700);
    }
  });
});

describe('config loader under malformed, huge and binary input', () => {
  it('returns a config or a ConfigError naming the file; never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 500 }), fc.json(), hostile.map((v) => JSON.stringify(v) ?? 'undefined')), (text) => {
        try {
          parseConfigText(text, '/etc/comfy/config.json');
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as Error).message.startsWith('/etc/comfy/config.json: ')).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('names the line and column of a syntax error deep in a large file', () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `  "k${i}": ${i},`);
    const text = `{\n${lines.join('\n')}\n  "bad": ,\n}`;
    expect(() => parseConfigText(text, 'big.json')).toThrow(/big\.json: not valid JSON at line 5002, column \d+/);
  });

  it('reports binary content as invalid JSON, not a crash', () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x0a, 0x00]).toString('latin1');
    expect(() => parseConfigText(binary, 'bin.json')).toThrow(ConfigError);
  });
});
