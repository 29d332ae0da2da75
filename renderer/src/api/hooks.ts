import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
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
  const [state, setState] = useState<{ data?: OpResult<N>; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const inputRef = useRef(input);
  inputRef.current = input;
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    const call = api[name] as (i: OpInput<N>) => Promise<OpResult<N>>;
    call(inputRef.current).then(
      (data) => live && setState({ data, loading: false }),
      (err: Error) => live && setState({ error: err.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [api, name, key, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
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
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => on(event, (p) => ref.current(p)), [on, event]);
}
