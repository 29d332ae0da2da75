import { parse as dotenvParse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { dialects } from '../../app/config/schema.js';
import { configJsonSchema } from '../../app/config/json-schema.js';
import { dialectLabels, dialectModules, dialectNames, EnvSyntaxError, parseEnvDocument, quoteForDialect, readDocumentValues, readEnvValues, serializeEnvDocument, type Dialect, type EnvEntry } from '../../app/env/index.js';
import { vectors, type Vector } from './vectors.js';

function read(v: Vector) {
  const env = v.env ?? {};
  return readEnvValues(v.input, v.dialect, { lookup: (name) => (Object.hasOwn(env, name) ? env[name] : undefined), file: 'vec.env' });
}

describe('golden vectors (one or more per numbered rule of env-dialect-rules.md)', () => {
  const named = vectors.map((v, i) => [`${v.dialect} ${v.rule} #${i}: ${JSON.stringify(v.input).slice(0, 60)}`, v] as const);

  it.each(named.filter(([, v]) => v.expected))('%s', (_name, v) => {
    expect(read(v)).toEqual(v.expected);
    expect(serializeEnvDocument(parseEnvDocument(v.input, v.dialect))).toBe(v.input);
  });

  it.each(named.filter(([, v]) => v.error))('%s fails with the reader\'s own message', (_name, v) => {
    let err: unknown;
    try {
      read(v);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvSyntaxError);
    const e = err as EnvSyntaxError;
    expect(e.message).toBe(v.error);
    expect(e.file).toBe('vec.env');
    expect(e.fix).toContain('vec.env');
    if (v.line !== undefined) expect(e.line).toBe(v.line);
    expect(serializeEnvDocument(parseEnvDocument(v.input, v.dialect))).toBe(v.input);
  });

  it('every dotenv vector agrees with the real dotenv package', () => {
    const dotenvVectors = vectors.filter((v) => v.dialect === 'dotenv');
    expect(dotenvVectors.length).toBeGreaterThan(10);
    for (const v of dotenvVectors) expect(dotenvParse(v.input), v.input).toEqual(v.expected);
  });

  it('covers every numbered rule of the spec', () => {
    const rules = new Set(vectors.map((v) => v.rule));
    for (const r of ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '1.10', '1.11', '2.2', '2.3', '3.1', '3.2', '3.3', '3.4', 'raw']) {
      expect(rules, r).toContain(r);
    }
  });
});

describe('malformed input is reported with line and column, never a crash', () => {
  it('binary content: NUL byte', () => {
    const doc = parseEnvDocument('A=1\nB=x\0y\n', 'dotenv');
    expect(doc.problems).toEqual([expect.objectContaining({ line: 2, column: 4, severity: 'error' })]);
    expect(serializeEnvDocument(doc)).toBe('A=1\nB=x\0y\n');
    expect(() => readEnvValues('A=1\nB=x\0y\n', 'compose', { file: 'bin.env' })).toThrow(/^line 2: binary content/);
  });

  it('oversized file (> 1 MiB)', () => {
    const big = `A=${'x'.repeat(1024 * 1024)}\n`;
    const doc = parseEnvDocument(big, 'raw');
    expect(doc.problems[0]?.message).toMatch(/over the 1 MiB limit/);
    expect(serializeEnvDocument(doc)).toBe(big);
    expect(() => readEnvValues(big, 'dotenv')).toThrow(EnvSyntaxError);
  });

  it('unterminated quote on the last line: line and column of the quote', () => {
    expect(parseEnvDocument("A=1\nB=  'open", 'compose').problems).toEqual([{ line: 2, column: 5, severity: 'error', message: "line 2: unterminated quoted value 'open" }]);
  });

  it('invalid key: column of the offending character', () => {
    const doc = parseEnvDocument('OK=1\n  BAD$KEY=2\n', 'compose');
    expect(doc.problems).toEqual([{ line: 2, column: 6, severity: 'error', message: 'line 2: unexpected character "$" in variable name "BAD$KEY=2"' }]);
  });

  it('dotenv: skipped lines and unterminated quotes are warnings with their line', () => {
    const doc = parseEnvDocument('A=1\nnot a pair\nB="open\n', 'dotenv');
    expect(doc.problems.map((p) => [p.line, p.severity])).toEqual([
      [2, 'warning'],
      [3, 'warning'],
    ]);
    expect(readEnvValues('A=1\nnot a pair\nB="open\n', 'dotenv')).toEqual({ A: '1', B: '"open' });
  });
});

describe('lossless documents', () => {
  const corpus = [
    '',
    '\n\n',
    '\uFEFF# bom\r\nA=1\r\n\r\nexport B="two words" # c\r\n',
    "# comment\nexport TOKEN='$2b$12$abc'\n  INDENTED = x \n\nMULTI=\"l1\nl2\"\nLAST=no-newline",
    'A="x"B=2 # same line\nC\n',
    'A=1\rB=2\r\nC=3',
    'K:  yaml style\nEMPTY=\n"taken"\n',
    'broken line\n=x\nA=1\n',
    'A="unterminated\nB=1\n',
  ];
  it.each(corpus.flatMap((t) => (['compose', 'dotenv', 'raw'] as const).map((d) => [d, t] as const)))('%s %j round-trips byte for byte', (dialect, text) => {
    expect(serializeEnvDocument(parseEnvDocument(text, dialect))).toBe(text);
  });

  it('models entries, comments, blanks, export, quotes, BOM and CRLF', () => {
    const doc = parseEnvDocument('\uFEFF# c\r\n\r\nexport A=\'x\' # note\r\nB="y"\r\n', 'compose');
    expect(doc.bom).toBe(true);
    expect(doc.eol).toBe('\r\n');
    expect(doc.nodes.map((n) => n.type)).toEqual(['comment', 'blank', 'entry', 'entry']);
    expect(doc.nodes[2]).toMatchObject({ key: 'A', line: 3, column: 8, exported: true, quote: 'single', written: 'x', raw: "export A='x' # note\r\n" });
    expect(doc.nodes[3]).toMatchObject({ key: 'B', line: 4, column: 1, exported: false, quote: 'double', written: 'y' });
  });
});

describe('the dialect registry: one complete module per dialect name', () => {
  it('every name has its module, under its own name, with every part; the labels and the config schema list the same names', () => {
    expect(Object.keys(dialectModules)).toEqual([...dialectNames]);
    expect(Object.keys(dialectLabels)).toEqual([...dialectNames]);
    expect([...dialects]).toEqual([...dialectNames]);
    for (const name of dialectNames) {
      const m = dialectModules[name];
      expect(m.name).toBe(name);
      expect(m.label).toBe(dialectLabels[name]);
      for (const part of ['scan', 'quote', 'read', 'literal', 'lint'] as const) expect(typeof m[part], `${name}.${part}`).toBe('function');
    }
    const schemaEnum = (configJsonSchema() as { properties: { env: { properties: { targets: { items: { properties: { dialect: { enum: string[] } } } } } } } }).properties.env.properties.targets.items.properties.dialect.enum;
    expect(schemaEnum).toEqual([...dialectNames]);
  });

  it('each dialect writes with its own quoting, never another one\'s', () => {
    // The three disagree on exactly these: compose needs $ protected, dotenv cuts at #, raw keeps quotes.
    expect(quoteForDialect('a$b', 'compose')).toBe("'a$b'");
    expect(quoteForDialect('a$b', 'raw')).toBe('a$b');
    expect(quoteForDialect("it's $x", 'dotenv')).toBe('"it\'s $x"');
    expect(quoteForDialect("it's $x", 'compose')).toBe('"it\'s \\$x"');
    expect(() => quoteForDialect('a\nb', 'raw')).toThrow(/raw env files hold one line/);
    expect(() => quoteForDialect('bad\udcffbyte', 'dotenv')).toThrow(/not valid UTF-8/);
  });

  it('lint: each dialect reports what only its reader misreads', () => {
    const lint = (dialect: Dialect, text: string) => {
      const doc = parseEnvDocument(text, dialect);
      const unset = new Map<EnvEntry, string[]>();
      let values: Record<string, string> | undefined;
      try {
        values = readDocumentValues(doc, { lookup: () => undefined }, { unset: (n, e) => unset.set(e, [...(unset.get(e) ?? []), n]) });
      } catch {
        values = undefined;
      }
      return dialectModules[dialect].lint({ file: 'x.env', doc, unset, ...(values ? { values } : {}) }).map((f) => [f.kind, f.line, f.key]);
    };
    const text = "H=$2b$12$abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234\nQ='quoted'\nC=abc#def\n";
    expect(lint('compose', text)).toEqual([['compose-unsafe', 1, 'H']]);
    expect(lint('raw', text)).toEqual([['raw-quoted', 2, 'Q']]);
    expect(lint('dotenv', text)).toEqual([['malformed', 3, 'C']]);
  });
});
