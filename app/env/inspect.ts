/** Looking into single files: what a reader sees, and how two files differ. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnvDiff, EnvDiffValue, EnvShowResult } from '../contract/ops/env.js';
import { PanelError } from '../errors.js';
import type { Dialect } from './dialects/names.js';
import { guessDialect } from './discover.js';
import { EnvSyntaxError } from './errors.js';
import { readEnvFileValues } from './files.js';
import type { Lookup } from './read.js';
import { isInside, type EnvScope } from './root.js';
import { isSecret, showValue } from './secrets.js';

export interface InspectOptions {
  /** Where relative file names start; default: the scope's root. */
  base?: string;
  /** The instance's env scope: its configured targets decide their files' dialect. Default: none, relative to the current folder. */
  scope?: EnvScope;
  /**
   * Read only files whose real path (links resolved) is under the scope's root or is a
   * configured target: browser mode must not follow a link out of the project.
   */
  confine?: boolean;
  /** Show secret values instead of masking them; must be asked for explicitly. */
  reveal?: boolean;
  /** compose's environment; default: this process's environment. */
  lookup?: Lookup;
}

const scopeOf = (opts: InspectOptions): EnvScope => opts.scope ?? { root: process.cwd(), targets: new Map() };

/** The absolute path of a file argument; with `confine`, refused unless it really lies in the scope. */
async function locate(file: string, opts: InspectOptions): Promise<string> {
  const scope = scopeOf(opts);
  const abs = path.resolve(opts.base ?? scope.root, file);
  if (!opts.confine) return abs;
  const outside = () =>
    new PanelError(`${file} is outside the env root ${scope.root}`, 'env-outside-root', 'Set env.root in the configuration to the project folder, or add the file to env.targets.');
  if (scope.targets.has(abs)) return abs;
  if (!isInside(scope.root, abs) || abs === scope.root) throw outside();
  // A link inside the root may point anywhere: compare real paths (a missing file is reported as missing by the read).
  const real = await fs.realpath(abs).catch(() => undefined);
  const realRoot = await fs.realpath(scope.root).catch(() => scope.root);
  if (real !== undefined && !isInside(realRoot, real) && ![...scope.targets.keys()].includes(real)) throw outside();
  return abs;
}

async function resolveDialect(file: string, dialect: Dialect | undefined, opts: InspectOptions): Promise<Dialect> {
  return dialect ?? guessDialect(file, scopeOf(opts));
}

/** What the file's reader sees (compose: interpolated against the lookup), secrets masked unless revealed. */
export async function showEnvFile(file: string, dialect: Dialect | undefined, opts: InspectOptions = {}): Promise<EnvShowResult> {
  const abs = await locate(file, opts);
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
  const [absA, absB] = [await locate(a, opts), await locate(b, opts)];
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
