import type { IpcMain, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { eventNames, opNames, type OpName, type PanelHandlers } from '../app/contract/index.js';
import type { Envelope, EventMessage } from '../app/contract/envelope.js';
import type { EventBus } from '../app/service/bus.js';
import { dispatch, toContractError } from '../app/service/dispatch.js';
import { EVENT_CHANNEL, opChannel } from './ipc-channels.js';

/** Only our own page, loaded from the app:// scheme in its main frame, may call the core. */
export function isTrustedFrame(frame: WebFrameMain | null, expectedOrigin: string): boolean {
  if (!frame || frame.parent) return false;
  try {
    // URL.origin is opaque ("null") for custom schemes outside Electron, so compare the parts.
    const u = new URL(frame.url);
    return `${u.protocol}//${u.host}` === expectedOrigin;
  } catch {
    return false;
  }
}

/**
 * Registers one IPC handler per operation of the contract. Each checks the sender frame,
 * then validates the input with the contract's schema before anything runs.
 */
export function bindIpc(ipcMain: IpcMain, handlers: PanelHandlers, expectedOrigin: string): Record<OpName, string> {
  const channels = {} as Record<OpName, string>;
  for (const name of opNames) {
    const channel = opChannel(name);
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, input: unknown): Promise<Envelope> => {
      if (!isTrustedFrame(event.senderFrame, expectedOrigin)) {
        return { ok: false, error: { code: 'forbidden', message: 'caller is not the panel page' } };
      }
      try {
        return { ok: true, result: await dispatch(handlers, name, input) };
      } catch (err) {
        return { ok: false, error: toContractError(err) };
      }
    });
    channels[name] = channel;
  }
  return channels;
}

/** Forwards every contract event to the window; returns the unsubscribe. */
export function forwardEvents(bus: EventBus, send: (channel: string, message: EventMessage) => void): () => void {
  const offs = eventNames.map((event) => bus.on(event, (payload, instance) => send(EVENT_CHANNEL, { event, payload, ...(instance === undefined ? {} : { instance }) })));
  return () => offs.forEach((off) => off());
}
