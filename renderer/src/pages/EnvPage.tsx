import { useMemo, useState } from 'react';
import type { EnvDiff, EnvFileSummary, EnvFinding, EnvSyncPreview, EnvSyncResult } from '../../../app/contract/index.js';
import { useAction, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { StatusLight } from '../components/StatusLight.js';

function DiffTable({ diff, focusKey }: { diff: EnvDiff; focusKey?: string }) {
  const rows = [
    ...diff.changed.map((c) => ({ key: c.key, a: c.a, b: c.b, kind: 'changed' })),
    ...diff.onlyA.map((v) => ({ key: v.key, a: v.value, b: '', kind: 'only in A' })),
    ...diff.onlyB.map((v) => ({ key: v.key, a: '', b: v.value, kind: 'only in B' })),
    ...diff.same.map((v) => ({ key: v.key, a: v.value, b: v.value, kind: 'same' })),
  ];
  return (
    <table data-testid="env-diff">
      <thead>
        <tr>
          <th>Key</th>
          <th>
            A <code>{diff.a}</code>
          </th>
          <th>
            B <code>{diff.b}</code>
          </th>
          <th>Difference</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.kind}${r.key}`} className={r.key === focusKey ? 'focus-row' : undefined}>
            <td>
              <code>{r.key}</code>
            </td>
            <td>
              <code>{r.a}</code>
            </td>
            <td>
              <code>{r.b}</code>
            </td>
            <td>{r.kind}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FileSelect({ label, files, value, onChange }: { label: string; files: EnvFileSummary[]; value: string; onChange: (file: string) => void }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{label}…</option>
      {files.map((f) => (
        <option key={f.path} value={f.file}>
          {f.file}
        </option>
      ))}
    </select>
  );
}

function SyncCard({ onApplied }: { onApplied: () => void }) {
  const preview = useAction('envSyncPreview');
  const apply = useAction('envSyncApply');
  const [plan, setPlan] = useState<EnvSyncPreview | EnvSyncResult>();
  const applied = plan && 'written' in plan ? plan : undefined;
  return (
    <Card
      title="Regenerate from the source of truth"
      testId="env-sync"
      actions={
        <>
          <button onClick={() => void preview.run({}).then(setPlan)} disabled={preview.busy || apply.busy}>
            {preview.busy ? 'Planning…' : 'Preview sync'}
          </button>
          <button className="primary" onClick={() => void apply.run({}).then((r) => (setPlan(r), onApplied()))} disabled={!plan || Boolean(applied) || apply.busy}>
            {apply.busy ? 'Applying…' : 'Apply'}
          </button>
        </>
      }
    >
      <p className="muted">Writes the vault's token and the ComfyUI URL into each configured target, quoted for its reader, with a timestamped backup of each file.</p>
      {plan?.missing.map((m) => (
        <p key={m.source} className="error-note">
          {m.source}: {m.reason}
        </p>
      ))}
      {plan?.targets.length === 0 ? <p>No env targets are configured (config env.targets).</p> : null}
      {plan?.targets.map((t) => (
        <div key={t.path}>
          <p>
            <StatusLight status={t.error ? 'fail' : t.changed ? 'warn' : 'ok'} label={t.file} /> <code>{t.file}</code> ({t.dialect}) —{' '}
            {t.error ?? (t.changed ? (applied ? 'written' : 'will change') : 'already up to date')}
          </p>
          {t.diff.length ? <pre className="diff">{t.diff.join('\n')}</pre> : null}
        </div>
      ))}
      {applied ? (
        <p role="status" data-testid="env-sync-outcome">
          <StatusLight status={applied.verified ? 'ok' : 'fail'} label="Sync" /> {applied.written.length} file(s) written
          {applied.verified ? ', each re-read by its own reader with exactly the intended values.' : '; verification FAILED.'}
        </p>
      ) : null}
      {preview.error ?? apply.error ? <ErrorNote message={(preview.error ?? apply.error)!} /> : null}
    </Card>
  );
}

export function EnvPage() {
  const audit = useOp('envAudit', {});
  const diffOp = useAction('envDiff');
  const [pair, setPair] = useState<{ a: string; b: string }>({ a: '', b: '' });
  const [diff, setDiff] = useState<EnvDiff>();
  const [focus, setFocus] = useState<EnvFinding>();
  const files = audit.data?.files ?? [];
  const counts = useMemo(() => {
    const m = new Map<string, number>();
    for (const f of audit.data?.findings ?? []) m.set(f.file, (m.get(f.file) ?? 0) + 1);
    return m;
  }, [audit.data]);
  const compare = async (a: string, b: string, reveal = false) => {
    setPair({ a, b });
    const d = await diffOp.run({ a, b, reveal });
    if (d) setDiff(d);
  };
  const showFinding = (f: EnvFinding) => {
    setFocus(f);
    const other = pair.b && pair.b !== f.file ? pair.b : files.find((x) => x.file !== f.file)?.file;
    if (other) void compare(f.file, other);
  };
  return (
    <div className="grid">
      <OpStatus state={audit} what="env files" />
      {audit.data ? (
        <>
          <Card title="Env files" testId="env-files" actions={<button onClick={audit.reload}>Scan again</button>}>
            <p className="muted">
              Under <code>{audit.data.root}</code>
            </p>
            {files.length === 0 ? <p>No .env files found.</p> : null}
            <Table head={['File', 'Reader', 'Keys', 'Findings']}>
              {files.map((f) => (
                <tr key={f.path}>
                  <td>
                    <code>{f.file}</code>
                    {f.referencedBy.length ? <div className="muted">env_file of {f.referencedBy.map((r) => `${r.service} (${r.compose})`).join(', ')}</div> : null}
                  </td>
                  <td>{f.dialect}</td>
                  <td>
                    {f.keys} ({f.secretKeys} secret)
                  </td>
                  <td>
                    <StatusLight status={f.error ? 'fail' : counts.get(f.file) ? 'warn' : 'ok'} label={`${f.file} findings`} /> {counts.get(f.file) ?? 0}
                  </td>
                </tr>
              ))}
            </Table>
          </Card>
          <Card title="Findings" testId="env-findings">
            {audit.data.findings.length === 0 ? <p>No problems found.</p> : null}
            <ul className="facts-list">
              {audit.data.findings.map((f, i) => (
                <li key={`${f.file}:${f.line}:${f.kind}:${i}`}>
                  <StatusLight status={f.severity === 'error' ? 'fail' : 'warn'} label={f.kind} />
                  <span>
                    <button className="link" onClick={() => showFinding(f)} aria-label={`Show ${f.file} line ${f.line} in the diff`}>
                      {f.file}:{f.line}
                    </button>{' '}
                    <strong>{f.kind}</strong> {f.key ? <code>{f.key}</code> : null} — {f.message}
                    <div className="muted">Fix: {f.fix}</div>
                  </span>
                </li>
              ))}
            </ul>
          </Card>
          <section className="card wide" aria-label="Compare two files">
            <header className="card-head">
              <h2>Compare two files</h2>
            </header>
            <div className="row">
              <FileSelect label="File A" files={files} value={pair.a} onChange={(a) => setPair({ ...pair, a })} />
              <FileSelect label="File B" files={files} value={pair.b} onChange={(b) => setPair({ ...pair, b })} />
              <button onClick={() => void compare(pair.a, pair.b)} disabled={!pair.a || !pair.b || diffOp.busy}>
                Compare
              </button>
              <button onClick={() => void compare(pair.a, pair.b, true)} disabled={!diff || diffOp.busy} title="Shows secret values in clear on this screen">
                Reveal values
              </button>
            </div>
            {diffOp.error ? <ErrorNote message={diffOp.error} /> : null}
            {diff ? <DiffTable diff={diff} focusKey={focus?.key} /> : <p className="muted">Pick two files, or click a finding.</p>}
          </section>
          <SyncCard onApplied={audit.reload} />
        </>
      ) : null}
    </div>
  );
}
