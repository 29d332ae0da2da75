import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PanelHandlers } from '../../app/contract/index.js';
import type { GenerationResult } from '../../app/contract/ops/generate.js';
import type { RotationResult } from '../../app/contract/ops/tokens.js';
import { fileLog, withCallLog } from '../../app/service/call-log.js';

describe('panel.log lines say how an operation ended, also when it returned a failure', () => {
  const hash = '$2b$12$' + 'Q'.repeat(53);
  const rolledBack: RotationResult = {
    ok: false,
    rotationId: 'r-1',
    kind: 'rotate',
    fingerprint: 'fp:aaaaaaaaaaaa',
    steps: [{ name: 'verify', ok: false, ms: 5 }],
    outcome: 'rolled-back',
    failedStep: 'verify',
    error: `the new token was refused (it was ${hash})`,
  };
  const committed: RotationResult = { ...rolledBack, ok: true, outcome: 'committed', failedStep: undefined, error: undefined };
  const failedRun: Partial<GenerationResult> = { ok: false, runId: 'g-1', errorKind: 'unauthorized', error: 'HTTP 401' };

  async function logged(results: Record<string, unknown>): Promise<string[]> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'call-log-'));
    const handlers = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, () => Promise.resolve(r)])) as unknown as PanelHandlers;
    const wrapped = withCallLog(handlers, fileLog(dir)) as unknown as Record<string, (i: unknown) => Promise<unknown>>;
    for (const name of Object.keys(results)) await wrapped[name]!({});
    return (await readFile(path.join(dir, 'panel.log'), 'utf8')).trim().split('\n');
  }

  it('a rotation that rolled back is logged not-ok with its outcome, failed step and (redacted) error', async () => {
    const [line] = await logged({ tokenRotate: rolledBack });
    expect(line).toMatch(/ tokenRotate not-ok \d+ms outcome=rolled-back failedStep=verify: the new token was refused/);
    expect(line).not.toMatch(/ tokenRotate ok /);
    expect(line).not.toContain(hash);
  });

  it('a committed rotation, a failed generation and a plain result', async () => {
    const lines = await logged({ tokenRotate: committed, generateRun: failedRun, appInfo: { version: '1' } });
    expect(lines[0]).toMatch(/ tokenRotate ok \d+ms outcome=committed$/);
    expect(lines[1]).toMatch(/ generateRun not-ok \d+ms errorKind=unauthorized: HTTP 401$/);
    expect(lines[2]).toMatch(/ appInfo ok \d+ms$/);
  });
});
