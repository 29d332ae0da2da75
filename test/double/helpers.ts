import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync, crc32 } from 'node:zlib';
import bcrypt from 'bcryptjs';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startComfyDouble, type ComfyDouble, type ComfyDoubleOptions } from '../comfy-double/server.js';

export { SMOKE_GRAPH, qwenGraph, installQwenModels, QWEN_MODELS } from '../comfy-double/graphs.js';

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'double-'));
}

/** Writes login/PASSWORD as the recipe does (hash, newline, username, no trailing newline); cost 4 keeps tests fast. */
export function writePassword(root: string, password: string, username = 'admin'): string {
  const hash = bcrypt.hashSync(password, 4);
  mkdirSync(join(root, 'login'), { recursive: true });
  writeFileSync(join(root, 'login', 'PASSWORD'), `${hash}\n${username}`);
  return hash;
}

/** The ComfyUI-Login session key file; delete it and restart to end every browser session. */
export function sessionKeyPath(root: string): string {
  return join(root, 'custom_nodes', 'ComfyUI-Login', '.secret-key.txt');
}

/**
 * A mode of the double on this host: the server options plus where the password is.
 *   password: the raw password (default 'correct horse'); null leaves no PASSWORD at all.
 *   passwordAt: 'login' (login/PASSWORD, what the recipe's entrypoint writes; default) or
 *     'root' (<root>/PASSWORD holding only the hash, what the pre-token node reads).
 */
export interface DoubleMode extends Partial<Omit<ComfyDoubleOptions, 'log'>> {
  password?: string | null;
  passwordAt?: 'login' | 'root';
}

export interface Started {
  /** The running double; replaced by restart(). */
  comfy: ComfyDouble;
  root: string;
  /** The token (bcrypt hash); '' when the mode has no password. */
  hash: string;
  password: string | null;
  logs: string[];
  auth: Record<string, string>;
  /** Stops and starts ComfyUI on the same root and port, as a container restart would (options may change). */
  restart(change?: Partial<ComfyDoubleOptions>): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the double in a mode over a fresh root (or `mode.dir`); stop() closes it and deletes the root. */
export async function startDouble(mode: DoubleMode = {}): Promise<Started> {
  const { password: pw, passwordAt, ...opts } = mode;
  const root = opts.dir ?? tempRoot();
  const password = pw === undefined ? 'correct horse' : pw;
  let hash = '';
  if (password !== null && passwordAt === 'root') {
    hash = bcrypt.hashSync(password, 4);
    writeFileSync(join(root, 'PASSWORD'), hash);
  } else if (password !== null) {
    hash = writePassword(root, password);
  }
  const logs: string[] = [];
  let current: ComfyDoubleOptions = { ...opts, dir: root, log: (l) => logs.push(l) };
  const started: Started = {
    comfy: await startComfyDouble(current),
    root,
    hash,
    password,
    logs,
    auth: { Authorization: `Bearer ${hash}` },
    restart: async (change = {}) => {
      await started.comfy.close();
      current = { ...current, ...change, port: started.comfy.port };
      started.comfy = await startComfyDouble(current);
    },
    stop: async () => {
      await started.comfy.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return started;
}

/** A double over a fresh root with a PASSWORD set; stop() closes it and deletes the root. */
export function startWithPassword(opts: Partial<ComfyDoubleOptions> = {}): Promise<Started> {
  return startDouble(opts);
}

/** One double for the whole test file: started before its tests (then `ready` runs), stopped after. */
export function useDouble(opts: DoubleMode, ready: (s: Started) => void): void {
  let started: Started | undefined;
  beforeAll(async () => {
    started = await startDouble(opts);
    ready(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
}

/** Logs in through the form as a browser would; resolves with the Cookie header value, or undefined if no session was set. */
export async function loginCookie(url: string, password: string, username = 'admin'): Promise<string | undefined> {
  const res = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ username, password }), redirect: 'manual' });
  await res.body?.cancel();
  return res.headers.get('set-cookie')?.split(';')[0];
}

/** A list whose WebSocket recorders are closed after each test. */
export function closedAfterEach(): WsRecorder[] {
  const list: WsRecorder[] = [];
  afterEach(() => {
    for (const r of list.splice(0)) r.close();
  });
  return list;
}

export interface WsMessage {
  type: string;
  data: Record<string, unknown>;
}

/** A WebSocket client that records every frame, text and binary, in arrival order. */
export class WsRecorder {
  readonly messages: WsMessage[] = [];
  readonly binary: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.binary.push(data);
      else this.messages.push(JSON.parse(data.toString()) as WsMessage);
      for (const w of this.waiters) w();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<WsRecorder> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    const rec = new WsRecorder(ws);
    return new Promise((ok, fail) => {
      ws.once('open', () => ok(rec));
      ws.once('unexpected-response', (_req, res) => fail(new Error(`handshake answered ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  /** Resolves once a recorded message satisfies `pred` (checking those already there first). */
  waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 10_000): Promise<WsMessage> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no matching message in ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(', ')}`)), timeoutMs);
      const check = () => {
        const hit = this.messages.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        ok(hit);
      };
      this.waiters.push(check);
      check();
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** The handshake status of a WebSocket attempt (101 when it opens). */
export function wsHandshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
  return new Promise((ok, fail) => {
    ws.once('open', () => {
      ws.close();
      ok(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      ok(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => fail(e));
  });
}

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Unfiltered scanlines, each led by its filter byte. */
  raw: Buffer;
  text: Record<string, string>;
}

/**
 * An independent PNG check: signature, every chunk's CRC (zlib's, not the encoder's), IHDR,
 * IEND last, and IDAT inflating to exactly height scanlines of the declared width.
 */
export function decodePng(buf: Buffer): DecodedPng {
  if (!buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) throw new Error('bad PNG signature');
  let off = 8;
  const idat: Buffer[] = [];
  const text: Record<string, string> = {};
  let ihdr: Buffer | undefined;
  let last = '';
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== buf.readUInt32BE(off + 8 + len)) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      text[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    }
    last = type;
    off += 12 + len;
  }
  if (!ihdr || last !== 'IEND') throw new Error('missing IHDR or IEND');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(idat));
  const bytesPerPixel = ihdr[9] === 2 ? 3 : ihdr[9] === 6 ? 4 : 1;
  if (raw.length !== height * (1 + width * bytesPerPixel)) throw new Error(`IDAT holds ${raw.length} bytes, expected ${height * (1 + width * bytesPerPixel)}`);
  return { width, height, bitDepth: ihdr[8]!, colorType: ihdr[9]!, raw, text };
}
