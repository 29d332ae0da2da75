// Loaded by the UI: only type imports from index.ts, whose schemas would bring zod along.
import type { ContractErrorShape, EventName, OpInput, OpResult, PanelApi, PanelEvents } from './index.js';
import { opNames, type OpName } from './names.js';

/** How every result crosses a process boundary (IPC, HTTP): structured errors survive it. */
export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: ContractErrorShape };

/** Raised in the UI for a failed operation; `code` and `issues` come from the core. */
export class ContractCallError extends Error {
  readonly code: ContractErrorShape['code'];
  readonly issues: ContractErrorShape['issues'];
  readonly problem: ContractErrorShape['problem'];
  constructor(readonly op: string, shape: ContractErrorShape) {
    super(shape.message);
    this.name = 'ContractCallError';
    this.code = shape.code;
    this.issues = shape.issues;
    this.problem = shape.problem;
  }
}

/** How a pushed event crosses a process boundary: with the instance it is about (none: the panel's own). */
export interface EventMessage {
  event: EventName;
  payload: unknown;
  instance?: string;
}

/** An event listener of a UI: the payload, and the instance it is about. */
export type UiListener<E extends EventName> = (payload: PanelEvents[E], instance: string | undefined) => void;

/** What the Electron preload exposes as `window.comfyPanel`: one method per operation, and events. */
export type PanelBridge = {
  ops: { [N in OpName]: (input: OpInput<N>) => Promise<Envelope<OpResult<N>>> };
  on<E extends EventName>(event: E, listener: UiListener<E>): () => void;
};

export type Transport = (name: OpName, input: unknown) => Promise<Envelope>;

/** Builds the typed API over any transport: one method per operation of the contract. */
export function apiOverTransport(transport: Transport): PanelApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of opNames) {
    api[name] = async (input: unknown) => {
      const env = await transport(name, input ?? {});
      if (!env.ok) throw new ContractCallError(name, env.error);
      return env.result;
    };
  }
  return api as PanelApi;
}
