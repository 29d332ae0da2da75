import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyClient, ComfyError, probeAuth, type ApiGraph, type ComfyMessage, type SocketState } from '../../app/comfy/client.js';
import { startComfyDouble } from '../comfy-double/server.js';
import { PASSWORD, startDouble, type DoubleSetup } from './support.js';

let d: DoubleSetup;
beforeAll(async () => {
  d = await startDouble();
});
afterAll(async () => {
  await d?.close();
});

async function failure(p: Promise<unknown>): Promise<ComfyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ComfyError);
  return err as ComfyError;
}

describe('probeAuth', () => {
  it('gets 200 with the hash, 401 with the password or nothing, null when nothing listens', async () => {
    expect(await probeAuth(d.comfy.url, d.hash, 2000)).toMatchObject({ status: 200 });
    const raw = await probeAuth(d.comfy.url, PASSWORD, 2000);
    expect(raw).toMatchObject({ status: 401 });
    expect(raw.error).toContain('the API token is the bcrypt hash from login/PASSWORD, not the raw password');
    expect(raw.error).not.toContain(PASSWORD);
    expect(await probeAuth(d.comfy.url, undefined, 2000)).toMatchObject({ status: 401, error: expect.stringContaining('no token was sent') });
    const down = await probeAuth('http://127.0.0.1:9', d.hash, 1000);
    expect(down.status).toBeNull();
    expect(down.error).toMatch(/cannot connect/);
    expect(down.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe('ComfyClient HTTP against the double', () => {
  it('reads system_stats and the queue', async () => {
    const stats = await d.client().systemStats();
    expect(stats.system.comfyui_version).toBe('0.3.64');
    expect(stats.devices.length).toBeGreaterThan(0);
    expect(await d.client().queue()).toEqual({ running: [], pending: [] });
    const info = await d.client().objectInfo('EmptyImage');
    expect(info.EmptyImage?.input.required?.width).toBeDefined();
  });

  it('a wrong token gives the 401 message, without the token in it', async () => {
    const err = await failure(d.client('$2b$04$' + 'x'.repeat(53)).systemStats());
    expect(err.kind).toBe('unauthorized');
    expect(err.message).toContain('the server rejected the token — the API token is the bcrypt hash from login/PASSWORD, not the raw password');
    expect(err.message).not.toContain('xxxxxxxx');
    expect((await failure(d.client(PASSWORD).queue())).kind).toBe('unauthorized');
  });

  it('a malformed Authorization header gives the 500 message of the login node', async () => {
    const err = await failure(d.client(`${d.hash} extra`).systemStats());
    expect(err.kind).toBe('malformed-auth');
    expect(err.status).toBe(500);
    expect(err.message).toContain('the Authorization header must be exactly "Bearer <hash>"');
    expect(err.message).not.toContain(d.hash);
  });

  it('a foreign Origin gives forbidden-origin', async () => {
    const withOrigin: typeof fetch = (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), Origin: 'http://evil.example' } });
    const client = new ComfyClient({ baseUrl: d.comfy.url, token: d.hash, timeoutMs: 2000, fetch: withOrigin });
    expect((await failure(client.systemStats())).kind).toBe('forbidden-origin');
  });

  it('an unknown node class gives the invalid_prompt message naming it and its node id', async () => {
    const graph: ApiGraph = {
      '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      '7': { class_type: 'NoSuchNode', inputs: { images: ['1', 0] } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    };
    const err = await failure(d.client().submitPrompt(graph, 'c'));
    expect(err.kind).toBe('invalid-prompt');
    expect(err.message).toMatch(/invalid_prompt.*node NoSuchNode does not exist.*used by node 7/);
  });

  it('a graph without output gives prompt_no_outputs; bad inputs name the node', async () => {
    const noOut = await failure(d.client().submitPrompt({ '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } }, 'c'));
    expect(noOut.message).toMatch(/prompt_no_outputs.*needs an output node such as SaveImage/);
    const bad = await failure(
      d.client().submitPrompt(
        {
          '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
          '2': { class_type: 'SaveImage', inputs: { images: ['1', 0] } },
        },
        'c',
      ),
    );
    expect(bad.kind).toBe('invalid-prompt');
    expect(bad.message).toContain('SaveImage (node 2)');
  });

  it('unknown history and missing images are typed not-found errors', async () => {
    const h = await failure(d.client().history('00000000-0000-0000-0000-000000000000'));
    expect(h.kind).toBe('not-found');
    const v = await failure(d.client().viewImage({ filename: 'nope.png', subfolder: '', type: 'output' }, async () => undefined));
    expect(v.kind).toBe('not-found');
    expect(v.message).toContain('output/nope.png');
  });

  it('interrupt and free are accepted', async () => {
    await d.client().interrupt();
    await d.client().free({ unload_models: true, free_memory: true });
  });
});

describe('ComfyClient.watch', () => {
  it('connects with token=, gets status first, answers feature_flags', async () => {
    const got: ComfyMessage[] = [];
    const w = d.client().watch('watch-1', (m) => got.push(m));
    await w.ready;
    w.send({ type: 'feature_flags', data: { supports_preview_metadata: false } });
    await expect.poll(() => got.map((m) => m.type)).toContain('feature_flags');
    expect(got[0]).toMatchObject({ type: 'status', queueRemaining: 0, sid: 'watch-1' });
    w.close();
  });

  it('a wrong token fails the handshake with the 401 message, and does not retry', async () => {
    const states: SocketState[] = [];
    const w = d.client('wrong').watch('watch-2', () => undefined, { onState: (s) => states.push(s) });
    const err = await failure(w.ready);
    expect(err.kind).toBe('unauthorized');
    expect(err.message).toContain('the API token is the bcrypt hash');
    expect(err.message).not.toContain('wrong');
    expect(states.map((s) => s.state)).toEqual(['closed']);
  });

  it('nothing listening: the first connect fails fast as unreachable', async () => {
    const client = new ComfyClient({ baseUrl: 'http://127.0.0.1:9', token: d.hash, timeoutMs: 1000 });
    expect((await failure(client.watch('x', () => undefined).ready)).kind).toBe('unreachable');
  });

  it('reconnects with backoff when the server restarts, keeping the clientId', async () => {
    const own = await startDouble();
    const port = own.comfy.port;
    const states: SocketState[] = [];
    const got: ComfyMessage[] = [];
    const w = own.client().watch('watch-3', (m) => got.push(m), { onState: (s) => states.push(s), baseDelayMs: 50 });
    await w.ready;
    await own.comfy.close();
    await expect.poll(() => states.some((s) => s.state === 'reconnecting')).toBe(true);
    const again = await startComfyDouble({ dir: own.dir, port });
    try {
      await expect.poll(() => states.some((s) => s.state === 'open' && s.reconnected), { timeout: 5000 }).toBe(true);
      expect(got.filter((m) => m.type === 'status').map((m) => (m as { sid?: string }).sid)).toEqual(['watch-3', 'watch-3']);
    } finally {
      w.close();
      await again.close();
      await own.close().catch(() => undefined);
    }
    expect(states.at(-1)).toEqual({ state: 'closed', error: undefined });
  });
});
