/**
 * Issue 16, env parts: files an attacker or an unlucky operator leaves where env files are
 * expected. Nothing here may hang, crash the audit, lose a byte, quote a secret or write
 * somewhere else than asked.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { EnvTarget } from '../../app/config/schema.js';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { applyEnvSync, auditEnvTree, planEnvSync, previewOf, readEnvValues, setEnvValues, showEnvFile } from '../../app/env/index.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { decodeLossless, encodeLossless } from '../../app/fs/lossless.js';
import { dispatch } from '../../app/service/dispatch.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { createPanelContext } from '../../app/service/context.js';
import { envTargetLocation } from '../../app/tokens/env-location.js';
import { createCredential } from '../../app/tokens/credential.js';
import { useFastBcrypt } from '../tokens/support.js';
import { envConfig, scopeIn, tempDir } from './support.js';

useFastBcrypt();
const hash = bcrypt.hashSync('hostile-files', 4);
const none = () => undefined;
const fifo = (file: string) => execFileSync('mkfifo', [file]);

afterEach(() => vi.restoreAllMocks());

describe('FIFOs and devices where an env file should be: refused at once, never waited on', () => {
  const t = tempDir('env-fifo-');
  afterAll(() => t.cleanup());

  it('env sync with a FIFO target: the plan names it, apply refuses, nothing hangs', async () => {
    const root = path.join(t.dir, 'sync');
    mkdirSync(root);
    fifo(path.join(root, '.env'));
    const plan = await planEnvSync([{ path: '.env', dialect: 'dotenv', keys: { TOKEN: 'token' } }], root, { token: hash });
    expect(previewOf(plan).targets[0]?.error).toMatch(/\.env is a FIFO \(named pipe\), not a regular file/);
    await expect(applyEnvSync(plan)).rejects.toThrow(/cannot sync: \.env: .*FIFO/);
    expect(lstatSync(path.join(root, '.env')).isFIFO()).toBe(true);
  });

  it('a link to a device as a target (/dev/zero) is refused, not read to the end of memory', async () => {
    const root = path.join(t.dir, 'device');
    mkdirSync(root);
    symlinkSync('/dev/zero', path.join(root, '.env'));
    const plan = await planEnvSync([{ path: '.env', dialect: 'compose', keys: { TOKEN: 'token' } }], root, { token: hash });
    expect(plan.items[0]?.error).toMatch(/is a character device, not a regular file/);
  });

  it('audit: a FIFO named .env in the tree and a FIFO compose.yaml are findings on those files; the rest is audited', async () => {
    const root = path.join(t.dir, 'audit');
    mkdirSync(path.join(root, 'svc'), { recursive: true });
    fifo(path.join(root, '.env'));
    fifo(path.join(root, 'svc', 'compose.yaml'));
    writeFileSync(path.join(root, 'svc', '.env'), 'A=1\nA=2\n');
    const a = await auditEnvTree(scopeIn(root), envConfig(), { lookup: none });
    expect(a.findings.filter((f) => f.kind === 'unreadable').map((f) => [f.file, f.message])).toEqual([
      ['.env', expect.stringMatching(/FIFO \(named pipe\), not a regular file/)],
      ['svc/compose.yaml', expect.stringContaining('cannot read this compose file')],
    ]);
    expect(a.findings.some((f) => f.file === 'svc/.env' && f.kind === 'duplicate-key')).toBe(true);
  });

  it('writeFileAtomic refuses to replace a FIFO; a rotation reading it sees "unreadable"', async () => {
    const file = path.join(t.dir, 'pipe.env');
    fifo(file);
    await expect(writeFileAtomic(file, 'A=1\n')).rejects.toThrow(/FIFO .*it was not replaced/);
    expect(lstatSync(file).isFIFO()).toBe(true);
    const loc = envTargetLocation({ path: 'pipe.env', dialect: 'dotenv', keys: { T: 'token' } }, t.dir, 'http://x');
    expect(await loc.read()).toMatchObject({ state: 'unreadable' });
    await expect(loc.snapshot()).rejects.toThrow(/not a regular file/);
  });
});

describe('symbolic links', () => {
  const t = tempDir('env-links-');
  afterAll(() => t.cleanup());

  it('env sync writes a linked .env through to its target: the link stays a link, the shared file gets the token', async () => {
    const root = path.join(t.dir, 'project');
    mkdirSync(path.join(t.dir, 'shared'), { recursive: true });
    mkdirSync(root);
    const shared = path.join(t.dir, 'shared', 'comfy.env');
    writeFileSync(shared, '# shared\nOTHER=1\n');
    symlinkSync('../shared/comfy.env', path.join(root, '.env'));
    const targets: EnvTarget[] = [{ path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } }];
    const result = await applyEnvSync(await planEnvSync(targets, root, { token: hash }), { backupDir: path.join(t.dir, 'backups') });
    expect(result.verified).toBe(true);
    expect(lstatSync(path.join(root, '.env')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(root, '.env'))).toBe('../shared/comfy.env');
    expect(readFileSync(shared, 'utf8')).toBe(`# shared\nOTHER=1\nCOMFYUI_BEARER_TOKEN='${hash}'\n`);
    expect(lstatSync(shared).mode & 0o777).toBe(0o600);
    // No temp file is left beside either the link or the target.
    expect(readdirSync(root)).toEqual(['.env']);
    expect(readdirSync(path.dirname(shared))).toEqual(['comfy.env']);
  });

  it('a dangling link is refused clearly, and nothing is created', async () => {
    const file = path.join(t.dir, 'dangling.env');
    symlinkSync('nowhere/missing.env', file);
    await expect(writeFileAtomic(file, 'A=1\n')).rejects.toThrow(/is a symbolic link to nowhere\/missing\.env, which does not exist; nothing was written/);
    expect(existsSync(path.join(t.dir, 'nowhere'))).toBe(false);
  });

  it('browser mode: env show does not follow a link out of env.root, and the refusal quotes nothing of the file', async () => {
    const root = path.join(t.dir, 'confined');
    mkdirSync(root);
    const outside = path.join(t.dir, 'outside-secret.env');
    writeFileSync(outside, 'PRIVATE_VALUE=sup3r-s3cret-outside\n');
    symlinkSync(outside, path.join(root, '.env'));
    writeFileSync(path.join(root, 'ok.env'), 'A=1\n');
    const config = PanelConfigSchema.parse({ env: { root } });
    const paths = { configFile: path.join(t.dir, 'c.json'), dataDir: path.join(t.dir, 'data'), logDir: path.join(t.dir, 'logs') };
    const handlers = createPanelHandlers(createPanelContext({ loaded: { config, path: paths.configFile, configured: true }, paths, mode: 'browser', version: 'test' }));
    const err = (await dispatch(handlers, 'envShow', { file: '.env', reveal: true }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/outside the env root/);
    expect(JSON.stringify(err)).not.toContain('sup3r');
    await expect(dispatch(handlers, 'envDiff', { a: 'ok.env', b: '.env' })).rejects.toThrow(/outside the env root/);
    expect(await dispatch(handlers, 'envShow', { file: 'ok.env' })).toMatchObject({ values: { A: '1' } });
    // The CLI (the user's own paths) may still show the linked file when asked by name.
    expect((await showEnvFile(path.join(root, '.env'), 'dotenv', { lookup: none })).values).toHaveProperty('PRIVATE_VALUE');
  });
});

describe('bytes that are not UTF-8 are kept byte for byte', () => {
  const t = tempDir('env-bytes-');
  afterAll(() => t.cleanup());
  // Latin-1 "é" and a lone 0xff in another key's value, a CRLF line and a BOM-less start.
  const original = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nNAME=Ren'), Buffer.from([0xe9, 0xff]), Buffer.from('\r\nCOMFYUI_BEARER_TOKEN=old\nTAIL=1\n')]);

  it('sync changes only the token line; every other byte stays, and the rollback restores the file exactly', async () => {
    const root = path.join(t.dir, 'sync');
    mkdirSync(root);
    const file = path.join(root, '.env');
    writeFileSync(file, original);
    const targets: EnvTarget[] = [{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } }];
    const result = await applyEnvSync(await planEnvSync(targets, root, { token: hash }));
    expect(result.verified).toBe(true);
    const after = readFileSync(file);
    expect(after.equals(Buffer.from(original.toString('latin1').replace('COMFYUI_BEARER_TOKEN=old', `COMFYUI_BEARER_TOKEN='${hash}'`), 'latin1'))).toBe(true);
    expect(after.includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(false); // no U+FFFD anywhere

    writeFileSync(file, original);
    let calls = 0;
    const failing: typeof writeFileAtomic = async (f, data, o) => {
      const r = await writeFileAtomic(f, data, o);
      if (++calls === 1) throw new Error('injected after the write');
      return r;
    };
    await expect(applyEnvSync(await planEnvSync(targets, root, { token: hash }), { write: failing })).rejects.toThrow(/rolled back/);
    expect(readFileSync(file).equals(original)).toBe(true);
  });

  it('a rotation snapshot and restore give back the exact bytes', async () => {
    const file = path.join(t.dir, 'loc.env');
    writeFileSync(file, original);
    const loc = envTargetLocation({ path: 'loc.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } }, t.dir, 'http://x');
    const snap = await loc.snapshot();
    // The journal keeps snapshots as JSON: that must not lose the bytes either.
    const throughJson = JSON.parse(JSON.stringify(snap)) as typeof snap;
    await loc.write(await createCredential('comfy'));
    expect(readFileSync(file).subarray(0, 20).equals(original.subarray(0, 20))).toBe(true);
    await loc.restore(throughJson);
    expect(readFileSync(file).equals(original)).toBe(true);
  });

  it('another key keeps its value: the reader sees the same bytes before and after', () => {
    const text = decodeLossless(original);
    const updated = setEnvValues(text, 'compose', { COMFYUI_BEARER_TOKEN: hash });
    expect(readEnvValues(updated, 'compose', { lookup: none }).NAME).toBe(readEnvValues(text, 'compose', { lookup: none }).NAME);
    expect(encodeLossless(updated).subarray(0, 17).equals(original.subarray(0, 17))).toBe(true);
  });
});

describe('failed writes leave no temp file holding the token', () => {
  const t = tempDir('env-tmp-');
  afterAll(() => t.cleanup());

  it('temp files are named <target>.<hex>.tmp, so `.env*` ignore patterns cover them', async () => {
    const open = vi.spyOn(fsp, 'open');
    const file = path.join(t.dir, '.env');
    await writeFileAtomic(file, `T='${hash}'\n`);
    const tmp = open.mock.calls.map(([p]) => String(p)).find((p) => p.endsWith('.tmp'));
    expect(path.basename(tmp ?? '')).toMatch(/^\.env\.[0-9a-f]{12}\.tmp$/);
    expect(path.dirname(tmp ?? '')).toBe(t.dir);
  });

  it.each(['write', 'chmod', 'sync', 'rename'] as const)('a failure at %s (a full disk) removes the temp file and keeps the old file', async (step) => {
    const dir = path.join(t.dir, step);
    mkdirSync(dir);
    const file = path.join(dir, '.env');
    writeFileSync(file, 'T=old\n');
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const realOpen = fsp.open.bind(fsp);
    if (step === 'rename') vi.spyOn(fsp, 'rename').mockRejectedValue(enospc());
    else {
      vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
        const handle = await realOpen(...args);
        if (String(args[0]).endsWith('.tmp')) vi.spyOn(handle, step === 'write' ? 'writeFile' : step).mockRejectedValue(enospc());
        return handle;
      });
    }
    await expect(writeFileAtomic(file, `T='${hash}'\n`, { backup: false })).rejects.toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(readdirSync(dir)).toEqual(['.env']);
    expect(readFileSync(file, 'utf8')).toBe('T=old\n');
  });

  it('a backup cut short by a full disk is removed, and nothing is written', async () => {
    const dir = path.join(t.dir, 'backup');
    mkdirSync(dir);
    const file = path.join(dir, '.env');
    writeFileSync(file, `T='${hash}'\n`);
    const realWrite = fsp.writeFile.bind(fsp);
    vi.spyOn(fsp, 'writeFile').mockImplementation(async (f, data, o) => {
      if (typeof f !== 'string' || !f.endsWith('.bak')) return realWrite(f, data, o);
      await realWrite(f, (data as string).slice(0, 10), o); // half of it landed
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await expect(writeFileAtomic(file, 'T=new\n')).rejects.toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(readdirSync(dir)).toEqual(['.env']);
  });
});

describe('hostile content', () => {
  const t = tempDir('env-hostile-');
  afterAll(() => t.cleanup());

  it('20,000 identical K=1 lines: a bounded audit (findings summed up past 50, short texts) and a bounded sync preview', async () => {
    const root = path.join(t.dir, 'dup');
    mkdirSync(root);
    writeFileSync(path.join(root, '.env'), 'K=1\n'.repeat(20_000));
    const a = await auditEnvTree(scopeIn(root), envConfig(), { lookup: none });
    const dups = a.findings.filter((f) => f.kind === 'duplicate-key');
    expect(dups).toHaveLength(51);
    expect(dups.at(-1)?.message).toMatch(/^and 19949 more duplicate-key findings in this file, not listed one by one: at lines 52, 53, .* and 19939 more \(key K\)$/);
    for (const f of a.findings) expect(f.message.length + f.fix.length).toBeLessThan(1000);
    expect(JSON.stringify(a).length).toBeLessThan(30_000);
    const preview = previewOf(await planEnvSync([{ path: '.env', dialect: 'dotenv', keys: { K: 'url' } }], root, { url: 'http://x:1' }));
    expect(preview.targets[0]?.diff.length).toBeLessThanOrEqual(201);
    expect(preview.targets[0]?.diff.at(-1)).toMatch(/^… and \d+ more changed lines$/);
  });

  it('3,000 nested ${A:-…}: a finding naming the file and line, not a stack overflow; the other files are still audited', async () => {
    const root = path.join(t.dir, 'nested');
    mkdirSync(path.join(root, 'svc'), { recursive: true });
    writeFileSync(path.join(root, 'svc', 'compose.yaml'), 'services:\n  a:\n    image: x\n');
    // A is empty, so compose evaluates every default, one level inside the other.
    writeFileSync(path.join(root, 'svc', '.env'), `A=\nDEEP=${'${A:-'.repeat(3000)}x${'}'.repeat(3000)}\n`);
    writeFileSync(path.join(root, '.env'), 'B=1\nB=2\n');
    const a = await auditEnvTree(scopeIn(root), envConfig(), { lookup: none });
    expect(a.findings.find((f) => f.file === 'svc/.env')).toMatchObject({ line: 2, kind: 'malformed', severity: 'error', message: expect.stringMatching(/more than 200 nested or chained \$\{…\} expressions/) });
    expect(a.findings.some((f) => f.file === '.env' && f.kind === 'duplicate-key')).toBe(true);
    // Real files nest a few levels: those still read.
    expect(readEnvValues('A=${X:-${Y:-${Z:-deep}}}\n', 'compose', { lookup: none })).toEqual({ A: 'deep' });
  });

  it('raw syntax errors name file, line and what is wrong, never the line itself', () => {
    for (const text of [`${hash} ${hash}\n`, `=${hash}\n`, `MY TOKEN=${hash}\n`]) {
      let message = '';
      try {
        readEnvValues(text, 'raw', { file: 'secrets.env' });
      } catch (e) {
        message = `${(e as Error).message} ${(e as { fix?: string }).fix ?? ''}`;
      }
      expect(message).toMatch(/^line 1: .* secrets\.env/);
      expect(message).not.toContain(hash.slice(10));
    }
  });

  it('compose syntax errors do not quote a pasted hash or an unclosed secret value', () => {
    for (const text of [`${hash}\n`, `COMFYUI_TOKEN='${hash}\n`, `TOKEN="${hash}${'$'}{\n`]) {
      const message = (() => {
        try {
          readEnvValues(text, 'compose', { lookup: none });
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(message).toMatch(/^(line \d: |Invalid template)/);
      expect(message).not.toContain(hash.slice(10));
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('a file the panel may not read (run as uid 1000; skipped unless the tests run as root)', () => {
  const t = tempDir('env-eacces-');
  afterAll(() => t.cleanup());

  it('is a finding on that file with what to do; the audit goes on with the others', async () => {
    const root = path.join(t.dir, 'p');
    mkdirSync(root);
    chmodSync(t.dir, 0o755);
    writeFileSync(path.join(root, '.env'), 'A=1\n', { mode: 0o644 });
    writeFileSync(path.join(root, 'locked.env'), 'SECRET=x\n', { mode: 0o600 });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'audit-child.ts'), root], { uid: 1000, gid: 1000, cwd: process.cwd() });
    const audit = JSON.parse(stdout) as { files: { file: string; keys: number; error?: { message: string } }[]; findings: { file: string; kind: string; message: string; fix: string }[] };
    expect(audit.files.map((f) => [f.file, f.keys])).toEqual([
      ['.env', 1],
      ['locked.env', 0],
    ]);
    expect(audit.findings).toContainEqual(expect.objectContaining({ file: 'locked.env', kind: 'unreadable', message: `${path.join(root, 'locked.env')}: permission denied`, fix: expect.stringContaining('readable by the user the panel runs as') }));
  });
});
