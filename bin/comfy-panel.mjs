#!/usr/bin/env node
// Entry of the `comfy-panel` command: runs the bundled CLI built by `npm run build` (run on install).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('comfy-panel: the CLI is not built yet; run `npm run build` in the comfy-panel folder\n');
  process.exit(2);
}
const { runCli } = await import(cli);
process.exitCode = await runCli(process.argv.slice(2));
