/**
 * Issue 16 item 3: one malformed WebSocket frame from an authenticated client must cost that
 * client its socket, never the whole `serve` process, even while an operation (a rotation) runs.
 * The frames are written by hand on a raw socket: no library would send them.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PanelHandlers } from '../../app/contract/index.js';
import { startBrowserServer, type BrowserServer } from '../../app/serve/server.js';
import { EventBus } from '../../app/service/bus.js';
import { badFrames, frame, rawWebSocket } from '../hostile/frames.js';

let server: BrowserServer;
const bus = new EventBus();
let finishRotation: (() => void) | undefined;
const handlers = {
  appInfo: async () => ({ version: '9.9.9' }),
  // A rotation that runs until the test lets it finish.
  tokenRotate: () => new Promise((resolve) => (finishRotation = () => resolve({ outcome: 'committed' }))),
} as unknown as PanelHandlers;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renderer-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">app shell`);
  server = await startBrowserServer({ handlers, bus, rendererDir: dir, port: 0 });
});
afterAll(() => server.close());

const headers = () => ({ Host: `127.0.0.1:${server.port}`, Origin: `http://127.0.0.1:${server.port}`, Authorization: `Bearer ${server.key}` });
const op = (name: string) => fetch(`http://127.0.0.1:${server.port}/api/op/${name}`, { method: 'POST', headers: { ...headers(), 'Content-Type': 'application/json' }, body: '{}' });

/** A well-behaved event socket: it must keep receiving while others misbehave. */
async function goodSocket() {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers: headers() });
  const got: string[] = [];
  ws.on('message', (m: Buffer) => got.push(m.toString('utf8')));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  return { ws, got };
}

describe('serve under malformed WebSocket frames from an authenticated client', () => {
  it('closes the offending socket for every kind of bad frame and keeps serving everyone else, mid-rotation', async () => {
    const good = await goodSocket();
    const rotation = op('tokenRotate'); // stays pending while the bad frames arrive
    for (const bad of badFrames(true)) {
      const raw = await rawWebSocket(server.port, '/api/events', headers());
      expect(raw.status, bad.name).toMatch(/ 101 /);
      raw.socket.write(bad.bytes);
      await raw.closed; // the server ends this client's socket...
      // ...and still answers the others
      expect((await op('appInfo')).status, `after ${bad.name}`).toBe(200);
    }
    // A frame split mid-header and then reset, and a client that sends garbage before vanishing.
    const torn = await rawWebSocket(server.port, '/api/events', headers());
    torn.socket.write(frame({ opcode: 1, payload: 'hello', mask: true }).subarray(0, 3));
    torn.socket.destroy();
    const rude = await rawWebSocket(server.port, '/api/events', headers());
    rude.socket.end(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await rude.closed;

    bus.emit('log', { seq: 1, stream: 'stdout', time: '2026-01-01T00:00:00Z', text: 'still here' });
    await expect.poll(() => good.got.some((m) => m.includes('still here')), { timeout: 10_000 }).toBe(true);
    finishRotation?.();
    const res = await rotation;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, result: { outcome: 'committed' } });
    good.ws.close();
  });

  it('a client that sends messages on the push-only socket is closed with 1008, not crashed', async () => {
    const raw = await rawWebSocket(server.port, '/api/events', headers());
    raw.socket.write(frame({ opcode: 1, payload: 'hello', mask: true }));
    // the close frame the server sent: opcode 8, code 1008
    await expect.poll(() => raw.received().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    const rx = raw.received();
    expect(rx[0]).toBe(0x88);
    expect(rx.readUInt16BE(2)).toBe(1008);
    raw.socket.destroy();
    expect((await op('appInfo')).status).toBe(200);
  });
});
