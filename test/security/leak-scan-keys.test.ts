/** scripts/leak-scan.ts finds the gateway's raw client keys (and only live ones) in what an operator could see. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey, mintLoginLink } from '../../app/gateway/keys.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'fd-leak-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const scan = () => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/leak-scan.ts', out], { encoding: 'utf8' });

describe('leak scan: client keys', () => {
  it('a live key or login link in a log is a leak named by key, never printed; an unknown cpk_ string is not', async () => {
    const stateDir = path.join(out, 'home', 'data', 'gateway');
    const k = await createKey(stateDir, { name: 'leaky', scope: 'read' });
    const link = await mintLoginLink(stateDir, 'leaky');
    mkdirSync(path.join(out, 'logs'), { recursive: true });
    writeFileSync(path.join(out, 'logs', 'fine.log'), `an unknown cpk_${'Z'.repeat(43)} is not a key of this run\n`);
    const clean = scan();
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('2 client keys from its key stores');

    writeFileSync(path.join(out, 'logs', 'gateway.log'), `GET /view?token=${k.key}\n`);
    writeFileSync(path.join(out, 'logs', 'page.txt'), `opened ${link.path}\n`);
    const r = scan();
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/LEAK logs\/gateway\.log contains the raw client key leaky \(…....\)/);
    expect(r.stdout).toMatch(/LEAK logs\/page\.txt contains the raw login link/);
    expect(r.stdout).not.toContain(k.key);
    expect(r.stdout).not.toContain(link.path.split('=')[1]);
  });
});
