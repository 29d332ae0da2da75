// `npm start`: the desktop app when Electron's binary is installed, else browser mode, saying why.
import { spawnSync } from 'node:child_process';
import { electronBinary } from './electron-binary.js';

const electron = electronBinary();
const args = process.argv.slice(2);
if (!('path' in electron)) console.error(`Starting browser mode: ${electron.why}.`);
const result =
  'path' in electron
    ? spawnSync(electron.path, ['dist/main/main.cjs', ...args], { stdio: 'inherit' })
    : spawnSync(process.execPath, ['bin/comfy-panel.mjs', 'serve', ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
