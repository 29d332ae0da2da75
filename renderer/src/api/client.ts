import { apiOverTransport, type Envelope, type EventMessage, type PanelBridge } from '../../../app/contract/envelope.js';
import type { EventListener, EventName, PanelClient } from '../../../app/contract/index.js';
import { eventNames } from '../../../app/contract/names.js';

declare global {
  interface Window {
    comfyPanel?: PanelBridge;
  }
}

/** Desktop: the preload bridge carries calls over IPC. */
export function electronClient(bridge: PanelBridge): PanelClient {
  const ops = bridge.ops as unknown as Record<string, (input: unknown) => Promise<Envelope>>;
  return { api: apiOverTransport((name, input) => ops[name]!(input)), on: (event, listener) => bridge.on(event, listener) };
}

/** Browser mode: HTTP for calls (the session cookie authenticates), one WebSocket for events. */
export function browserClient(base = window.location.origin): PanelClient {
  const api = apiOverTransport(async (name, input) => {
    const res = await fetch(`${base}/api/op/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
      credentials: 'same-origin',
    });
    if (res.status === 401) return { ok: false, error: { code: 'forbidden', message: 'session expired: open the URL printed by comfy-panel serve again' } };
    return (await res.json()) as Envelope;
  });
  const listeners = new Map<EventName, Set<(payload: unknown, instance: string | undefined) => void>>(eventNames.map((e) => [e, new Set()]));
  let socket: WebSocket | undefined;
  let retry = 500;
  const connect = () => {
    socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/events`);
    socket.onopen = () => (retry = 500);
    socket.onmessage = (msg) => {
      const { event, payload, instance } = JSON.parse(String(msg.data)) as EventMessage;
      listeners.get(event)?.forEach((l) => l(payload, instance));
    };
    socket.onclose = () => {
      socket = undefined;
      setTimeout(connect, (retry = Math.min(retry * 2, 10_000)));
    };
  };
  connect();
  return {
    api,
    on<E extends EventName>(event: E, listener: EventListener<E>) {
      const set = listeners.get(event)!;
      const l = listener as (payload: unknown, instance: string | undefined) => void;
      set.add(l);
      return () => void set.delete(l);
    },
  };
}

/** Browser mode: ends this session on the server (its cookie and event socket), then shows the signed-out page. */
export async function signOut(): Promise<void> {
  await fetch('/api/session/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  window.location.replace('/');
}

export function createClient(): PanelClient {
  return window.comfyPanel ? electronClient(window.comfyPanel) : browserClient();
}
