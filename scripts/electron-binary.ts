import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Where Electron's binary is, if installed, found WITHOUT require('electron'): that call
 * tries to download the binary when it is missing, and nothing may download at run time.
 */
export function electronBinary(): { path: string } | { why: string } {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { why: 'the electron package is not installed' };
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { why: 'the Electron binary was not downloaded (installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1 have none)' };
  const bin = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? { path: bin } : { why: `the Electron binary is missing at ${bin}` };
}
