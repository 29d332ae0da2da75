import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiGraph } from '../../app/comfy/client.js';
import { applyParams, loadWorkflow, parseWorkflow, withDefaultSeed } from '../../app/comfy/workflow.js';
import { ConfigError } from '../../app/errors.js';

/** The qwen graph with ids shuffled: roles must be found by links, not by id. */
function renumber(graph: ApiGraph, map: Record<string, string>): ApiGraph {
  const out: ApiGraph = {};
  for (const [id, node] of Object.entries(graph)) {
    const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, Array.isArray(v) ? [map[String(v[0])], v[1]] : v]));
    out[map[id]!] = { ...node, inputs };
  }
  return out;
}

describe('built-in workflows', () => {
  it('smoke is the reference graph', async () => {
    const { graph } = await loadWorkflow('smoke');
    expect(graph['1']).toMatchObject({ class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } });
    expect(graph['2']).toMatchObject({ class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'smoke' } });
  });

  it('qwen uses the native fp8 nodes of the reference', async () => {
    const { graph } = await loadWorkflow('qwen');
    const byClass = Object.fromEntries(Object.values(graph).map((n) => [n.class_type, n.inputs]));
    expect(byClass.UNETLoader).toEqual({ unet_name: 'qwen_image_fp8_e4m3fn.safetensors', weight_dtype: 'fp8_e4m3fn' });
    expect(byClass.CLIPLoader).toEqual({ clip_name: 'qwen_2.5_vl_7b_fp8_scaled.safetensors', type: 'qwen_image' });
    expect(byClass.VAELoader).toEqual({ vae_name: 'qwen_image_vae.safetensors' });
    expect(byClass.ModelSamplingAuraFlow).toMatchObject({ shift: 3.1 });
    expect(byClass.EmptySD3LatentImage).toMatchObject({ width: 1024, height: 1024 });
    expect(byClass.KSampler).toMatchObject({ sampler_name: 'euler', steps: 20 });
    expect(Object.values(graph).filter((n) => n.class_type === 'CLIPTextEncode')).toHaveLength(2);
    expect(byClass.VAEDecode).toBeDefined();
    expect(byClass.SaveImage).toBeDefined();
  });

  it('loads return fresh copies', async () => {
    const a = await loadWorkflow('smoke');
    a.graph['1']!.inputs.width = 1;
    expect((await loadWorkflow('smoke')).graph['1']!.inputs.width).toBe(64);
  });
});

describe('parseWorkflow: clear errors naming the node and field', () => {
  it.each([
    [{ '3': { inputs: {} } }, /wf\.json: node 3 field class_type:/],
    [{ '3': { class_type: 'X', inputs: 5 } }, /wf\.json: node 3 field inputs:/],
    [{}, /wf\.json: the workflow has no nodes/],
    [[1, 2], /wf\.json:/],
    [{ '3': { class_type: 'SaveImage', inputs: { images: ['9', 0] } } }, /node 3 \(SaveImage\) input "images" links to node 9, which is not in the workflow/],
    [{ nodes: [], links: [] }, /UI-format workflow/],
  ])('%j', (json, message) => {
    expect(() => parseWorkflow(json, 'wf.json')).toThrow(message);
    expect(() => parseWorkflow(json, 'wf.json')).toThrow(ConfigError);
  });

  it('reads a user file and names it in errors', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'comfy-wf-'));
    const good = path.join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } }));
    expect((await loadWorkflow({ file: good })).name).toBe(good);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"1": ');
    await expect(loadWorkflow({ file: bad })).rejects.toThrow(`${bad}: not valid JSON`);
    // A secret file picked by mistake is not quoted back.
    const secret = path.join(dir, 'PASSWORD');
    await writeFile(secret, '$2b$04$abcdefghijklmnopqrstuuWGKdvkEpkOnXnO5cjuD4xw4IjaSwgAi\nadmin');
    const err = (await loadWorkflow({ file: secret }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${secret}: not valid JSON`);
    await expect(loadWorkflow({ file: path.join(dir, 'none.json') })).rejects.toThrow(/none\.json: cannot read the workflow \(ENOENT\)/);
    await rm(dir, { recursive: true });
  });
});

describe('applyParams: by node role, not by id', () => {
  const map = { '1': 'u', '2': 'c', '3': 'v', '4': 'm', '5': 'neg', '6': 'pos', '7': 'lat', '8': 's', '9': 'd', '10': 'out' };

  it('follows the sampler links to the encoders and the latent, on any ids', async () => {
    // Swap which encoder is which: positive must follow the link, not the order.
    const base = renumber((await loadWorkflow('qwen')).graph, { ...map, '5': 'pos', '6': 'neg' });
    const g = applyParams(base, { prompt: 'a cat', negative: 'blurry', seed: 7, steps: 4, width: 512, height: 768, filenamePrefix: 'run/x' });
    expect(g.pos!.inputs.text).toBe('a cat');
    expect(g.neg!.inputs.text).toBe('blurry');
    expect(g.s!.inputs).toMatchObject({ seed: 7, steps: 4 });
    expect(g.lat!.inputs).toMatchObject({ width: 512, height: 768 });
    expect(g.out!.inputs.filename_prefix).toBe('run/x');
    expect(base.pos!.inputs.text).not.toBe('a cat'); // input left untouched
  });

  it('goes through intermediate conditioning nodes and SamplerCustom sigmas', () => {
    const g: ApiGraph = {
      enc: { class_type: 'TextEncodeQwenImageEdit', inputs: { prompt: 'old', clip: ['clip', 0] } },
      clip: { class_type: 'CLIPLoader', inputs: { clip_name: 'c.safetensors', type: 'qwen_image' } },
      guide: { class_type: 'FluxGuidance', inputs: { conditioning: ['enc', 0], guidance: 3 } },
      zero: { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['enc', 0] } },
      sched: { class_type: 'BasicScheduler', inputs: { steps: 20, scheduler: 'simple', denoise: 1 } },
      lat: { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } },
      s: { class_type: 'SamplerCustom', inputs: { positive: ['guide', 0], negative: ['zero', 0], sigmas: ['sched', 0], latent_image: ['lat', 0], noise_seed: 1 } },
    };
    const out = applyParams(g, { prompt: 'new', steps: 8, seed: 3 });
    expect(out.enc!.inputs.prompt).toBe('new');
    expect(out.sched!.inputs.steps).toBe(8);
    expect(out.s!.inputs.noise_seed).toBe(3);
    expect(() => applyParams(g, { negative: 'x' })).toThrow(/negative conditioning is derived from the positive encoder/);
  });

  it('sets the smoke size on EmptyImage and refuses sampler parameters it cannot apply', async () => {
    const { graph } = await loadWorkflow('smoke');
    expect(applyParams(graph, { width: 32, height: 16 })['1']!.inputs).toMatchObject({ width: 32, height: 16 });
    expect(() => applyParams(graph, { prompt: 'x' })).toThrow(/no sampler .* --prompt cannot be applied/);
    expect(() => applyParams(graph, { steps: 3 })).toThrow(ConfigError);
  });

  it('names the sampler when a link leads nowhere useful', () => {
    const g: ApiGraph = {
      k: { class_type: 'KSampler', inputs: { positive: ['c', 0], negative: ['c', 0], latent_image: ['l', 0], seed: 1, steps: 2 } },
      c: { class_type: 'SomeConditioning', inputs: { strength: 1 } },
      l: { class_type: 'LoadLatent', inputs: { latent: 'x.latent' } },
    };
    expect(() => applyParams(g, { prompt: 'x' })).toThrow('KSampler (node k): its "positive" input does not lead to a text encoder');
    expect(() => applyParams(g, { width: 8 })).toThrow(/no empty latent or EmptyImage/);
  });
});

describe('default seed', () => {
  it('gives a sampler graph a fresh random seed unless one is chosen, and leaves a graph without a sampler alone', async () => {
    const qwen = (await loadWorkflow('qwen')).graph;
    const seeds = new Set(Array.from({ length: 5 }, () => withDefaultSeed(qwen, {}).seed));
    expect(seeds.size).toBe(5);
    expect(withDefaultSeed(qwen, { seed: 7 }).seed).toBe(7);
    expect(withDefaultSeed((await loadWorkflow('smoke')).graph, {})).toEqual({});
  });
});
