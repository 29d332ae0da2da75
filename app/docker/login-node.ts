import path from 'node:path';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { ContainerStatus, Fact, LoginNodeReport } from '../contract/ops/container.js';
import { probeEnforcement, type Enforcement } from '../comfy/enforcement.js';
import { errorMessage } from '../errors.js';
import type { DockerTarget } from './connection.js';
import type { ContainerManager } from './manager.js';

/** The token line ComfyUI-Login prints at import, or ComfyUI's import-time line for the node. */
const TOKEN_LINE = /For direct API calls, use token=/;
const IMPORT_LINE = /^\s*[\d.]+ seconds(?<failed> \(IMPORT FAILED\))?:\s+\S*custom_nodes[\\/]ComfyUI-Login\s*$/;

const unknown = (detail: string): Fact => ({ value: null, detail });

/** Go's os.FileMode bits in Docker's path stat. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;

async function installed(m: ContainerManager, nodeDir: string): Promise<Fact> {
  try {
    const at = await m.statPath(nodeDir);
    if (!at) return { value: false, detail: `${nodeDir} does not exist in the container` };
    const { mode } = at.stat;
    if (hasBit(mode, MODE_DIR) && !hasBit(mode, MODE_SYMLINK)) return { value: true, detail: `${nodeDir} exists in the container` };
    return { value: false, detail: `${nodeDir} is a ${hasBit(mode, MODE_SYMLINK) ? 'symlink' : 'file'}, not the node's folder` };
  } catch (e) {
    return unknown(`could not look inside the container: ${errorMessage(e)}`);
  }
}

/**
 * Settled `loaded` facts per container run (id@startedAt): one cannot change until the next
 * start, so the logs are read once per run. One per runtime (PanelContext.loginNodeRuns).
 */
export class LoginNodeRuns {
  private readonly facts = new Map<string, Fact>();

  get(run: string): Fact | undefined {
    return this.facts.get(run);
  }

  /** Keeps the fact for this run and forgets the container's earlier runs. */
  remember(containerId: string, run: string, fact: Fact): void {
    for (const key of this.facts.keys()) if (key.startsWith(`${containerId}@`)) this.facts.delete(key);
    this.facts.set(run, fact);
  }
}

async function loaded(m: ContainerManager, s: ContainerStatus, runs: LoginNodeRuns, inspected?: Docker.ContainerInspectInfo): Promise<Fact> {
  if (!s.startedAt || s.phase === 'stopped' || s.phase === 'crashed' || s.phase === 'created') return unknown('the container is not running');
  const run = `${s.id ?? ''}@${s.startedAt}`;
  const known = runs.get(run);
  if (known) return known;
  let tokenLine = false;
  let importLine: 'ok' | 'failed' | undefined;
  const found = new AbortController();
  await m.logs({
    tail: 'all',
    since: new Date(s.startedAt),
    signal: found.signal,
    ...(inspected ? { inspected } : {}),
    onLine: (l) => {
      if (TOKEN_LINE.test(l.text)) tokenLine = true;
      const imp = IMPORT_LINE.exec(l.text);
      if (imp) importLine = imp.groups?.failed ? 'failed' : 'ok';
      // Both lines come early in a start; no need to read the rest of a long log.
      if (tokenLine && importLine) found.abort();
    },
  });
  // A node is imported once per start, before ComfyUI listens: an import failure is final for the run,
  // and so is the absence of both lines once Docker's healthcheck found the server answering. Either
  // is remembered, so the logs are not read again (a long log each time) until the next start.
  if (importLine === 'failed') {
    const fact: Fact = { value: false, problem: 'import-failed', detail: 'ComfyUI lists ComfyUI-Login under "IMPORT FAILED" in the log since the last start: the server runs without authentication' };
    runs.remember(s.id ?? '', run, fact);
    return fact;
  }
  if (!tokenLine && importLine !== 'ok') {
    const fact = { value: false, detail: 'neither the ComfyUI-Login token line nor its import line appears in the logs since the last start' };
    if (s.health === 'healthy') runs.remember(s.id ?? '', run, fact);
    return fact;
  }
  const fact = { value: true, detail: `the logs since the last start show ${tokenLine ? 'the ComfyUI-Login token line' : 'the ComfyUI-Login import line'}` };
  runs.remember(s.id ?? '', run, fact);
  return fact;
}

/**
 * Where the server is reachable from here: the published port (its own address, the remote
 * engine's host, or loopback); unpublished behind the gateway, its address on the private
 * network, which only a local engine's host can reach.
 */
export function publishedUrl(s: ContainerStatus, containerPort: number, target?: DockerTarget): string | undefined {
  const port = s.ports.find((p) => p.containerPort === containerPort && p.protocol === 'tcp' && p.hostPort > 0);
  const local = !target || /^(unix|npipe):/.test(target.host);
  if (!port) return local && s.networkIps?.[0] ? `http://${s.networkIps[0]}:${containerPort}` : undefined;
  const engine = target && /^(tcp|ssh|https?):/.test(target.host) ? new URL(target.host).hostname : undefined;
  const wildcard = port.hostIp === '' || port.hostIp === '0.0.0.0' || port.hostIp === '::';
  const host = wildcard ? (engine ?? '127.0.0.1') : port.hostIp;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port.hostPort}`;
}

/** Asks the server at this address whether it enforces a password (probeEnforcement, or a sweep's shared answer). */
export type EnforcementAt = (baseUrl: string) => Promise<Enforcement>;

async function enforced(s: ContainerStatus, config: PanelConfig, at: EnforcementAt, target?: DockerTarget): Promise<Fact> {
  if (s.phase !== 'healthy' && s.phase !== 'starting' && s.phase !== 'unhealthy') return unknown('the container is not running');
  const base = publishedUrl(s, config.container.containerPort, target);
  if (!base) return unknown(`port ${config.container.containerPort} is not published to the host`);
  return at(base);
}

export interface LoginNodeOptions {
  /** The status and inspect the caller already has (the container overview): no second inspect. */
  known?: { status: ContainerStatus; info: Docker.ContainerInspectInfo | undefined };
  token?: string;
  /** Default: probeEnforcement with `token`; a sweep passes its own, shared with its enforcement check. */
  enforcement?: EnforcementAt;
}

/**
 * The three facts about ComfyUI-Login, each checked on its own. `token` (SECRET, the vault's
 * hash, when known) lets "enforced" see a node that answers a valid token with a redirect.
 */
export async function checkLoginNode(
  m: ContainerManager,
  config: PanelConfig,
  runs: LoginNodeRuns,
  target?: DockerTarget,
  opts: LoginNodeOptions = {},
): Promise<LoginNodeReport> {
  const { known, token } = opts;
  const at = opts.enforcement ?? ((base: string) => probeEnforcement(base, { ...(token ? { token } : {}), timeoutMs: config.comfyui.timeoutMs }));
  const s = known?.status ?? (await m.status());
  if (!s.exists) {
    const none = unknown('the container does not exist');
    return { installed: none, loaded: none, enforced: none };
  }
  const nodeDir = path.posix.join(config.container.comfyRoot, 'custom_nodes', 'ComfyUI-Login');
  const [i, l, e] = await Promise.all([
    installed(m, nodeDir),
    loaded(m, s, runs, known?.info).catch((err: unknown) => unknown(`could not read the logs: ${errorMessage(err)}`)),
    enforced(s, config, at, target),
  ]);
  return { installed: i, loaded: l, enforced: e };
}
