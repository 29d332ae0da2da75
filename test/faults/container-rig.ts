/**
 * Fault runs against the ComfyUI double in a real container: the engine goes away (a config
 * whose docker.host is a dead socket) or ComfyUI crashes inside the container during the
 * restart, the wait for health, or the rollback. The locations are the panel's own, so the
 * container's login/PASSWORD is read back through the engine.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { panelPaths } from '../../app/config/paths.js';
import { PanelConfigSchema, type PanelConfig } from '../../app/config/schema.js';
import type { RotationResult } from '../../app/contract/ops/tokens.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { errorMessage } from '../../app/errors.js';
import { configuredLocations, containerServer, tokenActions } from '../../app/tokens/actions.js';
import { sessionKeyLocation } from '../../app/tokens/session-key.js';
import { createCredential, passwordFileContent } from '../../app/tokens/credential.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import { Vault } from '../../app/tokens/vault.js';
import { freePort, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { fileBytes } from './checks.js';
import { TARGETS } from './rig.js';
import { recoverAndJudge } from './rotation-runs.js';
import type { RunReport } from './tally.js';

// Right after a restart the pid file may still be the previous run's, and that pid may now be this
// very exec'd node: then exit non-zero (retried) instead of killing itself.
const KILL_COMFY = "const p = Number(require('fs').readFileSync('/tmp/comfyui.pid','utf8')); if (p === process.pid) process.exit(3); process.kill(p,'SIGKILL')";

export async function createContainerRig(docker: Docker) {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-container-'));
  const name = uniqueName('faults');
  const secretFile = path.join(home, 'secrets', 'qwen-api-user.token');
  const base = testConfig({ name, image: await ensureDoubleImage(docker), hostPort: await freePort(), secretFile });
  const config: PanelConfig = PanelConfigSchema.parse({
    ...base,
    vault: { dir: path.join(home, 'vault') },
    credential: { healthyTimeoutSec: 5 }, // a crashed container costs this much per run
    env: { root: path.join(home, 'project'), targets: TARGETS },
  });
  const manager = new ContainerManager(config, docker);
  const locations = configuredLocations(config, { container: manager, envRoot: config.env.root! });
  const rig = {
    docker,
    home,
    name,
    config,
    manager,
    locations,
    // A rotation through tokenActions also replaces the session key: its recovery must know that location.
    rotationLocations: [...locations, sessionKeyLocation(manager, config.container.comfyRoot)],
    paths: panelPaths({ COMFY_PANEL_HOME: home }),
    vault: new Vault(config.vault.dir!),
    server: containerServer(config, manager),
    /** Only container paths are not on the host; they are read back through the engine, not compared as files. */
    deploy: path.join(home, 'no-host-copy'),
    hostFiles: () => [path.join(config.vault.dir!, 'credential.vault.json'), secretFile, ...TARGETS.map((t) => path.join(config.env.root!, t.path))],
    /** A config that reaches the engine through a socket nobody listens on. */
    deadEngine: (): PanelConfig => ({ ...config, docker: { ...config.docker, host: `unix://${path.join(home, 'dead-docker.sock')}` } }),
    /** ComfyUI inside the container dies (the container exits 137), retried until its pid file exists. */
    async crashComfy(): Promise<void> {
      for (let i = 0; i < 100; i++) {
        if ((await manager.exec(['/usr/bin/node', '-e', KILL_COMFY]).catch(() => ({ exitCode: -1 }))).exitCode === 0) return;
        // The container may die before the exec reports back (it is then killed with it: 137).
        if ((await manager.state()).phase === 'crashed') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('could not kill ComfyUI in the container');
    },
    cleanup: async () => {
      await removeContainers(docker, [name]);
      await fs.rm(home, { recursive: true, force: true });
    },
  };
  const initial = await createCredential('qwen');
  await fs.mkdir(path.dirname(secretFile), { recursive: true });
  await fs.writeFile(secretFile, passwordFileContent(initial), { mode: 0o600 });
  await manager.create();
  await manager.start();
  await manager.waitFor('healthy', 30_000);
  await rig.vault.write({ current: initial });
  for (const loc of locations) await loc.write(initial);
  return rig;
}

export type ContainerRig = Awaited<ReturnType<typeof createContainerRig>>;

export interface ContainerFault {
  label: string;
  /** The failed step the rotation must report (undefined: it must commit). */
  failedStep?: string;
  /** Runs the rotation with this fault in place. */
  rotate(rig: ContainerRig): Promise<RotationResult>;
}

/** Rotation through tokenActions with the given server in place of the real one. */
export const rotateWith = (rig: ContainerRig, server: ComfyServerControl) =>
  tokenActions(rig.config, rig.paths, { actor: 'cli:faults', server, docker: rig.docker }).rotate();

export async function containerRun(rig: ContainerRig, fault: ContainerFault): Promise<RunReport> {
  const old = (await rig.vault.read())!.current;
  const before = await fileBytes(rig.hostFiles());
  const problems: string[] = [];
  const res = await fault.rotate(rig).catch((e: unknown) => e as Error);
  if (res instanceof Error) problems.push(`the rotation threw: ${errorMessage(res)}`);
  else if (res.failedStep !== fault.failedStep) problems.push(`failed step ${res.failedStep ?? 'none'} (${res.error ?? res.outcome}), expected ${fault.failedStep ?? 'none'}`);
  return recoverAndJudge(rig, old, before, fault.label, problems);
}

/** The first call is the faulty one, every later call (the rollback's, the recovery's) the real one. */
function firstCall(faulty: () => Promise<void>, real: () => Promise<void>): () => Promise<void> {
  let first = true;
  return () => (first ? ((first = false), faulty()) : real());
}

const deadServer = (rig: ContainerRig) => containerServer(rig.config, new ContainerManager(rig.deadEngine()));

export const CONTAINER_FAULTS: ContainerFault[] = [
  { label: 'no fault: commits through the container', rotate: (rig) => rotateWith(rig, rig.server) },
  {
    label: 'engine down at the restart, back for the rollback',
    failedStep: 'restart',
    rotate: (rig) => rotateWith(rig, { ...rig.server, restart: firstCall(deadServer(rig).restart, rig.server.restart) }),
  },
  {
    label: 'engine down from the restart on, rollback included (settled once it is back)',
    failedStep: 'restart',
    rotate: (rig) => rotateWith(rig, { ...deadServer(rig), probe: rig.server.probe }),
  },
  {
    label: 'a config whose docker.host is a dead socket',
    failedStep: 'backup',
    rotate: (rig) => tokenActions(rig.deadEngine(), rig.paths, { actor: 'cli:faults' }).rotate(),
  },
  {
    label: 'ComfyUI crashes right after the restart',
    failedStep: 'wait-healthy',
    rotate: (rig) =>
      rotateWith(rig, {
        ...rig.server,
        restart: firstCall(async () => {
          await rig.server.restart();
          await rig.crashComfy();
        }, rig.server.restart),
      }),
  },
  {
    label: 'ComfyUI crashes once healthy, before the verification',
    failedStep: 'verify',
    rotate: (rig) =>
      rotateWith(rig, {
        ...rig.server,
        waitHealthy: firstCall(async () => {
          await rig.server.waitHealthy();
          await rig.crashComfy();
        }, rig.server.waitHealthy),
      }),
  },
  {
    label: "the new token is refused, then ComfyUI crashes during the rollback's wait (settled by recovery)",
    failedStep: 'verify',
    async rotate(rig) {
      const old = (await rig.vault.read())!.current.hash;
      let waits = 0;
      return rotateWith(rig, {
        ...rig.server,
        probe: async (t) => (t !== undefined && t !== old ? { status: 500, latencyMs: 0, error: 'injected' } : rig.server.probe(t)),
        async waitHealthy() {
          if (++waits === 2) await rig.crashComfy();
          await rig.server.waitHealthy();
        },
      });
    },
  },
];
