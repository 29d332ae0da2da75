import { createContext, useCallback, useContext, useEffect, useEffectEvent, useState } from 'react';
import type { EventName, OpInput, OpName, OpResult, PanelClient, PanelEvents } from '../../../app/contract/index.js';

export const ClientContext = createContext<PanelClient | null>(null);

export function useClient(): PanelClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('ClientContext missing');
  return client;
}

export interface OpState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Calls an operation on mount (and when `key` changes); `reload` calls it again. */
export function useOp<N extends OpName>(name: N, input: OpInput<N>, key = ''): OpState<OpResult<N>> {
  const { api } = useClient();
  const [tick, setTick] = useState(0);
  // Loading until the answer to the current request is in; the previous data stays shown meanwhile.
  const request = `${name}\n${key}\n${tick}`;
  const [state, setState] = useState<{ request?: string; data?: OpResult<N>; error?: string }>({});
  // The input as of the call, without making every new input object a reason to call again.
  const currentInput = useEffectEvent(() => input);
  useEffect(() => {
    let live = true;
    const call = api[name] as (i: OpInput<N>) => Promise<OpResult<N>>;
    call(currentInput()).then(
      (data) => live && setState({ request, data }),
      (err: Error) => live && setState({ request, error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [api, name, request]);
  return { data: state.data, error: state.error, loading: state.request !== request, reload: useCallback(() => setTick((t) => t + 1), []) };
}

/** Runs an operation on demand (buttons): tracks busy and error. */
export function useAction<N extends OpName>(name: N) {
  const { api } = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(
    async (input: OpInput<N>): Promise<OpResult<N> | undefined> => {
      setBusy(true);
      setError(undefined);
      try {
        return await (api[name] as (i: OpInput<N>) => Promise<OpResult<N>>)(input);
      } catch (err) {
        setError((err as Error).message);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [api, name],
  );
  return { run, busy, error };
}

export function useEvent<E extends EventName>(event: E, listener: (payload: PanelEvents[E]) => void): void {
  const { on } = useClient();
  // Always the latest listener, without resubscribing on every render.
  const onEvent = useEffectEvent((payload: PanelEvents[E]) => listener(payload));
  useEffect(() => on(event, (p) => onEvent(p)), [on, event]);
}
