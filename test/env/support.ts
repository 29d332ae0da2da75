import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PanelConfigSchema, type PanelConfig } from '../../app/config/schema.js';
import { envScope, type EnvScope } from '../../app/env/index.js';

export const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'messy');

/** The fake hashes written in the fixture files (bcryptjs, cost 4, made-up passwords). */
export const FIXTURE_HASH_ROOT = '$2b$04$rmMJMKDeiqzGJjCoTRwf.OgHll3MCu/V.jc6flKZ4efwhNIPvfaUq';
export const FIXTURE_HASH_RAW = '$2b$04$xeU8FdoVpm4/t8/fVOZs8.9PHU8Oa4u2X6XdZfOumyRoKw76MfOlG';

export function envConfig(env: Record<string, unknown> = {}): PanelConfig['env'] {
  return PanelConfigSchema.parse({ env }).env;
}

/** The scope of a config file kept in `root` itself (env.root unset, so the root is its folder). */
export function scopeIn(root: string, env: PanelConfig['env'] = envConfig()): EnvScope {
  return envScope(env, path.join(root, 'config.json'));
}

/** A private copy of the messy fixture tree; removed by the returned cleanup. */
export function copyFixture(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'env-fixture-'));
  cpSync(FIXTURE, root, { recursive: true });
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const read = (file: string) => readFileSync(file, 'utf8');
