/**
 * Issue 16 item 14: old credentials are not kept forever. After each successful rotation and
 * env sync only the newest `backups.keep` vault copies, journals and env backups per file
 * remain, every one 0600 in a 0700 folder.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { envBackupDir, planPanelSync } from '../../app/env/sources.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { createCredential } from '../../app/tokens/credential.js';
import { syncEnvTargets } from '../../app/tokens/env-sync.js';
import { retentionOf } from '../../app/tokens/retention.js';
import { envRig, panelSync } from '../faults/env-runs.js';
import { createHostRig } from '../faults/rig.js';
import { useFastBcrypt } from './support.js';

useFastBcrypt();

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-retention-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function walk(dir: string): Promise<{ file: string; mode: number; dir: boolean }[]> {
  const out: { file: string; mode: number; dir: boolean }[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    out.push({ file: p, mode: (await fs.stat(p)).mode & 0o777, dir: e.isDirectory() });
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

describe('retention', () => {
  it('the default keeps 3', () => {
    expect(parseConfig({}).backups.keep).toBe(3);
  });

  it('rotations keep only the newest vault copies and journals', async () => {
    const rig = await createHostRig(path.join(root, 'rotate'), true);
    try {
      const config = { ...rig.config, backups: { keep: 2 } };
      const actions = tokenActions(config, rig.paths, { actor: 'cli:test', server: rig.server, locations: rig.locations });
      for (let i = 0; i < 5; i++) expect((await actions.rotate()).outcome).toBe('committed');
      const backups = await fs.readdir(path.join(rig.vault.dir, 'backups'));
      expect(backups.filter((f) => f.endsWith('.bak'))).toHaveLength(2);
      expect(backups.filter((f) => f.startsWith('rotation-'))).toHaveLength(2);
      for (const f of await walk(rig.vault.dir)) expect(f.mode, f.file).toBe(f.dir ? 0o700 : 0o600);
      // the newest backups are the ones kept: the vault holds the 5th credential, its copy the 4th
      expect((await actions.audit()).consistent).toBe(true);
    } finally {
      await rig.close();
    }
  }, 120_000);

  it('env syncs keep only the newest backups of each target, made private even when the target is 0644', async () => {
    const rig = await envRig(path.join(root, 'sync'));
    const policy = retentionOf({ backups: { keep: 2 } }, envBackupDir(rig.paths));
    for (let i = 0; i < 4; i++) {
      const next = await createCredential('comfy');
      await rig.vault.write({ current: next });
      await syncEnvTargets({ vault: rig.vault, plan: () => planPanelSync(rig.config, rig.paths, rig.paths.configFile), actor: 'cli:test', apply: { backupDir: envBackupDir(rig.paths) }, retention: policy });
    }
    const files = await walk(envBackupDir(rig.paths));
    const baks = files.filter((f) => !f.dir);
    const perTarget = new Map<string, number>();
    for (const b of baks) {
      const target = path.join(path.relative(envBackupDir(rig.paths), path.dirname(b.file)), path.basename(b.file).split('.20')[0]!);
      perTarget.set(target, (perTarget.get(target) ?? 0) + 1);
    }
    expect([...perTarget].sort()).toEqual([['.env', 2], ['notebooks/.env', 2], ['secrets/comfy.secrets', 2]]);
    for (const f of files) expect(f.mode, f.file).toBe(f.dir ? 0o700 : 0o600);
    expect((await fs.stat(path.dirname(envBackupDir(rig.paths)))).mode & 0o777).toBe(0o700);
    // and the sync journals are pruned like the rotation ones
    expect((await fs.readdir(path.join(rig.vault.dir, 'backups'))).filter((f) => f.startsWith('env-sync-')).length).toBeLessThanOrEqual(2);
    await panelSync(rig);
  }, 120_000);
});
