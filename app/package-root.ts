import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package folder, found from this module whether it runs from source or from dist/. */
export function packageRoot(from = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'comfy-panel') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the comfy-panel package folder');
    dir = up;
  }
}

/** The built renderer; COMFY_PANEL_RENDERER_DIR overrides it (packaged app, tests). */
export function rendererDir(): string {
  return process.env.COMFY_PANEL_RENDERER_DIR ?? path.join(packageRoot(), 'dist', 'renderer');
}
