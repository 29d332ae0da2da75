import type { ReactNode } from 'react';

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

export function ErrorNote({ message }: { message: string }) {
  return (
    <p className="error-note" role="alert">
      {message}
    </p>
  );
}

/** The loading and error states of one operation, the same on every card. */
export function OpStatus({ state, what }: { state: { loading: boolean; data?: unknown; error?: string }; what: string }) {
  return (
    <>
      {state.loading && state.data === undefined ? <Loading what={what} /> : null}
      {state.error ? <ErrorNote message={state.error} /> : null}
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
