/**
 * Journals of interrupted operations: an `env sync` killed mid-way is settled at the next
 * start (issue 16 item 18), and a damaged journal gives a clear error and a way out (item 16).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { errorMessage } from '../../app/errors.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { AUDIT_LOG } from '../../app/tokens/audit-log.js';
import { JOURNAL_FILE, readJournal } from '../../app/tokens/journal.js';
import { envProblems } from '../faults/checks.js';
import { runChild } from '../faults/child-run.js';
import { envFiles, envRig, panelSync } from '../faults/env-runs.js';
import { TARGETS } from '../faults/rig.js';
import { useFastBcrypt } from './support.js';

useFastBcrypt();

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-journal-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const actionsOf = (rig: Awaited<ReturnType<typeof envRig>>) => tokenActions(rig.config, rig.paths, { actor: 'cli:test', server: rig.server, locations: rig.locations });

describe('an env sync killed mid-way', () => {
  it('leaves a journal; the next start puts every target back byte for byte, then a sync makes them all new', async () => {
    const rig = await envRig(path.join(root, 'killed'));
    const files = envFiles(rig);
    // bytes no text decoding would keep: the settlement must restore them exactly
    await fs.appendFile(files[1]!, Buffer.from([0x23, 0x20, 0xe9, 0xff, 0x0a]));
    const before = await Promise.all(files.map((f) => fs.readFile(f)));
    const killed = await runChild([rig.base, '0', 'sync', '2', 'after']); // after the second target was written
    expect(killed.signal, killed.out).toBe('SIGKILL');
    expect((await readJournal(rig.vault))?.kind).toBe('env-sync');
    const mixed = await Promise.all(files.map((f) => fs.readFile(f)));
    expect(mixed.filter((b, i) => !b.equals(before[i]!)).length).toBe(2);

    const res = await actionsOf(rig).recoverIfPending(); // what serve and the desktop app do at start
    expect(res).toMatchObject({ kind: 'recover', outcome: 'rolled-back' });
    for (const [i, f] of files.entries()) expect((await fs.readFile(f)).equals(before[i]!), f).toBe(true);
    expect(await readJournal(rig.vault)).toBeUndefined();
    expect((await fs.readdir(path.join(rig.vault.dir, 'backups'))).some((f) => /^env-sync-.*\.journal\.json$/.test(f))).toBe(true);
    const log = await fs.readFile(path.join(rig.vault.dir, AUDIT_LOG), 'utf8');
    expect(log).toContain('"kind":"recover"');
    expect(log).not.toContain(rig.next.hash);

    await panelSync(rig);
    expect(await envProblems(rig.config.env.root!, TARGETS, rig.next, rig.config.comfyui.url)).toEqual([]);
  }, 60_000);

  it('the next `env sync` settles it by itself, and a target edited since the crash is left as the operator made it', async () => {
    const rig = await envRig(path.join(root, 'edited'));
    const files = envFiles(rig);
    const killed = await runChild([rig.base, '0', 'sync', '2', 'after']);
    expect(killed.signal, killed.out).toBe('SIGKILL');
    await fs.writeFile(files[0]!, 'EDITED=by the operator\n');
    const settled = await actionsOf(rig).recoverIfPending();
    expect(settled?.steps.map((s) => s.name)).toContain('left-edited-targets');
    expect(await fs.readFile(files[0]!, 'utf8')).toBe('EDITED=by the operator\n');
    // a second crash, then straight to `env sync`: it settles first, then writes everything new
    expect((await runChild([rig.base, '0', 'sync', '1', 'after'])).signal).toBe('SIGKILL');
    await panelSync(rig);
    expect(await readJournal(rig.vault)).toBeUndefined();
    expect(await envProblems(rig.config.env.root!, TARGETS, rig.next, rig.config.comfyui.url)).toEqual([]);
  }, 60_000);
});

describe('a damaged journal', () => {
  it('is named with what to do by every token command; recover sets it aside and unify repairs', async () => {
    const rig = await envRig(path.join(root, 'damaged'));
    const file = path.join(rig.vault.dir, JOURNAL_FILE);
    await fs.writeFile(file, '{"rotationId":"2026-01-01T00-00-00-000Z-abc","kind":"rot');
    const actions = actionsOf(rig);

    const audit = await actions.audit();
    expect(audit.consistent).toBe(false);
    expect(audit.pendingRotation?.damaged).toMatch(/damaged.*truncated/);

    for (const op of [() => actions.rotate(), () => panelSync(rig)]) {
      const message = await op().then(() => 'ran', (e: unknown) => errorMessage(e));
      expect(message).toContain(file);
      expect(message).toMatch(/damaged \(not valid JSON: truncated\?\)/);
      expect(message).not.toMatch(/Unexpected end of JSON|SyntaxError/);
    }
    // the CLI prints the same, with the fix
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (err.push(chunk), true));
    const cfg = path.join(rig.base, 'config.json');
    await fs.writeFile(cfg, JSON.stringify(rig.config));
    const code = await runCli(['--config', cfg, 'token', 'rotate']).finally(() => (process.stderr.write = write));
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/damaged[\s\S]*fix: Run `comfy-panel token recover`/);

    const rec = await actions.recover();
    expect(rec).toMatchObject({ outcome: 'rollback-failed', failedStep: 'journal' });
    expect(rec.error).toMatch(/moved to .*damaged-.*\.journal\.json.*token audit.*token unify --to/);
    await expect(fs.access(file)).rejects.toThrow();
    // every location holds the old token, the vault the new one: unify on the vault's repairs it
    const fp = (await actions.audit()).vault.fingerprint!;
    expect((await actions.unify(fp)).outcome).toBe('committed');
    expect((await actions.audit()).consistent).toBe(true);
  }, 60_000);
});
