/**
 * The gateway's two programs as self-contained ESM files (undici, ws, zod, commander inside):
 * gateway.mjs (the process) and healthcheck.mjs. One recipe for the production image
 * (assets/docker/gateway/Dockerfile runs this file) and the test image (test/support/gateway-image.ts).
 *
 *   npx tsx scripts/gateway-bundle.ts dist/gateway
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type OutputFile } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function bundleGateway(outdir: string, write: boolean): Promise<OutputFile[]> {
  const result = await build({
    entryPoints: { gateway: path.join(root, 'app/gateway/bin.ts'), healthcheck: path.join(root, 'app/gateway/healthcheck.ts') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    write,
    logLevel: 'silent',
    // ws loads these native speed-ups only if present; the image does without.
    external: ['bufferutil', 'utf-8-validate'],
    // CommonJS dependencies bundled into ESM still call require() for node built-ins.
    banner: { js: "import { createRequire as __gatewayRequire } from 'node:module'; const require = __gatewayRequire(import.meta.url);" },
  });
  return result.outputFiles ?? [];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = path.resolve(process.argv[2] ?? 'dist/gateway');
  await bundleGateway(outdir, true);
  process.stdout.write(`gateway bundle written to ${outdir}\n`);
}
