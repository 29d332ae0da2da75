import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Executor, Sender } from './executor.js';
import { pyJson } from './pyjson.js';

/** ComfyUI's BinaryEventTypes and image type numbers. */
const PREVIEW_IMAGE = 1;
const PREVIEW_IMAGE_WITH_METADATA = 4;
const PNG = 2;

export const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 };

/**
 * The WebSocket side of PromptServer: one socket per client id (a reconnect replaces the old
 * one), JSON text frames `{"type", "data"}`, binary preview frames, feature-flag negotiation.
 */
export class WsHub implements Sender {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Map<string, WebSocket>();
  private readonly flags = new Map<string, Record<string, unknown>>();
  executor: Executor | undefined;

  accept(raw: IncomingMessage, socket: Duplex, head: Buffer, clientId: string | null): void {
    const sid = clientId ?? randomUUID().replaceAll('-', '');
    this.wss.handleUpgrade(raw, socket, head, (ws) => this.connected(ws, sid));
  }

  private connected(ws: WebSocket, sid: string): void {
    this.sockets.set(sid, ws);
    ws.send(pyJson({ type: 'status', data: { status: this.executor?.queueInfo(), sid } }));
    const last = this.executor?.lastNode;
    if (last && last.sid === sid) ws.send(pyJson({ type: 'executing', data: { node: last.node } }));
    let first = true;
    // ws hands text frames over as one Buffer (binaryType nodebuffer, the default).
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return;
      try {
        const msg = JSON.parse(data.toString()) as { type?: unknown; data?: unknown };
        // Only a client's first message may negotiate features, as in ComfyUI.
        if (first && msg.type === 'feature_flags') {
          this.flags.set(sid, (msg.data ?? {}) as Record<string, unknown>);
          ws.send(pyJson({ type: 'feature_flags', data: SERVER_FEATURES }));
        }
      } catch {
        // ComfyUI logs "Invalid JSON received from client" and carries on.
      }
      first = false;
    });
    ws.on('close', () => {
      if (this.sockets.get(sid) !== ws) return;
      this.sockets.delete(sid);
      this.flags.delete(sid);
    });
  }

  private targets(sid: string | undefined): [string, WebSocket][] {
    if (sid === undefined) return [...this.sockets];
    const ws = this.sockets.get(sid);
    return ws ? [[sid, ws]] : [];
  }

  send(event: string, data: Record<string, unknown>, sid: string | undefined): void {
    const text = pyJson({ type: event, data });
    for (const [, ws] of this.targets(sid)) ws.send(text);
  }

  sendPreview(png: Buffer, sid: string | undefined, meta: { node_id: string; prompt_id: string }): void {
    // ComfyUI decides by the submitting client's flags: the metadata format only to a client that asked.
    const withMeta = sid !== undefined && this.flags.get(sid)?.supports_preview_metadata === true;
    const json = Buffer.from(pyJson({ ...meta, display_node_id: meta.node_id, parent_node_id: null, real_node_id: meta.node_id, image_type: 'image/png' }));
    const frame = withMeta ? Buffer.concat([u32(PREVIEW_IMAGE_WITH_METADATA), u32(json.length), json, png]) : Buffer.concat([u32(PREVIEW_IMAGE), u32(PNG), png]);
    for (const [, ws] of this.targets(sid)) ws.send(frame);
  }

  close(): void {
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
