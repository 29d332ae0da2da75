// The only bridge between the sandboxed page and the core: one namespaced object, `comfyPanel`.
// It takes the contract's names from names.ts: the schemas (and zod) stay in the main process.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Envelope, EventMessage, PanelBridge } from '../app/contract/envelope.js';
import type { PanelEvents } from '../app/contract/index.js';
import { eventNames, opNames } from '../app/contract/names.js';
import { EVENT_CHANNEL, opChannel } from './ipc-channels.js';

export function createBridge(): PanelBridge {
  const ops = {} as Record<string, (input: unknown) => Promise<Envelope>>;
  for (const name of opNames) ops[name] = (input) => ipcRenderer.invoke(opChannel(name), input) as Promise<Envelope>;
  return {
    ops: ops as PanelBridge['ops'],
    on(event, listener) {
      if (!(eventNames as readonly string[]).includes(event)) throw new Error(`unknown event: ${String(event)}`);
      const handler = (_e: IpcRendererEvent, msg: EventMessage) => {
        if (msg.event === event) listener(msg.payload as PanelEvents[typeof event], msg.instance);
      };
      ipcRenderer.on(EVENT_CHANNEL, handler);
      return () => void ipcRenderer.off(EVENT_CHANNEL, handler);
    },
  };
}

contextBridge.exposeInMainWorld('comfyPanel', createBridge());
