import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closedAfterEach, decodePng, installQwenModels, qwenGraph, SMOKE_GRAPH, startWithPassword, useDouble, WsRecorder, type Started, type WsMessage } from './helpers.js';

let s: Started;
const recorders = closedAfterEach();
let clientCounter = 0;

async function client(): Promise<{ ws: WsRecorder; id: string }> {
  const id = `client-${++clientCounter}`;
  const ws = await WsRecorder.open(`${s.comfy.url}/ws?clientId=${id}`, s.auth);
  recorders.push(ws);
  await ws.waitFor((m) => m.type === 'status');
  return { ws, id };
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${s.comfy.url}${path}`, { method: 'POST', headers: { ...s.auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function getJson<T = Record<string, unknown>>(path: string): Promise<T> {
  const res = await fetch(`${s.comfy.url}${path}`, { headers: s.auth });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Submits a graph for this client and waits for ComfyUI's end-of-prompt marker. */
async function run(ws: WsRecorder, id: string, prompt: unknown): Promise<{ promptId: string; messages: WsMessage[] }> {
  const res = await post('/prompt', { prompt, client_id: id });
  expect(res.status).toBe(200);
  const { prompt_id: promptId } = (await res.json()) as { prompt_id: string };
  await ws.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  const first = ws.messages.findIndex((m) => m.data.prompt_id === promptId);
  // The queue status that announced this prompt precedes its first prompt-tagged message.
  return { promptId, messages: ws.messages.slice(first - 2).filter((m) => m.type === 'status' || m.data.prompt_id === promptId) };
}

useDouble({ samplerMs: 0 }, (started) => {
  s = started;
  installQwenModels(started.root);
});

describe('WebSocket /ws', () => {
  it('[L31] [L32] opens with a status frame carrying the sid, and answers feature_flags sent first', async () => {
    const { ws, id } = await client();
    expect(ws.messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: id } });
    ws.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: false } }));
    const reply = await ws.waitFor((m) => m.type === 'feature_flags');
    expect(reply.data).toEqual({ supports_preview_metadata: true, max_upload_size: 104857600 });
  });

  it('gives a client without clientId a generated sid', async () => {
    const ws = await WsRecorder.open(`${s.comfy.url}/ws`, s.auth);
    recorders.push(ws);
    const first = await ws.waitFor((m) => m.type === 'status');
    expect(first.data.sid).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('the smoke graph', () => {
  let first: { promptId: string; messages: WsMessage[] };
  let ws: WsRecorder;
  let id: string;

  it('[L33] sends ComfyUI message sequence, in order', async () => {
    ({ ws, id } = await client());
    first = await run(ws, id, SMOKE_GRAPH);
    const seq = first.messages.map((m) => (m.type === 'status' ? `status:${(m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining}` : m.type === 'executing' ? `executing:${String(m.data.node)}` : m.type === 'progress_state' ? `progress_state:${Object.entries(m.data.nodes as Record<string, { state: string }>).map(([n, p]) => `${n}=${p.state}`).join(',')}` : m.type));
    expect(seq).toEqual([
      'status:1', // queued
      'status:1', // taken by the worker
      'execution_start',
      'execution_cached',
      'progress_state:1=running',
      'executing:1',
      'progress_state:1=finished',
      'progress_state:1=finished,2=running',
      'executing:2',
      'executed',
      'progress_state:1=finished,2=finished',
      'execution_success',
      'status:0',
      'executing:null',
    ]);
    const cached = first.messages.find((m) => m.type === 'execution_cached')!;
    expect(cached.data.nodes).toEqual([]);
    const executed = first.messages.find((m) => m.type === 'executed')!;
    expect(executed.data).toEqual({ node: '2', display_node: '2', output: { images: [{ filename: 'smoke_00001_.png', subfolder: '', type: 'output' }] }, prompt_id: first.promptId });
  });

  it('[L29] [L27] writes a real 64x64 PNG of the requested colour, served by /view', async () => {
    const file = readFileSync(join(s.root, 'output', 'smoke_00001_.png'));
    const png = decodePng(file);
    expect([png.width, png.height, png.bitDepth, png.colorType]).toEqual([64, 64, 8, 2]);
    expect(png.raw.subarray(0, 7)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0]));
    expect(JSON.parse(png.text.prompt!)).toEqual(SMOKE_GRAPH);
    const res = await fetch(`${s.comfy.url}/view?filename=smoke_00001_.png&type=output&subfolder=`, { headers: s.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(file)).toBe(true);
  });

  it('[L26] records the documented history entry', async () => {
    const history = await getJson(`/history/${first.promptId}`);
    const entry = history[first.promptId] as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual(['prompt', 'outputs', 'status', 'meta']);
    expect(entry.prompt).toEqual([expect.any(Number), first.promptId, SMOKE_GRAPH, { client_id: id }, ['2']]);
    expect(entry.outputs).toEqual({ '2': { images: [{ filename: 'smoke_00001_.png', subfolder: '', type: 'output' }] } });
    const status = entry.status as { status_str: string; completed: boolean; messages: [string, Record<string, unknown>][] };
    expect([status.status_str, status.completed]).toEqual(['success', true]);
    expect(status.messages.map(([t]) => t)).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(status.messages[0]![1]).toEqual({ prompt_id: first.promptId, timestamp: expect.any(Number) });
    expect(entry.meta).toEqual({ '2': { node_id: '2', display_node: '2', parent_node: null, real_node_id: '2' } });
    expect(await getJson('/history/not-a-prompt')).toEqual({});
  });

  it('[L29] serves an identical resubmission from cache: every node cached, same filename, no new file', async () => {
    ({ ws, id } = await client());
    const again = await run(ws, id, SMOKE_GRAPH);
    expect(again.messages.find((m) => m.type === 'execution_cached')!.data.nodes).toEqual(['1', '2']);
    expect(again.messages.some((m) => m.type === 'executing' && m.data.node !== null)).toBe(false);
    const executed = again.messages.filter((m) => m.type === 'executed');
    expect(executed.map((m) => m.data.output)).toContainEqual({ images: [{ filename: 'smoke_00001_.png', subfolder: '', type: 'output' }] });
    const history = (await getJson(`/history/${again.promptId}`))[again.promptId] as { outputs: unknown };
    expect(history.outputs).toEqual({ '2': { images: [{ filename: 'smoke_00001_.png', subfolder: '', type: 'output' }] } });
    expect(readdirSync(join(s.root, 'output')).filter((f) => f.startsWith('smoke'))).toEqual(['smoke_00001_.png']);
  });

  it('[S17] numbers a changed graph on: only the changed node runs', async () => {
    ({ ws, id } = await client());
    const red = structuredClone(SMOKE_GRAPH);
    red['2'].inputs.filename_prefix = 'smoke';
    red['1'].inputs.color = 0xff0000;
    const changed = await run(ws, id, red);
    expect(changed.messages.find((m) => m.type === 'execution_cached')!.data.nodes).toEqual([]);
    const png = decodePng(readFileSync(join(s.root, 'output', 'smoke_00002_.png')));
    expect([...png.raw.subarray(1, 4)]).toEqual([255, 0, 0]);
    const renamed = structuredClone(red);
    renamed['2'].inputs.filename_prefix = 'other/renamed';
    const partial = await run(ws, id, renamed);
    expect(partial.messages.find((m) => m.type === 'execution_cached')!.data.nodes).toEqual(['1']);
    // A cached upstream node is not even visited: no executing, executed or progress for it.
    expect(partial.messages.filter((m) => m.type === 'executed').map((m) => m.data.node)).toEqual(['2']);
    expect(partial.messages.some((m) => m.type === 'progress_state' && '1' in (m.data.nodes as object))).toBe(false);
    expect(partial.messages.find((m) => m.type === 'executed' && m.data.node === '2')!.data.output).toEqual({ images: [{ filename: 'renamed_00001_.png', subfolder: 'other', type: 'output' }] });
    expect((await fetch(`${s.comfy.url}/view?filename=renamed_00001_.png&subfolder=other`, { headers: s.auth })).status).toBe(200);
  });
});

describe('the Qwen graph in sampler mode', () => {
  it('[L33] [L37] reports KSampler progress 1..max in order with PNG preview frames, then saves the decoded image', async () => {
    const { ws, id } = await client();
    const { promptId, messages } = await run(ws, id, qwenGraph({ width: 256, height: 128, steps: 6, prefix: 'qwen' }));
    const progress = messages.filter((m) => m.type === 'progress');
    expect(progress.map((m) => [m.data.value, m.data.max, m.data.node])).toEqual([1, 2, 3, 4, 5, 6].map((v) => [v, 6, '8']));
    expect(ws.binary).toHaveLength(6);
    for (const frame of ws.binary) {
      expect([frame.readUInt32BE(0), frame.readUInt32BE(4)]).toEqual([1, 2]);
      const preview = decodePng(frame.subarray(8));
      expect([preview.width, preview.height]).toEqual([32, 16]);
    }
    expect(messages.map((m) => m.type)).toContain('execution_success');
    const order = messages.filter((m) => m.type === 'executing' && m.data.node !== null).map((m) => m.data.node);
    expect(order.indexOf('8')).toBeGreaterThan(Math.max(order.indexOf('1'), order.indexOf('4'), order.indexOf('5'), order.indexOf('6'), order.indexOf('7')));
    expect(order.slice(-2)).toEqual(['9', '10']);
    const entry = (await getJson(`/history/${promptId}`))[promptId] as { outputs: Record<string, { images: { filename: string }[] }> };
    const png = decodePng(readFileSync(join(s.root, 'output', entry.outputs['10']!.images[0]!.filename)));
    expect([png.width, png.height]).toEqual([256, 128]);
  });

  it('sends previews in the metadata format to a client that negotiated it', async () => {
    const { ws, id } = await client();
    ws.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await ws.waitFor((m) => m.type === 'feature_flags');
    await run(ws, id, qwenGraph({ width: 64, height: 64, steps: 2, seed: 7 }));
    expect(ws.binary).toHaveLength(2);
    const frame = ws.binary[0]!;
    expect(frame.readUInt32BE(0)).toBe(4);
    const metaLength = frame.readUInt32BE(4);
    expect(JSON.parse(frame.subarray(8, 8 + metaLength).toString())).toMatchObject({ node_id: '8', image_type: 'image/png' });
    expect(decodePng(frame.subarray(8 + metaLength)).width).toBe(8);
  });

  it('stops a running sampler on /interrupt with execution_interrupted', async () => {
    const slow = await startWithPassword({ samplerMs: 4000 });
    try {
      installQwenModels(slow.root);
      const ws = await WsRecorder.open(`${slow.comfy.url}/ws?clientId=int`, slow.auth);
      recorders.push(ws);
      const res = await fetch(`${slow.comfy.url}/prompt`, { method: 'POST', headers: slow.auth, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: 40 }), client_id: 'int' }) });
      const { prompt_id: promptId } = (await res.json()) as { prompt_id: string };
      await ws.waitFor((m) => m.type === 'progress');
      const queued = (await (await fetch(`${slow.comfy.url}/prompt`, { method: 'POST', headers: slow.auth, body: JSON.stringify({ prompt: SMOKE_GRAPH }) })).json()) as { prompt_id: string };
      const queueNow = async () => (await (await fetch(`${slow.comfy.url}/queue`, { headers: slow.auth })).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
      const queue = await queueNow();
      expect(queue.queue_running.map((q) => q[1])).toEqual([promptId]);
      expect(queue.queue_pending.map((q) => q[1])).toEqual([queued.prompt_id]);
      expect(await (await fetch(`${slow.comfy.url}/prompt`, { headers: slow.auth })).json()).toEqual({ exec_info: { queue_remaining: 2 } });
      await fetch(`${slow.comfy.url}/queue`, { method: 'POST', headers: slow.auth, body: JSON.stringify({ delete: [queued.prompt_id] }) });
      expect((await queueNow()).queue_pending).toEqual([]);
      expect((await fetch(`${slow.comfy.url}/interrupt`, { method: 'POST', headers: slow.auth })).status).toBe(200);
      const stopped = await ws.waitFor((m) => m.type === 'execution_interrupted');
      expect(stopped.data).toMatchObject({ prompt_id: promptId, node_id: '8', node_type: 'KSampler' });
      await ws.waitFor((m) => m.type === 'executing' && m.data.node === null);
      const progress = ws.messages.filter((m) => m.type === 'progress');
      expect(progress.length).toBeLessThan(40);
      const entry = ((await (await fetch(`${slow.comfy.url}/history/${promptId}`, { headers: slow.auth })).json()) as Record<string, { status: { status_str: string; completed: boolean; messages: [string][] } }>)[promptId]!;
      expect([entry.status.status_str, entry.status.completed]).toEqual(['error', false]);
      expect(entry.status.messages.map(([t]) => t)).toEqual(['execution_start', 'execution_cached', 'execution_interrupted']);
      expect(readdirSync(join(slow.root, 'output'))).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});

describe('models', () => {
  it('lists model files in /object_info and rejects a missing one at validation (value_not_in_list)', async () => {
    const info = await getJson<Record<string, { input: { required: Record<string, unknown[]> } }>>('/object_info/UNETLoader');
    expect(info.UNETLoader!.input.required.unet_name).toEqual([['qwen_image_fp8_e4m3fn.safetensors']]);
    const graph = qwenGraph();
    graph['3'].inputs.vae_name = 'missing_vae.safetensors';
    const res = await post('/prompt', { prompt: graph });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; details: string }; node_errors: Record<string, { errors: { type: string; details: string }[]; dependent_outputs: string[]; class_type: string }> };
    expect(body.error).toEqual({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} });
    expect(body.node_errors['3']).toMatchObject({ class_type: 'VAELoader', dependent_outputs: ['10'], errors: [{ type: 'value_not_in_list', details: "vae_name: 'missing_vae.safetensors' not in ['qwen_image_vae.safetensors', 'pixel_space']" }] });
  });

  it('fails at load with a ComfyUI-style execution_error when a model file is corrupt', async () => {
    writeFileSync(join(s.root, 'models', 'vae', 'broken.safetensors'), '');
    try {
      const { ws, id } = await client();
      const graph = qwenGraph({ width: 64, height: 64, steps: 1 });
      graph['3'].inputs.vae_name = 'broken.safetensors';
      const { promptId, messages } = await run(ws, id, graph);
      const error = messages.find((m) => m.type === 'execution_error')!;
      expect(error.data).toMatchObject({ prompt_id: promptId, node_id: '3', node_type: 'VAELoader', exception_type: 'safetensors_rust.SafetensorError', exception_message: 'Error while deserializing header: HeaderTooSmall\n', current_inputs: { vae_name: ['broken.safetensors'] } });
      expect(messages.map((m) => m.type)).not.toContain('execution_success');
      const entry = (await getJson(`/history/${promptId}`))[promptId] as { status: { status_str: string } };
      expect(entry.status.status_str).toBe('error');
      expect(s.logs).toContain('!!! Exception during processing !!! Error while deserializing header: HeaderTooSmall');
    } finally {
      rmSync(join(s.root, 'models', 'vae', 'broken.safetensors'));
    }
  });
});
