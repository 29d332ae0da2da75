// esbuild options of the Electron preload, shared by scripts/build.mjs and the bench's bundle figure.
// A sandboxed preload cannot require node_modules: everything but electron is bundled, minified. It
// takes the contract's names from app/contract/names.ts, so zod stays out (test/contract/names.test.ts).
export const preloadBuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  entryPoints: ['main/preload.ts'],
  format: 'cjs',
  external: ['electron'],
  minify: true,
};
