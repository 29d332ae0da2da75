import { describe, expect, it } from 'vitest';
import { isOpName, operations } from '../../app/contract/index.js';
import type { DockerProblem } from '../../app/contract/ops/container.js';
import { failureClasses, fixFor, REMEDIES, type FailureClass } from '../../app/health/troubleshoot.js';

/** Every DockerProblem kind; the type below fails to compile if the contract gains one that is not listed. */
const dockerKinds = [
  'engine-not-installed',
  'daemon-not-running',
  'permission-denied',
  'no-such-container',
  'no-such-image',
  'name-conflict',
  'port-in-use',
  'nvidia-runtime-missing',
  'mount-source-missing',
  'ssh-unreachable',
  'ssh-auth-failed',
  'ssh-host-unknown',
  'ssh-host-key-changed',
  'ssh-remote-docker',
  'timeout',
  'unknown',
] as const satisfies readonly DockerProblem['kind'][];
type Unlisted = Exclude<DockerProblem['kind'], (typeof dockerKinds)[number]>;
const allListed: [Unlisted] extends [never] ? true : false = true;

/** The failure classes the brief names, by the class that represents each. */
const named: Record<string, FailureClass> = {
  'engine down': 'daemon-not-running',
  'permission denied': 'permission-denied',
  'container missing': 'no-such-container',
  crashed: 'container-crashed',
  'port in use': 'port-in-use',
  'NVIDIA runtime missing': 'nvidia-runtime-missing',
  'login node absent': 'login-node-not-installed',
  'token mismatch': 'token-mismatch',
  'compose-unsafe hash': 'compose-unsafe-hash',
  'models missing': 'models-missing',
};

/** The input each one-click action gets from the checks (tokenUnify needs the vault fingerprint, ...). */
const inputs: Partial<Record<string, Record<string, unknown>>> = {
  tokenUnify: { to: 'fp:0123456789ab' },
  tokenImport: { from: 'container' },
  generateRun: { workflow: 'smoke' },
};

describe('troubleshooting map', () => {
  it('covers every Docker problem kind and every failure class the operator can meet', () => {
    expect(allListed).toBe(true);
    for (const kind of dockerKinds) expect(failureClasses).toContain(kind);
    for (const cls of Object.values(named)) expect(failureClasses).toContain(cls);
  });

  it.each(failureClasses)('%s has an explanation, a fix, and any one-click action is a real operation taking the given input', (cls) => {
    const remedy = REMEDIES[cls];
    expect(remedy.explanation.length).toBeGreaterThan(20);
    expect(remedy.fix.text.length).toBeGreaterThan(10);
    const action = remedy.fix.action;
    if (action === undefined) return;
    expect(isOpName(action), `${action} is not an operation of the contract`).toBe(true);
    if (!isOpName(action)) return;
    expect(operations[action].input.safeParse(inputs[action] ?? {}).success).toBe(true);
  });

  it('fixFor carries the action, a more precise text and the input', () => {
    expect(fixFor('token-mismatch', { input: { to: 'fp:0123456789ab' } })).toEqual({
      text: REMEDIES['token-mismatch'].fix.text,
      action: 'tokenUnify',
      input: { to: 'fp:0123456789ab' },
      failure: 'token-mismatch',
      explanation: REMEDIES['token-mismatch'].explanation,
    });
    expect(fixFor('port-in-use', { text: 'Port 8188 is taken by nginx.' })).toEqual({ text: 'Port 8188 is taken by nginx.', failure: 'port-in-use', explanation: REMEDIES['port-in-use'].explanation });
  });
});
