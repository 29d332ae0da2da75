import type { OpName } from '../../../app/contract/index.js';
import { useAction } from '../api/hooks.js';

/**
 * A one-click fix (a check's, or a failed operation's): runs the operation, which asks first where
 * it restarts ComfyUI or rewrites files (useAction), then re-runs the checks so the tiles say whether it worked.
 */
export function FixAction({ action, input, title }: { action: OpName; input: Record<string, unknown>; title: string }) {
  const fix = useAction(action);
  const sweep = useAction('healthRun');
  const run = async () => {
    // Cancelled or failed: nothing ran, so nothing to re-check.
    if ((await fix.run(input)) === undefined) return;
    if (action !== 'healthRun') await sweep.run({});
  };
  return (
    <>
      <button onClick={() => void run()} disabled={fix.busy || sweep.busy} aria-label={`Fix it: ${title}`}>
        {fix.busy ? 'Fixing…' : sweep.busy ? 'Checking…' : 'Fix it'}
      </button>
      {fix.error ? (
        <p className="error-note" role="alert">
          {fix.error}
          {fix.problem?.fix ? ` Fix: ${fix.problem.fix}` : ''}
        </p>
      ) : null}
    </>
  );
}
