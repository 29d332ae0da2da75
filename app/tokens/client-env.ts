import type { Dialect } from '../config/schema.js';
import { quoteForDialect } from '../env/index.js';
import type { Credential } from './credential.js';

/**
 * SECRET OUTPUT: the lines a notebook or script needs, each value quoted for its reader
 * (a bcrypt hash must be single-quoted for compose and dotenv, bare for raw env files).
 * Only ever produced on an explicit request.
 */
export function clientEnvLines(cred: Pick<Credential, 'hash'>, url: string, dialect: Dialect): string[] {
  return [`COMFYUI_URL=${quoteForDialect(url, dialect)}`, `COMFYUI_BEARER_TOKEN=${quoteForDialect(cred.hash, dialect)}`];
}
