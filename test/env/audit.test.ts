import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEnvTree, diffEnvFiles, showEnvFile, type EnvAudit } from '../../app/env/index.js';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { envConsistencyCheck } from '../../app/health/checks/env-consistency.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { fingerprint } from '../../app/redact.js';
import { copyFixture, envConfig, FIXTURE_HASH_RAW, FIXTURE_HASH_ROOT, scopeIn, tempDir } from './support.js';

const noEnv = () => undefined;

describe('audit of the messy fixture tree (mirrors the original layout)', () => {
  const tree = copyFixture();
  let audit: EnvAudit;
  beforeAll(async () => {
    // Build output and dependencies are never scanned.
    mkdirSync(path.join(tree.root, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(path.join(tree.root, 'node_modules', 'pkg', '.env'), 'SKIP_ME=1\n');
    mkdirSync(path.join(tree.root, 'dist'));
    writeFileSync(path.join(tree.root, 'dist', '.env'), 'SKIP_ME=1\n');
    audit = await auditEnvTree(scopeIn(tree.root), envConfig(), { lookup: noEnv });
  });
  afterAll(() => tree.cleanup());

  const find = (kind: string, file: string, line: number, key?: string) =>
    audit.findings.filter((f) => f.kind === kind && f.file === file && f.line === line && f.key === key);

  it('discovers env files by name and through env_file, with their dialects, skipping node_modules and dist', () => {
    expect(audit.files.map((f) => [f.file, f.dialect, f.dialectSource])).toEqual([
      ['.env', 'dotenv', 'default'],
      ['.env.example', 'dotenv', 'default'],
      ['comfyui/.env', 'compose', 'env_file'],
      ['comfyui/.env.local', 'compose', 'compose-dir'],
      ['notebooks/client.env', 'dotenv', 'default'],
      ['secrets/comfy.secrets', 'raw', 'env_file'],
    ]);
    expect(audit.files.find((f) => f.file === 'secrets/comfy.secrets')?.referencedBy).toEqual([{ compose: 'comfyui/compose.yaml', service: 'comfyui', line: 7, required: true, format: 'raw' }]);
  });

  it('finds the unquoted bcrypt hash compose would mangle, naming what compose reads instead by fingerprint', () => {
    const [f] = find('compose-unsafe', 'comfyui/.env', 3, 'COMFYUI_BEARER_TOKEN');
    expect(f?.severity).toBe('error');
    const mangled = '$2b$04.OgHll3MCu/V.jc6flKZ4efwhNIPvfaUq';
    expect(f?.message).toContain(fingerprint(mangled));
    expect(f?.message).toContain(fingerprint(FIXTURE_HASH_ROOT));
    expect(f?.fix).toContain("COMFYUI_BEARER_TOKEN='$2b$04$…'");
  });

  it('finds duplicates, conflicts, missing keys, empty secrets, raw quotes, malformed files and missing env_files at their lines', () => {
    expect(find('duplicate-key', '.env', 7, 'COMFYUI_URL')).toHaveLength(1);
    expect(find('conflict', '.env', 7, 'COMFYUI_URL')[0]?.message).toContain('comfyui/.env:2 has "http://127.0.0.1:8188"');
    expect(find('conflict', 'comfyui/.env', 2, 'COMFYUI_URL')).toHaveLength(1);
    expect(find('missing-key', '.env', 8, 'HF_TOKEN')[0]?.message).toContain('.env.example (line 5)');
    expect(find('empty-secret', 'comfyui/.env', 5, 'HF_TOKEN')).toHaveLength(1);
    expect(find('raw-quoted', 'secrets/comfy.secrets', 3, 'COMFYUI_PASSWORD')).toHaveLength(1);
    expect(find('malformed', 'comfyui/.env.local', 3)[0]).toMatchObject({ severity: 'error', message: "line 4: unterminated quoted value 'never closed" });
    expect(find('missing-file', 'comfyui/compose.yaml', 9)[0]).toMatchObject({ severity: 'warning' });
  });

  it('reports every different ComfyUI token by fingerprint (token-mismatch), never the values', () => {
    const mismatches = audit.findings.filter((f) => f.kind === 'token-mismatch');
    expect(mismatches.map((f) => `${f.file}:${f.line}`)).toEqual(['.env:3', 'comfyui/.env:3', 'notebooks/client.env:2', 'secrets/comfy.secrets:2']);
    expect(mismatches[0]?.message).toContain(fingerprint(FIXTURE_HASH_RAW));
    const json = JSON.stringify(audit);
    for (const secret of [FIXTURE_HASH_ROOT, FIXTURE_HASH_RAW, 'hunter2-but-quoted', 'rmMJMKDeiqzGJjCoTRwf']) expect(json).not.toContain(secret);
  });

  it('every finding names file, line, kind, message and fix; the example file never causes conflicts', () => {
    for (const f of audit.findings) {
      expect(f.file).not.toBe('');
      expect(f.line).toBeGreaterThan(0);
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.fix.length).toBeGreaterThan(10);
    }
    expect(audit.findings.filter((f) => f.file === '.env.example')).toEqual([]);
  });

  it('a configured target overrides the guessed dialect; exclude patterns apply', async () => {
    const env = envConfig({ targets: [{ path: 'notebooks/client.env', dialect: 'raw', keys: {} }], exclude: ['secrets', 'node_modules', 'dist'] });
    const a = await auditEnvTree(scopeIn(tree.root, env), env, { lookup: noEnv });
    expect(a.files.find((f) => f.file === 'notebooks/client.env')).toMatchObject({ dialect: 'raw', dialectSource: 'config' });
    // Excluded from the walk, but still read because a compose file references it.
    expect(a.files.find((f) => f.file === 'secrets/comfy.secrets')?.dialectSource).toBe('env_file');
    // Read raw, the single-quoted hash keeps its quotes: a raw-quoted warning appears.
    expect(a.findings.some((f) => f.kind === 'raw-quoted' && f.file === 'notebooks/client.env')).toBe(true);
  });

  it('follows a linked env file but not a linked folder', async () => {
    const t = tempDir('env-links-');
    try {
      mkdirSync(path.join(t.dir, 'shared'));
      writeFileSync(path.join(t.dir, 'shared', 'base.env'), 'A=1\n');
      symlinkSync(path.join(t.dir, 'shared', 'base.env'), path.join(t.dir, '.env'));
      symlinkSync(t.dir, path.join(t.dir, 'loop'));
      const a = await auditEnvTree(scopeIn(t.dir), envConfig(), { lookup: noEnv });
      expect(a.files.map((f) => f.file)).toEqual(['.env', 'shared/base.env']);
    } finally {
      t.cleanup();
    }
  });

  it('an invalid compose file is a malformed finding with its line', async () => {
    const t = copyFixture();
    try {
      writeFileSync(path.join(t.root, 'comfyui', 'compose.yaml'), 'services:\n  comfyui:\n    env_file: [a\n  x: : :\n');
      const a = await auditEnvTree(scopeIn(t.root), envConfig(), { lookup: noEnv });
      expect(a.findings.find((f) => f.file === 'comfyui/compose.yaml')).toMatchObject({ kind: 'malformed', severity: 'error' });
    } finally {
      t.cleanup();
    }
  });
});

describe('diff and show', () => {
  const tree = copyFixture();
  afterAll(() => tree.cleanup());
  const opts = { scope: scopeIn('/') };
  beforeAll(() => {
    opts.scope = scopeIn(tree.root);
  });

  it('diff: onlyA, onlyB, changed, same; secrets masked unless reveal', async () => {
    const d = await diffEnvFiles('.env', 'notebooks/client.env', { ...opts, lookup: noEnv });
    expect(d.onlyA.map((v) => v.key)).toEqual(['COMFYUI_USERNAME']);
    expect(d.onlyB).toEqual([]);
    expect(d.changed).toEqual([{ key: 'COMFYUI_URL', a: 'http://127.0.0.1:8189', b: 'http://127.0.0.1:8188', secret: false }]);
    expect(d.same).toEqual([{ key: 'COMFYUI_BEARER_TOKEN', value: `•••• (60 chars, ${fingerprint(FIXTURE_HASH_ROOT)})`, secret: true }]);
    const revealed = await diffEnvFiles('.env', 'notebooks/client.env', { ...opts, lookup: noEnv, reveal: true });
    expect(revealed.same[0]?.value).toBe(FIXTURE_HASH_ROOT);
  });

  it('diff reads each side with its own dialect: the compose file sees the mangled hash', async () => {
    const d = await diffEnvFiles('notebooks/client.env', 'comfyui/.env', { ...opts, lookup: noEnv, reveal: true });
    expect(d.changed.find((c) => c.key === 'COMFYUI_BEARER_TOKEN')).toEqual({ key: 'COMFYUI_BEARER_TOKEN', a: FIXTURE_HASH_ROOT, b: '$2b$04.OgHll3MCu/V.jc6flKZ4efwhNIPvfaUq', secret: true });
  });

  it('show: compose interpolates against the lookup; malformed gives compose\'s message and line', async () => {
    const shown = await showEnvFile('comfyui/.env', undefined, { ...opts, lookup: (n) => (n === 'rmMJMKDeiqzGJjCoTRwf' ? 'X' : undefined), reveal: true });
    expect(shown.dialect).toBe('compose');
    expect(shown.values?.COMFYUI_BEARER_TOKEN).toBe('$2b$04X.OgHll3MCu/V.jc6flKZ4efwhNIPvfaUq');
    expect(shown.values?.CLI_ARGS).toBe('--listen 0.0.0.0 --port $PORT');
    const bad = await showEnvFile('comfyui/.env.local', undefined, opts);
    expect(bad).toMatchObject({ dialect: 'compose', error: { message: "line 4: unterminated quoted value 'never closed", line: 4 } });
    expect(bad.values).toBeUndefined();
    const masked = await showEnvFile('secrets/comfy.secrets', 'raw', opts);
    expect(masked.values?.COMFYUI_BEARER_TOKEN).toBe(`•••• (60 chars, ${fingerprint(FIXTURE_HASH_RAW)})`);
    expect(masked.values?.COMFYUI_PASSWORD).toMatch(/^•••• \(20 chars/);
  });
});

describe('token files others may read (readable-secret)', () => {
  const t = tempDir('env-modes-');
  afterAll(() => t.cleanup());
  const hash = FIXTURE_HASH_ROOT;

  it('world-readable: an error; group-readable: a warning; 0600 or no credential: nothing; a target\'s fix offers the sync', async () => {
    const files: [string, string, number][] = [
      ['world.env', `COMFYUI_BEARER_TOKEN='${hash}'\n`, 0o644],
      ['group.env', `COMFYUI_PASSWORD=hunter2hunter2\n`, 0o640],
      ['private.env', `COMFYUI_BEARER_TOKEN='${hash}'\n`, 0o600],
      ['plain.env', 'DEBUG=1\n', 0o644],
    ];
    for (const [f, text, mode] of files) {
      writeFileSync(path.join(t.dir, f), text);
      chmodSync(path.join(t.dir, f), mode);
    }
    const env = envConfig({ targets: [{ path: 'world.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } }] });
    const a = await auditEnvTree(scopeIn(t.dir, env), env, { lookup: noEnv });
    const found = a.findings.filter((f) => f.kind === 'readable-secret');
    expect(found.map((f) => [f.file, f.severity, f.key])).toEqual([
      ['group.env', 'warning', 'COMFYUI_PASSWORD'],
      ['world.env', 'error', 'COMFYUI_BEARER_TOKEN'],
    ]);
    expect(found[1]?.message).toContain('every user of this machine may read it (mode 0644)');
    expect(found[1]?.fix).toContain(`chmod 600 ${path.join(t.dir, 'world.env')}`);
    expect(found[1]?.fix).toContain('comfy-panel env sync');
    expect(found[0]?.fix).not.toContain('env sync');
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });

  it('a gateway client key counts as a secret by its format, whatever its name and however plain it looks', async () => {
    // A valid key (cpk_ + 43 base64url) that the randomness heuristic misses: no digit in it.
    const key = 'cpk_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';
    const own = tempDir('env-client-key-');
    const dir = own.dir;
    try {
      writeFileSync(path.join(dir, 'a.env'), `NOTEBOOK_GATEWAY=${key}\n`);
      chmodSync(path.join(dir, 'a.env'), 0o644);
      writeFileSync(path.join(dir, 'b.env'), 'NOTEBOOK_GATEWAY=cpk_ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjih\n', { mode: 0o600 });
      const env = envConfig();
      const a = await auditEnvTree(scopeIn(dir, env), env, { lookup: noEnv });
      expect(a.findings.filter((f) => f.kind === 'readable-secret').map((f) => [f.file, f.severity, f.key, f.message])).toEqual([
        ['a.env', 'error', 'NOTEBOOK_GATEWAY', expect.stringMatching(/^this file holds a gateway client key \(NOTEBOOK_GATEWAY\) and its group and every user of this machine may read it/)],
      ]);
      // Two clients' keys differ by design: a conflict at most, never a token-mismatch, and fingerprinted.
      expect(a.findings.filter((f) => f.kind === 'token-mismatch')).toEqual([]);
      expect(a.files.find((f) => f.file === 'a.env')?.secretKeys).toBe(1);
      const shown = await showEnvFile('a.env', undefined, { scope: scopeIn(dir), lookup: noEnv });
      expect(shown.values?.NOTEBOOK_GATEWAY).toBe(`•••• (47 chars, ${fingerprint(key)})`);
      const d = await diffEnvFiles('a.env', 'b.env', { scope: scopeIn(dir), lookup: noEnv });
      expect(d.changed[0]).toMatchObject({ key: 'NOTEBOOK_GATEWAY', secret: true });
      expect(JSON.stringify([a, shown, d])).not.toContain(key.slice(4));
    } finally {
      own.cleanup();
    }
  });

  it('the env health check warns about it first, with the sync as its one-click fix when the file is a target', async () => {
    const env = envConfig({ root: t.dir, targets: [{ path: 'world.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } }] });
    const config = PanelConfigSchema.parse({ env });
    const ctx = new SweepContext({ config, paths: { configFile: path.join(t.dir, 'c.json'), dataDir: t.dir, logDir: t.dir }, configFile: path.join(t.dir, 'c.json') });
    const verdict = await envConsistencyCheck.run(ctx);
    expect(verdict).toMatchObject({ status: 'warn', message: expect.stringMatching(/^\d+ findings in \.env files: group\.env:1 COMFYUI_PASSWORD: .*; world\.env:1 COMFYUI_BEARER_TOKEN/), fix: { failure: 'env-readable-secret' } });
    expect(verdict.fix?.action).toBeUndefined(); // group.env is no target: the sync would not fix it
    chmodSync(path.join(t.dir, 'group.env'), 0o600);
    expect((await envConsistencyCheck.run(ctx)).fix).toMatchObject({ failure: 'env-readable-secret', action: 'envSyncApply' });
  });
});
