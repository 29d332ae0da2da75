import { createHash } from 'node:crypto';
import path from 'node:path';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { SpecChange } from '../contract/ops/container.js';
import { ConfigError } from '../errors.js';
import { fingerprint } from '../redact.js';

/** Where the secret file is mounted inside the container; the entrypoint copies it to login/PASSWORD. */
export const SECRET_TARGET = '/run/secrets/comfyui-password';
export const LABEL_MANAGED = 'io.comfy-panel.managed';
export const LABEL_SPEC_HASH = 'io.comfy-panel.spec-hash';

export const NS_PER_SEC = 1_000_000_000;

/**
 * The parts of a container the configuration decides, in one comparable shape. Built
 * from the config (desired) or from `inspect` (observed), so a diff is field by field.
 */
export interface SpecView {
  image: string;
  /** null: the image's default command. */
  command: string[] | null;
  env: Record<string, string>;
  ports: string[];
  mounts: string[];
  gpus: string;
  restartPolicy: string;
  healthcheck: string;
  /** '' for the image's user. */
  user: string;
  /** The private network the container is on (only when the config wants one: the gateway's). */
  network?: string;
}

type ContainerConfig = PanelConfig['container'];

function requireAbsolute(p: string, field: string): string {
  if (!path.isAbsolute(p)) throw new ConfigError(`${field} must be an absolute host path, got "${p}"`, 'Docker bind mounts need absolute paths; write the full path in the config.');
  return p;
}

function mountsOf(c: ContainerConfig): { source: string; target: string; readOnly: boolean }[] {
  const mounts = c.mounts.map((m, i) => ({ ...m, source: requireAbsolute(m.source, `container.mounts[${i}].source`) }));
  if (c.secretFile) mounts.push({ source: requireAbsolute(c.secretFile, 'container.secretFile'), target: c.secretTarget ?? SECRET_TARGET, readOnly: true });
  return mounts;
}

function envOf(c: ContainerConfig): Record<string, string> {
  const env: Record<string, string> = { ...c.env, COMFYUI_AUTH_REQUIRED: c.authRequired ? '1' : '0' };
  if (c.secretFile) env.COMFYUI_SECRET_FILE = c.secretTarget ?? SECRET_TARGET;
  return env;
}

function gpusLabel(gpus: ContainerConfig['gpus']): string {
  return gpus === 'all' || gpus === 'none' ? gpus : `device=${gpus.join(',')}`;
}

export function healthLabel(test: string[], intervalSec: number, timeoutSec: number, retries: number, startPeriodSec: number): string {
  return `${test.join(' ')} (every ${intervalSec}s, timeout ${timeoutSec}s, ${retries} retries, start period ${startPeriodSec}s)`;
}

export const portLabel = (hostIp: string, hostPort: string | number, containerPort: string) => `${hostIp || '0.0.0.0'}:${hostPort}->${containerPort}`;
export const mountLabel = (source: string, target: string, readOnly: boolean) => `${source}:${target}:${readOnly ? 'ro' : 'rw'}`;

/** Behind the gateway ComfyUI publishes no port: it is reached on the gateway's private network only. */
const behindGateway = (config: PanelConfig) => config.gateway.enabled;

export function desiredView(config: PanelConfig): SpecView {
  const c = config.container;
  const h = c.healthcheck;
  return {
    image: c.image,
    // Docker runs the image's command for an empty Cmd: [] is no override.
    command: c.command?.length ? c.command : null,
    env: envOf(c),
    ports: behindGateway(config) ? [] : [portLabel(c.bindAddress, c.hostPort, `${c.containerPort}/tcp`)],
    mounts: mountsOf(c).map((m) => mountLabel(m.source, m.target, m.readOnly)).sort(),
    gpus: gpusLabel(c.gpus),
    restartPolicy: c.restartPolicy,
    healthcheck: healthLabel(['CMD', ...h.command], h.intervalSec, h.timeoutSec, h.retries, h.startPeriodSec),
    user: c.user ?? '',
    ...(behindGateway(config) ? { network: config.gateway.network } : {}),
  };
}

/** A short stable hash of the desired spec, stored as a label to spot config changes. */
export function specHash(view: SpecView): string {
  const sortedEnv = Object.fromEntries(Object.entries(view.env).sort(([a], [b]) => a.localeCompare(b)));
  // No user: hashed as before `user` existed, so containers made then do not all read as changed.
  const { user, ...rest } = view;
  return createHash('sha256').update(JSON.stringify({ ...rest, ...(user ? { user } : {}), env: sortedEnv })).digest('hex').slice(0, 16);
}

/** The create options for the managed container, labelled with the spec hash. */
export function buildCreateSpec(config: PanelConfig): Docker.ContainerCreateOptions {
  const c = config.container;
  const h = c.healthcheck;
  const portKey = `${c.containerPort}/tcp`;
  const view = desiredView(config);
  return {
    name: c.name,
    Image: c.image,
    ...(view.command ? { Cmd: view.command } : {}),
    ...(c.user ? { User: c.user } : {}),
    Env: Object.entries(view.env).map(([k, v]) => `${k}=${v}`),
    Tty: false,
    ExposedPorts: { [portKey]: {} },
    StopTimeout: c.stopTimeoutSec,
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_SPEC_HASH]: specHash(view) },
    Healthcheck: {
      Test: ['CMD', ...h.command],
      Interval: h.intervalSec * NS_PER_SEC,
      Timeout: h.timeoutSec * NS_PER_SEC,
      Retries: h.retries,
      StartPeriod: h.startPeriodSec * NS_PER_SEC,
    },
    ...(behindGateway(config) ? { NetworkingConfig: { EndpointsConfig: { [config.gateway.network]: { Aliases: [config.gateway.upstreamAlias] } } } } : {}),
    HostConfig: {
      ...(behindGateway(config) ? { NetworkMode: config.gateway.network } : { PortBindings: { [portKey]: [{ HostIp: c.bindAddress, HostPort: String(c.hostPort) }] } }),
      Mounts: mountsOf(c).map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      RestartPolicy: { Name: c.restartPolicy },
      DeviceRequests:
        c.gpus === 'none'
          ? []
          : [{ Driver: 'nvidia', Capabilities: [['gpu']], ...(c.gpus === 'all' ? { Count: -1 } : { DeviceIDs: c.gpus }) }],
    },
  };
}

/** `KEY=value` lines (Docker's Env) as a record. */
export function envRecord(list: readonly string[] | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i > 0) out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/**
 * The same view, read back from a container; image defaults are left out so only our choices
 * compare, and so are `ignoreEnv` keys (container.tokenEnvKeys: the token, set by compose and
 * audited on its own, never part of the panel's spec).
 */
export function observedView(info: Docker.ContainerInspectInfo, image?: { Env?: string[]; Cmd?: string[] | null }, ignoreEnv: readonly string[] = []): SpecView {
  const imageEnv = envRecord(image?.Env);
  const env = Object.fromEntries(Object.entries(envRecord(info.Config.Env)).filter(([k, v]) => imageEnv[k] !== v && !ignoreEnv.includes(k)));
  const cmd = info.Config.Cmd ?? null;
  const sameAsImage = image !== undefined && JSON.stringify(cmd ?? null) === JSON.stringify(image.Cmd ?? null);
  const bindings = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  const device = info.HostConfig.DeviceRequests?.find((d) => d.Driver === 'nvidia' || d.Capabilities?.some((c) => c.includes('gpu')));
  const hc = info.Config.Healthcheck;
  const networks = Object.keys(info.NetworkSettings?.Networks ?? {})
    .filter((n) => !['bridge', 'host', 'none'].includes(n))
    .sort();
  return {
    image: info.Config.Image,
    command: sameAsImage ? null : cmd,
    env,
    ports: Object.entries(bindings)
      .flatMap(([key, list]) => (list ?? []).map((b) => portLabel(b.HostIp ?? '', b.HostPort ?? '', key)))
      .sort(),
    mounts: info.Mounts.map((m) => mountLabel(m.Type === 'volume' ? `volume:${m.Name ?? ''}` : m.Source, m.Destination, !m.RW)).sort(),
    gpus: !device ? 'none' : device.DeviceIDs?.length ? `device=${device.DeviceIDs.join(',')}` : 'all',
    restartPolicy: info.HostConfig.RestartPolicy?.Name || 'no',
    healthcheck: hc?.Test?.length
      ? healthLabel(hc.Test, (hc.Interval ?? 0) / NS_PER_SEC, (hc.Timeout ?? 0) / NS_PER_SEC, hc.Retries ?? 0, (hc.StartPeriod ?? 0) / NS_PER_SEC)
      : 'none',
    user: info.Config.User ?? '',
    ...(networks.length ? { network: networks.join(', ') } : {}),
  };
}

const show = (v: string | undefined) => (v === undefined ? '(unset)' : fingerprint(v));

/** What changed from the existing container (`from`) to the configuration (`to`); env values only as fingerprints. */
export function diffViews(observed: SpecView, desired: SpecView): SpecChange[] {
  const changes: SpecChange[] = [];
  const scalar = (field: SpecChange['field'], from: string, to: string) => {
    if (from !== to) changes.push({ field, from, to });
  };
  scalar('image', observed.image, desired.image);
  scalar('command', JSON.stringify(observed.command), JSON.stringify(desired.command));
  const keys = [...new Set([...Object.keys(observed.env), ...Object.keys(desired.env)])].sort();
  for (const k of keys) {
    if (observed.env[k] !== desired.env[k]) changes.push({ field: 'env', from: `${k}=${show(observed.env[k])}`, to: `${k}=${show(desired.env[k])}` });
  }
  scalar('ports', observed.ports.join(', '), desired.ports.join(', '));
  scalar('mounts', observed.mounts.join(', '), desired.mounts.join(', '));
  scalar('gpus', observed.gpus, desired.gpus);
  scalar('restartPolicy', observed.restartPolicy, desired.restartPolicy);
  scalar('healthcheck', observed.healthcheck, desired.healthcheck);
  scalar('user', observed.user || '(image default)', desired.user || '(image default)');
  // Networks matter only when the config names one (the gateway's): an adopted compose network is left alone.
  if (desired.network !== undefined && !(observed.network ?? '').split(', ').includes(desired.network)) changes.push({ field: 'network', from: observed.network ?? 'bridge', to: desired.network });
  return changes;
}
