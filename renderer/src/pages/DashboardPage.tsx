import { useOp } from '../api/hooks.js';
import { Card, ErrorNote, Loading } from '../components/Card.js';
import { StatusLight } from '../components/StatusLight.js';

function EngineCard() {
  const ping = useOp('dockerPing', {});
  return (
    <Card title="Docker engine" testId="engine-card" actions={<button onClick={ping.reload} disabled={ping.loading}>Check again</button>}>
      {ping.loading && !ping.data ? <Loading what="engine status" /> : null}
      {ping.error ? <ErrorNote message={ping.error} /> : null}
      {ping.data ? (
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <StatusLight status={ping.data.ok ? 'ok' : 'fail'} label="Docker engine" />
          </dd>
          <dt>Address</dt>
          <dd>
            <code>{ping.data.host}</code> <span className="muted">({ping.data.source})</span>
          </dd>
          {ping.data.ok ? (
            <>
              <dt>Version</dt>
              <dd data-testid="engine-version">
                {ping.data.serverVersion} (API {ping.data.apiVersion}), answered in {ping.data.latencyMs} ms
              </dd>
            </>
          ) : (
            <>
              <dt>Problem</dt>
              <dd>{ping.data.problem?.message}</dd>
              <dt>What to do</dt>
              <dd>{ping.data.problem?.fix}</dd>
            </>
          )}
        </dl>
      ) : null}
    </Card>
  );
}

export function DashboardPage() {
  return (
    <div className="grid">
      <EngineCard />
    </div>
  );
}
