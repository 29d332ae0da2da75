import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { ComfyClient } from '../../app/comfy/client.js';
import { startComfyDouble, type ComfyDouble } from '../comfy-double/server.js';

export const PASSWORD = 'raw-password-not-the-token';

export interface DoubleSetup {
  dir: string;
  hash: string;
  comfy: ComfyDouble;
  client(token?: string | null, timeoutMs?: number): ComfyClient;
  /** Model files the qwen workflow needs, as minimal safetensors (8-byte header length + "{}"). */
  installQwenModels(): Promise<void>;
  close(): Promise<void>;
}

const QWEN_MODELS = [
  'diffusion_models/qwen_image_fp8_e4m3fn.safetensors',
  'text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors',
  'vae/qwen_image_vae.safetensors',
];

/** A ComfyUI double with ComfyUI-Login in a fresh folder; the hash (cost 4 for speed) is the token. */
export async function startDouble(opts: { samplerMs?: number; login?: boolean } = {}): Promise<DoubleSetup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'comfy-test-'));
  const hash = bcrypt.hashSync(PASSWORD, 4);
  await mkdir(path.join(dir, 'login'), { recursive: true });
  await writeFile(path.join(dir, 'login', 'PASSWORD'), `${hash}\nadmin`);
  const comfy = await startComfyDouble({ dir, samplerMs: opts.samplerMs ?? 0, login: opts.login });
  return {
    dir,
    hash,
    comfy,
    client: (token, timeoutMs = 3000) => new ComfyClient({ baseUrl: comfy.url, token: token === null ? undefined : (token ?? hash), timeoutMs }),
    async installQwenModels() {
      const header = Buffer.alloc(8);
      header.writeBigUInt64LE(2n);
      for (const f of QWEN_MODELS) await writeFile(path.join(dir, 'models', f), Buffer.concat([header, Buffer.from('{}')]));
    },
    async close() {
      try {
        await comfy.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Width and height from a PNG's IHDR, after checking the signature. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(signature)) throw new Error('not a PNG: bad signature');
  if (buf.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG: first chunk is not IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
