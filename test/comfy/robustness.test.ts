import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ComfyClient, ComfyError } from '../../app/comfy/client.js';

const graph = { '1': { class_type: 'EmptyImage', inputs: {} } };

/** Calls every HTTP method of the client; each must resolve or fail with a ComfyError. */
const calls: ((c: ComfyClient) => Promise<unknown>)[] = [
  (c) => c.systemStats(),
  (c) => c.queue(),
  (c) => c.objectInfo(),
  (c) => c.objectInfo('EmptyImage'),
  (c) => c.modelFolders(),
  (c) => c.modelFiles('vae'),
  (c) => c.submitPrompt(graph, 'client'),
  (c) => c.history('p1'),
  (c) => c.viewImage({ filename: 'a.png', subfolder: '', type: 'output' }, async () => undefined),
  (c) => c.interrupt('p1'),
  (c) => c.free({ unload_models: true }),
];

function clientAnswering(status: number, body: string, contentType: string, timeoutMs = 200): ComfyClient {
  const fake: typeof fetch = async () => new Response(body, { status, headers: { 'Content-Type': contentType } });
  return new ComfyClient({ baseUrl: 'http://comfy.test', token: '$2b$04$secret', timeoutMs, fetch: fake });
}

const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  fc.anything().map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom('{}', '[]', 'null', '{"error": {"type": "invalid_prompt"}}', '{"p1": {"outputs": 5}}', '{"prompt_id": ""}', '{"queue_running": [[1]], "queue_pending": []}'),
);

describe('response handling never crashes or hangs', () => {
  it('random statuses and bodies give a result or a typed ComfyError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(200, 200, 200, 400, 401, 403, 404, 405, 500, 502, 503),
        bodies,
        fc.constantFrom('application/json', 'text/plain; charset=utf-8', 'text/html'),
        fc.constantFrom(...calls.keys()),
        async (status, body, type, i) => {
          const outcome = await calls[i]!(clientAnswering(status, body, type)).then(
            () => 'ok',
            (e: unknown) => e,
          );
          if (outcome !== 'ok') {
            expect(outcome).toBeInstanceOf(ComfyError);
            expect((outcome as ComfyError).message).not.toContain('$2b$04$secret');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a 200 with a body that is not ComfyUI\'s is a bad-response error naming the field', async () => {
    const err = await clientAnswering(200, '{"system": {}, "devices": "gpu"}', 'application/json').systemStats().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad-response' });
    expect((err as Error).message).toMatch(/GET \/system_stats: .* at devices/);
    expect(await clientAnswering(200, '<html>', 'text/html').queue().catch((e: ComfyError) => e.kind)).toBe('bad-response');
  });

  it('one odd node class in /object_info does not hide the others', async () => {
    const body = JSON.stringify({ Odd: { input: 'weird' }, EmptyImage: { input: { required: { width: ['INT', { min: 1 }], extra: 'STRING' } } } });
    const info = await clientAnswering(200, body, 'application/json').objectInfo();
    expect(info.Odd).toEqual({ input: {} });
    expect(info.EmptyImage?.input.required?.width).toEqual(['INT', { min: 1 }]);
  });

  it('`{}` from /history is not-found; a 404 from /view is not-found', async () => {
    expect(await clientAnswering(200, '{}', 'application/json').history('p1').catch((e: ComfyError) => e.kind)).toBe('not-found');
    expect(await clientAnswering(404, '', 'application/octet-stream').viewImage({ filename: 'x.png', subfolder: '', type: 'output' }, async () => undefined).catch((e: ComfyError) => e.kind)).toBe('not-found');
  });

  it('a server that never answers, or stalls mid-body, times out', async () => {
    const silent: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    const c1 = new ComfyClient({ baseUrl: 'http://comfy.test', timeoutMs: 100, fetch: silent });
    expect(await c1.systemStats().catch((e: ComfyError) => e.kind)).toBe('timeout');

    const stalling: typeof fetch = async () => new Response(new ReadableStream({ start: (ctl) => ctl.enqueue(new TextEncoder().encode('{"sys')) }), { status: 200 });
    const c2 = new ComfyClient({ baseUrl: 'http://comfy.test', timeoutMs: 100, fetch: stalling });
    expect(await c2.systemStats().catch((e: ComfyError) => e.kind)).toBe('timeout');
    expect(await c2.viewImage({ filename: 'a.png', subfolder: '', type: 'output' }, async () => undefined).catch((e: ComfyError) => e.kind)).toBe('timeout');
  });
});
