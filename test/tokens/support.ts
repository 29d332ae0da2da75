import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parsePasswordFile } from '../../app/tokens/credential.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';

/** Each test file lowers bcrypt's cost through the test hook (production stays at 12). */
export function useFastBcrypt(): void {
  process.env.COMFY_PANEL_TEST_BCRYPT_COST = '4';
}

export type ServerFault = 'restart' | 'wait-healthy' | 'verify';

/**
 * ComfyUI-Login's token rule in-process, for fault-injection runs: PASSWORD is read once
 * per (re)start, the bearer token is its line 1 compared as a string, no token -> 401.
 * `faults` makes the next call of a step fail (counts down).
 */
export function passwordFileServer(passwordFile: string) {
  let token: string | undefined;
  const faults: Partial<Record<ServerFault, number>> = {};
  const take = (f: ServerFault) => {
    const n = faults[f] ?? 0;
    if (n > 0) faults[f] = n - 1;
    return n > 0;
  };
  const load = async () => {
    const parsed = parsePasswordFile(await fs.readFile(passwordFile, 'utf8').catch(() => ''));
    token = parsed.ok ? parsed.hash : undefined;
  };
  const server: ComfyServerControl & { faults: typeof faults; start(): Promise<void>; restarts: number } = {
    faults,
    restarts: 0,
    start: load,
    async restart() {
      if (take('restart')) throw new Error('injected: restart failed');
      server.restarts++;
      await load();
    },
    async waitHealthy() {
      if (take('wait-healthy')) throw new Error('injected: not healthy in time');
    },
    async probe(t) {
      // a broken server that accepts nothing, so the new token fails verification
      if (t !== undefined && take('verify')) return { status: 500, latencyMs: 1, error: 'injected' };
      return { status: t !== undefined && t === token ? 200 : 401, latencyMs: 1 };
    },
  };
  return server;
}

/** Every file under dir (relative path -> content), to prove nothing was lost or left mixed. */
export async function treeContents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[path.relative(dir, p)] = await fs.readFile(p, 'utf8');
    }
  };
  await walk(dir);
  return out;
}
