import { z } from 'zod';

/** Where ComfyUI keeps an image: what /view takes and `executed`/history return. */
export const ImageRefSchema = z.looseObject({ filename: z.string().min(1), subfolder: z.string().default(''), type: z.string().default('output') });
export type ImageRef = { filename: string; subfolder: string; type: string };

/** An API-format graph: node id -> { class_type, inputs }. */
export type ApiGraph = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }>;
