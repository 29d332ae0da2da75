// Sweeps of many instances on one engine at the same moment ask it once: the fleet's EnginePings
// share one request and its answer among pings in flight to the same engine, reached the same way;
// a later ping asks again, and a plain pingDocker always asks itself.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { EnginePings, pingDocker } from '../../app/docker/connection.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ping-share-'));
const sock = path.join(dir, 'engine.sock');
const asked: string[] = [];
// Stands in for dockerd's /version, answering after a moment so that pings overlap.
const engine = http.createServer((req, res) => {
  asked.push(req.url ?? '');
  setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41' })), 50);
});

beforeAll(() => new Promise<void>((r) => engine.listen(sock, r)));
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (timeoutMs = 2000) => PanelConfigSchema.parse({ docker: { host: `unix://${sock}`, timeoutMs } });
const versions = () => asked.filter((u) => u.endsWith('/version')).length;

describe('pings of one engine', () => {
  it('at the same moment: one request, the same answer for every caller', async () => {
    asked.length = 0;
    const pings = new EnginePings();
    const answers = await Promise.all(Array.from({ length: 20 }, () => pings.ping(config())));
    expect(versions()).toBe(1);
    expect(new Set(answers.map((a) => a.serverVersion))).toEqual(new Set(['20.10.24']));
    expect(answers.every((a) => a.ok)).toBe(true);
  });

  it('one after the other, with another deadline, or without the shared pings: each asks the engine itself', async () => {
    asked.length = 0;
    const pings = new EnginePings();
    await pings.ping(config());
    await pings.ping(config());
    await Promise.all([pings.ping(config(2000)), pings.ping(config(3000))]);
    await Promise.all([pingDocker(config()), pingDocker(config())]);
    expect(versions()).toBe(6);
  });
});
