/**
 * Fuzzing the hostile-input paths of issue 16: random bytes on an authenticated event socket,
 * long log lines cut anywhere in Docker's multiplexed stream, and a ComfyUI answering at random
 * with broken bodies. Nothing may crash, hang, grow without bound or leak a token.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyClient, ComfyError, probeAuth } from '../../app/comfy/client.js';
import type { PanelHandlers } from '../../app/contract/index.js';
import type { LogLine } from '../../app/contract/events.js';
import { pumpLogLines } from '../../app/docker/log-lines.js';
import { startBrowserServer, type BrowserServer } from '../../app/serve/server.js';
import { EventBus } from '../../app/service/bus.js';
import { frame, rawWebSocket } from '../hostile/frames.js';
import { startHostileComfy, type Behaviour, type HostileComfy } from '../hostile/server.js';

let server: BrowserServer;
let comfy: HostileComfy;
beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renderer-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">app shell`);
  server = await startBrowserServer({ handlers: { appInfo: async () => ({ ok: 1 }) } as unknown as PanelHandlers, bus: new EventBus(), rendererDir: dir, port: 0 });
  comfy = await startHostileComfy();
});
afterAll(async () => {
  await server.close();
  await comfy.close();
});

describe('serve under random frames', () => {
  it('random bytes (and random valid-looking frames) from an authenticated client never take it down', async () => {
    const headers = { Host: `127.0.0.1:${server.port}`, Origin: `http://127.0.0.1:${server.port}`, Authorization: `Bearer ${server.key}` };
    const bytes = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.record({ opcode: fc.integer({ min: 0, max: 15 }), rsv: fc.integer({ min: 0, max: 7 }), fin: fc.boolean(), mask: fc.boolean(), payload: fc.uint8Array({ maxLength: 200 }) }).map((f) => frame({ ...f, payload: Buffer.from(f.payload) })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(bytes, { minLength: 1, maxLength: 4 }), async (chunks) => {
        const raw = await rawWebSocket(server.port, '/api/events', headers);
        for (const c of chunks) raw.socket.write(Buffer.from(c));
        raw.socket.destroy();
        const res = await fetch(`http://127.0.0.1:${server.port}/api/op/appInfo`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: '{}' });
        expect(res.status).toBe(200);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('log lines cut anywhere', () => {
  const HASH = bcrypt.hashSync('fuzz', 4);
  const TS = '2026-11-24T11:00:00.123456789Z';
  const muxed = (line: string) => {
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    const frames: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) {
      const body = Buffer.concat([Buffer.from(`${TS} `), bytes.subarray(i, i + 16 * 1024)]);
      const head = Buffer.alloc(8);
      head[0] = 1;
      head.writeUInt32BE(body.length, 4);
      frames.push(head, body);
    }
    return Buffer.concat(frames);
  };

  it('a token at any place of a line of any length is never shown, in whole or in part', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 70_000 }), fc.nat({ max: 20_000 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), async (before, after, cuts, asToken) => {
        const stream = muxed(`${'x'.repeat(before)}${asToken ? ' token=' : ''}${HASH}${'é'.repeat(after)}`);
        const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
        const parts: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          if (p <= prev) continue;
          parts.push(stream.subarray(prev, p));
          prev = p;
        }
        const got: LogLine[] = [];
        await pumpLogLines(Readable.from(parts), { tty: false, onLine: (l) => void got.push(l) });
        expect(got).toHaveLength(1);
        const text = JSON.stringify(got);
        for (let i = 7; i + 12 <= HASH.length; i++) expect(text).not.toContain(HASH.slice(i, i + 12));
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('a ComfyUI answering at random', () => {
  const behaviours: Behaviour[] = [
    { kind: 'endless' },
    { kind: 'huge', bytes: 3 * 1024 * 1024 },
    { kind: 'slow', everyMs: 20 },
    { kind: 'truncated' },
    { kind: 'silent' },
    { kind: 'json', body: { system: [], devices: {} } },
    { kind: 'json', status: 401, body: {} },
    { kind: 'text', status: 500, body: 'boom', contentType: 'text/plain' },
    { kind: 'text', body: '\u0000\u0001binary', contentType: 'application/octet-stream' },
  ];
  it('every call ends in time with a result or a typed error; the probe never calls a broken answer a success', async () => {
    const client = new ComfyClient({ baseUrl: comfy.url, token: '$2b$04$fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfu', timeoutMs: 400, maxJsonBytes: 1024 * 1024 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...behaviours), async (b) => {
        comfy.set('/system_stats', b);
        const outcome = await client.systemStats().then(() => 'ok', (e: unknown) => e);
        if (outcome !== 'ok') expect(outcome).toBeInstanceOf(ComfyError);
        const probe = await probeAuth(comfy.url, undefined, 400);
        if (b.kind !== 'json' && b.kind !== 'text') expect(probe.status).toBeNull();
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
