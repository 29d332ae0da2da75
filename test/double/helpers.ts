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

export interface Started {
  comfy: ComfyDouble;
  root: string;
  hash: string;
  logs: string[];
  auth: Record<string, string>;
  stop(): Promise<void>;
}

/** A double over a fresh root with a PASSWORD set; stop() closes it and deletes the root. */
export async function startWithPassword(opts: Partial<ComfyDoubleOptions> = {}): Promise<Started> {
  const root = opts.dir ?? tempRoot();
  const hash = writePassword(root, 'correct horse');
  const logs: string[] = [];
  const comfy = await startComfyDouble({ ...opts, dir: root, log: (l) => logs.push(l) });
  return {
    comfy,
    root,
    hash,
    logs,
    auth: { Authorization: `Bearer ${hash}` },
    stop: async () => {
      await comfy.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One double for the whole test file: started before its tests (then `ready` runs), stopped after. */
export function useDouble(opts: Partial<ComfyDoubleOptions>, ready: (s: Started) => void): void {
  let started: Started | undefined;
  beforeAll(async () => {
    started = await startWithPassword(opts);
    ready(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
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
