/**
 * The one rule for where an instance's env files are. env.root, when set, is the project
 * folder (a relative env.root starts from the config file's folder); when it is not set,
 * the config file's folder is. Relative target paths start from that root.
 *
 * Why the config file's folder: it is the only place every process agrees on. The working
 * folder differs between the CLI, `serve` and the desktop app (launched from a menu it is
 * `/` or the home folder), so sync, rotation and audit would each write or read another
 * file. A compose project folder is only a guess the first-run setup offers (and then
 * saves as env.root). Config-relative paths are also what a config file's readers expect
 * (`--config /srv/comfy/panel.json` with `{"path": ".env"}` means /srv/comfy/.env).
 */
import path from 'node:path';
import type { EnvTarget, PanelConfig } from '../config/schema.js';
import type { Dialect } from './dialects/names.js';

export type EnvConfig = PanelConfig['env'];

export function resolveEnvRoot(env: Pick<EnvConfig, 'root'>, configFile: string): string {
  return path.resolve(path.dirname(path.resolve(configFile)), env.root ?? '.');
}

/** A configured target's absolute path. */
export function resolveEnvTarget(root: string, target: Pick<EnvTarget, 'path'>): string {
  return path.resolve(root, target.path);
}

/** The folder env work looks at, and the configured targets (absolute path to dialect) it includes. */
export interface EnvScope {
  root: string;
  targets: ReadonlyMap<string, Dialect>;
}

/** The scope of one instance: its env root and every configured target. */
export function envScope(env: Pick<EnvConfig, 'root' | 'targets'>, configFile: string): EnvScope {
  const root = resolveEnvRoot(env, configFile);
  return { root, targets: new Map(env.targets.map((t) => [resolveEnvTarget(root, t), t.dialect])) };
}

/**
 * Looking at another folder (`env audit --root X`): only the configured targets inside it
 * come along (with their dialect); targets elsewhere are not pulled in and compared with it.
 */
export function scopeAt(scope: EnvScope, folder: string): EnvScope {
  const root = path.resolve(folder);
  if (root === scope.root) return scope;
  return { root, targets: new Map([...scope.targets].filter(([file]) => isInside(root, file))) };
}

/** Whether `file` is `folder` itself or below it (lexically). */
export function isInside(folder: string, file: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}
