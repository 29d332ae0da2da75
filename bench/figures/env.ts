/**
 * Figure 1: our lossless dotenv reader against the `dotenv` package on one realistic
 * 10,000-line file; and the whole `env audit` of a hostile file (20,000 identical `K=1`
 * lines, issue 16.1: it once took 40 s and 2.4 GB) against `dotenv.parse` of that file,
 * in time and in the peak memory of a process doing only that.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as dotenvParse } from 'dotenv';
import { isDeepStrictEqual } from 'node:util';
import { parseConfig } from '../../app/config/load.js';
import { auditEnvTree, envScope, readEnvValues } from '../../app/env/index.js';
import { measurement, type Figure, type Measurement } from '../measurement.js';
import { alternate, median } from '../stats.js';

/** The hostile file of issue 16.1. */
const DUPLICATE_LINES = 20_000;
const MB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('../support/env-audit-child.ts', import.meta.url));

const HASH_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A small seeded generator, so every run parses the same file. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A .env as projects write them: section comments, blank lines, `export`, bare, single- and
 * double-quoted values (escapes, inline comments), URLs and bcrypt hashes (the ComfyUI token).
 */
export function realisticEnv(lines: number): string {
  const rand = seeded(42);
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  const hash = () => `$2b$12$${Array.from({ length: 53 }, () => pick(HASH_ALPHABET)).join('')}`;
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    const key = `SERVICE_${i}_VALUE`;
    switch (i % 12) {
      case 0:
        out.push(`# --- section ${i / 12}: settings for service ${i} ---`);
        break;
      case 1:
        out.push('');
        break;
      case 2:
        out.push(`export ${key}=plain-value-${i}`);
        break;
      case 3:
        out.push(`COMFYUI_BEARER_TOKEN_${i}=${hash()}`);
        break;
      case 4:
        out.push(`${key}='${hash()}'`);
        break;
      case 5:
        out.push(`${key}="line one\\nline two for ${i}" # inline comment`);
        break;
      case 6:
        out.push(`COMFYUI_URL_${i}=http://127.0.0.1:${8000 + (i % 1000)}/api?x=${i}`);
        break;
      case 7:
        out.push(`${key} = spaced value ${i}   # trailing comment`);
        break;
      case 8:
        out.push(`${key}="quoted with 'single' inside and \\"escapes\\" ${i}"`);
        break;
      case 9:
        out.push(`    # indented comment about ${key}`);
        break;
      case 10:
        out.push(`${key}=`);
        break;
      default:
        out.push(`export ${key}='single quoted $NOT_EXPANDED ${i}'`);
    }
  }
  return `${out.slice(0, lines).join('\n')}\n`;
}

/** Peak RSS of a fresh process auditing `folder` (or dotenv-parsing its .env) `runs` times. */
async function childPeak(mode: 'audit' | 'dotenv', folder: string, runs: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, mode, folder, String(runs)], { maxBuffer: MB });
  return (JSON.parse(stdout) as { maxRssBytes: number }).maxRssBytes;
}

async function duplicateAudit(runs: number): Promise<Measurement[]> {
  const folder = await mkdtemp(path.join(tmpdir(), 'bench-env-dup-'));
  try {
    const text = 'K=1\n'.repeat(DUPLICATE_LINES);
    await writeFile(path.join(folder, '.env'), text);
    const env = parseConfig({}).env;
    const scope = envScope(env, path.join(folder, 'config.json'));
    const audit = () => auditEnvTree(scope, env, { lookup: () => undefined });
    const findings = (await audit()).findings.length;
    const times = await alternate(runs, audit, () => dotenvParse(text));
    const [auditPeak, dotenvPeak] = [await childPeak('audit', folder, 3), await childPeak('dotenv', folder, 3)];
    const label = `${DUPLICATE_LINES.toLocaleString('en')} identical K=1 lines (${Math.round(text.length / 1024)} KB)`;
    return [
      measurement({
        id: 'env.audit-duplicates',
        label: `env audit of ${label}, median of ${runs}`,
        value: median(times.a),
        unit: 'ms',
        baseline: median(times.b),
        baselineLabel: 'dotenv.parse',
        target: { kind: 'ratio-max', limit: 5, text: '<= 5x' },
        note: `the whole audit (discovery, read, parse, every check) against parsing alone; ${findings} findings (50 listed, the rest summed up)`,
      }),
      measurement({
        id: 'env.audit-memory',
        label: `peak RSS of a process auditing ${label} three times`,
        value: auditPeak / MB,
        unit: 'MB',
        baseline: dotenvPeak / MB,
        baselineLabel: 'a process running dotenv.parse of it three times',
        target: { kind: 'value-max', limit: 200, text: '< 200 MB' },
        note: 'both processes are Node with the same TypeScript loader; the baseline is what that costs by itself',
      }),
    ];
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export const envFigure: Figure = {
  id: 'env',
  title: 'env: dotenv parse of a realistic file, audit of a hostile one',
  async run(sizes, progress) {
    const text = realisticEnv(sizes.envLines);
    // Both readers must see the same values, or the comparison would be of different work.
    const ours = () => readEnvValues(text, 'dotenv', { file: 'bench.env', lookup: () => undefined });
    const theirs = () => dotenvParse(text);
    if (!isDeepStrictEqual(ours(), theirs())) throw new Error('our dotenv reader and the dotenv package disagree on the generated file');
    const times = await alternate(sizes.envRuns, ours, theirs);
    return [
      measurement({
        id: 'env.parse',
        label: `parse ${sizes.envLines} lines (${Math.round(text.length / 1024)} KB), median of ${sizes.envRuns}`,
        value: median(times.a),
        unit: 'ms',
        baseline: median(times.b),
        baselineLabel: 'dotenv.parse',
        target: { kind: 'ratio-max', limit: 2, text: '<= 2x' },
        note: 'ours keeps comments, positions and problems (lossless document)',
      }),
      ...(progress(`env: audit of ${DUPLICATE_LINES} duplicate lines`), await duplicateAudit(sizes.envRuns)),
    ];
  },
};
