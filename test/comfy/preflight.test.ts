import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../app/comfy/client.js';
import type { ComfyMessage } from '../../app/comfy/messages.js';
import { PreflightError, preflightProblems, workflowModels } from '../../app/comfy/preflight.js';
import { PromptTracker } from '../../app/comfy/tracker.js';
import { applyParams, loadWorkflow } from '../../app/comfy/workflow.js';
import type { GenerationProgress } from '../../app/contract/ops/generate.js';

/** /object_info in both shapes ComfyUI has used: classic combo lists and ["COMBO", {options}]. */
const info: ObjectInfo = {
  UNETLoader: { input: { required: { unet_name: ['COMBO', { options: ['other.safetensors'] }], weight_dtype: [['default', 'fp8_e4m3fn']] } } },
  EmptyImage: { input: { required: { width: ['INT', { min: 1, max: 16384 }], height: ['INT', { min: 1, max: 16384 }], batch_size: ['INT', {}], color: ['INT', {}] } } },
  SaveImage: { input: { required: { images: ['IMAGE'], filename_prefix: ['STRING', {}] } } },
  KSampler: { input: { required: { sampler_name: [['euler', 'dpmpp_2m']] } } },
};

describe('preflightProblems', () => {
  it('names missing models with their folder, bad choices and out-of-range numbers', async () => {
    const problems = await preflightProblems(info, {
      '1': { class_type: 'UNETLoader', inputs: { unet_name: 'qwen_image_fp8_e4m3fn.safetensors', weight_dtype: 'fp8_e4m3fn' } },
      '2': { class_type: 'EmptyImage', inputs: { width: 0, height: 99999, batch_size: 1, color: 0 } },
      '3': { class_type: 'KSampler', inputs: { sampler_name: 'heun' } },
      '4': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'x' } },
    });
    expect(problems.map((p) => p.message)).toEqual([
      'UNETLoader (node 1) needs qwen_image_fp8_e4m3fn.safetensors in models/diffusion_models',
      'EmptyImage (node 2): width 0 is below the minimum 1',
      'EmptyImage (node 2): height 99999 is above the maximum 16384',
      'KSampler (node 3): sampler_name "heun" is not one of the server\'s choices (euler, dpmpp_2m)',
    ]);
    expect(problems[0]).toMatchObject({ node: '1', classType: 'UNETLoader', input: 'unet_name' });
  });

  it('passes the smoke graph', async () => {
    expect(await preflightProblems(info, (await loadWorkflow('smoke')).graph)).toEqual([]);
  });
});

describe('PromptTracker', () => {
  const messages: fc.Arbitrary<ComfyMessage> = fc.oneof(
    fc.constantFrom<ComfyMessage>(
      { type: 'execution_start', promptId: 'p' },
      { type: 'execution_cached', promptId: 'p', nodes: ['1'] },
      { type: 'executing', promptId: 'p', node: '2' },
      { type: 'executing', promptId: 'other', node: '1' },
      { type: 'executed', promptId: 'p', node: '2', images: [{ filename: 'a.png', subfolder: '', type: 'output' }] },
      { type: 'status', queueRemaining: 1 },
    ),
    fc.record({ type: fc.constant('progress' as const), promptId: fc.constantFrom('p', undefined), value: fc.integer({ min: -5, max: 50 }), max: fc.integer({ min: -1, max: 40 }) }),
  );

  it('any message order keeps percent within 0..99 and never going back, until the end', async () => {
    const graph = (await loadWorkflow('smoke')).graph;
    fc.assert(
      fc.property(fc.array(messages, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (msgs, cut) => {
        const seen: GenerationProgress[] = [];
        const t = new PromptTracker(graph, 'r', (p) => seen.push(p));
        msgs.slice(0, cut).forEach((m) => t.onMessage(m)); // buffered before the id is known
        t.setPromptId('p');
        msgs.slice(cut).forEach((m) => t.onMessage(m));
        const percents = seen.map((s) => s.percent);
        expect(percents).toEqual([...percents].sort((a, b) => a - b));
        expect(percents.every((p) => p >= 0 && p <= 99)).toBe(true);
        t.onMessage({ type: 'executing', promptId: 'p', node: null });
        expect(t.settled).toBe(true);
      }),
    );
  });

  it('ends at execution_success when executing {node: null} never comes', async () => {
    const seen: GenerationProgress[] = [];
    const t = new PromptTracker((await loadWorkflow('smoke')).graph, 'r', (p) => seen.push(p), 20);
    t.setPromptId('p');
    t.onMessage({ type: 'execution_start', promptId: 'p' });
    t.onMessage({ type: 'execution_success', promptId: 'p' });
    expect(t.settled).toBe(false);
    expect(await t.done).toEqual({ kind: 'success' });
  });
});

describe('the built-in Qwen workflows and the models each needs', () => {
  it('text-to-image loads Qwen-Image, the edit workflow Qwen-Image-Edit-2509 with an input image; each lists its files and folders', async () => {
    const t2i = await loadWorkflow('qwen');
    const edit = await loadWorkflow('qwen-edit');
    const files = (g: typeof t2i.graph) => workflowModels(g).map((m) => `${m.folder}/${m.file}`);
    expect(files(t2i.graph)).toEqual(['models/diffusion_models/qwen_image_fp8_e4m3fn.safetensors', 'models/text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors', 'models/vae/qwen_image_vae.safetensors']);
    expect(files(edit.graph)).toEqual(['models/diffusion_models/qwen_image_edit_2509_fp8_e4m3fn.safetensors', 'models/text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors', 'models/vae/qwen_image_vae.safetensors']);
    expect(Object.values(t2i.graph).some((n) => n.class_type === 'LoadImage')).toBe(false);
    expect(Object.values(edit.graph).find((n) => n.class_type === 'LoadImage')?.inputs.image).toBe('example.png');
    // The edit instruction is the prompt: it lands in the Qwen edit encoder on the sampler's positive side.
    const applied = applyParams(edit.graph, { prompt: 'paint it blue', negative: 'blurry', seed: 7, steps: 4 });
    const byTitle = (title: string) => Object.values(applied).find((n) => n._meta?.title?.startsWith(title))!;
    expect(byTitle('Positive Prompt').inputs.prompt).toBe('paint it blue');
    expect(byTitle('Negative Prompt').inputs.prompt).toBe('blurry');
    expect(byTitle('KSampler').inputs).toMatchObject({ seed: 7, steps: 4 });
  });

  it("the preflight's fix names every model file of the workflow and its folder when one is missing", async () => {
    const edit = await loadWorkflow('qwen-edit');
    const e = new PreflightError([{ node: '1', classType: 'UNETLoader', message: 'UNETLoader (node 1) needs qwen_image_edit_2509_fp8_e4m3fn.safetensors in models/diffusion_models' }], workflowModels(edit.graph));
    expect(e.fix).toBe(
      "This workflow needs qwen_image_edit_2509_fp8_e4m3fn.safetensors in models/diffusion_models, qwen_2.5_vl_7b_fp8_scaled.safetensors in models/text_encoders, qwen_image_vae.safetensors in models/vae (the folders under the container's ComfyUI root); put the missing ones there, restart ComfyUI so it rescans, then try again",
    );
  });
});
