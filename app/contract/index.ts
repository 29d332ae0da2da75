/**
 * The one contract between the core and any UI: every operation (name, input schema,
 * result type) and every pushed event. Electron IPC, the preload bridge and the
 * browser-mode client are all derived from `opNames` and `eventNames` (names.ts, free of
 * zod for the UI) and, where input is validated, from `operations`.
 */
import type { InputOf, OpDef, ResultOf, ParsedInputOf } from './define.js';
import { appOps } from './ops/app.js';
import { containerOps } from './ops/container.js';
import { envOps } from './ops/env.js';
import { fleetOps } from './ops/fleet.js';
import { gatewayOps } from './ops/gateway.js';
import { generateOps } from './ops/generate.js';
import { healthOps } from './ops/health.js';
import { tokenOps } from './ops/tokens.js';
import type { EventName, PanelEvents } from './events.js';
import type { OpName } from './names.js';

/** Checks at compile time that `ops` has an operation for every name of names.ts and no other. */
const exactlyTheNames = <T extends Record<OpName, OpDef>>(ops: T & Record<Exclude<keyof T, OpName>, never>): T => ops;

export const operations = exactlyTheNames({
  ...appOps,
  ...containerOps,
  ...envOps,
  ...fleetOps,
  ...gatewayOps,
  ...generateOps,
  ...healthOps,
  ...tokenOps,
});

export type Operations = typeof operations;
export type OpInput<N extends OpName> = InputOf<Operations[N]>;
export type OpParsedInput<N extends OpName> = ParsedInputOf<Operations[N]>;
export type OpResult<N extends OpName> = ResultOf<Operations[N]>;

/** Beside the input of an operation that acts on one instance: which (names.ts fleetWideOps lists the others). */
export interface InstanceArg {
  instance?: string;
}

/** What a UI calls: one async method per operation. */
export type PanelApi = { [N in OpName]: (input: OpInput<N> & InstanceArg) => Promise<OpResult<N>> };

/**
 * What the core implements: one handler per operation, receiving validated input and, for the
 * fleet's router, the instance the call named.
 */
export type PanelHandlers = { [N in OpName]: (input: OpParsedInput<N>, instance?: string) => Promise<OpResult<N>> };

/** What one instance implements: every operation but those of the fleet as a whole (ops/fleet.ts). */
export type InstanceHandlers = Omit<PanelHandlers, keyof typeof fleetOps>;

/** A UI's listener: the payload and the instance it is about (undefined: the panel's own). */
export type EventListener<E extends EventName> = (payload: PanelEvents[E], instance: string | undefined) => void;

/** What the UI holds: the API plus a subscription to pushed events. */
export interface PanelClient {
  api: PanelApi;
  on: <E extends EventName>(event: E, listener: EventListener<E>) => () => void;
}

/** Errors crossing the contract carry a code and a message fit to show; never a stack or a secret. */
export interface ContractErrorShape {
  code: 'invalid-input' | 'unknown-operation' | 'forbidden' | 'failed';
  message: string;
  /** Field paths for invalid input. */
  issues?: { path: string; message: string }[];
  /** For `failed`: the core error's own code and fix, as the app says it (UI actions, not CLI commands). */
  problem?: ContractProblem;
}

export interface ContractProblem {
  /** The core's error code (PanelError.code), e.g. "no-credential", "docker-daemon-not-running", "env-outside-root". */
  code: string;
  /** What to do, naming the app's pages and buttons. */
  fix?: string;
  /** The operation that applies the fix, offered as a button (it asks first where it restarts or rewrites). */
  action?: OpName;
  input?: Record<string, string | number | boolean>;
}

export { dialects, envValueSources, eventNames, fleetWideOps, instanceIdPattern, isFleetWide, isOpName, opNames, type Dialect, type FleetWideOp, type OpName } from './names.js';
// Every type the UI may need, from one import.
export type * from './events.js';
export type * from './ops/app.js';
export type * from './ops/container.js';
export type * from './ops/env.js';
export type * from './ops/fleet.js';
export type * from './ops/gateway.js';
export type * from './ops/generate.js';
export type * from './ops/health.js';
export type * from './ops/tokens.js';
