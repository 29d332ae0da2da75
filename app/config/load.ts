import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse as parseJson, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError, PanelError } from '../errors.js';
import { readRegularFile } from '../fs/regular-file.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { PanelConfigSchema, type PanelConfig } from './schema.js';

export interface LoadedConfig {
  config: PanelConfig;
  path: string;
  /** False when no file exists yet (first run). */
  configured: boolean;
}

/** Line and column of a character offset, 1-based. */
function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function describeIssues(file: string, issues: z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 10).map((i) => {
    const field = i.path.length ? i.path.join('.') : '(top level)';
    const extra = i.code === 'unrecognized_keys' ? `: ${i.keys.join(', ')}` : '';
    return `  ${field}: ${i.message}${extra}`;
  });
  return `${file}: invalid configuration\n${lines.join('\n')}`;
}

/** Validate an already-parsed value; the error names each bad field. */
export function parseConfig(value: unknown, file = 'config'): PanelConfig {
  const result = PanelConfigSchema.safeParse(value);
  if (!result.success) {
    throw new ConfigError(describeIssues(file, result.error.issues), 'Fix the named fields (the JSON Schema is config.schema.json in the repo).');
  }
  return result.data;
}

export function parseConfigText(text: string, file: string): PanelConfig {
  const body = text.replace(/^\uFEFF/, '');
  // jsonc-parser reports where the first error is, which JSON.parse does not always say.
  const errors: ParseError[] = [];
  const value: unknown = parseJson(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineCol(body, first.offset);
    throw new ConfigError(`${file}: not valid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error)}`, 'Fix the JSON syntax at that place.');
  }
  return parseConfig(value, file);
}

/** A config is a few KB; anything this big is the wrong file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Read the config file. A missing file at the default place means "not configured yet"
 * (defaults apply); a missing file the user named explicitly is an error.
 */
export async function loadConfig(file: string, explicit: boolean): Promise<LoadedConfig> {
  let text: string;
  try {
    text = (await readRegularFile(file, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (e) {
    if (e instanceof PanelError) throw new ConfigError(e.message, e.code === 'file-too-large' ? 'A panel config is a few KB: is this the right file?' : 'Point --config at the JSON config file itself.');
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return { config: parseConfig({}), path: file, configured: false };
    if (code === 'ENOENT') throw new ConfigError(`${file}: no such config file`, 'Check the --config path, or omit it to use the default.');
    throw new ConfigError(`${file}: cannot read (${code ?? 'error'})`, 'Check the file permissions.');
  }
  return { config: parseConfigText(text, file), path: file, configured: true };
}

/** Validate and write atomically, keeping a backup of the previous file. */
export async function saveConfig(file: string, value: unknown): Promise<PanelConfig> {
  const config = parseConfig(value, file);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return config;
}
