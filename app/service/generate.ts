import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { comfyClientFor } from '../comfy/connect.js';
import { runGeneration } from '../comfy/generation.js';
import { listRuns, runsFile } from '../comfy/runs.js';
import { comfyStatus } from '../comfy/status.js';
import { loadWorkflow } from '../comfy/workflow.js';
import type { PanelHandlers } from '../contract/index.js';
import type { GeneratedImage } from '../contract/ops/generate.js';
import type { PanelContext } from './context.js';

/** Images under this size also travel as data URLs so the UI can show them without file access. */
const PREVIEW_LIMIT = 4 * 1024 * 1024;
const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' };

async function preview(file: string): Promise<GeneratedImage> {
  const { size } = await stat(file);
  const mime = MIME[path.extname(file).toLowerCase()];
  if (size >= PREVIEW_LIMIT || !mime) return { path: file, bytes: size };
  return { path: file, bytes: size, dataUrl: `data:${mime};base64,${(await readFile(file)).toString('base64')}` };
}

export function generateHandlers(ctx: PanelContext) {
  const running = new Map<string, AbortController>();
  const client = () => comfyClientFor(ctx.loaded.config, ctx.paths, { keys: ctx.vaultKeys });
  return {
    generateRun: async ({ workflow, outDir, ...params }) => {
      const runId = randomUUID();
      const abort = new AbortController();
      running.set(runId, abort);
      try {
        const result = await runGeneration({
          client: await client(),
          workflow: await loadWorkflow(workflow),
          params,
          outDir: outDir ?? path.join(ctx.paths.dataDir, 'generations'),
          runId,
          signal: abort.signal,
          historyFile: runsFile(ctx.paths),
          onProgress: (p) => ctx.bus.emit('generationProgress', p),
        });
        return { ...result, previews: await Promise.all(result.images.map(preview)) };
      } finally {
        running.delete(runId);
      }
    },
    generateInterrupt: async ({ runId }) => {
      const ids = runId === undefined ? [...running.keys()] : running.has(runId) ? [runId] : [];
      for (const id of ids) running.get(id)?.abort();
      return { interrupted: ids };
    },
    generateHistory: async ({ limit }) => ({ runs: await listRuns(runsFile(ctx.paths), limit) }),
    generateLatest: async () => {
      const run = (await listRuns(runsFile(ctx.paths), 50)).find((r) => r.ok && r.images.length > 0);
      // The path comes from the panel's own run history, never from the UI.
      const image = run?.images[0];
      return { run, preview: image ? await preview(image).catch(() => undefined) : undefined };
    },
    comfyStatus: async () => comfyStatus(await client()),
  } satisfies Partial<PanelHandlers>;
}
