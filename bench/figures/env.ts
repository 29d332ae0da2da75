/** Figure 1: our lossless dotenv reader against the `dotenv` package on one realistic 10,000-line file. */
import { parse as dotenvParse } from 'dotenv';
import { isDeepStrictEqual } from 'node:util';
import { readEnvValues } from '../../app/env/index.js';
import { measurement, type Figure } from '../measurement.js';
import { alternate, median } from '../stats.js';

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

export const envFigure: Figure = {
  id: 'env',
  title: 'env: dotenv parse of a realistic file',
  async run(sizes) {
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
    ];
  },
};
