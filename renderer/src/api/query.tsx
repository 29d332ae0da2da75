import { QueryClient, QueryClientProvider, useMutation, useQuery } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useEffectEvent, useState, useSyncExternalStore, type ReactNode } from 'react';
import { ContractCallError } from '../../../app/contract/envelope.js';
import type { ContractProblem, EventName, OpInput, OpName, OpResult, PanelApi, PanelClient, PanelEvents } from '../../../app/contract/index.js';
import type { Transition } from './effects.js';
import { callInput, opKey, type InstanceId } from './keys.js';
import { LiveCache, type MutationTicket } from './live.js';

interface Panel {
  client: PanelClient;
  queries: QueryClient;
  live: LiveCache;
}

const PanelContext = createContext<Panel | null>(null);

/**
 * The deployment every call and cache key is for: undefined with one instance, else the one the
 * shell's switcher selected (App.tsx). useOp and useAction read it here.
 */
export const InstanceContext = createContext<InstanceId>(undefined);

export function useInstance(): InstanceId {
  return useContext(InstanceContext);
}

function usePanel(): Panel {
  const panel = useContext(PanelContext);
  if (!panel) throw new Error('PanelProvider missing');
  return panel;
}

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // Events and operations keep cached data fresh; a remount within a minute reuses it, a later
      // one (or the window regaining focus) checks again, for what no event reports yet.
      queries: { retry: false, staleTime: 60_000 },
      // Results live with the component that asked; nothing lingers in a cache afterwards.
      mutations: { retry: false, gcTime: 0 },
    },
  });
}

/** The query cache, the client and the live events, for everything below it. */
export function PanelProvider({ client, children }: { client: PanelClient; children: ReactNode }) {
  const [panel] = useState<Panel>(() => {
    const queries = newQueryClient();
    return { client, queries, live: new LiveCache(client, queries) };
  });
  useEffect(() => panel.live.start(), [panel]);
  return (
    <PanelContext.Provider value={panel}>
      <QueryClientProvider client={panel.queries}>{children}</QueryClientProvider>
    </PanelContext.Provider>
  );
}

function callOp<N extends OpName>(api: PanelApi, name: N, input: OpInput<N>): Promise<OpResult<N>> {
  return (api[name] as (i: OpInput<N>) => Promise<OpResult<N>>)(input);
}

/** The core's code and fix of a failed call, when it sent one. */
export function problemOf(error: unknown): ContractProblem | undefined {
  return error instanceof ContractCallError ? error.problem : undefined;
}

export interface OpState<T> {
  data?: T;
  error?: string;
  /** The core error's code, fix and the action that applies it (ErrorNote shows them). */
  problem?: ContractProblem;
  /** A fetch is under way (the previous data, if any, stays shown meanwhile). */
  loading: boolean;
  /** When the data shown was fetched (ms since the epoch; 0 before the first answer). */
  updatedAt: number;
  reload: () => void;
}

export interface OpOptions {
  /** False: fetched only by reload() (e.g. a preview the operator asks for). */
  enabled?: boolean;
  /** How long cached data counts as current when a component mounts (default 60 s; Infinity: never refetched on mount). */
  staleTime?: number;
  refetchOnWindowFocus?: boolean;
  /** Also refetched every this many ms while shown (for what no event reports, such as a queue's length). */
  refetchInterval?: number;
}

/**
 * The data of a read operation, shared: every component asking for the same [operation, input]
 * shares one cache entry and one fetch, refreshed by the events and operations that change it
 * (effects.ts), not by each component.
 */
export function useOp<N extends OpName>(name: N, input: OpInput<N>, opts: OpOptions = {}): OpState<OpResult<N>> {
  const { client } = usePanel();
  const key = opKey(name, input, useInstance());
  const q = useQuery({ queryKey: key, queryFn: () => callOp(client.api, name, key[1]), ...opts });
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  return { data: q.data, error: q.error?.message, problem: problemOf(q.error), loading: q.isFetching, updatedAt: q.dataUpdatedAt, reload };
}

/**
 * An operation run on demand, tracked by the live cache: its transition (Start: "starting") shows
 * at once, and what it changes is refetched once when it settles. No confirmation here: pages use
 * useAction (actions.tsx), which asks first where the operation restarts ComfyUI or rewrites files.
 */
export function useMutationOp<N extends OpName>(name: N) {
  const { client, live } = usePanel();
  const instance = useInstance();
  const m = useMutation<OpResult<N>, Error, OpInput<N>, MutationTicket>({
    mutationKey: [name, instance],
    mutationFn: (input) => callOp(client.api, name, callInput(name, input, instance)),
    onMutate: () => live.mutationStarted(name, instance),
    onSettled: (data, _error, _input, ticket) => {
      if (ticket) void live.mutationSettled(ticket, data);
    },
  });
  const { mutateAsync, reset } = m;
  /** The result, or undefined when the call failed (`error` says why). */
  const run = useCallback((input: OpInput<N>) => mutateAsync(input).catch(() => undefined), [mutateAsync]);
  return { run, busy: m.isPending, error: m.error?.message, problem: problemOf(m.error), reset };
}

/**
 * A call that changes nothing and whose answer must not be cached: a secret handed straight to
 * the clipboard, a log stream. Still goes through the current instance.
 */
export function useCall() {
  const { client } = usePanel();
  const instance = useInstance();
  return useCallback(<N extends OpName>(name: N, input: OpInput<N>) => callOp(client.api, name, callInput(name, input, instance)), [client, instance]);
}

/** The query cache itself, for the guards that compare what the operator read with the current data. */
export function useQueries(): QueryClient {
  return usePanel().queries;
}

/** The transition the current instance's container is in because of an operation in flight. */
export function useContainerTransition(): Transition | undefined {
  const { live } = usePanel();
  const instance = useInstance();
  return useSyncExternalStore(live.transitions.subscribe, () => live.transitions.get(instance));
}

/**
 * A pushed event, for what is not cached data (log lines, a rotation's steps, a generation's
 * progress); an event about another instance than the current one is not passed on, unless
 * `everyInstance` (the fleet's views: notifications, a staged rotation's progress).
 */
export function useEvent<E extends EventName>(event: E, listener: (payload: PanelEvents[E], about: InstanceId) => void, opts: { everyInstance?: boolean } = {}): void {
  const { client } = usePanel();
  const instance = useInstance();
  const every = opts.everyInstance === true;
  // Always the latest listener, without resubscribing on every render.
  const onEvent = useEffectEvent((payload: PanelEvents[E], about: InstanceId) => {
    if (every || about === undefined || instance === undefined || about === instance) listener(payload, about);
  });
  useEffect(() => client.on(event, (p, about) => onEvent(p, about)), [client, event]);
}
