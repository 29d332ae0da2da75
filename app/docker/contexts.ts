import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Docker CLI contexts, read the way the docker CLI stores them; docker-modem knows
 * nothing of contexts. Layout: <config dir>/config.json holds `currentContext`;
 * contexts/meta/<sha256 of name>/meta.json the endpoint; contexts/tls/<sha>/docker/ the TLS files.
 */
export interface DockerContextEndpoint {
  name: string;
  host: string;
  skipTLSVerify: boolean;
  /** Folder holding ca.pem/cert.pem/key.pem for this context, when it has TLS material. */
  tlsDir?: string;
}

const MetaSchema = z.object({
  Name: z.string(),
  Endpoints: z.object({
    docker: z.object({ Host: z.string().min(1), SkipTLSVerify: z.boolean().optional() }),
  }),
});

const CliConfigSchema = z.object({ currentContext: z.string().optional() });

/** DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return path.join(env.HOME ?? env.USERPROFILE ?? os.homedir(), '.docker');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, 'Fix or delete the file (the docker CLI rewrites it).');
  }
}

/** The `currentContext` of the docker CLI config, if one is set and is not "default". */
export function currentContextName(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = path.join(dockerConfigDir(env), 'config.json');
  if (!existsSync(file)) return undefined;
  const parsed = CliConfigSchema.safeParse(readJson(file));
  const name = parsed.success ? parsed.data.currentContext : undefined;
  return name && name !== 'default' ? name : undefined;
}

/** Reads the endpoint of a named context; a context that does not exist is a config error. */
export function readDockerContext(name: string, env: NodeJS.ProcessEnv = process.env): DockerContextEndpoint {
  const id = createHash('sha256').update(name, 'utf8').digest('hex');
  const root = path.join(dockerConfigDir(env), 'contexts');
  const metaFile = path.join(root, 'meta', id, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new ConfigError(
      `Docker context "${name}" not found (looked for ${metaFile})`,
      'List contexts with `docker context ls`, then set docker.context in the config or DOCKER_CONTEXT to one of them.',
    );
  }
  const meta = MetaSchema.safeParse(readJson(metaFile));
  if (!meta.success) {
    throw new ConfigError(
      `${metaFile} has no docker endpoint (Endpoints.docker.Host): ${z.prettifyError(meta.error)}`,
      `Recreate the context with \`docker context create ${name} --docker host=...\`.`,
    );
  }
  const tlsDir = path.join(root, 'tls', id, 'docker');
  return {
    name,
    host: meta.data.Endpoints.docker.Host,
    skipTLSVerify: meta.data.Endpoints.docker.SkipTLSVerify ?? false,
    tlsDir: existsSync(tlsDir) ? tlsDir : undefined,
  };
}
