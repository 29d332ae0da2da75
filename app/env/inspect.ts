/** Looking into single files: what a reader sees, and how two files differ. */
import path from 'node:path';
import type { EnvDiff, EnvDiffValue, EnvShowResult } from '../contract/ops/env.js';
import type { Dialect, PanelConfig } from '../config/schema.js';
import { guessDialect } from './discover.js';
import { EnvSyntaxError } from './errors.js';
import { readEnvFileValues } from './files.js';
import type { Lookup } from './read.js';
import { isSecret, showValue } from './secrets.js';

export interface InspectOptions {
  /** Folder relative paths start from, and where configured targets live; default: the current folder. */
  root?: string;
  /** For the configured target dialects; default: none configured. */
  config?: PanelConfig['env'];
  /** Show secret values instead of masking them; must be asked for explicitly. */
  reveal?: boolean;
  /** compose's environment; default: this process's environment. */
  lookup?: Lookup;
}

const NO_TARGETS: PanelConfig['env'] = { include: [], exclude: [], targets: [] };

async function resolveDialect(file: string, dialect: Dialect | undefined, opts: InspectOptions): Promise<Dialect> {
  return dialect ?? guessDialect(file, opts.config ?? NO_TARGETS, opts.root ?? process.cwd());
}

/** What the file's reader sees (compose: interpolated against the lookup), secrets masked unless revealed. */
export async function showEnvFile(file: string, dialect: Dialect | undefined, opts: InspectOptions = {}): Promise<EnvShowResult> {
  const abs = path.resolve(opts.root ?? process.cwd(), file);
  const used = await resolveDialect(abs, dialect, opts);
  try {
    const values = await readEnvFileValues(abs, used, opts.lookup);
    const shown = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, showValue(k, v, opts.reveal ?? false)]));
    return { file: abs, dialect: used, values: shown };
  } catch (e) {
    if (!(e instanceof EnvSyntaxError)) throw e;
    return { file: abs, dialect: used, error: { message: e.message, line: e.line, ...(e.column !== undefined ? { column: e.column } : {}) } };
  }
}

export interface DiffOptions extends InspectOptions {
  dialectA?: Dialect;
  dialectB?: Dialect;
}

/** Keys only in A, only in B, changed and the same, each file read with its own dialect. */
export async function diffEnvFiles(a: string, b: string, opts: DiffOptions = {}): Promise<EnvDiff> {
  const root = opts.root ?? process.cwd();
  const [absA, absB] = [path.resolve(root, a), path.resolve(root, b)];
  const valuesA = await readEnvFileValues(absA, await resolveDialect(absA, opts.dialectA, opts), opts.lookup);
  const valuesB = await readEnvFileValues(absB, await resolveDialect(absB, opts.dialectB, opts), opts.lookup);
  const reveal = opts.reveal ?? false;
  const entry = (key: string, value: string): EnvDiffValue => ({ key, value: showValue(key, value, reveal), secret: isSecret(key, value) });
  const diff: EnvDiff = { a: absA, b: absB, onlyA: [], onlyB: [], changed: [], same: [] };
  for (const key of Object.keys(valuesA).sort()) {
    const va = valuesA[key] ?? '';
    if (!Object.hasOwn(valuesB, key)) diff.onlyA.push(entry(key, va));
    else if (valuesB[key] === va) diff.same.push(entry(key, va));
    else {
      const vb = valuesB[key] ?? '';
      diff.changed.push({ key, a: showValue(key, va, reveal), b: showValue(key, vb, reveal), secret: isSecret(key, va) || isSecret(key, vb) });
    }
  }
  for (const key of Object.keys(valuesB).sort()) if (!Object.hasOwn(valuesA, key)) diff.onlyB.push(entry(key, valuesB[key] ?? ''));
  return diff;
}
