/**
 * The env part of adoption: from the compose project a container belongs to (its labels), the
 * env root and one env target per env file that holds the token, each with the dialect its
 * reader uses (env_file `format: raw` -> raw, env_file and the project .env -> compose) and the
 * key names that hold the token, the URL and the user name in that very file.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EnvTarget, PanelConfig } from '../config/schema.js';
import type { AdoptedValue, ComposeOrigin } from '../contract/ops/health.js';
import { discoverEnvFiles, envScope, readEnvText, readEnvValues, type DiscoveredEnvFile } from '../env/index.js';
import { errorMessage } from '../errors.js';
import { isBcryptHash } from '../tokens/credential.js';

type EnvSection = PanelConfig['env'];
const URL_KEY = /URL|HOST|ENDPOINT|ADDR|SERVER/i;
const USER_KEY = /USER/i;

export interface AdoptedEnv {
  env: EnvSection;
  adopted: AdoptedValue[];
  notes: string[];
}

const isHttpUrl = (v: string) => /^https?:\/\/[^\s]+$/i.test(v);

/**
 * Which keys of one file carry what. The token key is found in the value as the file's own
 * reader sees it, and also in the literal text: an unquoted hash in a compose file is mangled
 * by compose (`$abc` read as a variable), yet the key is the token's; a sync quotes it.
 */
function keysOf(text: string, file: DiscoveredEnvFile, username: string | undefined): { keys: EnvTarget['keys']; mangled: string[] } {
  const asRead = readEnvValues(text, file.dialect, { file: file.path, lookup: () => undefined });
  const literal = file.dialect === 'raw' ? asRead : readEnvValues(text, 'raw', { file: file.path });
  const keys: EnvTarget['keys'] = {};
  const mangled: string[] = [];
  for (const [key, value] of Object.entries(asRead)) {
    const unquoted = (literal[key] ?? '').replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    if (isBcryptHash(value)) keys[key] = 'token';
    else if (isBcryptHash(unquoted)) {
      keys[key] = 'token';
      mangled.push(key);
    } else if (isHttpUrl(value) && URL_KEY.test(key)) keys[key] = 'url';
    else if (username !== undefined && value === username && USER_KEY.test(key)) keys[key] = 'username';
  }
  return { keys, mangled };
}

/**
 * The env section for a compose deployment: env.root is the project's working folder; each env
 * file found there (the project .env, every env_file of every service, the include patterns)
 * that holds the token becomes a target. `base` gives include/exclude; targets start empty so a
 * stale list of the old config never mixes in.
 */
export async function adoptComposeEnv(compose: ComposeOrigin, base: EnvSection, configFile: string, username: string | undefined): Promise<AdoptedEnv> {
  const notes: string[] = [];
  const adopted: AdoptedValue[] = [];
  const root = compose.workingDir;
  if (!root || !existsSync(root)) {
    notes.push(`The compose project folder ${root || '(not recorded)'} is not on this machine (a remote engine?): env targets were not adopted; set env.root to a copy of it.`);
    return { env: base, adopted, notes };
  }
  const unknownFiles = compose.configFiles.filter((f) => !['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'].includes(path.basename(f)));
  if (unknownFiles.length) notes.push(`Compose files with other names (${unknownFiles.join(', ')}) are not read for env_file entries; add their env files as targets by hand.`);
  const scope = envScope({ root, targets: [] }, configFile);
  const { files, findings } = await discoverEnvFiles(scope, base);
  for (const f of findings) notes.push(`${f.file}:${f.line}: ${f.message}`);
  const targets: EnvTarget[] = [];
  for (const file of files.filter((f) => f.exists)) {
    let text: string;
    try {
      text = await readEnvText(file.path);
    } catch (e) {
      notes.push(`${file.file}: ${errorMessage(e)}`);
      continue;
    }
    let found: ReturnType<typeof keysOf>;
    try {
      found = keysOf(text, file, username);
    } catch (e) {
      notes.push(`${file.file}: not read as ${file.dialect} (${errorMessage(e)}); not adopted`);
      continue;
    }
    const roles = Object.values(found.keys);
    if (!roles.includes('token')) {
      if (roles.includes('url')) notes.push(`${file.file} holds the URL (${Object.keys(found.keys).join(', ')}) but no token: not a target.`);
      continue;
    }
    for (const key of found.mangled) notes.push(`${file.file}: ${key} is an unquoted hash that ${file.dialect} mangles; the next sync writes it quoted for ${file.dialect}.`);
    const target: EnvTarget = { path: file.file, dialect: file.dialect, keys: found.keys };
    const why = file.referencedBy.length
      ? `env_file of ${[...new Set(file.referencedBy.map((r) => r.service))].join(', ')}${file.referencedBy.some((r) => r.format) ? ` (format: ${file.referencedBy.find((r) => r.format)?.format ?? ''})` : ''}`
      : file.dialectSource === 'compose-dir'
        ? 'beside the compose file (the project .env)'
        : 'matches env.include';
    adopted.push({ field: `env.targets[${targets.length}]`, value: `${target.path} as ${target.dialect}: ${Object.entries(target.keys).map(([k, v]) => `${k}=${v}`).join(', ')}`, from: why });
    targets.push(target);
  }
  adopted.unshift({ field: 'env.root', value: root, from: `compose label ${'com.docker.compose.project.working_dir'}` });
  return { env: { ...base, root, targets }, adopted, notes };
}
