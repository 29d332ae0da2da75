import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvTarget } from '../../app/config/schema.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { applyEnvSync, planEnvSync, previewOf, readEnvValues } from '../../app/env/index.js';
import { read, tempDir } from './support.js';

const targets: EnvTarget[] = [
  { path: '.env', dialect: 'dotenv', keys: { COMFYUI_URL: 'url', COMFYUI_BEARER_TOKEN: 'token' } },
  { path: 'comfyui/.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_USERNAME: 'username' } },
  { path: 'secrets/comfy.secrets', dialect: 'raw', keys: { COMFYUI_BEARER_TOKEN: 'token' } },
];

describe('env sync: plan, apply, verify', () => {
  let hash = '';
  const t = tempDir('env-sync-');
  const backups = path.join(t.dir, 'backups');
  const root = path.join(t.dir, 'project');
  beforeAll(() => {
    hash = bcrypt.hashSync('sync-test-password', 4);
    mkdirSync(path.join(root, 'comfyui'), { recursive: true });
    writeFileSync(path.join(root, '.env'), '# keep me\nCOMFYUI_URL=http://old:1\nOTHER=x # note\n');
    writeFileSync(path.join(root, 'comfyui', '.env'), `# service\r\nexport COMFYUI_BEARER_TOKEN=${hash.replace('$2b$04$', '$2b$04$X')}\r\nMODEL_DIR=/models\r\n`, { mode: 0o644 });
  });
  afterAll(() => t.cleanup());
  const values = () => ({ token: hash, username: 'operator', url: 'http://127.0.0.1:8188' });

  it('preview: masked line diffs per target, nothing written, no secret in the preview', async () => {
    const plan = await planEnvSync(targets, root, values());
    const preview = previewOf(plan);
    expect(preview.targets.map((p) => [p.file, p.exists, p.changed])).toEqual([
      ['.env', true, true],
      ['comfyui/.env', true, true],
      ['secrets/comfy.secrets', false, true],
    ]);
    expect(preview.targets[0]?.diff).toEqual(['mode 0644 -> 0600 (it holds a secret: only its owner may read it)', '-2: COMFYUI_URL=http://old:1', '+2: COMFYUI_URL=http://127.0.0.1:8188', expect.stringMatching(/^\+4: COMFYUI_BEARER_TOKEN=•••• \(60 chars, fp:/)]);
    expect(JSON.stringify(preview)).not.toContain(hash.slice(7));
    expect(existsSync(path.join(root, 'secrets'))).toBe(false);
  });

  it('apply: each target quoted for its dialect, others bytes kept, 0600, backups outside the project, verified', async () => {
    const result = await applyEnvSync(await planEnvSync(targets, root, values()), { backupDir: backups });
    expect(result.verified).toBe(true);
    expect(result.written.map((w) => [w.file, w.mode, Boolean(w.backup)])).toEqual([
      ['.env', '0600', true],
      ['comfyui/.env', '0600', true],
      ['secrets/comfy.secrets', '0600', false],
    ]);
    expect(read(path.join(root, '.env'))).toBe(`# keep me\nCOMFYUI_URL=http://127.0.0.1:8188\nOTHER=x # note\nCOMFYUI_BEARER_TOKEN='${hash}'\n`);
    expect(read(path.join(root, 'comfyui', '.env'))).toBe(`# service\r\nexport COMFYUI_BEARER_TOKEN='${hash}'\r\nMODEL_DIR=/models\r\nCOMFYUI_USERNAME=operator\r\n`);
    expect(read(path.join(root, 'secrets', 'comfy.secrets'))).toBe(`COMFYUI_BEARER_TOKEN=${hash}\n`);
    for (const f of ['.env', 'comfyui/.env', 'secrets/comfy.secrets']) expect(statSync(path.join(root, f)).mode & 0o777).toBe(0o600);
    // Each reader reads back exactly the hash, compose included.
    expect(readEnvValues(read(path.join(root, 'comfyui', '.env')), 'compose', { lookup: () => undefined }).COMFYUI_BEARER_TOKEN).toBe(hash);
    expect(readdirSync(backups)).toHaveLength(2);
  });

  it('applying again changes nothing; the same old plan is recognised as applied', async () => {
    const before = readdirSync(backups).length;
    const again = await planEnvSync(targets, root, values());
    expect(previewOf(again).targets.every((p) => !p.changed && p.diff.length === 0)).toBe(true);
    expect((await applyEnvSync(again, { backupDir: backups })).written).toEqual([]);
    expect(readdirSync(backups)).toHaveLength(before);
  });

  it('refuses a target edited after the preview, writing nothing', async () => {
    const plan = await planEnvSync(targets, root, { ...values(), url: 'http://new:2' });
    writeFileSync(path.join(root, '.env'), `${read(path.join(root, '.env'))}EDITED=1\n`);
    const comfyBefore = read(path.join(root, 'comfyui', '.env'));
    await expect(applyEnvSync(plan, { backupDir: backups })).rejects.toThrow(/\.env changed since the preview; nothing was written/);
    expect(read(path.join(root, 'comfyui', '.env'))).toBe(comfyBefore);
  });

  it('a failed write leaves every original intact (targets already written are rolled back)', async () => {
    const newHash = bcrypt.hashSync('sync-test-other', 4);
    const originals = targets.map((tg) => read(path.join(root, tg.path)));
    const modes = targets.map((tg) => statSync(path.join(root, tg.path)).mode & 0o777);
    const plan = await planEnvSync(targets, root, { ...values(), token: newHash });
    let calls = 0;
    const failing: typeof writeFileAtomic = async (file, data, o) => {
      if (++calls === 2) throw new Error(`disk full while writing ${newHash}`);
      return writeFileAtomic(file, data, o);
    };
    const err = await applyEnvSync(plan, { backupDir: backups, write: failing }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/rolled back: disk full/);
    expect((err as Error).message).not.toContain(newHash);
    expect(targets.map((tg) => read(path.join(root, tg.path)))).toEqual(originals);
    expect(targets.map((tg) => statSync(path.join(root, tg.path)).mode & 0o777)).toEqual(modes);
  });

  it('keeps the backups of each target under its own place, so two .env files never share a name', async () => {
    const plan = await planEnvSync(targets, root, { ...values(), token: bcrypt.hashSync('sync-backup-names', 4) });
    const result = await applyEnvSync(plan, { backupDir: backups });
    expect(result.written).toHaveLength(targets.length);
    const dirs = result.written.map((w) => path.dirname(w.backup!));
    expect(dirs).toEqual(result.written.map((w) => path.join(backups, path.dirname(w.file))));
    expect(new Set(dirs).size).toBe(dirs.length);
  });

  it('lines that depend on the environment (${X:?}) do not block planning or verification', async () => {
    const s = tempDir('env-sync-req-');
    try {
      writeFileSync(path.join(s.dir, '.env'), 'DB=${DB_HOST:?set DB_HOST}\nTOKEN=\n');
      const target: EnvTarget = { path: '.env', dialect: 'compose', keys: { TOKEN: 'token' } };
      const result = await applyEnvSync(await planEnvSync([target], s.dir, { token: hash }));
      expect(result.verified).toBe(true);
      expect(read(path.join(s.dir, '.env'))).toBe(`DB=\${DB_HOST:?set DB_HOST}\nTOKEN='${hash}'\n`);
    } finally {
      s.cleanup();
    }
  });

  it('a missing credential is reported per key; the URL is still planned; a malformed target blocks apply', async () => {
    const plan = await planEnvSync(targets, root, { url: 'http://127.0.0.1:9999' });
    const preview = previewOf(plan);
    expect(preview.missing).toEqual([{ source: 'token', reason: expect.stringContaining('no credential in the vault yet') }, { source: 'username', reason: expect.stringContaining('comfy-panel token rotate') }]);
    expect(preview.targets[0]?.keys).toEqual([
      { key: 'COMFYUI_BEARER_TOKEN', source: 'token', status: 'no-value', note: expect.stringContaining('no credential') },
      { key: 'COMFYUI_URL', source: 'url', status: 'set' },
    ]);
    writeFileSync(path.join(root, 'comfyui', '.env'), 'BROKEN="never closed\n');
    const blocked = await planEnvSync(targets, root, values());
    expect(previewOf(blocked).targets[1]?.error).toMatch(/unterminated quoted value/);
    await expect(applyEnvSync(blocked)).rejects.toThrow(/cannot sync: comfyui\/\.env/);
  });
});
