import { z } from 'zod';
import { ImageRefSchema, type ImageRef } from './shapes.js';

/** Every message ComfyUI sends on /ws, typed. Unknown or malformed frames become `unknown`, never a throw. */
export type ComfyMessage =
  | { type: 'status'; queueRemaining: number; sid?: string }
  | { type: 'execution_start'; promptId: string }
  | { type: 'execution_cached'; promptId: string; nodes: string[] }
  /** node null = the prompt finished (the last message of a prompt). */
  | { type: 'executing'; promptId?: string; node: string | null }
  | { type: 'progress'; promptId?: string; node?: string; value: number; max: number }
  | { type: 'progress_state'; promptId: string; nodes: Record<string, { state: string; value: number; max: number }> }
  | { type: 'executed'; promptId: string; node: string; images: ImageRef[] }
  | { type: 'execution_success'; promptId: string }
  | { type: 'execution_error'; promptId: string; node?: string; nodeType?: string; exceptionType?: string; exceptionMessage: string }
  | { type: 'execution_interrupted'; promptId: string; node?: string; nodeType?: string }
  | { type: 'feature_flags'; flags: Record<string, unknown> }
  /** A binary preview frame: image type 1 = JPEG, 2 = PNG. */
  | { type: 'preview'; format: 'jpeg' | 'png' | 'unknown'; data: Buffer }
  | { type: 'unknown'; rawType: string; data: unknown };

const id = z.union([z.string(), z.number()]).transform(String);

const schemas = {
  status: z.looseObject({
    status: z.looseObject({ exec_info: z.looseObject({ queue_remaining: z.number() }) }),
    sid: z.string().optional(),
  }),
  execution_start: z.looseObject({ prompt_id: z.string() }),
  execution_cached: z.looseObject({ prompt_id: z.string(), nodes: z.array(id) }),
  executing: z.looseObject({ prompt_id: z.string().optional(), node: id.nullable() }),
  progress: z.looseObject({ prompt_id: z.string().optional(), node: id.nullable().optional(), value: z.number(), max: z.number() }),
  progress_state: z.looseObject({
    prompt_id: z.string(),
    nodes: z.record(z.string(), z.looseObject({ state: z.string(), value: z.number(), max: z.number() })),
  }),
  executed: z.looseObject({
    prompt_id: z.string(),
    node: id,
    output: z.looseObject({ images: z.array(ImageRefSchema).optional() }).nullable().optional(),
  }),
  execution_success: z.looseObject({ prompt_id: z.string() }),
  execution_error: z.looseObject({
    prompt_id: z.string(),
    node_id: id.nullable().optional(),
    node_type: z.string().nullable().optional(),
    exception_type: z.string().optional(),
    exception_message: z.string().default(''),
  }),
  execution_interrupted: z.looseObject({ prompt_id: z.string(), node_id: id.nullable().optional(), node_type: z.string().nullable().optional() }),
  feature_flags: z.record(z.string(), z.unknown()),
};

const Envelope = z.looseObject({ type: z.string(), data: z.unknown() });

function fromJson(type: string, data: unknown): ComfyMessage | undefined {
  switch (type) {
    case 'status': {
      const d = schemas.status.safeParse(data);
      return d.success ? { type, queueRemaining: d.data.status.exec_info.queue_remaining, sid: d.data.sid } : undefined;
    }
    case 'execution_start':
    case 'execution_success': {
      const d = schemas[type].safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id } : undefined;
    }
    case 'execution_cached': {
      const d = schemas.execution_cached.safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id, nodes: d.data.nodes } : undefined;
    }
    case 'executing': {
      const d = schemas.executing.safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id, node: d.data.node } : undefined;
    }
    case 'progress': {
      const d = schemas.progress.safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id, node: d.data.node ?? undefined, value: d.data.value, max: d.data.max } : undefined;
    }
    case 'progress_state': {
      const d = schemas.progress_state.safeParse(data);
      if (!d.success) return undefined;
      const nodes = Object.fromEntries(Object.entries(d.data.nodes).map(([k, v]) => [k, { state: v.state, value: v.value, max: v.max }]));
      return { type, promptId: d.data.prompt_id, nodes };
    }
    case 'executed': {
      const d = schemas.executed.safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id, node: d.data.node, images: d.data.output?.images ?? [] } : undefined;
    }
    case 'execution_error': {
      const d = schemas.execution_error.safeParse(data);
      if (!d.success) return undefined;
      return {
        type,
        promptId: d.data.prompt_id,
        node: d.data.node_id ?? undefined,
        nodeType: d.data.node_type ?? undefined,
        exceptionType: d.data.exception_type,
        exceptionMessage: d.data.exception_message,
      };
    }
    case 'execution_interrupted': {
      const d = schemas.execution_interrupted.safeParse(data);
      return d.success ? { type, promptId: d.data.prompt_id, node: d.data.node_id ?? undefined, nodeType: d.data.node_type ?? undefined } : undefined;
    }
    case 'feature_flags': {
      const d = schemas.feature_flags.safeParse(data);
      return d.success ? { type, flags: d.data } : undefined;
    }
    default:
      return undefined;
  }
}

/** Parses one text frame. */
export function parseTextMessage(text: string): ComfyMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { type: 'unknown', rawType: 'invalid-json', data: text.slice(0, 200) };
  }
  const env = Envelope.safeParse(json);
  if (!env.success) return { type: 'unknown', rawType: 'no-type', data: json };
  return fromJson(env.data.type, env.data.data) ?? { type: 'unknown', rawType: env.data.type, data: env.data.data };
}

const PREVIEW_IMAGE = 1;
const IMAGE_FORMATS = { 1: 'jpeg', 2: 'png' } as const;

/** Parses one binary frame: 4-byte big-endian event type, then for previews a 4-byte image type and the image bytes. */
export function parseBinaryMessage(buf: Buffer): ComfyMessage {
  if (buf.length < 4) return { type: 'unknown', rawType: 'binary', data: buf };
  const event = buf.readUInt32BE(0);
  if (event !== PREVIEW_IMAGE || buf.length < 8) return { type: 'unknown', rawType: `binary:${event}`, data: buf.subarray(4) };
  const format = IMAGE_FORMATS[buf.readUInt32BE(4) as keyof typeof IMAGE_FORMATS] ?? 'unknown';
  return { type: 'preview', format, data: buf.subarray(8) };
}
