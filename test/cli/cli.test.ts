import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli-run.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
const saved = process.env.COMFY_PANEL_HOME;
beforeAll(() => {
  process.env.COMFY_PANEL_HOME = home;
  // An engine and a server nobody answers on: nothing real is touched.
  writeFileSync(path.join(home, 'config.json'), JSON.stringify({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url: 'http://127.0.0.1:9' } }));
});
afterAll(() => {
  if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
  else process.env.COMFY_PANEL_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});


describe('--json with a usage error prints the JSON error object on stdout', () => {
  it.each([
    [['--json', 'container', 'nonsense'], /unknown command 'nonsense'/, 'comfy-panel container --help'],
    [['--json', 'container', 'logs', '--tail', 'many'], /--tail/, 'comfy-panel container logs --help'],
    [['--json', 'env', 'diff', 'only-one'], /missing required argument 'b'/, 'comfy-panel env diff --help'],
  ])('%j', async (args, message, help) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { message: string; fix: string; code: string } };
    expect(doc.error).toMatchObject({ code: 'usage', message: expect.stringMatching(message) as unknown, fix: `See \`${help}\`.` });
    // One JSON document and nothing else: commander's own text stays out of it.
    expect(r.stderr).toBe('');
  });

  it('without --json the usage error stays human, on stderr', async () => {
    const r = await cli(['container', 'nonsense']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown command 'nonsense'/);
  });
});

describe('env show / env diff --reveal reveal in human output too', () => {
  const hash = '$2b$12$' + 'R'.repeat(53);
  const a = path.join(home, 'a.env');
  const b = path.join(home, 'b.env');
  beforeAll(() => {
    writeFileSync(a, `COMFYUI_URL=http://x\nCOMFYUI_API_TOKEN='${hash}'\n`);
    writeFileSync(b, `COMFYUI_URL=http://y\nCOMFYUI_API_TOKEN=other-token-value\n`);
  });

  it('env show: masked with the note by default; --reveal prints the value and no note', async () => {
    const masked = await cli(['env', 'show', a, '--dialect', 'dotenv']);
    expect(masked.stdout).toMatch(/COMFYUI_API_TOKEN=•••• \(60 chars, fp:/);
    expect(masked.stdout).toContain('pass --reveal');
    const shown = await cli(['env', 'show', a, '--dialect', 'dotenv', '--reveal']);
    expect(shown.stdout).toContain(`COMFYUI_API_TOKEN=${hash}`);
    expect(shown.stdout).not.toMatch(/\[redacted|pass --reveal/);
  });

  it('env diff: --reveal prints both sides of a changed secret', async () => {
    const masked = await cli(['env', 'diff', a, b, '--dialect-a', 'dotenv', '--dialect-b', 'dotenv']);
    expect(masked.stdout).not.toContain(hash);
    expect(masked.stdout).toContain('pass --reveal');
    const shown = await cli(['env', 'diff', a, b, '--dialect-a', 'dotenv', '--dialect-b', 'dotenv', '--reveal']);
    expect(shown.stdout).toContain(`~ COMFYUI_API_TOKEN: ${hash}  ->  other-token-value`);
    expect(shown.stdout).not.toMatch(/\[redacted|pass --reveal/);
  });
});

describe('serve (and so `npm start`) on a taken port', () => {
  it('says which port is taken and how to pick another (npm start -- --port N), naming a free one; exit 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await cli(['serve', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toMatch(/fix: .*`npm start -- --port \d+` \(or `comfy-panel serve --port \d+`\); \d+ is free now/);
      const suggested = Number(/npm start -- --port (\d+)/.exec(r.stderr)?.[1]);
      expect(suggested).toBeGreaterThan(port);
      expect(r.stderr).not.toMatch(/EADDRINUSE|at .*:\d+:\d+/);
    } finally {
      holder.close();
    }
  });

  it('with --json the same error is the JSON error object', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await cli(['--json', 'serve', '--port', String(port)]);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'port-in-use', message: expect.stringContaining(`port ${port}`) as unknown } });
    } finally {
      holder.close();
    }
  });
});
