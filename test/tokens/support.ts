import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { probeAuth } from '../../app/comfy/client.js';
import { createCredential, passwordFileContent } from '../../app/tokens/credential.js';
import { Vault } from '../../app/tokens/vault.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import { startComfyDouble, type ComfyDouble } from '../comfy-double/server.js';

/** Each test file lowers bcrypt's cost through the test hook (production stays at 12). */
export function useFastBcrypt(): void {
  process.env.COMFY_PANEL_TEST_BCRYPT_COST = '4';
}

export type ServerFault = 'restart' | 'wait-healthy' | 'verify';

/**
 * The ComfyUI double on the host, behind the rotation's server interface: restart = close
 * and start again on the same port (it reads login/PASSWORD once per start, as ComfyUI-Login
 * does), probes through the real probeAuth. `faults` makes the next call of a step fail.
 */
export async function hostDoubleServer(dir: string) {
  let double: ComfyDouble = await startComfyDouble({ dir, port: 0 });
  const port = double.port;
  const faults: Partial<Record<ServerFault, number>> = {};
  const take = (f: ServerFault) => {
    const n = faults[f] ?? 0;
    if (n > 0) faults[f] = n - 1;
    return n > 0;
  };
  const server: ComfyServerControl & { faults: typeof faults; url: string; close(): Promise<void> } = {
    faults,
    url: double.url,
    async restart() {
      if (take('restart')) throw new Error('injected: restart failed');
      await double.close();
      double = await startComfyDouble({ dir, port });
    },
    async waitHealthy() {
      if (take('wait-healthy')) throw new Error('injected: not healthy in time');
      // like containerServer: healthy once the HTTP port answers (the first request may hit a dead kept-alive socket)
      for (let i = 0; i < 20 && (await probeAuth(double.url, undefined, 2_000)).status === null; i++) await new Promise((r) => setTimeout(r, 50));
    },
    async probe(token) {
      // a server that answers 500 to the token, so verification of the new one fails
      if (token !== undefined && take('verify')) return { status: 500, latencyMs: 1, error: 'injected' };
      return probeAuth(double.url, token, 5_000);
    },
    close: () => double.close(),
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

/** The files a rotation may touch in a deployment (the double keeps its own files beside them). */
export async function credentialFiles(deploy: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of ['login', 'mirror']) for (const [f, text] of Object.entries(await treeContents(path.join(deploy, d)))) out[`${d}/${f}`] = text;
  return out;
}

/**
 * A deployment under base: a vault holding `old`, and the same PASSWORD in deploy/login
 * (the double's root, so what it serves) and deploy/mirror.
 */
export async function makeDeployment(base: string) {
  const deploy = path.join(base, 'deploy');
  const old = await createCredential('comfy');
  const vault = new Vault(path.join(base, 'vault'));
  await vault.write({ current: old });
  const secret = path.join(deploy, 'login', 'PASSWORD');
  const mirror = path.join(deploy, 'mirror', 'PASSWORD');
  for (const f of [secret, mirror]) {
    await fs.mkdir(path.dirname(f), { recursive: true });
    await fs.writeFile(f, passwordFileContent(old), { mode: 0o600 });
  }
  return { deploy, vault, old, secret, mirror, before: await credentialFiles(deploy) };
}

/**
 * Makes a folder refuse new files for real: chmod for a normal user; for root (who ignores
 * modes) the immutable attribute. Fails loudly when neither works, never passes by accident.
 * Returns the undo.
 */
export async function makeReadOnlyDir(dir: string): Promise<() => Promise<void>> {
  const run = promisify(execFile);
  const undo =
    process.getuid?.() === 0
      ? (await run('chattr', ['+i', dir]), async () => void (await run('chattr', ['-i', dir])))
      : (await fs.chmod(dir, 0o555), () => fs.chmod(dir, 0o755));
  const probe = path.join(dir, '.probe');
  if (await fs.writeFile(probe, '').then(() => true, () => false)) {
    await fs.rm(probe);
    await undo();
    throw new Error(`cannot make ${dir} read-only here (neither chmod nor chattr +i stops writes)`);
  }
  return undo;
}
