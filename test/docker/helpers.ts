import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import type Docker from 'dockerode';
import { PanelConfigSchema, type PanelConfig } from '../../app/config/schema.js';

export { freePort } from '../support/ports.js';

export interface TestSecret {
  dir: string;
  file: string;
  /** The bcrypt hash: the API token, a secret. */
  hash: string;
  cleanup(): void;
}

/** A PASSWORD file (hash, newline, user; no trailing newline) in a temp folder, as the secret file. */
export function makeSecret(prefix: string): TestSecret {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const hash = bcrypt.hashSync('correct horse', 4);
  const file = path.join(dir, 'qwen-api-user.token');
  writeFileSync(file, `${hash}\nqwen`, { mode: 0o644 });
  return { dir, file, hash, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A config for one test container: healthchecks every second, no GPU, no restart policy. The
 * check may take long (each one execs node in the container, seconds on a loaded machine)
 * and failures count only after 30 s: that delays only "unhealthy", never "healthy". Tests
 * about unhealthy pass their own healthcheck.
 */
export function testConfig(opts: { name: string; image: string; hostPort: number; secretFile?: string; command?: string[]; extra?: Partial<PanelConfig['container']> }): PanelConfig {
  return PanelConfigSchema.parse({
    comfyui: { url: `http://127.0.0.1:${opts.hostPort}`, timeoutMs: 3000 },
    container: {
      name: opts.name,
      image: opts.image,
      hostPort: opts.hostPort,
      gpus: 'none',
      restartPolicy: 'no',
      stopTimeoutSec: 3,
      ...(opts.secretFile ? { secretFile: opts.secretFile } : {}),
      ...(opts.command ? { command: opts.command } : {}),
      healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
      ...opts.extra,
    },
  });
}

/** Removes the named containers, whatever state they are in. */
export async function removeContainers(docker: Docker, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => docker.getContainer(n).remove({ force: true }).catch(() => undefined)));
}

export const uniqueName = (area: string) => `${area}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
