import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { LoginNodeReport } from '../../app/contract/ops/container.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { loginNodeCheck } from '../../app/health/checks/login-node.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { openVault } from '../../app/tokens/vault.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { doubleArgs, ensureDoubleImage, type DoubleImageMode } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';

const d = await requireDocker();

interface Case {
  mode: DoubleImageMode;
  /** No secret file: the container starts without login/PASSWORD (created with auth not required). */
  noSecret?: boolean;
  expectFact: keyof LoginNodeReport;
  problem: string;
  failure: string;
  detail: RegExp;
}

const CASES: Record<string, Case> = {
  'no PASSWORD': { mode: {}, noSecret: true, expectFact: 'enforced', problem: 'no-password', failure: 'login-node-no-password', detail: /^no password is set: the first visitor to \/login chooses it/ },
  'pre-token node': {
    mode: { loginNodeVersion: 'pre-token' },
    expectFact: 'enforced',
    problem: 'no-token-support',
    failure: 'login-node-no-token-support',
    detail: /^this ComfyUI-Login version has no token support: it answers tokens with a redirect to \/login/,
  },
  'IMPORT FAILED': { mode: { loginImportFailed: true }, expectFact: 'loaded', problem: 'import-failed', failure: 'login-node-import-failed', detail: /under "IMPORT FAILED"/ },
  'CORS origin': { mode: { corsOrigin: 'https://lab.example.org' }, expectFact: 'enforced', problem: 'cors-origin', failure: 'login-node-cors-origin', detail: /--enable-cors-header https:\/\/lab\.example\.org/ },
};

describe.skipIf(!d.ok)('the login-node check against the double container in each real failure mode', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const secret = makeSecret('truth-ln');
  const home = mkdtempSync(path.join(os.tmpdir(), 'truth-ln-'));
  const paths = panelPaths({ COMFY_PANEL_HOME: home });
  const configs: Record<string, PanelConfig> = {};
  const names: string[] = [];

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    await openVault(testConfig({ name: 'truth-vault', image, hostPort: 1 }), paths).write({ current: { hash: secret.hash, username: 'qwen', createdAt: new Date().toISOString() } });
    await Promise.all(
      Object.entries(CASES).map(async ([label, c]) => {
        const name = uniqueName('truth-ln');
        names.push(name);
        const base = testConfig({ name, image, hostPort: await freePort(), command: doubleArgs(c.mode), ...(c.noSecret ? { extra: { authRequired: false } } : { secretFile: secret.file }) });
        const config = { ...base, docker: { ...base.docker, host: d.ok ? d.host : '', timeoutMs: 20_000 } };
        const m = new ContainerManager(config);
        await m.start();
        await m.waitFor(['healthy', 'unhealthy'], 60_000);
        // Judged as the operator wants it: auth required.
        configs[label] = { ...config, container: { ...config.container, authRequired: true } };
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await removeContainers(docker, names);
    secret.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it.each(Object.keys(CASES))('%s: the fact is false with its cause, and the check is red with its own fix', async (label) => {
    const c = CASES[label]!;
    const config = configs[label]!;
    const report = await new ContainerManager(config).verifyLoginNode(c.noSecret ? {} : { token: secret.hash });
    expect(report[c.expectFact]).toMatchObject({ value: false, problem: c.problem, detail: expect.stringMatching(c.detail) });
    const v = await loginNodeCheck.run(new SweepContext({ config, paths, configFile: path.join(home, 'config.json') }));
    expect(v).toMatchObject({ status: 'fail', fix: { failure: c.failure } });
    expect(JSON.stringify(v)).not.toContain(secret.hash);
    // `container status` (the overview) is not OK either.
    const o = await new ContainerManager(config).overview();
    expect(o.ok).toBe(false);
    expect(o.reasons.join('\n')).toMatch(new RegExp(c.detail.source.replace(/^\^/, '')));
  });
});
