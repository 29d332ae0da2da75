import { useEffect, useState } from 'react';
import type { PanelConfig } from '../../../app/config/schema.js';
import type { AdoptionPlan, RotationResult, SetupDetection, TokenImportResult } from '../../../app/contract/index.js';
import { useAction, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { StatusLight } from '../components/StatusLight.js';

const STEPS = ['Docker engine', 'Container', 'Review and finish'] as const;
const PROGRESS_KEY = 'comfy-panel.setup';

interface CreateChoices {
  name: string;
  image: string;
  gpus: string;
  secretFile: string;
  hostPort: string;
}

/**
 * How far the wizard got. Kept in the browser so a reload resumes at the step reached; the config
 * file is written once, at the end, so an abandoned wizard leaves nothing half-written.
 */
interface Progress {
  step: number;
  /** The engine address typed and checked in step 1 (undefined: the configured one). */
  dockerHost?: string;
  mode?: 'adopt' | 'create';
  container?: string;
  create?: CreateChoices;
}

function loadProgress(): Progress | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? 'null') as Progress | null;
    return v && typeof v.step === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True while a wizard is under way (the app shows it again after a reload, even once a config exists). */
export function setupInProgress(): boolean {
  return loadProgress() !== undefined;
}

function useProgress() {
  const [progress, setProgress] = useState<Progress>(() => loadProgress() ?? { step: 0 });
  useEffect(() => localStorage.setItem(PROGRESS_KEY, JSON.stringify(progress)), [progress]);
  const update = (p: Partial<Progress>) => setProgress((old) => ({ ...old, ...p }));
  return [progress, update] as const;
}

function EngineStep({ detection, typed, onCheck, next }: { detection: SetupDetection; typed: string | undefined; onCheck: (host: string | undefined) => void; next: () => void }) {
  const d = detection.docker;
  const [host, setHost] = useState(typed ?? d.host);
  return (
    <Card title="1. Find the Docker engine">
      <p className="muted">The panel runs ComfyUI in a Docker container, so it needs to reach a Docker engine.</p>
      <label>
        Engine address
        <input value={host} onChange={(e) => setHost(e.target.value)} aria-describedby="host-help" />
      </label>
      <p id="host-help" className="muted">
        e.g. unix:///var/run/docker.sock, ssh://user@gpu-box, tcp://host:2376
      </p>
      <p data-testid="engine-answer" role="status">
        <StatusLight status={d.ok ? 'ok' : 'fail'} label="Docker engine" />{' '}
        {d.ok ? `Docker ${d.serverVersion ?? ''} answered at ${d.host} (${d.source}).` : `Nothing usable answered at ${d.host}: ${d.problem?.message ?? 'no answer'}`}
      </p>
      {!d.ok ? <p>{d.howTo}</p> : null}
      <div className="row">
        <button onClick={() => onCheck(host.trim() || undefined)}>Check this address</button>
        <button className="primary" disabled={!d.ok || host !== (typed ?? d.host)} onClick={next}>
          Continue
        </button>
      </div>
    </Card>
  );
}

const DEFAULT_CREATE: CreateChoices = { name: 'comfyui-qwen', image: 'comfyui-qwen:latest', gpus: 'all', secretFile: '', hostPort: '8188' };

function ContainerStep({ detection, progress, update }: { detection: SetupDetection; progress: Progress; update: (p: Partial<Progress>) => void }) {
  // Nothing is preselected but the container the config names: another panel's or another
  // project's container must be a deliberate choice.
  const [choice, setChoice] = useState<string | undefined>(progress.mode === 'create' ? '__new__' : (progress.container ?? detection.containers.find((c) => c.configured)?.name));
  const [create, setCreate] = useState<CreateChoices>(progress.create ?? DEFAULT_CREATE);
  const field = (k: keyof CreateChoices) => ({ value: create[k], onChange: (e: { target: { value: string } }) => setCreate({ ...create, [k]: e.target.value }), disabled: choice !== '__new__' });
  return (
    <Card title="2. Adopt or create the ComfyUI container">
      <p className="muted">Adopting keeps a container made by compose or docker run, with its image, mounts, secret and env files. Creating uses an image on this engine.</p>
      <fieldset>
        <legend className="sr-only">Container</legend>
        {detection.containers.map((c) => (
          <label key={c.id} className="row">
            <input type="radio" name="container" value={c.name} checked={choice === c.name} onChange={() => setChoice(c.name)} />
            <span>
              <code>{c.name}</code> — {c.image}, {c.state}
              {c.ports.length ? `, port ${c.ports.map((p) => `${p.hostIp}:${p.hostPort}`).join(', ')}` : ''}
              {c.composeProject ? `, compose project ${c.composeProject}` : ''}
              {c.managed && !c.configured ? ' (made by a panel, maybe another one)' : c.managed ? ' (made by the panel)' : ' (will be adopted)'}
            </span>
          </label>
        ))}
        <label className="row">
          <input type="radio" name="container" value="__new__" checked={choice === '__new__'} onChange={() => setChoice('__new__')} />
          <span>Create a new container</span>
        </label>
        <div className="form-grid" aria-label="New container">
          <label>
            Name <input {...field('name')} aria-label="New container name" />
          </label>
          <label>
            Image
            <input {...field('image')} list="local-images" aria-label="Image" />
            <datalist id="local-images">
              {detection.images.map((i) => (
                <option key={i} value={i} />
              ))}
            </datalist>
          </label>
          <label>
            GPUs <input {...field('gpus')} aria-label="GPUs" aria-describedby="gpus-help" />
          </label>
          <label>
            Secret file (host path) <input {...field('secretFile')} aria-label="Secret file" />
          </label>
          <label>
            Host port <input {...field('hostPort')} aria-label="Host port" inputMode="numeric" size={6} />
          </label>
        </div>
        <p id="gpus-help" className="muted">
          &quot;all&quot;, &quot;none&quot;, or device ids separated by commas. Local images: {detection.images.length ? detection.images.join(', ') : 'none'}; build the recipe&apos;s image with `comfy-panel container build`.
        </p>
      </fieldset>
      {detection.containers.length === 0 ? <p className="muted">No ComfyUI container was found on this engine.</p> : null}
      <div className="row">
        <button onClick={() => update({ step: 0 })}>Back</button>
        <button
          className="primary"
          disabled={choice === undefined}
          onClick={() => update(choice === '__new__' ? { step: 2, mode: 'create', create, container: create.name } : { step: 2, mode: 'adopt', container: choice })}
        >
          Continue
        </button>
      </div>
    </Card>
  );
}

function gpusOf(text: string): PanelConfig['container']['gpus'] {
  const t = text.trim();
  if (t === 'all' || t === 'none') return t;
  const ids = t.split(',').map((s) => s.trim()).filter(Boolean);
  return ids.length ? ids : 'none';
}

function ChangesTable({ plan }: { plan: Pick<AdoptionPlan, 'diff'> }) {
  return plan.diff.length ? (
    <Table head={['Setting', 'Now', 'After']} testId="setup-diff">
      {plan.diff.map((c) => (
        <tr key={c.field}>
          <td>{c.field}</td>
          <td>
            <code>{c.from}</code>
          </td>
          <td>
            <code>{c.to}</code>
          </td>
        </tr>
      ))}
    </Table>
  ) : (
    <p>The configuration already says all this.</p>
  );
}

function Outcome({ result, imported, onDone }: { result?: RotationResult; imported?: TokenImportResult; onDone: () => void }) {
  const ok = imported !== undefined || result?.ok === true;
  return (
    <div role="status" data-testid="setup-outcome">
      {imported ? <p>Imported {imported.fingerprint} from {imported.source}.</p> : null}
      {result ? (
        result.ok ? (
          <p>Created the credential {result.fingerprint} ({result.outcome}).</p>
        ) : (
          <ErrorNote message={`The credential step ${result.failedStep ?? ''} failed (${result.outcome}): ${result.error ?? 'see the log'}`} />
        )
      ) : null}
      {ok ? (
        <button className="primary" onClick={onDone}>
          Open the dashboard
        </button>
      ) : null}
    </div>
  );
}

function AdoptReview({ progress, update, onDone }: { progress: Progress; update: (p: Partial<Progress>) => void; onDone: () => void }) {
  const plan = useOp('setupAdopt', { containerName: progress.container ?? '', ...(progress.dockerHost ? { dockerHost: progress.dockerHost } : {}) }, { staleTime: Infinity, refetchOnWindowFocus: false });
  const save = useAction('configSave');
  const imp = useAction('tokenImport');
  const init = useAction('tokenInit');
  const [token, setToken] = useState<'import' | 'create'>('import');
  const [done, setDone] = useState<{ result?: RotationResult; imported?: TokenImportResult }>();
  // The plan the operator read and confirmed; the save makes the query refetch against the new config.
  const [shown, setShown] = useState<AdoptionPlan>();
  const p = shown ?? plan.data;
  const importing = token === 'import' && (p?.tokenSources.length ?? 0) > 0;
  const finish = async () => {
    if (!p) return;
    setShown(p);
    if (!(await save.run({ config: p.config }))) return;
    if (importing) {
      const imported = await imp.run({ from: 'container' });
      if (imported) setDone({ imported });
    } else {
      const result = await init.run({ force: false });
      if (result) setDone({ result });
    }
  };
  return (
    <Card title={`3. Adopt ${progress.container ?? ''}`} testId="setup-review" wide>
      <OpStatus state={plan} what="the container" />
      {p ? (
        <>
          <p>
            Adopt these values{p.compose ? ` (compose project ${p.compose.project}, service ${p.compose.service}, in ${p.compose.workingDir})` : ''}:
          </p>
          <Table head={['Setting', 'Value', 'Read from']} testId="setup-adopted">
            {p.adopted.map((a) => (
              <tr key={a.field}>
                <td>{a.field}</td>
                <td>
                  <code>{a.value}</code>
                </td>
                <td>{a.from}</td>
              </tr>
            ))}
          </Table>
          <h3>Changes to the configuration</h3>
          <ChangesTable plan={p} />
          {p.notes.length ? (
            <ul className="plain-list" aria-label="Notes">
              {p.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
          <fieldset>
            <legend>Credential</legend>
            {p.tokenSources.map((s) => (
              <label key={s.source} className="row">
                <input type="radio" name="token" checked={importing} onChange={() => setToken('import')} />
                <span>
                  Import the token ComfyUI-Login uses now (<code>{s.fingerprint}</code>, {s.source})
                </span>
              </label>
            ))}
            <label className="row">
              <input type="radio" name="token" checked={!importing} onChange={() => setToken('create')} />
              <span>Create a new credential (written to the secret file and every env target, then ComfyUI restarts)</span>
            </label>
          </fieldset>
        </>
      ) : null}
      {done ? (
        <Outcome {...done} onDone={onDone} />
      ) : (
        <div className="row">
          <button onClick={() => update({ step: 1 })}>Back</button>
          <button className="primary" disabled={!p || save.busy || imp.busy || init.busy} onClick={() => void finish()}>
            {save.busy || imp.busy || init.busy ? 'Writing…' : 'Adopt these values'}
          </button>
        </div>
      )}
      {save.error ?? imp.error ?? init.error ? <ErrorNote message={(save.error ?? imp.error ?? init.error)!} /> : null}
    </Card>
  );
}

function CreateReview({ progress, update, onDone }: { progress: Progress; update: (p: Partial<Progress>) => void; onDone: () => void }) {
  const current = useOp('configGet', {});
  const save = useAction('configSave');
  const init = useAction('tokenInit');
  const [done, setDone] = useState<{ result?: RotationResult }>();
  const c = progress.create ?? DEFAULT_CREATE;
  const port = Number(c.hostPort);
  const base = current.data?.config;
  const config: PanelConfig | undefined = base && {
    ...base,
    docker: { ...base.docker, ...(progress.dockerHost ? { host: progress.dockerHost } : {}) },
    comfyui: { ...base.comfyui, url: `http://127.0.0.1:${port}` },
    container: { ...base.container, name: c.name, image: c.image, gpus: gpusOf(c.gpus), hostPort: port, ...(c.secretFile ? { secretFile: c.secretFile } : {}) },
    // A new container has no project: no env targets or root from another container's folder.
    env: { ...base.env, targets: [] },
  };
  const finish = async () => {
    if (!config || !(await save.run({ config }))) return;
    // Creating the credential writes the secret file, creates and starts the container and waits for it.
    const result = await init.run({ force: false });
    if (result) setDone({ result });
  };
  return (
    <Card title={`3. Create ${c.name}`} testId="setup-review" wide>
      <OpStatus state={current} what="the configuration" />
      <ul className="plain-list">
        <li>
          image <code>{c.image}</code>, GPUs <code>{JSON.stringify(gpusOf(c.gpus))}</code>, port <code>127.0.0.1:{c.hostPort}</code>
        </li>
        <li>secret file {c.secretFile ? <code>{c.secretFile}</code> : 'none (login/PASSWORD is written through the engine)'}</li>
        <li>a new credential is created; no token of another container is offered</li>
      </ul>
      {!Number.isInteger(port) || port < 1 || port > 65535 ? <ErrorNote message={`Host port ${c.hostPort} is not a port number (1-65535).`} /> : null}
      {done ? (
        <Outcome {...done} onDone={onDone} />
      ) : (
        <div className="row">
          <button onClick={() => update({ step: 1 })}>Back</button>
          <button className="primary" disabled={!config || save.busy || init.busy} onClick={() => void finish()}>
            {save.busy || init.busy ? 'Creating…' : 'Create the container'}
          </button>
        </div>
      )}
      {save.error ?? init.error ? <ErrorNote message={(save.error ?? init.error)!} /> : null}
    </Card>
  );
}

/**
 * The setup wizard: engine, container (adopt or create), review. Progress survives a reload; the
 * config is written once, at the end. Shown at first run, and from the Settings page later.
 */
export function SetupPage({ onDone }: { onDone: () => void }) {
  const [progress, update] = useProgress();
  const apply = useAction('setupApply');
  const detect = useOp('setupDetect', progress.dockerHost ? { dockerHost: progress.dockerHost } : {});
  const close = () => {
    localStorage.removeItem(PROGRESS_KEY);
    onDone();
  };
  const step = Math.min(progress.step, STEPS.length - 1);
  return (
    <div className="setup">
      <h2>Set up the panel</h2>
      <ol className="steps" aria-label="Setup steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined}>
            {i + 1}. {s}
          </li>
        ))}
      </ol>
      <OpStatus state={detect} what="what is on this machine" />
      {detect.data?.skipped.map((s) => (
        <p key={s.step} className="muted">
          {s.step}: {s.reason}
        </p>
      ))}
      {detect.data && step === 0 ? <EngineStep key={progress.dockerHost ?? ''} detection={detect.data} typed={progress.dockerHost} onCheck={(h) => update({ dockerHost: h })} next={() => update({ step: 1 })} /> : null}
      {detect.data && step === 1 ? <ContainerStep detection={detect.data} progress={progress} update={update} /> : null}
      {step === 2 && progress.mode === 'adopt' ? <AdoptReview progress={progress} update={update} onDone={close} /> : null}
      {step === 2 && progress.mode === 'create' ? <CreateReview progress={progress} update={update} onDone={close} /> : null}
      <p className="row">
        <button onClick={() => void apply.run({ choices: {} }).then((v) => v && close())}>Skip setup and keep the current settings</button>
      </p>
      {apply.error ? <ErrorNote message={apply.error} /> : null}
    </div>
  );
}
