/** Runs a fault operation in a child process that SIGKILLs itself at a dependency call (fixtures/child.ts). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'child.ts');

/** `args` as fixtures/child.ts takes them. */
export async function runChild(args: string[]): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  const env = { ...process.env, COMFY_PANEL_TEST_BCRYPT_COST: '4' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, ...args], { env });
    return { signal: null, out: stdout + stderr };
  } catch (e) {
    const failed = e as { signal?: NodeJS.Signals; stdout?: string; stderr?: string };
    return { signal: failed.signal ?? null, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

export const killedProblems = (r: { signal: NodeJS.Signals | null; out: string }) => (r.signal === 'SIGKILL' ? [] : [`the child was not killed: ${r.out.slice(0, 300)}`]);
