import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { comfyClientFor } from '../../comfy/connect.js';
import { runGeneration } from '../../comfy/generation.js';
import { listRuns, runsFile } from '../../comfy/runs.js';
import { comfyStatus } from '../../comfy/status.js';
import { builtinWorkflows, loadWorkflow, type BuiltinWorkflow, type WorkflowSource } from '../../comfy/workflow.js';
import type { GenerationProgress, GenerationResult } from '../../contract/ops/generate.js';
import type { CliContext } from '../context.js';

function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function progressLine(p: GenerationProgress): string {
  const node = p.node ? ` ${p.nodeClass ?? 'node'} (node ${p.node})` : '';
  const step = p.step ? ` step ${p.step.value}/${p.step.max}` : '';
  return `[${p.percent.toFixed(0).padStart(3)}%] ${p.phase}${node}${step}${p.message ? ` — ${p.message}` : ''}`;
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

function summary(r: GenerationResult): string {
  const t = r.timings;
  const head = r.ok ? `generated ${r.images.length} image(s)${r.cached ? ' (served from cache)' : ''} with ${r.workflow}` : `generation failed: ${r.error}`;
  const lines = [head, ...r.images.map((i) => `  ${i}`)];
  // Before a prompt id there was nothing to time but the panel itself.
  if (r.promptId) {
    lines.push(`prompt ${r.promptId}`);
    lines.push(`queue ${t.queueMs} ms, execution ${t.executionMs} ms, download ${t.downloadMs} ms, panel ${t.overheadMs} ms, total ${t.totalMs} ms`);
  }
  return lines.join('\n');
}

export function registerGenerateCommands(program: Command, cli: CliContext): void {
  program
    .command('generate')
    .description('run a test generation through the authenticated API and save the images (token: the vault, or COMFYUI_TOKEN)')
    .option('-w, --workflow <smoke|qwen|qwen-edit|FILE>', 'built-in workflow (qwen: Qwen-Image text-to-image; qwen-edit: Qwen-Image-Edit-2509 on input/example.png) or an API-format JSON file', 'smoke')
    .option('-p, --prompt <text>', 'positive prompt (workflows with a sampler)')
    .option('-n, --negative <text>', 'negative prompt')
    .option('--seed <n>', 'sampler seed', intOption(0, Number.MAX_SAFE_INTEGER))
    .option('--steps <n>', 'sampler steps', intOption(1, 1000))
    .option('--width <n>', 'image width', intOption(1, 16384))
    .option('--height <n>', 'image height', intOption(1, 16384))
    .option('-o, --out <dir>', 'folder for the images (default: <data dir>/generations)')
    .option('--no-preflight', 'skip checking node classes and model files before submitting')
    .action(async (opts: { workflow: string; prompt?: string; negative?: string; seed?: number; steps?: number; width?: number; height?: number; out?: string; preflight: boolean }) => {
      const { config } = await cli.config();
      const source: WorkflowSource = (builtinWorkflows as string[]).includes(opts.workflow) ? (opts.workflow as BuiltinWorkflow) : { file: path.resolve(opts.workflow) };
      const workflow = await loadWorkflow(source);
      const client = await comfyClientFor(config, cli.paths, { env: process.env });
      // Ctrl-C interrupts the prompt on the server instead of leaving it running there.
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let last = '';
      let result: GenerationResult;
      try {
        result = await runGeneration({
          client,
          workflow,
          params: { prompt: opts.prompt, negative: opts.negative, seed: opts.seed, steps: opts.steps, width: opts.width, height: opts.height },
          outDir: path.resolve(opts.out ?? path.join(cli.paths.dataDir, 'generations')),
          preflight: opts.preflight ? {} : false,
          signal: abort.signal,
          historyFile: runsFile(cli.paths),
          onProgress: (p) => {
            const line = progressLine(p);
            if (line !== last) cli.progress(line);
            last = line;
          },
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
      if (!result.ok) process.exitCode = 1;
      cli.print({ json: result, human: () => summary(result) });
    });

  program
    .command('generate-history')
    .description('list the latest test generations, newest first')
    .option('-l, --limit <n>', 'how many', intOption(1, 1000), 20)
    .action(async (opts: { limit: number }) => {
      const runs = await listRuns(runsFile(cli.paths), opts.limit);
      cli.print({
        json: { runs },
        human: () =>
          runs.length
            ? runs.map((r) => `${r.time}  ${r.ok ? 'ok    ' : 'FAILED'}  ${r.workflow}  ${r.timings.totalMs} ms  ${r.ok ? r.images.join(', ') : r.error}`).join('\n')
            : 'no test generations yet',
      });
    });

  program
    .command('comfy-status')
    .description('ComfyUI version, devices and queue, through the authenticated API')
    .action(async () => {
      const { config } = await cli.config();
      const status = await comfyStatus(await comfyClientFor(config, cli.paths, { env: process.env }));
      if (!status.ok) process.exitCode = 1;
      cli.print({
        json: status,
        human: () =>
          status.ok
            ? [
                `ComfyUI ${status.version ?? '(version unknown)'} at ${status.url} (${status.latencyMs} ms)`,
                ...status.devices.map((d) => `  ${d.name} [${d.type}]${d.vramTotal ? ` VRAM ${gib(d.vramFree ?? 0)} of ${gib(d.vramTotal)} GiB free` : ''}`),
                `  queue: ${status.queue?.running ?? 0} running, ${status.queue?.pending ?? 0} pending`,
              ].join('\n')
            : `${status.url}: ${status.error}`,
      });
    });
}
