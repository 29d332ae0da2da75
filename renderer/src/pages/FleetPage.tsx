import { memo, useState, type FormEvent } from 'react';
import type { CapabilityMatrix, CapabilityRow, FleetRow, InstanceInfo, OpInput, RotationStep, StagedOutcome, StagedRotation } from '../../../app/contract/index.js';
import { useAction, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { ago, bytes, useNow } from '../components/format.js';
import { STEP_LIGHT, StatusLight, type Light } from '../components/StatusLight.js';
import { instanceHref } from '../lib/fleet.js';
import { checkTitle, summarize } from '../lib/health.js';

/** The rows' GPU and queue come from no event: polled while the page is shown. */
export const FLEET_REFRESH_MS = 15_000;
const MIB = 1024 * 1024;

type Open = (id: string) => void;

function gpuText(gpu: FleetRow['gpu']): string {
  if (!gpu) return '—';
  const vram = gpu.vramTotalMb === undefined ? '' : ` · ${bytes(gpu.vramTotalMb * MIB)}${gpu.vramFreeMb === undefined ? '' : ` (${bytes(gpu.vramFreeMb * MIB)} free)`}`;
  return `${gpu.name}${vram}`;
}

/**
 * One instance. Memoized: a refetch keeps unchanged rows' objects (TanStack's structural sharing)
 * and a pushed result replaces only its own row (lib/fleet.ts), so 50 rows re-render one at a time.
 */
const FleetRowView = memo(function FleetRowView({ row, now, onOpen }: { row: FleetRow; now: number; onOpen: Open }) {
  const overall = summarize(row.checks);
  const last = row.lastGeneration;
  return (
    <tr className="fleet-row" data-testid={`fleet-row-${row.id}`} data-light={overall.light} onClick={() => onOpen(row.id)}>
      <th scope="row">
        <a
          href={instanceHref(window.location.href, row.id, 'dashboard')}
          onClick={(e) => {
            e.preventDefault();
            e.stopPropagation();
            onOpen(row.id);
          }}
        >
          {row.label}
        </a>
        <div className="muted fleet-sub">
          <code>{row.id}</code> · {row.engine}
        </div>
        {row.error ? (
          <p className="error-text" data-testid="fleet-row-error">
            {row.error}
          </p>
        ) : null}
      </th>
      <td>
        <StatusLight status={overall.light} label={`${row.label}: ${overall.headline}`} />
        <span className="fleet-lights">
          {row.checks.map((c) => (
            <span key={c.id} className={`beat beat-${c.status}`} role="img" aria-label={`${checkTitle(c.id)}: ${c.status}`} title={`${checkTitle(c.id)}: ${c.message}`} />
          ))}
        </span>
      </td>
      <td>{gpuText(row.gpu)}</td>
      <td>{row.queue ? `${row.queue.running} running · ${row.queue.pending} pending` : '—'}</td>
      <td>{row.tokenCreatedAt ? <time dateTime={row.tokenCreatedAt}>{ago(row.tokenCreatedAt, now)}</time> : 'no credential'}</td>
      <td>{last ? `${last.ok ? 'OK' : 'failed'}${last.workflow ? ` (${last.workflow})` : ''}, ${ago(last.time, now)}` : 'none yet'}</td>
    </tr>
  );
});

function FleetTable({ onOpen }: { onOpen: Open }) {
  const fleet = useOp('fleetStatus', {}, { refetchInterval: FLEET_REFRESH_MS });
  // Ages in minutes and days: a coarse clock keeps the rows from re-rendering every few seconds.
  const now = useNow(30_000);
  return (
    <Card
      title="Fleet"
      wide
      testId="fleet"
      actions={
        <button onClick={fleet.reload} disabled={fleet.loading}>
          {fleet.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      <OpStatus state={fleet} what="the fleet" />
      {fleet.data ? (
        <Table head={['Instance', 'Checks', 'GPU', 'Queue', 'Token age', 'Last generation']} testId="fleet-table">
          {fleet.data.instances.map((row) => (
            <FleetRowView key={row.id} row={row} now={now} onOpen={onOpen} />
          ))}
        </Table>
      ) : null}
    </Card>
  );
}

const OUTCOME_LIGHT: Record<StagedOutcome, Light> = { committed: 'ok', 'rolled-back': 'warn', failed: 'fail', 'not-started': 'unknown' };

function RotationResult({ result, resume, busy }: { result: StagedRotation; resume: () => void; busy: boolean }) {
  const halt = result.instances.find((r) => r.id === result.haltedAt);
  return (
    <>
      {result.halted ? (
        <div className="error-note" role="alert" data-testid="rotation-halted">
          <p>
            Halted at <code>{result.haltedAt}</code> ({halt?.outcome ?? 'failed'}{halt?.error ? `: ${halt.error}` : ''}). The instances after it were not touched.
          </p>
          <button onClick={resume} disabled={busy}>
            Resume
          </button>
        </div>
      ) : (
        <p role="status">Every instance rotated.</p>
      )}
      <Table head={['Instance', 'Wave', 'Outcome', 'Token in force', 'Why']} testId="rotation-table">
        {result.instances.map((r) => (
          <tr key={r.id} data-testid={`rotation-row-${r.id}`} data-outcome={r.outcome}>
            <th scope="row">{r.id}</th>
            <td>{r.wave === 0 ? 'canary' : r.wave}</td>
            <td>
              <StatusLight status={OUTCOME_LIGHT[r.outcome]} label={r.id} word={r.outcome} />
            </td>
            <td>{r.fingerprint ? <code>{r.fingerprint}</code> : '—'}</td>
            <td>{r.error ? `${r.failedStep ? `${r.failedStep}: ` : ''}${r.error}` : ''}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

/** While a staged rotation runs: the step each instance's own rotation is at, as it reports them. */
function RotationProgress({ live, instances }: { live: ReadonlyMap<string, RotationStep>; instances: readonly InstanceInfo[] }) {
  return (
    <ol className="facts-list" aria-label="Rotation progress" data-testid="rotation-progress">
      {[...live].map(([id, s]) => (
        <li key={id} data-testid={`rotation-progress-${id}`}>
          <StatusLight status={STEP_LIGHT[s.status]} label={`${id}: ${s.step}`} />
          <span>
            <strong>{instances.find((i) => i.id === id)?.label ?? id}</strong>: {s.step} {s.status}
            {s.message ? ` — ${s.message}` : ''}
          </span>
        </li>
      ))}
    </ol>
  );
}

function RotationCard({ instances }: { instances: readonly InstanceInfo[] }) {
  const rotate = useAction('fleetRotate');
  const [canary, setCanary] = useState(instances[0]?.id ?? '');
  const [wave, setWave] = useState('1');
  const [result, setResult] = useState<StagedRotation>();
  const [live, setLive] = useState<ReadonlyMap<string, RotationStep>>(new Map());
  // Each instance's rotation pushes its steps tagged with the instance, whichever one is shown.
  useEvent('rotationStep', (s, about) => rotate.busy && about !== undefined && setLive((m) => new Map(m).set(about, s)), { everyInstance: true });
  const run = (input: OpInput<'fleetRotate'>) => {
    setLive(new Map());
    void rotate.run(input).then((r) => r && setResult(r));
  };
  const waveSize = Number.parseInt(wave, 10);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    run({ canary, wave: waveSize });
  };
  return (
    <Card title="Staged credential rotation" testId="fleet-rotation" wide>
      <p className="muted">The canary first, alone; then the others in waves. The first failure halts it: that instance rolls back, the rest keep their credential.</p>
      <form className="stack fleet-form" onSubmit={submit}>
        <div className="row">
          <label>
            Canary
            <select value={canary} onChange={(e) => setCanary(e.target.value)}>
              {instances.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Wave size
            <input type="number" min={1} max={100} value={wave} onChange={(e) => setWave(e.target.value)} required />
          </label>
        </div>
        <div className="row">
          <button className="primary" type="submit" disabled={rotate.busy || !(waveSize >= 1)}>
            {rotate.busy ? 'Rotating…' : 'Rotate every instance'}
          </button>
        </div>
      </form>
      {rotate.busy && live.size ? <RotationProgress live={live} instances={instances} /> : null}
      {rotate.error ? <ErrorNote message={rotate.error} problem={rotate.problem} /> : null}
      {result ? <RotationResult result={result} resume={() => run({ resume: true })} busy={rotate.busy} /> : null}
    </Card>
  );
}

function Lacks({ light, items, label }: { light: Light; items: string[]; label: string }) {
  return (
    <>
      <StatusLight status={light} label={label} />
      {items.length ? (
        <ul className="plain-list" aria-label={`${label}: missing`}>
          {items.map((i) => (
            <li key={i}>
              <code>{i}</code>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

function vramText(v: CapabilityRow['vram']): string {
  const have = v.haveMb === undefined ? 'unknown' : bytes(v.haveMb * MIB);
  return v.needMb === undefined ? `${have} (no need given)` : `${have} of ${bytes(v.needMb * MIB)} needed`;
}

const CapabilityRowView = memo(function CapabilityRowView({ row }: { row: CapabilityRow }) {
  // An instance that did not answer lacks nothing we know of: Unknown, not Failing.
  const light = (ok: boolean): Light => (row.error ? 'unknown' : ok ? 'ok' : 'fail');
  return (
    <tr data-testid={`capability-row-${row.id}`} data-ok={row.ok}>
      <th scope="row">
        {row.id}
        {row.error ? <p className="error-text">{row.error}</p> : null}
      </th>
      <td>
        <Lacks light={light(row.missingNodes.length === 0)} items={row.missingNodes} label={`${row.id} nodes`} />
      </td>
      <td>
        <Lacks light={light(row.missingModels.length === 0)} items={row.missingModels.map((m) => `models/${m.folder}/${m.file}`)} label={`${row.id} models`} />
      </td>
      <td>
        <StatusLight status={light(row.vram.ok)} label={`${row.id} VRAM`} /> {vramText(row.vram)}
      </td>
    </tr>
  );
});

type WorkflowChoice = 'smoke' | 'qwen' | 'qwen-edit' | 'file';

function CapabilitiesCard() {
  const check = useAction('fleetCapabilities');
  const [choice, setChoice] = useState<WorkflowChoice>('qwen');
  const [file, setFile] = useState('');
  const [vram, setVram] = useState('');
  const [matrix, setMatrix] = useState<CapabilityMatrix>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minVramMb = Number.parseInt(vram, 10);
    void check.run({ workflow: choice === 'file' ? { file } : choice, ...(minVramMb > 0 ? { minVramMb } : {}) }).then((m) => m && setMatrix(m));
  };
  const req = matrix?.requirements;
  return (
    <Card title="Can this box run this workflow?" testId="fleet-capabilities" wide>
      <form className="stack fleet-form" onSubmit={submit}>
        <label>
          Workflow
          <select value={choice} onChange={(e) => setChoice(e.target.value as WorkflowChoice)}>
            <option value="smoke">Smoke test (no models)</option>
            <option value="qwen">Qwen-Image fp8 text-to-image</option>
            <option value="qwen-edit">Qwen-Image-Edit-2509 fp8</option>
            <option value="file">API-format JSON file…</option>
          </select>
        </label>
        {choice === 'file' ? (
          <label>
            Workflow file (path on the panel's machine)
            <input value={file} onChange={(e) => setFile(e.target.value)} required placeholder="/path/to/workflow_api.json" />
          </label>
        ) : null}
        <label>
          VRAM it needs, MiB (optional)
          <input inputMode="numeric" pattern="[0-9]*" value={vram} onChange={(e) => setVram(e.target.value)} placeholder="not checked" />
        </label>
        <div className="row">
          <button className="primary" type="submit" disabled={check.busy}>
            {check.busy ? 'Checking…' : 'Check every instance'}
          </button>
        </div>
      </form>
      {check.error ? <ErrorNote message={check.error} problem={check.problem} /> : null}
      {matrix && req ? (
        <>
          <p className="muted">
            {matrix.workflow}: {req.nodeClasses.length} node classes, {req.models.length} model files{req.minVramMb ? `, ${bytes(req.minVramMb * MIB)} VRAM` : ''}.
          </p>
          <Table head={['Instance', 'Nodes', 'Models', 'VRAM']} testId="capability-matrix">
            {matrix.instances.map((row) => (
              <CapabilityRowView key={row.id} row={row} />
            ))}
          </Table>
        </>
      ) : null}
    </Card>
  );
}

/** The home page with two or more instances: every instance at a glance, and what acts on all of them. */
export function FleetPage({ instances, onOpen }: { instances: readonly InstanceInfo[]; onOpen: Open }) {
  return (
    <div className="grid">
      <FleetTable onOpen={onOpen} />
      <RotationCard instances={instances} />
      <CapabilitiesCard />
    </div>
  );
}
