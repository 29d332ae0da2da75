import type { ReactNode } from 'react';
import type { ContractProblem } from '../../../app/contract/index.js';
import { isOpName } from '../../../app/contract/names.js';
import { FixAction } from './FixAction.js';

export function Card({ title, children, actions, testId, wide }: { title: string; children: ReactNode; actions?: ReactNode; testId?: string; wide?: boolean }) {
  return (
    <section className={wide ? 'card wide' : 'card'} aria-label={title} data-testid={testId}>
      <header className="card-head">
        <h2>{title}</h2>
        {actions ? <div className="card-actions">{actions}</div> : null}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

/** Loading, error and empty states look the same on every page. */
export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}

/** A failed call: what went wrong, the core's fix in the app's words, and the button that applies it. */
export function ErrorNote({ message, problem }: { message: string; problem?: ContractProblem }) {
  const action = problem?.action && isOpName(problem.action) ? problem.action : undefined;
  return (
    <div className="error-note" role="alert" data-error-code={problem?.code}>
      <p>{message}</p>
      {problem?.fix ? (
        <p className="error-fix">
          <strong>Fix:</strong> {problem.fix}
        </p>
      ) : null}
      {action ? <FixAction action={action} input={problem?.input ?? {}} title={message} /> : null}
    </div>
  );
}

/** The loading and error states of one operation, the same on every card. */
export function OpStatus({ state, what }: { state: { loading: boolean; data?: unknown; error?: string; problem?: ContractProblem }; what: string }) {
  return (
    <>
      {state.loading && state.data === undefined ? <Loading what={what} /> : null}
      {state.error ? <ErrorNote message={state.error} problem={state.problem} /> : null}
    </>
  );
}

/** A table with a plain header row; rows are the children. */
export function Table({ head, children, testId }: { head: string[]; children: ReactNode; testId?: string }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
