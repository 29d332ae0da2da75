import { useState, type FormEvent } from 'react';
import type { GenerateRunResult, GenerationProgress } from '../../../app/contract/index.js';
import { useAction, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { ago, ms } from '../components/format.js';
import { StatusLight } from '../components/StatusLight.js';

type WorkflowChoice = 'smoke' | 'qwen' | 'file';

function Timings({ result }: { result: GenerateRunResult }) {
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

export function GeneratePage() {
  const [workflow, setWorkflow] = useState<WorkflowChoice>('smoke');
  const [file, setFile] = useState('');
  const [prompt, setPrompt] = useState('a lighthouse on a cliff at dusk, oil painting');
  const [negative, setNegative] = useState('');
  const [seed, setSeed] = useState('');
  const [size, setSize] = useState({ width: '', height: '' });
  const [steps, setSteps] = useState('');
  const [progress, setProgress] = useState<GenerationProgress>();
  const [result, setResult] = useState<GenerateRunResult>();
  const [recent, setRecent] = useState<GenerateRunResult[]>([]);
  const run = useAction('generateRun');
  const interrupt = useAction('generateInterrupt');
  const history = useOp('generateHistory', { limit: 20 });
  useEvent('generationProgress', setProgress);

  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    setProgress(undefined);
    const r = await run.run({
      workflow: workflow === 'file' ? { file } : workflow,
      ...(workflow !== 'smoke' ? { prompt, negative: negative || undefined, steps: num(steps) } : {}),
      seed: num(seed),
      width: num(size.width),
      height: num(size.height),
    });
    if (r) {
      setResult(r);
      setRecent((list) => [r, ...list].slice(0, 12));
    }
    history.reload();
  };

  const image = result?.previews.find((p) => p.dataUrl);
  return (
    <div className="grid">
      <Card title="Test generation" testId="generate-form">
        <form className="stack" onSubmit={(e) => void submit(e)}>
          <label>
            Workflow
            <select value={workflow} onChange={(e) => setWorkflow(e.target.value as WorkflowChoice)}>
              <option value="smoke">Smoke test (no models, any ComfyUI)</option>
              <option value="qwen">Qwen-Image fp8 text-to-image</option>
              <option value="file">API-format JSON file…</option>
            </select>
          </label>
          {workflow === 'file' ? (
            <label>
              Workflow file (path on the panel's machine)
              <input value={file} onChange={(e) => setFile(e.target.value)} required placeholder="/path/to/workflow_api.json" />
            </label>
          ) : null}
          {workflow !== 'smoke' ? (
            <>
              <label>
                Prompt
                <textarea rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
              </label>
              <label>
                Negative prompt
                <input value={negative} onChange={(e) => setNegative(e.target.value)} />
              </label>
              <label>
                Steps
                <input inputMode="numeric" pattern="[0-9]*" value={steps} onChange={(e) => setSteps(e.target.value)} placeholder="from the workflow" />
              </label>
            </>
          ) : null}
          <div className="row">
            <label>
              Seed
              <input inputMode="numeric" pattern="[0-9]*" value={seed} onChange={(e) => setSeed(e.target.value)} placeholder="random" />
            </label>
            <label>
              Width
              <input inputMode="numeric" pattern="[0-9]*" value={size.width} onChange={(e) => setSize({ ...size, width: e.target.value })} placeholder="default" />
            </label>
            <label>
              Height
              <input inputMode="numeric" pattern="[0-9]*" value={size.height} onChange={(e) => setSize({ ...size, height: e.target.value })} placeholder="default" />
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
        {result && !result.ok ? <ErrorNote message={result.error ?? 'the generation failed'} /> : null}
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
      <Card title="History" testId="generate-history">
        <OpStatus state={history} what="history" />
        {history.data?.runs.length === 0 ? <p className="muted">No runs yet.</p> : null}
        {history.data?.runs.length ? (
          <Table head={['When', 'Workflow', 'Outcome', 'Total']}>
            {history.data.runs.map((r) => (
              <tr key={r.runId}>
                <td>{ago(r.time)}</td>
                <td>{r.workflow}</td>
                <td>
                  <StatusLight status={r.ok ? 'ok' : 'fail'} label={r.workflow} /> {r.ok ? (r.cached ? 'cached' : 'done') : r.errorKind}
                </td>
                <td>{ms(r.timings.totalMs)}</td>
              </tr>
            ))}
          </Table>
        ) : null}
      </Card>
    </div>
  );
}
