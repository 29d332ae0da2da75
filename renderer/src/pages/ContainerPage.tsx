import { useEffect, useMemo, useState } from 'react';
import type { AdoptReport, ContainerOverview, Fact } from '../../../app/contract/index.js';
import { useAction, useCall, useContainerTransition, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, Loading, Table } from '../components/Card.js';
import { bytes, factLight } from '../components/format.js';
import { LogView } from '../components/LogView.js';
import { StatusLight } from '../components/StatusLight.js';
import { displayPhase, phaseLight, type DisplayPhase } from '../lib/container.js';
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

const PHASE_WORDS: Record<DisplayPhase, string> = {
  healthy: 'healthy',
  starting: 'starting…',
  restarting: 'restarting…',
  stopping: 'stopping…',
  created: 'created, not started',
  unhealthy: 'unhealthy',
  crashed: 'crashed',
  stopped: 'stopped',
  absent: 'absent',
  unknown: 'unknown (the engine could not be asked)',
};

/** The container's state and controls. A click shows its transition at once (starting…, restarting…) until Docker reports the move. */
function StateCard({ status }: { status: ContainerOverview }) {
  const start = useAction('containerStart');
  const stop = useAction('containerStop');
  const restart = useAction('containerRestart');
  const transition = useContainerTransition();
  const phase = displayPhase(status, transition);
  const moving = Boolean(transition) || start.busy || stop.busy || restart.busy;
  const error = start.error ?? stop.error ?? restart.error;
  return (
    <Card
      title="Container"
      testId="container-state"
      actions={
        <>
          <button className="primary" onClick={() => void start.run({})} disabled={moving || phase === 'healthy' || phase === 'starting' || phase === 'unhealthy'}>
            Start
          </button>
          <button onClick={() => void stop.run({})} disabled={moving || !status.exists || phase === 'stopped' || phase === 'created'}>
            Stop
          </button>
          <button onClick={() => void restart.run({})} disabled={moving || !status.exists}>
            Restart
          </button>
        </>
      }
    >
      <dl className="facts">
        <dt>State</dt>
        <dd data-testid="container-phase" data-phase={phase}>
          <StatusLight status={phaseLight[phase]} label="Container state" /> {PHASE_WORDS[phase]}
          {status.health && status.health !== 'none' && status.health !== phase && !transition ? <span className="muted"> (Docker healthcheck: {status.health})</span> : null}
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
      {status.reasons.length && !transition ? (
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

/** What the panel can change on this container, and how it differs from the configuration. */
function ConfigurationCard() {
  const adopt = useAction('containerAdopt');
  const recreate = useAction('containerRecreate');
  const build = useAction('containerBuild');
  const [report, setReport] = useState<AdoptReport>();
  const [note, setNote] = useState('');
  const compare = async () => setReport(await adopt.run({}));
  return (
    <Card
      title="Configuration"
      testId="container-config"
      wide
      actions={
        <>
          <button onClick={() => void compare()} disabled={adopt.busy}>
            {adopt.busy ? 'Comparing…' : 'Compare with configuration'}
          </button>
          <button onClick={() => void build.run({}).then((r) => r && setNote(`Built ${r.tag} (${r.lines} lines of build output in the log below).`))} disabled={build.busy}>
            {build.busy ? 'Building…' : 'Build image'}
          </button>
        </>
      }
    >
      {report ? (
        <>
          <p>
            {report.managed ? 'Created by the panel.' : `Made outside the panel${report.compose ? ` (compose project ${report.compose.project}, service ${report.compose.service})` : ''}: the panel adopts it.`}
          </p>
          <p className="muted">The panel can {report.canChange.join('; ')}.</p>
          <p className="muted">It cannot change {report.cannotChange.join('; ')}.</p>
          {report.differences.length === 0 ? (
            <p>
              <StatusLight status="ok" label="Configuration" /> The container matches the configuration.
            </p>
          ) : (
            <>
              <Table head={['Setting', 'Container', 'Configuration']}>
                {report.differences.map((d) => (
                  <tr key={d.field}>
                    <td>{d.field}</td>
                    <td>
                      <code>{d.from}</code>
                    </td>
                    <td>
                      <code>{d.to}</code>
                    </td>
                  </tr>
                ))}
              </Table>
              <button className="danger" disabled={recreate.busy} onClick={() => void recreate.run({ force: false }).then((r) => r && setReport(undefined))}>
                {recreate.busy ? 'Recreating…' : 'Recreate to apply'}
              </button>
            </>
          )}
        </>
      ) : null}
      {note ? <p role="status">{note}</p> : null}
      {adopt.error ?? recreate.error ?? build.error ? <ErrorNote message={(adopt.error ?? recreate.error ?? build.error)!} /> : null}
    </Card>
  );
}

/** The container's state with its controls, from the shared status query; used on the Dashboard. */
export function ContainerCard() {
  const status = useOp('containerStatus', {});
  if (status.error) return <Card title="Container"><ErrorNote message={status.error} /></Card>;
  if (!status.data) return <Card title="Container"><Loading what="container status" /></Card>;
  return <StateCard status={status.data} />;
}

export function ContainerPage() {
  const call = useCall();
  const status = useOp('containerStatus', {});
  const store = useMemo(() => new LogStore(), []);
  const [copied, setCopied] = useState('');

  useEvent('log', (line) => store.append([line]));
  useEffect(() => {
    let live = true;
    void call('containerLogs', { tail: 500 }).then(
      (r) => live && store.append(r.lines),
      () => undefined,
    );
    void call('containerLogsFollow', { follow: true }).catch(() => undefined);
    return () => {
      live = false;
      void call('containerLogsFollow', { follow: false }).catch(() => undefined);
    };
  }, [call, store]);

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
          <StateCard status={s} />
          <Card title="ComfyUI-Login" testId="login-node">
            <ul className="facts-list">
              <FactRow name="Installed" fact={s.loginNode.installed} />
              <FactRow name="Loaded" fact={s.loginNode.loaded} />
              <FactRow name="Enforced" fact={s.loginNode.enforced} />
            </ul>
          </Card>
          {s.exists ? <ConfigurationCard /> : null}
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
