// `npm start`: the desktop app when Electron's binary is installed, else browser mode with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

let electron;
try {
  electron = createRequire(import.meta.url)('electron');
} catch (e) {
  console.error(`Electron binary not available (${String(e.message).split('\n')[0]}); starting browser mode instead.`);
}
const args = process.argv.slice(2);
const result =
  electron && existsSync(electron)
    ? spawnSync(electron, ['dist/main/main.cjs', ...args], { stdio: 'inherit' })
    : spawnSync(process.execPath, ['bin/comfy-panel.mjs', 'serve', ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
