import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Walks the behaviour list in test/comfy-double/README.md: every line names a reference line and
 * the test files whose tests carry its ID; this checks those tests exist, that no test cites an ID
 * the README lacks, and (where the reference files are on this machine) that each quoted fragment
 * really is in its reference file.
 */
const README = readFileSync('test/comfy-double/README.md', 'utf8');
const REFERENCE_DIR = process.env.COMFY_REFERENCE_DIR ?? '/work/shared/reference';
const REFERENCE_FILES = { login: 'comfyui-login-behaviour.md', server: 'comfyui-real-server.md' } as const;

interface Row {
  id: string;
  source: keyof typeof REFERENCE_FILES;
  fragment: string;
  double: string;
  tests: string[];
}

const rows: Row[] = README.split('\n').flatMap((line) => {
  const m = /^\| ([LS]\d+) \| (login|server): "((?:[^"\\]|\\.)*)" \| (.+) \| (.+) \|$/.exec(line);
  if (!m) return [];
  const tests = m[5]!.trim() === '—' ? [] : m[5]!.split(',').map((t) => t.trim());
  return [{ id: m[1]!, source: m[2] as Row['source'], fragment: m[3]!.replace(/\\"/g, '"'), double: m[4]!, tests }];
});

const testFiles = readdirSync('test/double').filter((f) => f.endsWith('.test.ts') && f !== 'readme.test.ts');
const titlesOf = (file: string) =>
  readFileSync(join('test/double', file), 'utf8')
    .split('\n')
    .filter((l) => /\b(it|describe)(\.each\(|\.skipIf\(|\()|\]\)\(/.test(l));

describe('test/comfy-double/README.md', () => {
  it('lists every behaviour row with a unique ID, in order, for both reference files', () => {
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const numbers = (p: string) => ids.filter((i) => i.startsWith(p)).map((i) => Number(i.slice(1)));
    for (const p of ['L', 'S']) expect(numbers(p)).toEqual(numbers(p).map((_, i) => i + 1));
    expect(numbers('L').length).toBeGreaterThanOrEqual(30);
    expect(numbers('S').length).toBeGreaterThanOrEqual(15);
    for (const line of README.split('\n').filter((l) => /^\| [LS]\d+ /.test(l))) expect(rows.some((r) => line.startsWith(`| ${r.id} |`)), line).toBe(true);
  });

  it.each(rows.map((r) => [r.id, r] as const))('%s has a test in each file it names (or says why it is not simulated)', (_id, row) => {
    if (row.tests.length === 0) {
      expect(row.double).toMatch(/^not simulated: /);
      return;
    }
    for (const t of row.tests) {
      const file = `${t}.test.ts`;
      expect(testFiles, `${row.id}: test/double/${file}`).toContain(file);
      expect(titlesOf(file).some((l) => l.includes(`[${row.id}]`)), `${row.id}: no test title in ${file} carries [${row.id}]`).toBe(true);
    }
  });

  it('cites no ID in a test title that the README does not list', () => {
    const known = new Set(rows.map((r) => r.id));
    for (const file of testFiles) {
      for (const line of titlesOf(file)) {
        for (const [, id] of line.matchAll(/\[([LS]\d+)\]/g)) expect(known.has(id!), `${file} cites [${id}]`).toBe(true);
      }
    }
  });

  const present = Object.values(REFERENCE_FILES).every((f) => existsSync(join(REFERENCE_DIR, f)));
  it.skipIf(!present)('quotes each reference line verbatim (whitespace aside) from its reference file', () => {
    const norm = (t: string) => t.replace(/\s+/g, ' ');
    const text = Object.fromEntries(Object.entries(REFERENCE_FILES).map(([k, f]) => [k, norm(readFileSync(join(REFERENCE_DIR, f), 'utf8'))]));
    for (const r of rows) expect(text[r.source], `${r.id}: "${r.fragment}"`).toContain(norm(r.fragment));
  });
});
