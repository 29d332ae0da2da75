/** The real CLI (runCli, what bin/comfy-panel.mjs runs) in-process, with its output captured. */
import { expect, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    return { code: await runCli(args), stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

/** `--json ARGS`, expecting exit `code` (default 0), parsed. */
export async function cliJson<T>(args: string[], code = 0): Promise<T> {
  const r = await cli(['--json', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(code);
  return JSON.parse(r.stdout) as T;
}
