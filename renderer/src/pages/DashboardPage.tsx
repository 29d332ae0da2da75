import { useEffect, useState } from 'react';
import type { CheckResult, CheckSummary, HealthStatusView } from '../../../app/contract/index.js';
import { isOpName } from '../../../app/contract/names.js';
import { useAction, useClient, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, Loading, OpStatus } from '../components/Card.js';
import { ago, ms } from '../components/format.js';
import { Heartbeat } from '../components/Heartbeat.js';
import { StatusLight } from '../components/StatusLight.js';
import { ContainerCard } from './ContainerPage.js';

function FixButton({ check, onDone }: { check: CheckResult; onDone: () => void }) {
  const { api } = useClient();
  const [state, setState] = useState<{ busy?: boolean; error?: string }>({});
  const action = check.fix?.action;
  if (!action || !isOpName(action)) return null;
  const run = async () => {
    setState({ busy: true });
    try {
      await (api[action] as (input: unknown) => Promise<unknown>)(check.fix?.input ?? {});
      setState({});
      onDone();
    } catch (e) {
      setState({ error: (e as Error).message });
    }
  };
  return (
    <>
      <button onClick={() => void run()} disabled={state.busy}>
        {state.busy ? 'Fixing…' : 'Fix it'}
      </button>
      {state.error ? <ErrorNote message={state.error} /> : null}
    </>
  );
}

function CheckTile({ check, onFixed }: { check: CheckSummary; onFixed: () => void }) {
  return (
    <article className={`check check-${check.status}`} aria-label={`Check ${check.id}`} data-testid={`check-${check.id}`} data-status={check.status}>
      <div className="check-head">
        <h3>{check.id}</h3>
        <StatusLight status={check.status} label={check.id} />
      </div>
      <div>{check.message}</div>
      {check.status !== 'ok' && check.fix ? (
        <div className="check-fix">
          {check.fix.explanation ? <div>{check.fix.explanation}</div> : null}
          <strong>Fix:</strong> {check.fix.text} <FixButton check={check} onDone={onFixed} />
        </div>
      ) : null}
      <Heartbeat points={check.history} label={`${check.id} history`} />
      <div className="check-meta muted">
        <span>uptime 24 h: {check.uptime24h === null ? '—' : `${check.uptime24h.toFixed(1)} %`}</span>
        <span>
          {ms(check.latencyMs)} · {ago(check.checkedAt)}
        </span>
      </div>
    </article>
  );
}

function mergeLive(view: HealthStatusView, live: Record<string, CheckResult>): CheckSummary[] {
  return view.checks.map((c) => {
    const l = live[c.id];
    return l && l.checkedAt > c.checkedAt ? { ...c, ...l, history: [...c.history, { status: l.status, checkedAt: l.checkedAt }].slice(-50) } : c;
  });
}

function ProbeCard() {
  const probe = useAction('healthProbe');
  const [report, setReport] = useState<Awaited<ReturnType<typeof probe.run>>>();
  return (
    <Card
      title="Auth success rate"
      testId="auth-probe"
      actions={
        <button onClick={() => void probe.run({}).then(setReport)} disabled={probe.busy}>
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
          <dd>{Object.entries(report.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')}</dd>
        </dl>
      ) : null}
      {probe.error ? <ErrorNote message={probe.error} /> : null}
    </Card>
  );
}

function TokenCard() {
  const audit = useOp('tokenAudit', {});
  const v = audit.data?.vault;
  return (
    <Card title="Token" testId="token-card" actions={<a href="#/tokens">Manage</a>}>
      <OpStatus state={audit} what="token" />
      {v && !v.present ? <p>No credential in the vault yet.</p> : null}
      {v?.present ? (
        <dl className="facts">
          <dt>Fingerprint</dt>
          <dd>
            <code>{v.fingerprint}</code>
          </dd>
          <dt>Age</dt>
          <dd>{ago(v.createdAt)}</dd>
          <dt>Copies</dt>
          <dd>
            <StatusLight status={audit.data!.consistent ? 'ok' : 'fail'} label="Token copies" /> {audit.data!.locations.filter((l) => l.status === 'match').length} of {audit.data!.locations.length} match
          </dd>
        </dl>
      ) : null}
    </Card>
  );
}

function LastGenerationCard() {
  const latest = useOp('generateLatest', {});
  // The generation check reads the run history, so its result means the newest run is recorded.
  useEvent('health', (r) => r.id === 'generation' && latest.reload());
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
  const runAll = useAction('healthRun');
  const [live, setLive] = useState<Record<string, CheckResult>>({});
  const [now, setNow] = useState(() => Date.now());
  useEvent('health', (r) => setLive((m) => ({ ...m, [r.id]: r })));
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, []);
  const view = status.data;
  const checks = view ? mergeLive(view, live) : [];
  const failing = checks.filter((c) => c.status === 'fail');
  const warning = checks.filter((c) => c.status === 'warn');
  const headline = !view ? '' : checks.length === 0 ? 'No checks have run yet' : failing.length ? `${failing.length} of ${checks.length} checks failing` : warning.length ? `All critical checks OK, ${warning.length} warning(s)` : `All ${checks.length} checks OK`;
  return (
    <div>
      <div className="summary-bar" aria-live="polite">
        <StatusLight status={!view ? 'unknown' : failing.length ? 'fail' : warning.length ? 'warn' : checks.length ? 'ok' : 'unknown'} label="Overall" />
        <span className="headline" data-testid="health-headline">
          {headline}
        </span>
        {view ? (
          <span className="muted">
            last check {ago(view.lastCheckAt ?? undefined, now)}
            {view.nextCheckAt ? ` · next in ${Math.max(0, Math.round((Date.parse(view.nextCheckAt) - now) / 1000))} s` : ''}
          </span>
        ) : null}
        <button className="primary" onClick={() => void runAll.run({}).then(status.reload)} disabled={runAll.busy}>
          {runAll.busy ? 'Checking…' : 'Run all checks now'}
        </button>
      </div>
      {status.loading && !view ? <Loading what="health checks" /> : null}
      {status.error ? <ErrorNote message={status.error} /> : null}
      {runAll.error ? <ErrorNote message={runAll.error} /> : null}
      <section className="checks" aria-label="Health checks">
        {checks.map((c) => (
          <CheckTile key={c.id} check={c} onFixed={() => void runAll.run({}).then(status.reload)} />
        ))}
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
