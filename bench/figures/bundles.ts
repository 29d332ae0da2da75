/**
 * Figure 7: what keeping zod out of the UI saves. The preload and the renderer are built twice in
 * this run with the project's own build settings: as they are (the contract's names from the
 * zod-free app/contract/names.ts) and, as the baseline, with those names taken from the zod
 * schemas as before issue 11. The figure fails if zod reaches either bundle as built.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build as esbuild, type Plugin as EsbuildPlugin } from 'esbuild';
import { build as viteBuild, type Plugin as VitePlugin, type Rollup } from 'vite';
import { packageRoot } from '../../app/package-root.js';
import { preloadBuildOptions } from '../../scripts/bundle-options.mjs';
import { measurement, type Figure } from '../measurement.js';
import { bundleSize } from './renderer.js';

const ROOT = packageRoot();
const NAMES = path.join(ROOT, 'app', 'contract', 'names.ts');
/** These import names.ts themselves; the baseline keeps them as they are. */
const KEEP = new Set([path.join(ROOT, 'app', 'contract', 'index.ts'), path.join(ROOT, 'app', 'config', 'schema.ts')]);
const VIRTUAL = '\0names-from-zod-schemas';
/** The names as the UI got them before: computed from the contract's zod schemas. */
const FROM_SCHEMAS = `
import { operations } from ${JSON.stringify(path.join(ROOT, 'app', 'contract', 'index.ts'))};
export * from ${JSON.stringify(NAMES)};
export const opNames = Object.keys(operations);
export const isOpName = (name) => typeof name === 'string' && Object.hasOwn(operations, name);
`;

/** Whether an import of `spec` from `importer` is one of names.ts that the baseline reroutes. */
function reroutes(spec: string, importer: string | undefined): boolean {
  if (!importer || !spec.endsWith('/names.js') || KEEP.has(importer) || importer === VIRTUAL) return false;
  return path.resolve(path.dirname(importer), spec).replace(/\.js$/, '.ts') === NAMES;
}

const esbuildFromSchemas: EsbuildPlugin = {
  name: 'names-from-zod-schemas',
  setup(b) {
    b.onResolve({ filter: /\/names\.js$/ }, (args) => (reroutes(args.path, args.importer) ? { path: VIRTUAL, namespace: 'baseline' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'baseline' }, () => ({ contents: FROM_SCHEMAS, loader: 'js', resolveDir: ROOT }));
  },
};

const viteFromSchemas: VitePlugin = {
  name: 'names-from-zod-schemas',
  enforce: 'pre',
  resolveId: (source, importer) => (reroutes(source, importer) ? VIRTUAL : null),
  load: (id) => (id === VIRTUAL ? FROM_SCHEMAS : null),
};

const isZod = (id: string) => /(^|[\\/])node_modules[\\/]zod[\\/]/.test(id);

async function preload(baseline: boolean): Promise<{ bytes: number; zodBytes: number }> {
  const r = await esbuild({ ...preloadBuildOptions, absWorkingDir: ROOT, write: false, metafile: true, outfile: 'preload.cjs', plugins: baseline ? [esbuildFromSchemas] : [] });
  const out = r.outputFiles.find((f) => f.path.endsWith('.cjs'))!;
  const inputs = Object.values(r.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
  return { bytes: out.contents.length, zodBytes: inputs.filter(([id]) => isZod(id)).reduce((n, [, i]) => n + i.bytesInOutput, 0) };
}

async function renderer(baseline: boolean): Promise<{ gzip: number; raw: number; zodModules: number }> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'bench-bundles-'));
  try {
    const result = (await viteBuild({
      configFile: path.join(ROOT, 'renderer', 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
      plugins: baseline ? [viteFromSchemas] : [],
    })) as Rollup.RollupOutput | Rollup.RollupOutput[];
    const chunks = [result].flat().flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
    const size = await bundleSize(outDir);
    return { gzip: size.gzip, raw: size.raw, zodModules: chunks.flatMap((c) => c.moduleIds).filter(isZod).length };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => bytes / 1024;

export const bundlesFigure: Figure = {
  id: 'bundles',
  title: 'bundles: preload and renderer with and without zod',
  async run(_sizes, progress) {
    const [pre, preBefore] = [await preload(false), await preload(true)];
    if (pre.zodBytes > 0) throw new Error(`zod reached the preload bundle (${pre.zodBytes} bytes): something it imports loads the contract's schemas`);
    progress('bundles: preload built twice');
    const [ui, uiBefore] = [await renderer(false), await renderer(true)];
    if (ui.zodModules > 0) throw new Error(`zod reached the renderer bundle (${ui.zodModules} modules): something it imports loads the contract's schemas`);
    if (preBefore.zodBytes === 0 || uiBefore.zodModules === 0) throw new Error('the baseline bundles hold no zod: the figure no longer measures what it says');
    progress('bundles: renderer built twice');
    return [
      measurement({
        id: 'bundles.preload',
        label: 'Electron preload, minified (esbuild, as scripts/build.mjs), names from app/contract/names.ts',
        value: kb(pre.bytes),
        unit: 'KB',
        baseline: kb(preBefore.bytes),
        baselineLabel: 'the same preload with the names taken from the zod schemas (before issue 11)',
        note: `zod in it: 0 KB now, ${kb(preBefore.zodBytes).toFixed(1)} KB before`,
      }),
      measurement({
        id: 'bundles.renderer-gzip',
        label: 'renderer, every file gzipped (vite, renderer/vite.config.ts), names from app/contract/names.ts',
        value: kb(ui.gzip),
        unit: 'KB',
        baseline: kb(uiBefore.gzip),
        baselineLabel: 'the same renderer with the names taken from the zod schemas (before issue 11)',
        note: `uncompressed ${kb(ui.raw).toFixed(1)} KB now, ${kb(uiBefore.raw).toFixed(1)} KB before; zod modules: 0 now, ${uiBefore.zodModules} before`,
      }),
    ];
  },
};
