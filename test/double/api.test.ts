import { describe, expect, it } from 'vitest';
import { closedAfterEach, SMOKE_GRAPH, useDouble, WsRecorder, type Started } from './helpers.js';

let s: Started;
const recorders = closedAfterEach();
const req = (path: string, init: RequestInit = {}) => fetch(`${s.comfy.url}${path}`, { ...init, headers: { ...s.auth, ...(init.headers as Record<string, string>) } });
const postJson = (path: string, body: unknown) => req(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

/** Polls /history/<id> until the prompt has finished (ComfyUI records it only then). */
async function historyOf(id: string): Promise<unknown> {
  for (;;) {
    const h = (await (await req(`/history/${id}`)).json()) as Record<string, unknown>;
    if (h[id]) return h[id];
    await new Promise((r) => setTimeout(r, 10));
  }
}

useDouble({ samplerMs: 0 }, (started) => {
  s = started;
});

describe('API shapes', () => {
  it('[L20] [L21] GET /queue and GET /prompt when idle', async () => {
    expect(await (await req('/queue')).text()).toBe('{"queue_running": [], "queue_pending": []}');
    expect(await (await req('/prompt')).text()).toBe('{"exec_info": {"queue_remaining": 0}}');
  });

  it('[L22] GET /system_stats has every documented field and a CPU device', async () => {
    const stats = (await (await req('/system_stats')).json()) as { system: Record<string, unknown>; devices: Record<string, unknown>[] };
    for (const key of ['os', 'ram_total', 'ram_free', 'comfyui_version', 'python_version', 'pytorch_version', 'embedded_python', 'argv']) expect(stats.system, key).toHaveProperty(key);
    expect(stats.system.comfyui_version).toBe('0.3.64');
    expect(stats.devices).toHaveLength(1);
    expect(Object.keys(stats.devices[0]!)).toEqual(['name', 'type', 'index', 'vram_total', 'vram_free', 'torch_vram_total', 'torch_vram_free']);
    expect(stats.devices[0]).toMatchObject({ name: 'cpu', type: 'cpu', index: null });
  });

  it('[L28] GET /object_info/EmptyImage describes its inputs; unknown classes give {}', async () => {
    const info = (await (await req('/object_info/EmptyImage')).json()) as Record<string, { input: { required: Record<string, [string, Record<string, number>]> }; output: string[]; output_node: boolean }>;
    const empty = info.EmptyImage!;
    expect(Object.keys(empty.input.required)).toEqual(['width', 'height', 'batch_size', 'color']);
    expect(empty.input.required.width).toEqual(['INT', { default: 512, min: 1, max: 16384, step: 1 }]);
    expect(empty.input.required.color![0]).toBe('INT');
    expect([empty.output, empty.output_node]).toEqual([['IMAGE'], false]);
    expect(await (await req('/object_info/NoSuchNode')).json()).toEqual({});
    const all = (await (await req('/object_info')).json()) as Record<string, unknown>;
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['CLIPLoader', 'CLIPTextEncode', 'EmptyImage', 'EmptySD3LatentImage', 'KSampler', 'ModelSamplingAuraFlow', 'SaveImage', 'UNETLoader', 'VAEDecode', 'VAELoader']));
  });

  it('[L27] GET /view: 404 with an empty body when missing, 400 on path tricks', async () => {
    const missing = await req('/view?filename=nothing_00001_.png&type=output&subfolder=');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
    expect((await req('/view?filename=../login/PASSWORD&type=output')).status).toBe(400);
    expect((await req('/view?filename=%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await req('/view?filename=x.png&subfolder=../../')).status).toBe(403);
  });

  it('POST /interrupt and POST /free answer 200 with an empty body', async () => {
    for (const [path, body] of [
      ['/interrupt', {}],
      ['/free', { unload_models: true, free_memory: true }],
    ] as const) {
      const res = await postJson(path, body);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toBe('');
    }
  });

  it('[S15] answers an unknown GET 404 and a wrong method 405 listing GET and HEAD (the web root takes every path), as aiohttp does', async () => {
    const missing = await req('/no/such/route');
    expect([missing.status, await missing.text()]).toEqual([404, '404: Not Found']);
    const wrong = await req('/system_stats', { method: 'POST', body: '{}' });
    expect([wrong.status, await wrong.text(), wrong.headers.get('allow')]).toEqual([405, '405: Method Not Allowed', 'GET,HEAD']);
    const put = await req('/prompt', { method: 'PUT', body: '{}' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET,HEAD,POST']);
  });
});

describe('POST /prompt errors', () => {
  it('[L24] rejects an unknown class_type with 400 invalid_prompt', async () => {
    const res = await postJson('/prompt', { prompt: { '1': { class_type: 'NotANode', inputs: {} } } });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"error": {"type": "invalid_prompt", "message": "Cannot execute because node NotANode does not exist.", "details": "Node ID \'#1\'", "extra_info": {}}, "node_errors": {}}');
  });

  it('[L25] rejects a graph without an output node with 400 prompt_no_outputs', async () => {
    const res = await postJson('/prompt', { prompt: { '1': SMOKE_GRAPH['1'] } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: {} });
  });

  it('reports input errors per node (out of range, missing input)', async () => {
    const graph = structuredClone(SMOKE_GRAPH) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    graph['1']!.inputs.width = 0;
    delete graph['2']!.inputs.filename_prefix;
    const res = await postJson('/prompt', { prompt: graph });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; details: string }; node_errors: Record<string, { errors: { type: string; message: string }[] }> };
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.error.details).toBe('Required input is missing: filename_prefix');
    expect(body.node_errors['1']!.errors.map((e) => [e.type, e.message])).toEqual([['value_smaller_than_min', 'Value 0 smaller than min of 1']]);
    expect(body.node_errors['2']!.errors.map((e) => e.type)).toEqual(['required_input_missing']);
  });

  it('answers a body that is not JSON with 500, and one without prompt with 400 no_prompt', async () => {
    expect((await req('/prompt', { method: 'POST', body: 'not json' })).status).toBe(500);
    const res = await postJson('/prompt', { client_id: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('no_prompt');
  });

  it('[L23] counts prompt numbers up, and reports them in /history', async () => {
    const a = (await (await postJson('/prompt', { prompt: SMOKE_GRAPH })).json()) as { prompt_id: string; number: number; node_errors: object };
    const b = (await (await postJson('/prompt', { prompt: SMOKE_GRAPH })).json()) as { prompt_id: string; number: number };
    expect(a.prompt_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.node_errors).toEqual({});
    expect(b.number).toBe(a.number + 1);
    await historyOf(b.prompt_id);
    const last = (await (await req('/history?max_items=1')).json()) as Record<string, { prompt: unknown[] }>;
    expect(Object.keys(last)).toEqual([b.prompt_id]);
    expect(last[b.prompt_id]!.prompt[0]).toBe(b.number);
  });
});

describe('cache and history management', () => {
  const cachedNodes = async (graph: unknown) => {
    const { prompt_id: id } = (await (await postJson('/prompt', { prompt: graph })).json()) as { prompt_id: string };
    const entry = (await historyOf(id)) as { status: { messages: [string, { nodes?: string[] }][] } };
    return entry.status.messages.find(([t]) => t === 'execution_cached')![1].nodes;
  };

  it('POST /free with free_memory drops cached outputs; POST /history clear empties the history', async () => {
    const graph = structuredClone(SMOKE_GRAPH);
    graph['1'].inputs.color = 0x00ff00;
    await cachedNodes(graph);
    expect(await cachedNodes(graph)).toEqual(['1', '2']);
    await postJson('/free', { free_memory: true });
    expect(await cachedNodes(graph)).toEqual([]);
    await postJson('/history', { clear: true });
    expect(await (await req('/history')).json()).toEqual({});
  });
});

describe('messages for a prompt without client_id', () => {
  it('broadcasts progress_state and status but keeps execution_* and executing to itself', async () => {
    const ws = await WsRecorder.open(`${s.comfy.url}/ws?clientId=watcher`, s.auth);
    recorders.push(ws);
    await ws.waitFor((m) => m.type === 'status');
    const graph = structuredClone(SMOKE_GRAPH);
    graph['1'].inputs.color = 0x123456;
    const { prompt_id: id } = (await (await postJson('/prompt', { prompt: graph })).json()) as { prompt_id: string };
    await ws.waitFor((m) => m.type === 'progress_state' && m.data.prompt_id === id && (m.data.nodes as Record<string, { state: string }>)['2']?.state === 'finished');
    await ws.waitFor((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0);
    const types = new Set(ws.messages.map((m) => m.type));
    expect(types.has('progress_state')).toBe(true);
    for (const t of ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success']) expect(types.has(t), t).toBe(false);
  });
});
