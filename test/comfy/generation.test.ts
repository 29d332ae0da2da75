import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGeneration, type RunGenerationOptions } from '../../app/comfy/generation.js';
import { listRuns } from '../../app/comfy/runs.js';
import { loadWorkflow } from '../../app/comfy/workflow.js';
import type { GenerationProgress } from '../../app/contract/ops/generate.js';
import { startComfyDouble, type ComfyDouble } from '../comfy-double/server.js';
import { pngSize, startDouble, type DoubleSetup } from './support.js';

let d: DoubleSetup;
let out: string;
beforeAll(async () => {
  d = await startDouble({ samplerMs: 150 });
  await d.installQwenModels();
  out = await mkdtemp(path.join(tmpdir(), 'comfy-gen-out-'));
});
afterAll(async () => {
  await d?.close();
  await rm(out, { recursive: true, force: true });
});

async function run(opts: Partial<RunGenerationOptions> & { workflow: RunGenerationOptions['workflow'] }) {
  const events: GenerationProgress[] = [];
  const result = await runGeneration({ client: d.client(), outDir: out, onProgress: (p) => events.push(p), ...opts });
  return { result, events };
}

describe('runGeneration against the double', () => {
  it('smoke end to end: a real PNG of the asked size is saved, timed and recorded', async () => {
    const historyFile = path.join(out, 'runs.jsonl');
    const { result, events } = await run({ workflow: await loadWorkflow('smoke'), params: { width: 48, height: 32, filenamePrefix: 'gen-smoke' }, historyFile });
    expect(result).toMatchObject({ ok: true, workflow: 'smoke', cached: false });
    expect(result.images).toHaveLength(1);
    expect(path.basename(result.images[0]!)).toBe('gen-smoke_00001_.png');
    expect(pngSize(await readFile(result.images[0]!))).toEqual({ width: 48, height: 32 });
    const t = result.timings;
    for (const v of Object.values(t)) expect(v).toBeGreaterThanOrEqual(0);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.queueMs + t.executionMs + t.downloadMs);
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(['queued', 'running', 'downloading', 'done']));
    expect(events.at(-1)).toMatchObject({ phase: 'done', percent: 100, promptId: result.promptId });
    const [record] = await listRuns(historyFile, 5);
    expect(record).toMatchObject({ ok: true, runId: result.runId, images: result.images, workflow: 'smoke', params: { width: 48, height: 32 } });
    expect(JSON.stringify(record)).not.toContain(d.hash);
  });

  it('qwen in sampler mode: per-step progress in order, percent never goes back and ends at 100', async () => {
    const historyFile = path.join(out, 'qwen-runs.jsonl');
    const { result, events } = await run({ workflow: await loadWorkflow('qwen'), params: { steps: 6, width: 64, height: 64, prompt: 'a red fox', seed: 5 }, historyFile });
    expect(result.ok).toBe(true);
    // The history can reopen the run: its prompt and seed are recorded with it.
    expect((await listRuns(historyFile, 1))[0]?.params).toEqual({ prompt: 'a red fox', seed: 5, width: 64, height: 64, steps: 6 });
    expect(pngSize(await readFile(result.images[0]!))).toEqual({ width: 64, height: 64 });
    const steps = events.filter((e) => e.step).map((e) => e.step!.value);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.filter((e) => e.step).every((e) => e.nodeClass === 'KSampler' && e.step!.max === 6)).toBe(true);
    const percents = events.map((e) => e.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(percents.filter((p) => p === 100)).toHaveLength(1);
    expect(result.timings.executionMs).toBeGreaterThan(0);
  });

  it('identical resubmission is served from cache: same image bytes, a new local file', async () => {
    const wf = await loadWorkflow('smoke');
    const params = { width: 24, height: 24, filenamePrefix: 'cache-me' };
    const first = await run({ workflow: wf, params });
    const second = await run({ workflow: wf, params });
    expect(first.result.cached).toBe(false);
    expect(second.result).toMatchObject({ ok: true, cached: true });
    expect(second.result.images[0]).not.toBe(first.result.images[0]);
    expect(path.basename(second.result.images[0]!)).toBe('cache-me_00001_-1.png');
    expect(await readFile(second.result.images[0]!)).toEqual(await readFile(first.result.images[0]!));
    expect(second.events.at(-1)).toMatchObject({ phase: 'done', percent: 100 });
  });

  it('missing models are named before anything is submitted', async () => {
    const bare = await startDouble();
    try {
      const result = await runGeneration({ client: bare.client(), workflow: await loadWorkflow('qwen'), outDir: out });
      expect(result).toMatchObject({ ok: false, errorKind: 'preflight' });
      expect(result.promptId).toBeUndefined();
      expect(result.error).toContain('UNETLoader (node 1) needs qwen_image_fp8_e4m3fn.safetensors in models/diffusion_models');
      expect(result.error).toContain('CLIPLoader (node 2) needs qwen_2.5_vl_7b_fp8_scaled.safetensors in models/text_encoders');
      expect(result.error).toContain('VAELoader (node 3) needs qwen_image_vae.safetensors in models/vae');
      expect(await bare.client().queue()).toEqual({ running: [], pending: [] });
      // With a container file check, a file the server has not listed is told apart from a missing one.
      const seen: string[] = [];
      const checked = await runGeneration({
        client: bare.client(),
        workflow: await loadWorkflow('qwen'),
        outDir: out,
        preflight: { fileExists: async (p) => (seen.push(p), p.endsWith('qwen_image_vae.safetensors')) },
      });
      expect(checked.error).toContain('qwen_image_vae.safetensors: it is in models/vae but the server does not list it; restart ComfyUI');
      expect(seen).toContain('models/diffusion_models/qwen_image_fp8_e4m3fn.safetensors');
    } finally {
      await bare.close();
    }
  });

  it('an unknown node is named by the preflight, and by invalid_prompt when the preflight is skipped', async () => {
    const wf = await loadWorkflow('smoke');
    wf.graph['9'] = { class_type: 'FancyUpscaler', inputs: { image: ['1', 0] } };
    const checked = await run({ workflow: wf });
    expect(checked.result).toMatchObject({ ok: false, errorKind: 'preflight' });
    expect(checked.result.error).toContain('FancyUpscaler (node 9) is not a node class on this server');
    const unchecked = await run({ workflow: wf, preflight: false });
    expect(unchecked.result).toMatchObject({ ok: false, errorKind: 'invalid-prompt' });
    expect(unchecked.result.error).toMatch(/node FancyUpscaler does not exist.*used by node 9/);
    expect(unchecked.events.at(-1)).toMatchObject({ phase: 'failed' });
  });

  it('a run without a seed records the seed it drew, so the history can repeat it', async () => {
    const historyFile = path.join(out, 'drawn-seed.jsonl');
    const { result } = await run({ workflow: await loadWorkflow('qwen'), params: { steps: 1, width: 32, height: 32, prompt: 'a lighthouse' }, historyFile });
    expect(result.ok).toBe(true);
    const [record] = await listRuns(historyFile, 1);
    expect(record?.params).toMatchObject({ prompt: 'a lighthouse' });
    expect(Number.isInteger(record?.params?.seed)).toBe(true);
  });

  it('a wrong token fails with the 401 message and records no secret', async () => {
    const historyFile = path.join(out, 'bad-token.jsonl');
    const result = await runGeneration({ client: d.client('not-the-hash'), workflow: await loadWorkflow('smoke'), outDir: out, historyFile });
    expect(result).toMatchObject({ ok: false, errorKind: 'unauthorized' });
    expect(result.error).toContain('the API token is the bcrypt hash from login/PASSWORD, not the raw password');
    expect(await readFile(historyFile, 'utf8')).not.toContain('not-the-hash');
  });
});

describe('interrupting a generation', () => {
  let slow: DoubleSetup;
  beforeAll(async () => {
    slow = await startDouble({ samplerMs: 4000 });
    await slow.installQwenModels();
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('aborting while the sampler runs interrupts it on the server', async () => {
    const abort = new AbortController();
    const events: GenerationProgress[] = [];
    const result = await runGeneration({
      client: slow.client(),
      workflow: await loadWorkflow('qwen'),
      params: { steps: 40, width: 64, height: 64 },
      outDir: out,
      signal: abort.signal,
      onProgress: (p) => {
        events.push(p);
        if (p.step?.value === 2) abort.abort();
      },
    });
    expect(result).toMatchObject({ ok: false, errorKind: 'interrupted', images: [] });
    expect(events.filter((e) => e.step).length).toBeLessThan(40);
    expect(await slow.client().queue()).toEqual({ running: [], pending: [] });
  });

  it('aborting a run still waiting in the queue removes it from the queue', async () => {
    const first = new AbortController();
    const second = new AbortController();
    const wf = await loadWorkflow('qwen');
    const running = runGeneration({ client: slow.client(), workflow: wf, params: { steps: 40, width: 64, height: 64, seed: 1 }, outDir: out, signal: first.signal });
    await expect.poll(async () => (await slow.client().queue()).running.length).toBe(1);
    const queued = runGeneration({
      client: slow.client(),
      workflow: wf,
      params: { steps: 40, width: 64, height: 64, seed: 2 },
      outDir: out,
      signal: second.signal,
      onProgress: (p) => p.phase === 'queued' && second.abort(),
    });
    const q = await queued;
    expect(q).toMatchObject({ ok: false, errorKind: 'interrupted' });
    expect((await slow.client().queue()).pending).toEqual([]);
    first.abort();
    expect(await running).toMatchObject({ ok: false, errorKind: 'interrupted' });
  });

  it('a server restart mid-run: the socket reconnects and the lost prompt is reported', async () => {
    const own = await startDouble({ samplerMs: 4000 });
    await own.installQwenModels();
    const port = own.comfy.port;
    let restarted: Promise<ComfyDouble> | undefined;
    try {
      const result = await runGeneration({
        client: own.client(),
        workflow: await loadWorkflow('qwen'),
        params: { steps: 40, width: 64, height: 64 },
        outDir: out,
        onProgress: (p) => {
          if (p.step) restarted ??= own.comfy.close().then(() => startComfyDouble({ dir: own.dir, port }));
        },
      });
      expect(result).toMatchObject({ ok: false, errorKind: 'not-found' });
      expect(result.error).toMatch(/no longer knows prompt .*restarted/);
    } finally {
      await (await restarted)?.close();
      await own.close().catch(() => undefined);
    }
  });

  it('an abort before submitting submits nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    const result = await runGeneration({ client: slow.client(), workflow: await loadWorkflow('smoke'), outDir: out, signal: abort.signal });
    expect(result).toMatchObject({ ok: false, errorKind: 'interrupted' });
    expect(result.promptId).toBeUndefined();
  });
});
