import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The reference's model-free smoke graph: a 64x64 black PNG named smoke_NNNNN_.png. */
export const SMOKE_GRAPH = {
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'smoke' } },
};

/** The Qwen-Image (text-to-image) fp8 model files, by the models/ folder the double reads them from. */
export const QWEN_MODELS: Readonly<Record<'diffusion_models' | 'text_encoders' | 'vae', string>> = {
  diffusion_models: 'qwen_image_fp8_e4m3fn.safetensors',
  text_encoders: 'qwen_2.5_vl_7b_fp8_scaled.safetensors',
  vae: 'qwen_image_vae.safetensors',
};

/**
 * Creates stand-ins for the Qwen model files under `<root>/models/`. The double accepts any
 * file of 8 bytes or more; a shorter one fails at load like a corrupt safetensors file.
 */
export function installQwenModels(root: string, content = 'stand-in for a model file'): void {
  for (const [folder, name] of Object.entries(QWEN_MODELS)) {
    mkdirSync(join(root, 'models', folder), { recursive: true });
    writeFileSync(join(root, 'models', folder, name), content);
  }
}

/** The Qwen workflow in API format (native nodes); KSampler reports `steps` progress messages. */
export function qwenGraph(opts: { width?: number; height?: number; steps?: number; seed?: number; prompt?: string; prefix?: string } = {}) {
  return {
    '1': { class_type: 'UNETLoader', inputs: { unet_name: QWEN_MODELS.diffusion_models, weight_dtype: 'fp8_e4m3fn' } },
    '2': { class_type: 'CLIPLoader', inputs: { clip_name: QWEN_MODELS.text_encoders, type: 'qwen_image', device: 'default' } },
    '3': { class_type: 'VAELoader', inputs: { vae_name: QWEN_MODELS.vae } },
    '4': { class_type: 'ModelSamplingAuraFlow', inputs: { model: ['1', 0], shift: 3.1 } },
    '5': { class_type: 'EmptySD3LatentImage', inputs: { width: opts.width ?? 1024, height: opts.height ?? 1024, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: opts.prompt ?? 'a red fox in the snow', clip: ['2', 0] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 0] } },
    '8': {
      class_type: 'KSampler',
      inputs: { model: ['4', 0], seed: opts.seed ?? 42, steps: opts.steps ?? 20, cfg: 2.5, sampler_name: 'euler', scheduler: 'simple', positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], denoise: 1 },
    },
    '9': { class_type: 'VAEDecode', inputs: { samples: ['8', 0], vae: ['3', 0] } },
    '10': { class_type: 'SaveImage', inputs: { images: ['9', 0], filename_prefix: opts.prefix ?? 'qwen' } },
  };
}
