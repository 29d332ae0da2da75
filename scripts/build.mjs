// Builds everything offline: the CLI and Electron main/preload with esbuild, the renderer with Vite.
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { preloadBuildOptions } from './bundle-options.mjs';

const only = process.argv[2]; // optional: cli | main | renderer

const node = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

const jobs = {
  cli: () =>
    Promise.all([
      esbuild({ ...node, entryPoints: ['app/cli/main.ts'], outfile: 'dist/cli.mjs', format: 'esm', packages: 'external' }),
      // Heavy health checks run in a worker thread with a memory budget (app/health/isolate.ts); the CLI, serve and Electron main share it.
      esbuild({ ...node, entryPoints: ['app/health/worker.ts'], outfile: 'dist/health-worker.mjs', format: 'esm', packages: 'external' }),
    ]),
  main: () =>
    Promise.all([
      esbuild({
        ...node,
        entryPoints: ['main/main.ts'],
        outfile: 'dist/main/main.cjs',
        format: 'cjs',
        packages: 'external',
        // The core is ESM and reads import.meta.url; give the CJS bundle its equivalent.
        banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
        define: { 'import.meta.url': '__import_meta_url' },
      }),
      esbuild({ ...preloadBuildOptions, sourcemap: true, outfile: 'dist/main/preload.cjs' }),
    ]),
  renderer: () => viteBuild({ configFile: 'renderer/vite.config.ts', logLevel: 'warn' }),
};

for (const [name, job] of Object.entries(jobs)) {
  if (only && only !== name) continue;
  const t = performance.now();
  await job();
  console.log(`built ${name} in ${Math.round(performance.now() - t)} ms`);
}
