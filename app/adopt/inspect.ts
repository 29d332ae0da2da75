/**
 * The container part of adoption: what `docker inspect` (and the files read through the
 * engine) say about a running deployment, as a `container` config section. Everything is
 * taken from parameters (the engine, the container's name, the section to start from), so a
 * fleet can call it once per deployment.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { AdoptedValue, ComposeOrigin } from '../contract/ops/health.js';
import { composeOrigin } from '../docker/compose.js';
import { envRecord, SECRET_TARGET } from '../docker/spec.js';
import { isBcryptHash, parsePasswordFile } from '../tokens/credential.js';

type ContainerSection = PanelConfig['container'];
const NS_PER_SEC = 1_000_000_000;
const RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;
/** Env the panel's own spec sets from other fields (spec.ts envOf): never copied into container.env. */
const SPEC_ENV = new Set(['COMFYUI_AUTH_REQUIRED', 'COMFYUI_SECRET_FILE']);
/** An env var that names a secret file (COMFYUI_SECRET_FILE, PASSWORD_FILE, …). */
const SECRET_ENV = /(SECRET|PASSWORD|TOKEN).*FILE|FILE.*(SECRET|PASSWORD)/i;

/** Reads one file in the container through the archive API (works on a stopped container too). */
export type ReadInContainer = (pathInContainer: string) => Promise<Buffer>;

export interface InspectedContainer {
  container: ContainerSection;
  compose?: ComposeOrigin;
  adopted: AdoptedValue[];
  notes: string[];
  /** The hash in login/PASSWORD and its user name (never leaves the core but as a fingerprint). */
  password?: { hash: string; username: string };
  /** The host port the ComfyUI port is published on, and on which address. */
  published?: { hostIp: string; hostPort: number };
}

const secs = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? Math.round(ns / NS_PER_SEC) : fallback);

function healthcheckOf(info: Docker.ContainerInspectInfo, base: ContainerSection['healthcheck'], notes: string[]): ContainerSection['healthcheck'] {
  const hc = info.Config.Healthcheck;
  const test = hc?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') {
    notes.push('The container has no healthcheck: the config keeps its own, which a recreate would add.');
    return base;
  }
  const command = test[0] === 'CMD' ? test.slice(1) : test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test;
  if (test[0] === 'CMD-SHELL') notes.push('The healthcheck is a shell command (CMD-SHELL); the config runs it as /bin/sh -c, the same check.');
  return {
    command: command.length ? command : base.command,
    // Docker's own defaults when a field is 0: 30 s, 30 s, 3 retries, no start period.
    intervalSec: secs(hc?.Interval, 30),
    timeoutSec: secs(hc?.Timeout, 30),
    retries: hc?.Retries && hc.Retries > 0 ? hc.Retries : 3,
    startPeriodSec: secs(hc?.StartPeriod, 0),
  };
}

function gpusOf(info: Docker.ContainerInspectInfo, notes: string[]): ContainerSection['gpus'] {
  const device = info.HostConfig.DeviceRequests?.find((d) => d.Driver === 'nvidia' || d.Capabilities?.some((c) => c.includes('gpu')));
  if (!device) return 'none';
  if (device.DeviceIDs?.length) return device.DeviceIDs;
  if (device.Count !== undefined && device.Count > 0) notes.push(`The container asks for ${device.Count} GPU(s) by count; the config can say "all" or list device ids, so it says "all".`);
  return 'all';
}

/** The ComfyUI port's binding: the container port 8188 if published, else the first published TCP port. */
function publishedOf(info: Docker.ContainerInspectInfo, containerPort: number): { containerPort: number; hostIp: string; hostPort: number } | undefined {
  const bound = (info.NetworkSettings.Ports ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  const configured = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  const keys = [`${containerPort}/tcp`, ...Object.keys(configured).filter((k) => k.endsWith('/tcp'))];
  for (const key of keys) {
    const want = configured[key]?.[0];
    const got = bound[key]?.[0];
    const hostPort = Number(want?.HostPort || got?.HostPort);
    if (!want && !got) continue;
    if (Number.isInteger(hostPort) && hostPort > 0) return { containerPort: Number(key.split('/')[0]), hostIp: want?.HostIp ?? got?.HostIp ?? '', hostPort };
  }
  return undefined;
}

const stopTimeout = (info: Docker.ContainerInspectInfo): number | undefined => (info.Config as { StopTimeout?: number }).StopTimeout;

interface SecretMount {
  source: string;
  target: string;
  how: string;
}

/**
 * The bind mount that feeds login/PASSWORD: the one an env var such as COMFYUI_SECRET_FILE points
 * at, else a read-only mount under /run/secrets; confirmed by reading it through the engine.
 */
async function findSecretMount(
  info: Docker.ContainerInspectInfo,
  env: Record<string, string>,
  read: ReadInContainer,
  passwordHash: string | undefined,
  notes: string[],
): Promise<SecretMount | undefined> {
  const binds = info.Mounts.filter((m) => m.Type === 'bind');
  const byEnv = Object.entries(env)
    .filter(([k]) => SECRET_ENV.test(k))
    .flatMap(([k, v]) => binds.filter((m) => m.Destination === v).map((m) => ({ m, how: `${k}=${v} points at it` })));
  const bySecretsDir = binds.filter((m) => m.Destination.startsWith('/run/secrets/')).map((m) => ({ m, how: `mounted at ${m.Destination}` }));
  for (const { m, how } of [...byEnv, ...bySecretsDir]) {
    const text = await read(m.Destination).then(
      (b) => b.toString('utf8'),
      () => undefined,
    );
    const parsed = text === undefined ? undefined : parsePasswordFile(text);
    if (!parsed?.ok) {
      notes.push(`${m.Destination} (${m.Source}) looks like the secret mount but does not hold a PASSWORD (hash and user name); not adopted as container.secretFile.`);
      continue;
    }
    if (passwordHash !== undefined && parsed.hash !== passwordHash) {
      notes.push(`${m.Source} holds another hash than login/PASSWORD now: the entrypoint copies it at the next start.`);
    }
    if (m.RW) notes.push(`${m.Source} is mounted read-write; the recipe mounts the secret read-only.`);
    return { source: m.Source, target: m.Destination, how: `${how}, read through the engine` };
  }
  return undefined;
}

/** Adopts a container: the `container` section for it, starting from `base` for what Docker does not say. */
export async function inspectDeployment(
  docker: Docker,
  name: string,
  base: ContainerSection,
  read: ReadInContainer,
): Promise<InspectedContainer> {
  const info = await docker.getContainer(name).inspect();
  const image = await docker
    .getImage(info.Image)
    .inspect()
    .catch(() => undefined);
  const adopted: AdoptedValue[] = [];
  const notes: string[] = [];
  const took = (field: string, value: unknown, from = 'docker inspect') => adopted.push({ field, value: typeof value === 'string' ? value : JSON.stringify(value), from });

  const imageEnv = envRecord(image?.Config.Env);
  const env = envRecord(info.Config.Env);
  const ownEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => imageEnv[k] !== v));
  const comfyRoot = env.COMFYUI_ROOT ?? base.comfyRoot;

  const pwText = await read(path.posix.join(comfyRoot, 'login', 'PASSWORD')).then(
    (b) => b.toString('utf8'),
    () => undefined,
  );
  const pw = pwText === undefined ? undefined : parsePasswordFile(pwText);
  if (!pw?.ok) notes.push(`No readable login/PASSWORD under ${comfyRoot}: ComfyUI-Login may let the first visitor set the password.`);
  const password = pw?.ok ? { hash: pw.hash, username: pw.username } : undefined;

  const secret = await findSecretMount(info, ownEnv, read, password?.hash, notes);
  const tokenEnvKeys = Object.keys(ownEnv).filter((k) => isBcryptHash(ownEnv[k] ?? '')).sort();
  const secretEnvKeys = new Set(Object.keys(ownEnv).filter((k) => secret && ownEnv[k] === secret.target));
  const keptEnv = Object.fromEntries(Object.entries(ownEnv).filter(([k]) => !SPEC_ENV.has(k) && !tokenEnvKeys.includes(k) && !secretEnvKeys.has(k)));
  for (const k of secretEnvKeys) if (k !== 'COMFYUI_SECRET_FILE') notes.push(`The entrypoint reads the secret from ${k}; the panel's spec names it COMFYUI_SECRET_FILE (a recreate by the panel would set that one).`);

  const mounts = info.Mounts.flatMap((m): ContainerSection['mounts'] => {
    if (secret && m.Destination === secret.target) return [];
    if (m.Type !== 'bind') {
      notes.push(`${m.Type} mount ${m.Name ?? m.Source} at ${m.Destination} is not in the config (it holds bind mounts only).`);
      return [];
    }
    return [{ source: m.Source, target: m.Destination, readOnly: !m.RW }];
  });

  const published = publishedOf(info, base.containerPort);
  if (!published) notes.push('No published TCP port: the panel reaches ComfyUI only through a published port; publish one and adopt again.');
  const restart = info.HostConfig.RestartPolicy?.Name || 'no';
  const restartPolicy = (RESTART_POLICIES as readonly string[]).includes(restart) ? (restart as ContainerSection['restartPolicy']) : base.restartPolicy;
  const cmd = info.Config.Cmd ?? null;
  const command = JSON.stringify(cmd) === JSON.stringify(image?.Config.Cmd ?? null) || !cmd ? undefined : cmd;
  const user = info.Config.User || undefined;

  const container: ContainerSection = {
    ...base,
    name,
    image: info.Config.Image,
    comfyRoot,
    ...(published ? { hostPort: published.hostPort, containerPort: published.containerPort, bindAddress: published.hostIp || '0.0.0.0' } : {}),
    gpus: gpusOf(info, notes),
    mounts,
    env: keptEnv,
    authRequired: ownEnv.COMFYUI_AUTH_REQUIRED === undefined ? base.authRequired : ownEnv.COMFYUI_AUTH_REQUIRED === '1',
    restartPolicy,
    healthcheck: healthcheckOf(info, base.healthcheck, notes),
    // compose's stop_grace_period; dockerode's type lacks the field.
    ...(stopTimeout(info) !== undefined ? { stopTimeoutSec: stopTimeout(info) } : {}),
  };
  // Fields that are optional: set from the container, or dropped when it has none.
  container.command = command;
  container.user = user;
  container.secretFile = secret?.source;
  container.secretTarget = secret && secret.target !== SECRET_TARGET ? secret.target : undefined;
  container.tokenEnvKeys = tokenEnvKeys.length ? tokenEnvKeys : undefined;

  took('container.image', container.image);
  if (published) took('container.hostPort', `${container.bindAddress}:${container.hostPort} -> ${container.containerPort}/tcp`);
  took('container.gpus', container.gpus);
  took('container.mounts', mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`).join(', ') || '(none)');
  if (secret) took('container.secretFile', `${secret.source} -> ${secret.target}`, secret.how);
  else notes.push('No mounted secret file feeds login/PASSWORD: a rotation writes login/PASSWORD through the engine (an entrypoint that copies some other file would undo it).');
  took('container.user', user ?? '(image default)');
  took('container.restartPolicy', restartPolicy);
  took('container.healthcheck', container.healthcheck.command.join(' '));
  if (command) took('container.command', command);
  if (Object.keys(keptEnv).length) took('container.env', Object.keys(keptEnv).sort().join(', '));
  if (tokenEnvKeys.length) took('container.tokenEnvKeys', tokenEnvKeys.join(', '), 'container environment (values are bcrypt hashes)');
  took('container.authRequired', String(container.authRequired), ownEnv.COMFYUI_AUTH_REQUIRED === undefined ? 'kept (COMFYUI_AUTH_REQUIRED unset)' : 'COMFYUI_AUTH_REQUIRED');
  const compose = composeOrigin(info.Config.Labels);
  return { container, ...(compose ? { compose } : {}), adopted, notes, ...(password ? { password } : {}), ...(published ? { published } : {}) };
}
