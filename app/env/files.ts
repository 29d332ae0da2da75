/** Reading env files from disk with the same limits the parser applies. */
import type { Stats } from 'node:fs';
import { PanelError } from '../errors.js';
import { decodeLossless } from '../fs/lossless.js';
import { readRegularFile, TOO_LARGE } from '../fs/regular.js';
import type { Dialect } from './dialects/names.js';
import { EnvSyntaxError, MAX_ENV_FILE_BYTES } from './errors.js';
import { readEnvValues, type Lookup } from './read.js';

export const ENV_NOT_FOUND = 'env-not-found';
export const ENV_UNREADABLE = 'env-unreadable';

export interface EnvFileContent {
  /** Every byte kept: bytes that are not UTF-8 are escaped (app/fs/lossless.ts), so writing the text back restores them. */
  text: string;
  stat: Stats;
}

/**
 * The file's text and status. Only regular files are read (a FIFO or device is refused
 * without blocking), an oversized one before it is read into memory. Errors: PanelError
 * ENV_NOT_FOUND, ENV_UNREADABLE (permissions, not a regular file), EnvSyntaxError (too large).
 */
export async function readEnvFile(file: string): Promise<EnvFileContent> {
  try {
    const { data, stat } = await readRegularFile(file, MAX_ENV_FILE_BYTES);
    return { text: decodeLossless(data), stat };
  } catch (e) {
    if (e instanceof PanelError) {
      if (e.code === TOO_LARGE) throw new EnvSyntaxError({ message: `file is over the 1 MiB limit for an env file; not read`, line: 1, file });
      throw new PanelError(e.message, ENV_UNREADABLE, e.fix, { cause: e });
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new PanelError(`${file}: no such file`, ENV_NOT_FOUND, 'Check the path.');
    if (err.code === 'EACCES' || err.code === 'EPERM') throw new PanelError(`${file}: permission denied`, ENV_UNREADABLE, `Make ${file} readable by the user the panel runs as.`, { cause: e });
    if (err.code) throw new PanelError(`${file}: cannot read (${err.code})`, ENV_UNREADABLE, `Check ${file} and the folders above it.`, { cause: e });
    throw e;
  }
}

export async function readEnvText(file: string): Promise<string> {
  return (await readEnvFile(file)).text;
}

export async function readEnvFileValues(file: string, dialect: Dialect, lookup?: Lookup): Promise<Record<string, string>> {
  return readEnvValues(await readEnvText(file), dialect, { file, ...(lookup ? { lookup } : {}) });
}
