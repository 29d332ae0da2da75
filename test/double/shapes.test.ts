import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closedAfterEach, installQwenModels, SMOKE_GRAPH, startDouble, useDouble, WsRecorder, type Started, type WsMessage } from './helpers.js';

let s: Started;
const recorders = closedAfterEach();
const req = (path: string, init: RequestInit = {}) => fetch(`${s.comfy.url}${path}`, { redirect: 'manual', ...init, headers: { ...s.auth, ...(init.headers as Record<string, string>) } });
const prompt = (body: unknown) => req('/prompt', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const workflow = (name: string) => JSON.parse(readFileSync(`assets/workflows/${name}.json`, 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;

interface PromptError {
  error: { type: string; message: string; details: string; extra_info: Record<string, unknown> };
  node_errors: Record<string, { errors: { type: string; message: string; details: string; extra_info: Record<string, unknown> }[]; dependent_outputs: string[]; class_type: string }>;
}

useDouble({}, (started) => {
  s = started;
});

describe('system_stats, extensions, static paths', () => {
  it('[S13] [L22] system_stats.system has required_templates_version and installed_templates_version, in ComfyUI key order', async () => {
    const stats = (await (await req('/system_stats')).json()) as { system: Record<string, unknown> };
    expect(Object.keys(stats.system)).toEqual(['os', 'ram_total', 'ram_free', 'comfyui_version', 'required_frontend_version', 'installed_templates_version', 'required_templates_version', 'python_version', 'pytorch_version', 'embedded_python', 'argv']);
    expect(stats.system.required_templates_version).toEqual(expect.any(String));
    expect(stats.system.installed_templates_version).toEqual(expect.any(String));
  });

  it('[S14] /extensions lists the 5 JS files of ComfyUI-Login, which are served without a login', async () => {
    const list = (await (await req('/extensions')).json()) as string[];
    expect([...list].sort()).toEqual(['freeMemory.js', 'guest-mode.js', 'loadImageIncognito.js', 'logout.js', 'upgrade-slotDefaults.js'].map((f) => `/extensions/ComfyUI-Login/${f}`));
    const js = await fetch(`${s.comfy.url}${list[0]}`);
    expect([js.status, js.headers.get('content-type'), js.headers.get('cache-control')]).toEqual([200, 'text/javascript', 'no-cache']);
  });

  it('[S15] GET /free (a POST-only route) is 404, not 405; /favicon.ico without a front end is 404', async () => {
    for (const path of ['/free', '/api/free', '/interrupt', '/favicon.ico']) {
      const res = await req(path);
      expect([path, res.status, await res.text()]).toEqual([path, 404, '404: Not Found']);
    }
  });
});

describe('POST /prompt validation errors', () => {
  it('[S16] a bad input value: invalid_input_type with extra_info.exception_message (Python\'s int() text)', async () => {
    const graph = structuredClone(SMOKE_GRAPH) as Record<string, { inputs: Record<string, unknown> }>;
    graph['1']!.inputs.width = 'wide';
    const res = await prompt({ prompt: graph });
    expect(res.status).toBe(400);
    const body = (await res.json()) as PromptError;
    expect(body.error).toEqual({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} });
    expect(body.node_errors['1']).toEqual({
      errors: [
        {
          type: 'invalid_input_type',
          message: 'Failed to convert an input value to a INT value',
          details: "width, wide, invalid literal for int() with base 10: 'wide'",
          extra_info: { input_name: 'width', input_config: ['INT', { default: 512, min: 1, max: 16384, step: 1 }], received_value: 'wide', exception_message: "invalid literal for int() with base 10: 'wide'" },
        },
      ],
      dependent_outputs: ['2'],
      class_type: 'EmptyImage',
    });
  });

  it('[S16] a link to a missing node: exception_during_validation, "Exception when validating node: \'<id>\'", extra_info {exception_type, traceback[]}', async () => {
    const graph = structuredClone(SMOKE_GRAPH) as Record<string, { inputs: Record<string, unknown> }>;
    graph['2']!.inputs.images = ['99', 0];
    const res = await prompt({ prompt: graph });
    expect(res.status).toBe(400);
    const body = (await res.json()) as PromptError;
    expect(body.error).toEqual({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: "Exception when validating node: '99'", extra_info: {} });
    const err = body.node_errors['2']!.errors[0]!;
    expect([err.type, err.message, err.details]).toEqual(['exception_during_validation', 'Exception when validating node', "'99'"]);
    expect(Object.keys(err.extra_info)).toEqual(['exception_type', 'traceback']);
    expect(err.extra_info.exception_type).toBe('KeyError');
    expect(err.extra_info.traceback).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}File ".*execution\.py", line \d+, in validate_prompt\n/)]));
    expect(s.logs).toContain('* (prompt):');
    expect(s.logs).toContain("  - Exception when validating node: '99'");
  });

  it('[S16] a missing link upstream is blamed on the node that holds it (exception_during_inner_validation); the good output still runs', async () => {
    const graph = structuredClone(SMOKE_GRAPH) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    graph['3'] = { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'x' } };
    graph['4'] = { class_type: 'VAEDecode', inputs: { samples: ['77', 0], vae: ['78', 0] } };
    const res = await prompt({ prompt: graph });
    const body = (await res.json()) as PromptError & { prompt_id: string };
    expect(res.status).toBe(200);
    expect(Object.keys(body.node_errors)).toEqual(['4']);
    const e = body.node_errors['4']!;
    expect([e.class_type, e.dependent_outputs, e.errors[0]!.type, e.errors[0]!.details]).toEqual(['VAEDecode', ['3'], 'exception_during_inner_validation', "'77'"]);
    expect(Object.keys(e.errors[0]!.extra_info)).toEqual(['input_name', 'input_config', 'exception_message', 'exception_type', 'traceback', 'linked_node']);
    expect(e.errors[0]!.extra_info).toMatchObject({ input_name: 'images', exception_type: 'KeyError', linked_node: ['4', 0] });
  });

  it('converts widget values as Python does (the queued prompt holds 64, not "64"; floats stay floats)', async () => {
    const graph = structuredClone(SMOKE_GRAPH) as Record<string, { inputs: Record<string, unknown> }>;
    graph['1']!.inputs.width = '64';
    graph['1']!.inputs.color = 255.9;
    const res = await prompt({ prompt: graph, number: 7 });
    expect(await res.text()).toMatch(/"number": 7\.0, "node_errors": \{\}\}$/);
    const queued = await (await req('/history?max_items=1')).text();
    expect(queued === '{}' || queued.includes('"width": 64, "height": 64')).toBe(true);
  });

  it('answers a JSON body that is not an object with 500 or no_prompt, as aiohttp does', async () => {
    expect((await prompt('null')).status).toBe(500);
    expect(((await (await prompt('[]')).json()) as PromptError).error.type).toBe('no_prompt');
    expect(((await (await prompt({ prompt: {} })).json()) as PromptError).error.type).toBe('prompt_no_outputs');
  });
});

describe('GET /object_info', () => {
  it('[S18] KSampler seed max is 18446744073709551615 and floats print as Python floats', async () => {
    const text = await (await req('/object_info/KSampler')).text();
    expect(text).toContain('"seed": ["INT", {"default": 0, "min": 0, "max": 18446744073709551615, "control_after_generate": true');
    expect(text).toContain('"cfg": ["FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01');
  });

  it('[S18] VAELoader offers pixel_space after the vae files', async () => {
    const info = (await (await req('/object_info/VAELoader')).json()) as { VAELoader: { input: { required: { vae_name: [string[]] } } } };
    expect(info.VAELoader.input.required.vae_name[0]).toEqual(['pixel_space']);
  });

  it('[S18] lists the login node\'s LoadImageIncognito and the bundled SaveImageWebsocket with their custom_nodes modules', async () => {
    const all = (await (await req('/object_info')).json()) as Record<string, { python_module: string }>;
    expect(all.LoadImageIncognito!.python_module).toBe('custom_nodes.ComfyUI-Login');
    expect(all.SaveImageWebsocket!.python_module).toBe('custom_nodes.websocket_image_save');
    expect(Object.keys(all).length).toBeGreaterThanOrEqual(25);
  });

  it('[L37] validates our Qwen workflow like a bare install: the three model files missing, then accepted once present', async () => {
    const body = (await (await prompt({ prompt: workflow('qwen-image') })).json()) as PromptError;
    expect(Object.fromEntries(Object.entries(body.node_errors).map(([id, e]) => [id, e.errors.map((x) => x.details)]))).toEqual({
      '1': ["unet_name: 'qwen_image_fp8_e4m3fn.safetensors' not in []"],
      '2': ["clip_name: 'qwen_2.5_vl_7b_fp8_scaled.safetensors' not in []"],
      '3': ["vae_name: 'qwen_image_vae.safetensors' not in ['pixel_space']"],
    });
    installQwenModels(s.root);
    const ok = await prompt({ prompt: workflow('qwen-image') });
    expect(ok.status).toBe(200);
  });

  it('[L37] validates and runs the smoke workflow file as is (its _meta keys are ignored)', async () => {
    const res = await prompt({ prompt: workflow('smoke') });
    expect([res.status, ((await res.json()) as { node_errors: object }).node_errors]).toEqual([200, {}]);
  });
});

describe('a cached re-run over WebSocket', () => {
  it('[S17] lists the cached nodes; only the output node gets executed (with its images), then progress_state', async () => {
    const id = 'cache-watch';
    const ws = await WsRecorder.open(`${s.comfy.url}/ws?clientId=${id}`, s.auth);
    recorders.push(ws);
    await ws.waitFor((m) => m.type === 'status');
    const graph = structuredClone(SMOKE_GRAPH);
    graph['1'].inputs.color = 0x445566;
    const run = async () => {
      const { prompt_id: pid } = (await (await prompt({ prompt: graph, client_id: id })).json()) as { prompt_id: string };
      await ws.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === pid);
      return ws.messages.filter((m) => m.data.prompt_id === pid);
    };
    await run();
    const again = await run();
    const seq = again.map((m: WsMessage) => (m.type === 'progress_state' ? `progress_state:${Object.keys(m.data.nodes as object).join(',')}` : m.type === 'executed' ? `executed:${String(m.data.node)}` : m.type));
    expect(seq).toEqual(['execution_start', 'execution_cached', 'executed:2', 'progress_state:2', 'execution_success', 'executing']);
    expect(again.find((m) => m.type === 'execution_cached')!.data.nodes).toEqual(['1', '2']);
    expect((again.find((m) => m.type === 'executed')!.data.output as { images: unknown[] }).images).toHaveLength(1);
    const state = (again.find((m) => m.type === 'progress_state')!.data.nodes as Record<string, { value: number; max: number; state: string }>)['2'];
    expect(state).toMatchObject({ value: 1, max: 1, state: 'finished' });
  });
});

describe('without the login node', () => {
  it('[S14] /extensions is empty and LoadImageIncognito is not a node class', async () => {
    const open = await startDouble({ login: false });
    try {
      expect(await (await fetch(`${open.comfy.url}/extensions`)).json()).toEqual([]);
      expect(await (await fetch(`${open.comfy.url}/object_info/LoadImageIncognito`)).json()).toEqual({});
    } finally {
      await open.stop();
    }
  });
});
