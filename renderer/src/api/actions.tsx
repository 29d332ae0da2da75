import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import type { ContractProblem, OpInput, OpName, OpResult } from '../../../app/contract/index.js';
import { ConfirmDialog } from '../components/Modal.js';
import { confirmations, type ConfirmSpec } from './confirmations.js';
import type { InstanceId } from './keys.js';
import { InstanceContext, useCall, useInstance, useMutationOp, useQueries } from './query.js';

type Ask = <N extends OpName>(spec: ConfirmSpec<N>, input: OpInput<N>, instance: InstanceId) => Promise<boolean>;

const ConfirmContext = createContext<Ask | null>(null);

/**
 * Hosts the one confirmation dialog; an unanswered one is cancelled when another is asked. It sits
 * above the shell's instance switcher, so the dialog's body reads the instance of the button that asked.
 */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [asking, setAsking] = useState<{ spec: ConfirmSpec<OpName>; input: unknown; instance: InstanceId; answer: (ok: boolean) => void }>();
  const ask = useCallback<Ask>(
    (spec, input, instance) =>
      new Promise<boolean>((resolve) =>
        setAsking((previous) => {
          previous?.answer(false);
          return { spec: spec as unknown as ConfirmSpec<OpName>, input, instance, answer: resolve };
        }),
      ),
    [],
  );
  const Body = asking?.spec.Body as ((props: { input: unknown }) => ReactNode) | undefined;
  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      {asking && Body ? (
        <ConfirmDialog
          title={asking.spec.title}
          confirmLabel={asking.spec.confirmLabel}
          onClose={(ok) => {
            asking.answer(ok);
            setAsking(undefined);
          }}
        >
          <InstanceContext.Provider value={asking.instance}>
            <Body input={asking.input} />
          </InstanceContext.Provider>
        </ConfirmDialog>
      ) : null}
    </ConfirmContext.Provider>
  );
}

export interface Action<N extends OpName> {
  /** Asks first where the operation restarts ComfyUI or rewrites files; undefined when cancelled, refused or failed. */
  run: (input: OpInput<N>) => Promise<OpResult<N> | undefined>;
  busy: boolean;
  error?: string;
  /** The core's code and fix when the call failed (not when a guard refused it). */
  problem?: ContractProblem;
}

/** Runs an operation from a button: confirmation (confirmations.tsx), its guard, then the call. */
export function useAction<N extends OpName>(name: N): Action<N> {
  const ask = useContext(ConfirmContext);
  if (!ask) throw new Error('ConfirmProvider missing');
  const op = useMutationOp(name);
  const call = useCall();
  const queries = useQueries();
  const instance = useInstance();
  const [checking, setChecking] = useState(false);
  const [refused, setRefused] = useState<string>();
  const { run: runOp, reset } = op;
  const run = useCallback(
    async (input: OpInput<N>) => {
      setRefused(undefined);
      reset();
      const spec = confirmations[name];
      if (spec && !(await ask(spec, input, instance))) return undefined;
      if (spec?.verify) {
        setChecking(true);
        try {
          const why = await spec.verify({ call, queries, instance }, input);
          if (why) return void setRefused(why);
        } catch (e) {
          return void setRefused((e as Error).message);
        } finally {
          setChecking(false);
        }
      }
      return runOp(input);
    },
    [ask, call, instance, name, queries, reset, runOp],
  );
  return { run, busy: op.busy || checking, error: refused ?? op.error, problem: refused ? undefined : op.problem };
}
