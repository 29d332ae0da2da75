import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { totalmem } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyClient } from '../../app/comfy/client.js';
import { loadWorkflow } from '../../app/comfy/workflow.js';
import { ConfigError } from '../../app/errors.js';
import { capabilityMatrix, instanceCapabilities, workflowRequirements, type CapabilityProbe } from '../../app/fleet/capabilities.js';
import { startDouble, type DoubleSetup } from '../comfy/support.js';

let withModels: DoubleSetup;
let bare: DoubleSetup;
let downUrl: string;

/** A port that was just free: nothing listens on it. */
async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  [withModels, bare, downUrl] = await Promise.all([startDouble(), startDouble(), closedPortUrl()]);
  await withModels.installQwenModels();
});
afterAll(async () => {
  await Promise.all([withModels?.close(), bare?.close()]);
});

async function probeAll(): Promise<({ id: string } & CapabilityProbe)[]> {
  const clients = { models: withModels.client(), bare: bare.client(), down: new ComfyClient({ baseUrl: downUrl, timeoutMs: 2000 }) };
  return Promise.all(Object.entries(clients).map(async ([id, c]) => ({ id, ...(await instanceCapabilities(c)) })));
}

const MIB = 1024 * 1024;
const QWEN_FILES = [
  { folder: 'diffusion_models', file: 'qwen_image_fp8_e4m3fn.safetensors' },
  { folder: 'text_encoders', file: 'qwen_2.5_vl_7b_fp8_scaled.safetensors' },
  { folder: 'vae', file: 'qwen_image_vae.safetensors' },
];

describe('instanceCapabilities', () => {
  it('reads node classes, model files per folder, VRAM and which inputs name which folder', async () => {
    const probe = await instanceCapabilities(withModels.client());
    const caps = probe.capabilities!;
    expect(caps.nodeClasses).toEqual(expect.arrayContaining(['EmptyImage', 'SaveImage', 'UNETLoader', 'KSampler']));
    expect(caps.nodeClasses).not.toContain('LoraLoader');
    for (const m of QWEN_FILES) expect(caps.models[m.folder]).toEqual([m.file]);
    expect(caps.models.checkpoints).toEqual([]);
    // The double's one device is the CPU, whose "VRAM" ComfyUI reports as the RAM.
    expect(caps.vram).toMatchObject({ device: 'cpu', type: 'cpu', totalMb: Math.floor(totalmem() / MIB) });
    // Derived from /object_info against /models: VAELoader's extra choice is no file.
    expect(caps.modelInputs).toEqual({
      'UNETLoader.unet_name': { folder: 'diffusion_models', extras: [] },
      'CLIPLoader.clip_name': { folder: 'text_encoders', extras: [] },
      'VAELoader.vae_name': { folder: 'vae', extras: ['pixel_space'] },
    });
  });

  it('learns nothing from empty folders: an empty list matches every empty folder', async () => {
    expect((await instanceCapabilities(bare.client())).capabilities!.modelInputs).toEqual({});
  });

  it('learns nothing where two folders hold the same files', async () => {
    const d = await startDouble();
    try {
      for (const folder of ['vae', 'loras']) await writeFile(path.join(d.dir, 'models', folder, 'same.safetensors'), 'stand-in model');
      const caps = (await instanceCapabilities(d.client())).capabilities!;
      expect(caps.models).toMatchObject({ vae: ['same.safetensors'], loras: ['same.safetensors'] });
      expect(caps.modelInputs).toEqual({});
    } finally {
      await d.close();
    }
  });

  it('returns a refused token as the error of that instance, without the token', async () => {
    const probe = await instanceCapabilities(withModels.client('$2b$04$not-the-token'));
    expect(probe).toMatchObject({ errorKind: 'unauthorized' });
    expect(probe.error).not.toContain('not-the-token');
  });
});

describe('workflowRequirements', () => {
  it('lists the classes and model files of the built-in Qwen workflow from the core loaders alone', async () => {
    const { graph } = await loadWorkflow('qwen-edit');
    const req = workflowRequirements(graph);
    expect(req.nodeClasses).toEqual([...new Set(Object.values(graph).map((n) => n.class_type))].sort());
    expect(req.models.map(({ folder, file }) => ({ folder, file }))).toEqual([
      { folder: 'diffusion_models', file: 'qwen_image_edit_2509_fp8_e4m3fn.safetensors' },
      { folder: 'text_encoders', file: 'qwen_2.5_vl_7b_fp8_scaled.safetensors' },
      { folder: 'vae', file: 'qwen_image_vae.safetensors' },
    ]);
    expect(req.models[2]!.nodes).toEqual(['3']);
    expect(req).not.toHaveProperty('minVramMb');
  });

  it('needs no file for a choice an instance offers besides its files', async () => {
    const graph = { '1': { class_type: 'VAELoader', inputs: { vae_name: 'pixel_space' } } };
    const caps = (await instanceCapabilities(withModels.client())).capabilities!;
    expect(workflowRequirements(graph, { learnedFrom: [caps] }).models).toEqual([]);
  });

  it('refuses a VRAM need that is not a positive number, naming the field', () => {
    const smoke = { '1': { class_type: 'EmptyImage', inputs: {} } };
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => workflowRequirements(smoke, { minVramMb: bad })).toThrow(ConfigError);
      expect(() => workflowRequirements(smoke, { minVramMb: bad })).toThrow(/minVramMb/);
    }
  });
});

describe('capabilityMatrix', () => {
  it('smoke runs on every reachable double; the down one is an error row and the others are unaffected', async () => {
    const rows = capabilityMatrix(workflowRequirements((await loadWorkflow('smoke')).graph), await probeAll());
    expect(rows.map((r) => [r.id, r.ok])).toEqual([
      ['models', true],
      ['bare', true],
      ['down', false],
    ]);
    expect(rows[0]).toEqual({ id: 'models', ok: true, missingNodes: [], missingModels: [], vram: { needMb: undefined, haveMb: Math.floor(totalmem() / MIB), ok: true } });
    expect(rows[2]).toMatchObject({ missingNodes: [], missingModels: [], vram: { ok: false } });
    expect(rows[2]!.error).toMatch(/127\.0\.0\.1/);
  });

  it('Qwen runs where its files are and names them where they are not', async () => {
    const perInstance = await probeAll();
    const learnedFrom = perInstance.flatMap((p) => (p.capabilities ? [p.capabilities] : []));
    const rows = capabilityMatrix(workflowRequirements((await loadWorkflow('qwen')).graph, { learnedFrom }), perInstance);
    expect(rows[0]).toMatchObject({ id: 'models', ok: true, missingModels: [] });
    expect(rows[1]).toMatchObject({ id: 'bare', ok: false, missingNodes: [], missingModels: QWEN_FILES });
  });

  it('names a node class and a model file the double lacks', async () => {
    const graph = {
      '1': { class_type: 'UNETLoader', inputs: { unet_name: 'flux1-dev.safetensors', weight_dtype: 'default' } },
      '2': { class_type: 'FancyCustomSampler', inputs: { model: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'x' } },
    };
    const perInstance = await probeAll();
    const learnedFrom = perInstance.flatMap((p) => (p.capabilities ? [p.capabilities] : []));
    const rows = capabilityMatrix(workflowRequirements(graph, { learnedFrom }), perInstance);
    for (const row of rows.slice(0, 2)) {
      expect(row).toMatchObject({ ok: false, missingNodes: ['FancyCustomSampler'], missingModels: [{ folder: 'diffusion_models', file: 'flux1-dev.safetensors' }] });
      expect(row.error).toBeUndefined();
    }
  });

  it('a VRAM need above what the double reports fails only the VRAM check', async () => {
    const haveMb = Math.floor(totalmem() / MIB);
    const perInstance = (await probeAll()).slice(0, 1);
    const { graph } = await loadWorkflow('smoke');
    const [over] = capabilityMatrix(workflowRequirements(graph, { minVramMb: haveMb + 1 }), perInstance);
    expect(over).toMatchObject({ ok: false, missingNodes: [], missingModels: [], vram: { needMb: haveMb + 1, haveMb, ok: false } });
    const [fits] = capabilityMatrix(workflowRequirements(graph, { minVramMb: haveMb }), perInstance);
    expect(fits).toMatchObject({ ok: true, vram: { needMb: haveMb, haveMb, ok: true } });
  });
});
