import { useEffect, useMemo, useState } from 'react';
import type { ContainerOverview, Fact } from '../../../app/contract/index.js';
import { useAction, useClient, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, Loading } from '../components/Card.js';
import { bytes, factLight, phaseLight } from '../components/format.js';
import { LogView } from '../components/LogView.js';
import { StatusLight } from '../components/StatusLight.js';
import { LogStore } from '../stores/log-store.js';

function FactRow({ name, fact }: { name: string; fact: Fact }) {
  return (
    <li>
      <StatusLight status={factLight(fact.value)} label={name} />
      <span>
        <strong>{name}</strong> — {fact.detail}
      </span>
    </li>
  );
}

function StateCard({ status, reload }: { status: ContainerOverview; reload: () => void }) {
  const start = useAction('containerStart');
  const stop = useAction('containerStop');
  const restart = useAction('containerRestart');
  const busy = start.busy || stop.busy || restart.busy;
  const act = (run: (i: Record<string, never>) => Promise<unknown>) => () => void run({}).then(reload);
  const error = start.error ?? stop.error ?? restart.error;
  return (
    <Card
      title="Container"
      testId="container-state"
      actions={
        <>
          <button className="primary" onClick={act(start.run)} disabled={busy || status.phase === 'healthy' || status.phase === 'starting'}>
            {start.busy ? 'Starting…' : 'Start'}
          </button>
          <button onClick={act(stop.run)} disabled={busy || !status.exists || status.phase === 'stopped'}>
            {stop.busy ? 'Stopping…' : 'Stop'}
          </button>
          <button onClick={act(restart.run)} disabled={busy || !status.exists}>
            {restart.busy ? 'Restarting…' : 'Restart'}
          </button>
        </>
      }
    >
      <dl className="facts">
        <dt>State</dt>
        <dd data-testid="container-phase">
          <StatusLight status={busy ? 'busy' : phaseLight[status.phase]} label="Container state" /> {status.phase}
        </dd>
        <dt>Name</dt>
        <dd>
          <code>{status.name}</code> {status.managed ? <span className="muted">(managed by the panel)</span> : status.adopted ? <span className="muted">(adopted)</span> : null}
        </dd>
        {status.image ? (
          <>
            <dt>Image</dt>
            <dd>
              <code>{status.image}</code>
            </dd>
          </>
        ) : null}
        {status.ports.length ? (
          <>
            <dt>Ports</dt>
            <dd>{status.ports.map((p) => `${p.hostIp}:${p.hostPort} → ${p.containerPort}/${p.protocol}`).join(', ')}</dd>
          </>
        ) : null}
        <dt>CPU</dt>
        <dd>{status.stats ? `${status.stats.cpuPercent.toFixed(1)} %` : '—'}</dd>
        <dt>Memory</dt>
        <dd>{status.stats ? `${bytes(status.stats.memoryUsedBytes)} of ${bytes(status.stats.memoryLimitBytes)}` : '—'}</dd>
        <dt>GPU</dt>
        <dd data-testid="gpu">
          {status.gpu.gpus?.length
            ? status.gpu.gpus.map((g) => `${g.name}: ${g.memoryUsedMiB} / ${g.memoryTotalMiB} MiB`).join('; ')
            : (status.gpu.reason ?? 'No GPU')}
        </dd>
      </dl>
      {status.reasons.length ? (
        <ul className="error-note" aria-label="Why the container is not OK">
          {status.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      ) : null}
      {status.problem ? <ErrorNote message={`${status.problem.message} — ${status.problem.fix}`} /> : null}
      {error ? <ErrorNote message={error} /> : null}
    </Card>
  );
}

/** The container's state with its controls, loading its own status; used on the Dashboard. */
export function ContainerCard() {
  const status = useOp('containerStatus', {});
  useEvent('containerState', () => status.reload());
  if (status.error) return <Card title="Container"><ErrorNote message={status.error} /></Card>;
  if (!status.data) return <Card title="Container"><Loading what="container status" /></Card>;
  return <StateCard status={status.data} reload={status.reload} />;
}

export function ContainerPage() {
  const client = useClient();
  const status = useOp('containerStatus', {});
  const store = useMemo(() => new LogStore(), []);
  const [copied, setCopied] = useState('');

  useEvent('containerState', () => status.reload());
  useEvent('log', (line) => store.append([line]));
  useEffect(() => {
    let live = true;
    void client.api.containerLogs({ tail: 500 }).then(
      (r) => live && store.append(r.lines),
      () => undefined,
    );
    void client.api.containerLogsFollow({ follow: true }).catch(() => undefined);
    return () => {
      live = false;
      void client.api.containerLogsFollow({ follow: false }).catch(() => undefined);
    };
  }, [client, store]);

  const copy = (text: string) => {
    const report = [`# ComfyUI Control Panel diagnostics ${new Date().toISOString()}`, JSON.stringify(status.data ?? {}, null, 2), '# log (secrets redacted by the panel)', text].join('\n');
    navigator.clipboard.writeText(report).then(
      () => setCopied('Copied, with secrets redacted.'),
      () => setCopied('Copy failed: the clipboard is not available.'),
    );
  };

  const s = status.data;
  return (
    <div className="grid">
      {!s && status.loading ? <Loading what="container status" /> : null}
      {status.error ? <ErrorNote message={status.error} /> : null}
      {s ? (
        <>
          <StateCard status={s} reload={status.reload} />
          <Card title="ComfyUI-Login" testId="login-node">
            <ul className="facts-list">
              <FactRow name="Installed" fact={s.loginNode.installed} />
              <FactRow name="Loaded" fact={s.loginNode.loaded} />
              <FactRow name="Enforced" fact={s.loginNode.enforced} />
            </ul>
          </Card>
        </>
      ) : null}
      <section className="card wide" aria-label="Logs">
        <header className="card-head">
          <h2>Logs</h2>
          <span className="muted" role="status">
            {copied}
          </span>
        </header>
        <LogView store={store} onCopy={copy} />
      </section>
    </div>
  );
}
