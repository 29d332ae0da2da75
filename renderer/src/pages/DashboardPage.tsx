import { useState } from 'react';
import type { AuthProbeReport, CheckSummary, HealthStatusView } from '../../../app/contract/index.js';
import { isOpName } from '../../../app/contract/names.js';
import { useAction, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus } from '../components/Card.js';
import { CheckTile } from '../components/CheckTile.js';
import { FixAction } from '../components/FixAction.js';
import { ago, ms, useNow } from '../components/format.js';
import { StatusLight } from '../components/StatusLight.js';
import { checkTitle, summarize } from '../lib/health.js';
import { ContainerCard } from './ContainerPage.js';

function FixButton({ check }: { check: CheckSummary }) {
  const action = check.fix?.action;
  if (!action || !isOpName(action)) return null;
  return <FixAction action={action} input={check.fix?.input ?? {}} title={checkTitle(check.id)} />;
}

function focusCheck(id: string) {
  const tile = document.querySelector<HTMLElement>(`[data-testid="check-${CSS.escape(id)}"]`);
  tile?.scrollIntoView({ block: 'center' });
  tile?.focus();
}

function SummaryBar({ view }: { view?: HealthStatusView }) {
  const runAll = useAction('healthRun');
  const now = useNow();
  const s = view ? summarize(view.checks) : { light: 'unknown' as const, headline: 'Reading the latest results…', groups: [] };
  return (
    <section className="summary-bar" aria-label="Overall health">
      <div className="summary-main">
        <StatusLight status={s.light} label="Overall" />
        <div className="summary-text" data-testid="health-headline" aria-live="polite">
          <p className="headline">{s.headline}</p>
          {s.groups.length ? (
            <ul className="summary-groups">
              {s.groups.map((g) => (
                <li key={g.status} className={`group-${g.status}`}>
                  <span className="group-word">{g.word}:</span>{' '}
                  {g.ids.map((id, i) => (
                    <span key={id}>
                      {i ? ', ' : ''}
                      <button className="link" onClick={() => focusCheck(id)}>
                        {checkTitle(id)}
                      </button>
                    </span>
                  ))}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </div>
      <div className="summary-end">
        {view ? (
          <span className="muted">
            last check {ago(view.lastCheckAt ?? undefined, now)}
            {view.nextCheckAt ? ` · next in ${Math.max(0, Math.round((Date.parse(view.nextCheckAt) - now) / 1000))} s` : ''}
          </span>
        ) : null}
        <button className="primary" onClick={() => void runAll.run({})} disabled={runAll.busy}>
          {runAll.busy ? 'Checking…' : 'Run all checks now'}
        </button>
      </div>
      {runAll.error ? <ErrorNote message={runAll.error} problem={runAll.problem} /> : null}
    </section>
  );
}

function ProbeCard() {
  const probe = useAction('healthProbe');
  const [report, setReport] = useState<AuthProbeReport>();
  return (
    <Card
      title="Auth success rate"
      testId="auth-probe"
      actions={
        <button onClick={() => void probe.run({}).then((r) => r && setReport(r))} disabled={probe.busy}>
          {probe.busy ? 'Probing…' : 'Probe now'}
        </button>
      }
    >
      <p className="muted">Concurrent authenticated requests, as the students' notebooks send them.</p>
      {report ? (
        <dl className="facts">
          <dt>Success</dt>
          <dd>
            <StatusLight status={report.successRate === 100 ? 'ok' : report.successRate > 0 ? 'warn' : 'fail'} label="Success rate" /> {report.successRate}% of {report.requests}
          </dd>
          <dt>Latency</dt>
          <dd>
            p50 {ms(report.p50)} · p95 {ms(report.p95)} · p99 {ms(report.p99)}
          </dd>
          <dt>By status</dt>
          <dd>
            {Object.entries(report.byStatus)
              .map(([s, n]) => `${s}: ${n}`)
              .join(', ')}
          </dd>
        </dl>
      ) : null}
      {probe.error ? <ErrorNote message={probe.error} /> : null}
    </Card>
  );
}

function TokenCard() {
  const audit = useOp('tokenAudit', {});
  const a = audit.data;
  return (
    <Card title="Token" testId="token-card" actions={<a href="#/tokens">Manage</a>}>
      <OpStatus state={audit} what="token" />
      {a && !a.vault.present ? <p>No credential in the vault yet.</p> : null}
      {a?.vault.present ? (
        <dl className="facts">
          <dt>Fingerprint</dt>
          <dd>
            <code data-testid="token-card-fingerprint">{a.vault.fingerprint}</code>
          </dd>
          <dt>Age</dt>
          <dd>{ago(a.vault.createdAt)}</dd>
          <dt>Copies</dt>
          <dd>
            <StatusLight status={a.consistent ? 'ok' : 'fail'} label="Token copies" /> {a.locations.filter((l) => l.status === 'match').length} of {a.locations.length} match
          </dd>
        </dl>
      ) : null}
    </Card>
  );
}

function LastGenerationCard() {
  const latest = useOp('generateLatest', {});
  const last = latest.data?.run;
  const image = latest.data?.preview?.dataUrl;
  return (
    <Card title="Last test generation" testId="last-generation" actions={<a href="#/generate">Generate</a>}>
      <OpStatus state={latest} what="the last generation" />
      {latest.data && !last ? <p className="muted">No successful test generation yet.</p> : null}
      {last ? (
        <div className="row">
          {image ? <img className="thumb" src={image} alt={`Last generated image (${last.workflow})`} data-testid="last-image" /> : null}
          <dl className="facts">
            <dt>Workflow</dt>
            <dd>{last.workflow}</dd>
            <dt>Time</dt>
            <dd>
              {ms(last.timings.totalMs)}
              {last.cached ? ' (cached)' : ''}
            </dd>
            <dt>When</dt>
            <dd>{ago(last.time)}</dd>
          </dl>
        </div>
      ) : null}
    </Card>
  );
}

export function DashboardPage() {
  const status = useOp('healthStatus', {});
  const now = useNow();
  const view = status.data;
  return (
    <div className="dashboard">
      <SummaryBar view={view} />
      {status.error ? <ErrorNote message={status.error} problem={status.problem} /> : null}
      <section className="checks" aria-label="Health checks">
        {view?.checks.map((c) => <CheckTile key={c.id} check={c} now={now} fix={<FixButton check={c} />} />)}
      </section>
      <div className="grid">
        <ContainerCard />
        <TokenCard />
        <LastGenerationCard />
        <ProbeCard />
      </div>
    </div>
  );
}
