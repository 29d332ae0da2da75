import { useState } from 'react';
import { dialectLabels, dialects as dialectNames } from '../../../app/contract/names.js';
import type { EnvTarget } from '../../../app/config/schema.js';
import type { SetupDetection } from '../../../app/contract/index.js';
import { useAction, useCall, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus } from '../components/Card.js';
import { StatusLight } from '../components/StatusLight.js';

const STEPS = ['Docker engine', 'Container', 'Credential', 'Env files'] as const;

interface StepProps {
  detection: SetupDetection;
  next: () => void;
}

function EngineStep({ detection, next, onHost }: StepProps & { onHost: (host: string | undefined) => void }) {
  const d = detection.docker;
  const [host, setHost] = useState(d.host);
  return (
    <Card title="1. Find the Docker engine">
      <p className="muted">The panel runs ComfyUI in a Docker container, so it needs to reach a Docker engine.</p>
      <p>
        <StatusLight status={d.ok ? 'ok' : 'fail'} label="Docker engine" /> {d.ok ? `Docker ${d.serverVersion} answered at ${d.host} (${d.source}).` : d.problem?.message}
      </p>
      {!d.ok ? <p>{d.howTo}</p> : null}
      <label>
        Engine address
        <input value={host} onChange={(e) => setHost(e.target.value)} aria-describedby="host-help" />
      </label>
      <p id="host-help" className="muted">
        e.g. unix:///var/run/docker.sock, ssh://user@gpu-box, tcp://host:2376
      </p>
      <div className="row">
        <button className="primary" onClick={() => (onHost(host === d.host ? undefined : host), next())}>
          Continue
        </button>
        <button onClick={next}>Skip</button>
      </div>
    </Card>
  );
}

function ContainerStep({ detection, next, onPick }: StepProps & { onPick: (name: string | undefined, port: number | undefined) => Promise<void> }) {
  const [choice, setChoice] = useState<string>(detection.containers.find((c) => c.configured)?.name ?? detection.containers[0]?.name ?? '__new__');
  const [newName, setNewName] = useState('comfyui-qwen');
  const [port, setPort] = useState('8188');
  return (
    <Card title="2. Adopt or create the ComfyUI container">
      <p className="muted">Adopting keeps a container made by compose or docker run; the panel then starts, stops and watches it. Creating uses the bundled ComfyUI-Qwen recipe.</p>
      <fieldset>
        <legend className="sr-only">Container</legend>
        {detection.containers.map((c) => (
          <label key={c.id} className="row">
            <input type="radio" name="container" value={c.name} checked={choice === c.name} onChange={() => setChoice(c.name)} />
            <span>
              <code>{c.name}</code> — {c.image}, {c.state}
              {c.ports.length ? `, port ${c.ports.map((p) => `${p.hostIp}:${p.hostPort}`).join(', ')}` : ''}
              {c.managed ? ' (made by the panel)' : ' (will be adopted)'}
            </span>
          </label>
        ))}
        <label className="row">
          <input type="radio" name="container" value="__new__" checked={choice === '__new__'} onChange={() => setChoice('__new__')} />
          <span>Create a new container named</span>
          <input value={newName} onChange={(e) => setNewName(e.target.value)} aria-label="New container name" disabled={choice !== '__new__'} />
          <span>on port</span>
          <input value={port} onChange={(e) => setPort(e.target.value)} aria-label="Host port" inputMode="numeric" disabled={choice !== '__new__'} size={6} />
        </label>
      </fieldset>
      {detection.containers.length === 0 ? <p className="muted">No ComfyUI container was found on this engine.</p> : null}
      <div className="row">
        <button
          className="primary"
          onClick={() => {
            const picked = detection.containers.find((c) => c.name === choice);
            // The next step imports from the container the config names, so save first.
            void onPick(picked ? picked.name : newName, picked ? picked.ports[0]?.hostPort : Number(port)).then(next);
          }}
        >
          Continue
        </button>
        <button onClick={next}>Skip</button>
      </div>
    </Card>
  );
}

function CredentialStep({ detection, next, container }: StepProps & { container: string | undefined }) {
  const imp = useAction('tokenImport');
  const init = useAction('tokenInit');
  const [done, setDone] = useState('');
  // Importing "from the container" reads the container the config now names: offer only that one.
  const sources = detection.credentialSources.filter((s) => s.kind === 'env' || s.container === container);
  const importFrom = async (i: number) => {
    const s = sources[i]!;
    const r = s.kind === 'container' ? await imp.run({ from: 'container' }) : await imp.run({ from: 'env', file: s.file!, key: s.key! });
    if (r) setDone(`Imported ${r.fingerprint} from ${r.source}.`);
  };
  return (
    <Card title="3. Import or create the credential">
      <p className="muted">
        ComfyUI-Login keeps a bcrypt hash of the password; that hash is also the API token clients send. The panel keeps it encrypted as the one source of truth.
      </p>
      {sources.length ? (
        <ul className="facts-list">
          {sources.map((s, i) => (
            <li key={s.source}>
              <button onClick={() => void importFrom(i)} disabled={imp.busy}>
                Import
              </button>
              <span>
                <code>{s.fingerprint}</code> from {s.source}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p>No existing token was found in the container or the .env files.</p>
      )}
      {new Set(sources.map((s) => s.fingerprint)).size > 1 ? (
        <p className="error-note">These places hold different tokens; import the one the server accepts, then unify on the Tokens page.</p>
      ) : null}
      <div className="row">
        <button onClick={() => void init.run({ force: false }).then((r) => r && setDone(`Created ${r.fingerprint} (${r.outcome}).`))} disabled={init.busy}>
          {init.busy ? 'Creating…' : 'Create a new credential'}
        </button>
        <button className="primary" onClick={next}>
          {done ? 'Continue' : 'Skip'}
        </button>
      </div>
      {done ? <p role="status">{done}</p> : null}
      {imp.error ?? init.error ? <ErrorNote message={(imp.error ?? init.error)!} /> : null}
    </Card>
  );
}

function EnvStep({ detection, finish }: { detection: SetupDetection; finish: (targets: EnvTarget[]) => void }) {
  const [picked, setPicked] = useState<Record<string, EnvTarget['dialect'] | undefined>>({});
  const [key, setKey] = useState('COMFYUI_BEARER_TOKEN');
  return (
    <Card title="4. Choose the env files the panel keeps in sync">
      <p className="muted">
        Each chosen file gets the token under <code>{key}</code>, written for its reader: compose and dotenv need the hash single-quoted, raw env files bare.
      </p>
      <label>
        Key name
        <input value={key} onChange={(e) => setKey(e.target.value)} pattern="[A-Za-z_][A-Za-z0-9_]*" />
      </label>
      {detection.envFiles.length === 0 ? <p>No .env files were found under {detection.envRoot}.</p> : null}
      <table>
        <tbody>
          {detection.envFiles.map((f) => (
            <tr key={f}>
              <td>
                <label className="row">
                  <input type="checkbox" checked={Boolean(picked[f])} onChange={(e) => setPicked({ ...picked, [f]: e.target.checked ? 'dotenv' : undefined })} />
                  <code>{f}</code>
                </label>
              </td>
              <td>
                <select aria-label={`Reader of ${f}`} value={picked[f] ?? 'dotenv'} disabled={!picked[f]} onChange={(e) => setPicked({ ...picked, [f]: e.target.value as EnvTarget['dialect'] })}>
                  {dialectNames.map((d) => (
                    <option key={d} value={d} title={dialectLabels[d].description}>
                      {d}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button
          className="primary"
          onClick={() =>
            finish(
              Object.entries(picked)
                .filter((e): e is [string, EnvTarget['dialect']] => Boolean(e[1]))
                .map(([path, dialect]) => ({ path, dialect, keys: { [key]: 'token' as const } })),
            )
          }
        >
          Finish
        </button>
        <button onClick={() => finish([])}>Skip</button>
      </div>
    </Card>
  );
}

/** First run: four skippable steps that leave a valid config file; saving it refreshes every query, and the dashboard replaces this page. */
export function SetupPage({ onSkip }: { onSkip: () => void }) {
  const call = useCall();
  const detect = useOp('setupDetect', {});
  const apply = useAction('setupApply');
  const save = useAction('configSave');
  const [step, setStep] = useState(0);
  const [dockerHost, setDockerHost] = useState<string>();
  const [container, setContainer] = useState<string>();
  const [error, setError] = useState('');

  const saveChoices = async (containerName?: string, hostPort?: number) => {
    await apply.run({ choices: { dockerHost, containerName, hostPort, comfyuiUrl: hostPort ? `http://127.0.0.1:${hostPort}` : undefined } });
  };
  const finish = async (targets: EnvTarget[]) => {
    try {
      const view = await call('configGet', {});
      await save.run({ config: { ...view.config, env: { ...view.config.env, root: detect.data?.envRoot, targets: [...view.config.env.targets, ...targets] } } });
    } catch (e) {
      setError((e as Error).message);
    }
  };
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
      {detect.data && step === 0 ? <EngineStep detection={detect.data} onHost={setDockerHost} next={() => setStep(1)} /> : null}
      {detect.data && step === 1 ? (
        <ContainerStep
          detection={detect.data}
          onPick={async (name, port) => {
            setContainer(name);
            await saveChoices(name, port);
          }}
          next={() => setStep(2)}
        />
      ) : null}
      {detect.data && step === 2 ? <CredentialStep detection={detect.data} container={container ?? detect.data.containers.find((c) => c.configured)?.name} next={() => setStep(3)} /> : null}
      {detect.data && step === 3 ? <EnvStep detection={detect.data} finish={(t) => void finish(t)} /> : null}
      {apply.error ?? save.error ? <ErrorNote message={(apply.error ?? save.error)!} /> : null}
      {error ? <ErrorNote message={error} /> : null}
      <p>
        <button onClick={() => void saveChoices().then(onSkip)}>Skip setup and use the defaults</button>
      </p>
    </div>
  );
}
