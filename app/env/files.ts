/** Reading env files from disk with the same limits the parser applies. */
import { promises as fs } from 'node:fs';
import type { Dialect } from '../config/schema.js';
import { PanelError } from '../errors.js';
import { EnvSyntaxError, MAX_ENV_FILE_BYTES } from './errors.js';
import { readEnvValues, type Lookup } from './read.js';

export const ENV_NOT_FOUND = 'env-not-found';

/** The file's text; an oversized file is refused before it is read into memory. */
export async function readEnvText(file: string): Promise<string> {
  const { size } = await fs.stat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new PanelError(`${file}: no such file`, ENV_NOT_FOUND, 'Check the path.');
    throw e;
  });
  if (size > MAX_ENV_FILE_BYTES) throw new EnvSyntaxError({ message: `file is ${size} bytes, over the 1 MiB limit for an env file; not read`, line: 1, file });
  return fs.readFile(file, 'utf8');
}

export async function readEnvFileValues(file: string, dialect: Dialect, lookup?: Lookup): Promise<Record<string, string>> {
  return readEnvValues(await readEnvText(file), dialect, { file, ...(lookup ? { lookup } : {}) });
}
