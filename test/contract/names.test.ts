/**
 * The preload and the renderer take the contract's names from app/contract/names.ts, so zod
 * (and the schemas) never reach their bundles. Bundled here with esbuild as the build does; the
 * bench (bench/figures/bundles.ts) checks the real preload and Vite renderer builds the same way.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { operations } from '../../app/contract/index.js';
import { dialects, envValueSources, eventNames, isOpName, opNames } from '../../app/contract/names.js';
import { EnvTargetSchema } from '../../app/config/schema.js';
import { preloadBuildOptions } from '../../scripts/bundle-options.mjs';

const root = path.resolve(import.meta.dirname, '../..');

/** Every input file of a bundle of `entry`, relative to the repository. */
async function inputsOf(entry: string, options: Parameters<typeof build>[0] = {}): Promise<string[]> {
  const r = await build({ bundle: true, platform: 'neutral', format: 'esm', mainFields: ['module', 'main'], ...options, entryPoints: [entry], absWorkingDir: root, write: false, metafile: true, outdir: 'out', logLevel: 'silent' });
  return Object.keys(r.metafile.inputs);
}

const zodOrSchemas = (f: string) => /(^|\/)node_modules\/zod\//.test(f) || f.startsWith('app/contract/ops/') || f === 'app/contract/index.ts' || f === 'app/config/schema.ts';

describe('the contract names without zod', () => {
  it('names.ts and envelope.ts load nothing but themselves', async () => {
    expect(await inputsOf('app/contract/names.ts')).toEqual(['app/contract/names.ts']);
    expect((await inputsOf('app/contract/envelope.ts')).sort()).toEqual(['app/contract/envelope.ts', 'app/contract/names.ts']);
  });

  it('the preload bundle, built with the build options, holds no zod and no schema', async () => {
    const inputs = await inputsOf(preloadBuildOptions.entryPoints[0]!, { ...preloadBuildOptions, outfile: undefined });
    expect(inputs).toContain('app/contract/names.ts');
    expect(inputs.filter(zodOrSchemas)).toEqual([]);
  });

  it('the renderer bundle holds no zod and no schema', async () => {
    const inputs = await inputsOf('renderer/src/main.tsx', { platform: 'browser', jsx: 'automatic', loader: { '.css': 'empty' } });
    expect(inputs.some((f) => f.startsWith('renderer/src/pages/'))).toBe(true);
    expect(inputs.filter(zodOrSchemas)).toEqual([]);
  });

  it('a check that cannot see zod would be no check: importing the contract index does bring it', async () => {
    expect((await inputsOf('app/contract/index.ts')).filter(zodOrSchemas).length).toBeGreaterThan(10);
  });

  it('the names are exactly those of the schemas, events and config', () => {
    expect([...opNames].sort()).toEqual(Object.keys(operations).sort());
    expect(new Set(opNames).size).toBe(opNames.length);
    expect(opNames.every(isOpName)).toBe(true);
    for (const bad of ['constructor', 'toString', '__proto__', 'appinfo', '', 42, undefined]) expect(isOpName(bad), String(bad)).toBe(false);
    expect(new Set(eventNames).size).toBe(eventNames.length);
    // The config schema validates against these very lists.
    const target = (dialect: string, source: string) => EnvTargetSchema.safeParse({ path: '.env', dialect, keys: { K: source } }).success;
    for (const d of dialects) expect(target(d, 'token'), d).toBe(true);
    for (const s of envValueSources) expect(target('dotenv', s), s).toBe(true);
    expect(target('yaml', 'token')).toBe(false);
    expect(target('dotenv', 'secret')).toBe(false);
  });
});
