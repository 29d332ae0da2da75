/**
 * The UI's one way to the core: pages import from here. Reads are shared TanStack queries keyed by
 * [operation, input] (the current instance injected in one place, keys.ts), kept current by the
 * contract's events (live.ts) and by the operations that change them (effects.ts); buttons run
 * operations through useAction, which asks before anything that restarts ComfyUI or rewrites files.
 */
export { ConfirmProvider, useAction, type Action } from './actions.js';
export { InstanceContext, PanelProvider, useCall, useContainerTransition, useEvent, useInstance, useOp, type OpState } from './query.js';
