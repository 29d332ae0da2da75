import { useState, type FormEvent } from 'react';
import type { GeneratedImage, GenerateRunResult, GenerationProgress, GenerationResult, RunRecord } from '../../../app/contract/index.js';
import { useAction, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { ago, ms } from '../components/format.js';
import { Modal } from '../components/Modal.js';
import { StatusLight } from '../components/StatusLight.js';
import { preflightItems } from '../lib/preflight.js';

type WorkflowChoice = 'smoke' | 'qwen' | 'qwen-edit' | 'file';

function Timings({ result }: { result: GenerationResult }) {
  const t = result.timings;
  return (
    <dl className="facts" data-testid="timings">
      <dt>Queue wait</dt>
      <dd>{ms(t.queueMs)}</dd>
      <dt>Execution</dt>
      <dd>{ms(t.executionMs)}</dd>
      <dt>Download</dt>
      <dd>{ms(t.downloadMs)}</dd>
      <dt>Panel overhead</dt>
      <dd>{ms(t.overheadMs)}</dd>
      <dt>Total</dt>
      <dd>
        <strong>{ms(t.totalMs)}</strong>
        {result.cached ? <span className="muted"> (served from ComfyUI's cache)</span> : null}
      </dd>
    </dl>
  );
}

/** A failed run's error; a preflight failure lists each problem, a missing model with the folder it goes in. */
function RunError({ result }: { result: GenerationResult }) {
  const error = result.error ?? 'the generation failed';
  if (result.errorKind !== 'preflight') return <ErrorNote message={error} />;
  const { intro, items } = preflightItems(error);
  return (
    <div className="error-note" role="alert" data-testid="preflight-problems">
      <p>{intro}</p>
      <ul>
        {items.map((p) => (
          <li key={p.message}>
            {p.file && p.folder ? (
              <>
                <code>{p.file}</code> {p.rescan ? 'is in' : 'goes in'} <code>{p.folder}</code>
                {p.rescan ? ' but the server has not listed it yet: restart ComfyUI so it rescans the models' : ''}{' '}
                <span className="muted">
                  ({p.classType}, node {p.node})
                </span>
              </>
            ) : (
              p.message
            )}
          </li>
        ))}
      </ul>
      <p>Install the missing nodes or model files (or pick ones the server has), then try again.</p>
    </div>
  );
}

interface FormState {
  workflow: WorkflowChoice;
  file: string;
  prompt: string;
  negative: string;
  seed: string;
  width: string;
  height: string;
  steps: string;
}

const str = (n: number | undefined) => (n === undefined ? '' : String(n));

/** The form filled from a recorded run, to run it again as it was. */
function formOf(r: RunRecord, current: FormState): FormState {
  const p = r.params ?? {};
  const workflow: WorkflowChoice = r.workflow === 'smoke' || r.workflow === 'qwen' || r.workflow === 'qwen-edit' ? r.workflow : 'file';
  return {
    workflow,
    file: workflow === 'file' ? r.workflow : current.file,
    prompt: p.prompt ?? current.prompt,
    negative: p.negative ?? '',
    seed: str(p.seed),
    width: str(p.width),
    height: str(p.height),
    steps: str(p.steps),
  };
}

/** One recorded run: its image (when this session or the latest run has it), prompt and seed, and "run it again". */
function RunDetails({ run, image, onReuse, onClose }: { run: RunRecord; image?: GeneratedImage; onReuse: () => void; onClose: () => void }) {
  const p = run.params;
  return (
    <Modal
      wide
      testId="run-details"
      title={`Run of ${new Date(run.time).toLocaleString()}`}
      onClose={onClose}
      footer={({ initialFocus }) => (
        <>
          <button id={initialFocus} onClick={onClose}>
            Close
          </button>
          <button className="primary" onClick={onReuse}>
            Use these settings
          </button>
        </>
      )}
    >
      <div className="run-details">
        <div>
          {image?.dataUrl ? (
            <img className="result-image" src={image.dataUrl} alt={`Image of the run: ${image.path}`} data-testid="run-image" />
          ) : run.images.length ? (
            <p className="muted">The image is not loaded here (only this session's runs and the latest one are); it was saved as:</p>
          ) : null}
          {run.images.map((i) => (
            <div key={i}>
              <code>{i}</code>
            </div>
          ))}
        </div>
        <dl className="facts">
          <dt>Workflow</dt>
          <dd>{run.workflow}</dd>
          <dt>Outcome</dt>
          <dd>
            <StatusLight status={run.ok ? 'ok' : 'fail'} label="Outcome" /> {run.ok ? (run.cached ? 'cached' : 'done') : run.errorKind}
          </dd>
          {p ? (
            <>
              <dt>Prompt</dt>
              <dd data-testid="run-prompt">{p.prompt ?? <span className="muted">the workflow's own</span>}</dd>
              {p.negative ? (
                <>
                  <dt>Negative</dt>
                  <dd>{p.negative}</dd>
                </>
              ) : null}
              <dt>Seed</dt>
              <dd data-testid="run-seed">{p.seed ?? <span className="muted">none (the workflow has no sampler)</span>}</dd>
              <dt>Size</dt>
              <dd>{p.width && p.height ? `${p.width} × ${p.height}` : "the workflow's own"}</dd>
              {p.steps ? (
                <>
                  <dt>Steps</dt>
                  <dd>{p.steps}</dd>
                </>
              ) : null}
            </>
          ) : (
            <>
              <dt>Settings</dt>
              <dd className="muted">not recorded (a run from before runs kept them)</dd>
            </>
          )}
        </dl>
      </div>
      {!run.ok ? <RunError result={run} /> : <Timings result={run} />}
    </Modal>
  );
}

export function GeneratePage() {
  const [form, setForm] = useState<FormState>({ workflow: 'smoke', file: '', prompt: 'a lighthouse on a cliff at dusk, oil painting', negative: '', seed: '', width: '', height: '', steps: '' });
  const [progress, setProgress] = useState<GenerationProgress>();
  const [result, setResult] = useState<GenerateRunResult>();
  const [recent, setRecent] = useState<GenerateRunResult[]>([]);
  const [opened, setOpened] = useState<RunRecord>();
  const run = useAction('generateRun');
  const interrupt = useAction('generateInterrupt');
  const history = useOp('generateHistory', { limit: 20 });
  const latest = useOp('generateLatest', {});
  useEvent('generationProgress', setProgress);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));

  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    setProgress(undefined);
    const r = await run.run({
      workflow: form.workflow === 'file' ? { file: form.file } : form.workflow,
      ...(form.workflow !== 'smoke' ? { prompt: form.prompt, negative: form.negative || undefined, steps: num(form.steps) } : {}),
      seed: num(form.seed),
      width: num(form.width),
      height: num(form.height),
    });
    if (r) {
      setResult(r);
      setRecent((list) => [r, ...list].slice(0, 12));
    }
  };

  /** The image of a recorded run, where the page has it: a run of this session, or the latest one. */
  const imageOf = (r: RunRecord): GeneratedImage | undefined =>
    recent.find((x) => x.runId === r.runId)?.previews.find((p) => p.dataUrl) ?? (latest.data?.run?.runId === r.runId ? latest.data.preview : undefined);

  const image = result?.previews.find((p) => p.dataUrl);
  return (
    <div className="grid">
      <Card title="Test generation" testId="generate-form">
        <form className="stack" onSubmit={(e) => void submit(e)}>
          <label>
            Workflow
            <select value={form.workflow} onChange={(e) => set({ workflow: e.target.value as WorkflowChoice })}>
              <option value="smoke">Smoke test (no models, any ComfyUI)</option>
              <option value="qwen">Qwen-Image fp8 text-to-image</option>
              <option value="qwen-edit">Qwen-Image-Edit-2509 fp8 (edits input/example.png)</option>
              <option value="file">API-format JSON file…</option>
            </select>
          </label>
          {form.workflow === 'file' ? (
            <label>
              Workflow file (path on the panel's machine)
              <input value={form.file} onChange={(e) => set({ file: e.target.value })} required placeholder="/path/to/workflow_api.json" />
            </label>
          ) : null}
          {form.workflow !== 'smoke' ? (
            <>
              <label>
                Prompt
                <textarea rows={3} value={form.prompt} onChange={(e) => set({ prompt: e.target.value })} />
              </label>
              <label>
                Negative prompt
                <input value={form.negative} onChange={(e) => set({ negative: e.target.value })} />
              </label>
              <label>
                Steps
                <input inputMode="numeric" pattern="[0-9]*" value={form.steps} onChange={(e) => set({ steps: e.target.value })} placeholder="from the workflow" />
              </label>
            </>
          ) : null}
          <div className="row">
            <label>
              Seed
              <input inputMode="numeric" pattern="[0-9]*" value={form.seed} onChange={(e) => set({ seed: e.target.value })} placeholder="random" />
            </label>
            <label>
              Width
              <input inputMode="numeric" pattern="[0-9]*" value={form.width} onChange={(e) => set({ width: e.target.value })} placeholder="default" />
            </label>
            <label>
              Height
              <input inputMode="numeric" pattern="[0-9]*" value={form.height} onChange={(e) => set({ height: e.target.value })} placeholder="default" />
            </label>
          </div>
          <div className="row">
            <button className="primary" type="submit" disabled={run.busy}>
              {run.busy ? 'Generating…' : 'Generate'}
            </button>
            <button type="button" onClick={() => void interrupt.run({})} disabled={!run.busy}>
              Interrupt
            </button>
          </div>
        </form>
        {run.busy || progress ? (
          <div aria-live="polite" data-testid="generate-progress">
            <progress className="progress" max={100} value={progress?.percent ?? 0} aria-label="Generation progress" />
            <p className="muted">
              {progress ? `${progress.phase}${progress.nodeClass ? ` · node ${progress.node} ${progress.nodeClass}` : ''}${progress.step ? ` · step ${progress.step.value}/${progress.step.max}` : ''} · ${Math.round(progress.percent)}%` : 'Submitting…'}
            </p>
          </div>
        ) : null}
        {run.error ? <ErrorNote message={run.error} /> : null}
      </Card>
      <Card title="Result" testId="generate-result">
        {!result ? <p className="muted">No generation in this session yet.</p> : null}
        {result && !result.ok ? <RunError result={result} /> : null}
        {result?.ok ? (
          <>
            <p>
              <StatusLight status="ok" label="Generation" /> {result.images.length} image(s) saved: <code>{result.images[0]}</code>
            </p>
            {image ? <img className="result-image" src={image.dataUrl} alt={`Generated image ${image.path}`} data-testid="result-image" /> : null}
            <Timings result={result} />
          </>
        ) : null}
        {recent.length > 1 ? (
          <div className="thumbs" aria-label="This session's images">
            {recent.flatMap((r) => r.previews.filter((p) => p.dataUrl).map((p) => <img key={`${r.runId}${p.path}`} src={p.dataUrl} alt={p.path} />))}
          </div>
        ) : null}
      </Card>
      <Card title="History" testId="generate-history" wide>
        <OpStatus state={history} what="history" />
        {history.data?.runs.length === 0 ? <p className="muted">No runs yet.</p> : null}
        {history.data?.runs.length ? (
          <div className="bounded" role="region" aria-label="Runs" tabIndex={0}>
            <Table head={['When', 'Workflow', 'Prompt', 'Seed', 'Outcome', 'Total', '']}>
              {history.data.runs.map((r) => (
                <tr key={r.runId}>
                  <td>{ago(r.time)}</td>
                  <td>{r.workflow}</td>
                  <td className="ellipsis-cell" title={r.params?.prompt}>
                    {r.params?.prompt ?? <span className="muted">—</span>}
                  </td>
                  <td>{r.params?.seed ?? '—'}</td>
                  <td>
                    <StatusLight status={r.ok ? 'ok' : 'fail'} label={r.workflow} /> {r.ok ? (r.cached ? 'cached' : 'done') : r.errorKind}
                  </td>
                  <td>{ms(r.timings.totalMs)}</td>
                  <td>
                    <button onClick={() => setOpened(r)} aria-label={`Open the run of ${new Date(r.time).toLocaleString()}`}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          </div>
        ) : null}
      </Card>
      {opened ? (
        <RunDetails
          run={opened}
          image={imageOf(opened)}
          onClose={() => setOpened(undefined)}
          onReuse={() => {
            setForm((f) => formOf(opened, f));
            setOpened(undefined);
          }}
        />
      ) : null}
    </div>
  );
}
