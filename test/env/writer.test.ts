import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { EnvSyntaxError, quoteForDialect, readEnvValues, setEnvValues } from '../../app/env/index.js';

const hash = bcrypt.hashSync('writer-test', 4);
const none = () => undefined;

describe('quoteForDialect', () => {
  it('a bcrypt hash: single-quoted for compose and dotenv, bare for raw', () => {
    expect(quoteForDialect(hash, 'compose')).toBe(`'${hash}'`);
    expect(quoteForDialect(hash, 'dotenv')).toBe(`'${hash}'`);
    expect(quoteForDialect(hash, 'raw')).toBe(hash);
  });

  it('plain values stay bare; others get the quoting their reader needs', () => {
    expect(quoteForDialect('http://127.0.0.1:8188', 'compose')).toBe('http://127.0.0.1:8188');
    expect(quoteForDialect("it's $HOME", 'compose')).toBe(`"it's \\$HOME"`);
    expect(quoteForDialect('a#b c', 'dotenv')).toBe("'a#b c'");
    expect(quoteForDialect("it's", 'dotenv')).toBe(`"it's"`);
    expect(quoteForDialect('', 'dotenv')).toBe("''");
    expect(readEnvValues(`K=${quoteForDialect("it's $HOME\\", 'compose')}`, 'compose', { lookup: () => 'X' })).toEqual({ K: "it's $HOME\\" });
  });

  it('refuses, clearly and without echoing the value, what a dialect cannot hold', () => {
    expect(() => quoteForDialect('line1\nline2', 'raw')).toThrow(/raw env files hold one line per value/);
    expect(() => quoteForDialect(`it's "quoted"`, 'dotenv')).toThrow(/cannot be written for the dotenv reader/);
    expect(() => quoteForDialect('secret\0', 'compose')).toThrow(/NUL/);
    try {
      quoteForDialect(`s3cr3t's "v"`, 'dotenv');
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cr3t');
    }
  });
});

describe('setEnvValues', () => {
  it('replaces every occurrence in place, keeping export, comments, CRLF and the rest byte for byte', () => {
    const text = '\uFEFF# top\r\nexport TOKEN=old # inline\r\nOTHER="keep  me"\r\n\r\nTOKEN = "older"\r\n';
    const out = setEnvValues(text, 'compose', { TOKEN: hash });
    expect(out).toBe(`\uFEFF# top\r\nexport TOKEN='${hash}' # inline\r\nOTHER="keep  me"\r\n\r\nTOKEN = '${hash}'\r\n`);
    expect(readEnvValues(out, 'compose', { lookup: none })).toEqual({ TOKEN: hash, OTHER: 'keep  me' });
  });

  it('appends missing keys at the end with the file\'s line ending, ending an unterminated last line first', () => {
    expect(setEnvValues('A=1\r\nB=2', 'dotenv', { C: 'x y' })).toBe("A=1\r\nB=2\r\nC='x y'\r\n");
    expect(setEnvValues('', 'raw', { TOKEN: hash })).toBe(`TOKEN=${hash}\n`);
  });

  it('turns an inherit line into an assignment', () => {
    expect(setEnvValues('URL\r\nA=1\r\n', 'compose', { URL: 'http://x:1' })).toBe('URL=http://x:1\r\nA=1\r\n');
  });

  it('leaves entries that already read as the value alone, so a second call changes nothing', () => {
    const text = `A="same"\nT=$$2b$$04$$x\n`;
    expect(setEnvValues(text, 'compose', { A: 'same', T: '$2b$04$x' })).toBe(text);
    const once = setEnvValues('T=$2b$04$abc\n', 'compose', { T: '$2b$04$abc' });
    expect(once).toBe("T='$2b$04$abc'\n");
    expect(setEnvValues(once, 'compose', { T: '$2b$04$abc' })).toBe(once);
  });

  it('refuses a file its reader rejects, and invalid keys', () => {
    expect(() => setEnvValues('A="open\n', 'compose', { A: 'x' })).toThrow(EnvSyntaxError);
    expect(() => setEnvValues('A=1\n', 'dotenv', { 'BAD KEY': 'x' })).toThrow(/invalid env key/);
  });
});
