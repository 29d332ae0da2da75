import { useState } from 'react';
import type { EnvAudit, EnvDiff, EnvFileSummary, EnvFinding, EnvSyncResult } from '../../../app/contract/index.js';
import { useAction, useOp } from '../api/hooks.js';
import { ErrorNote, OpStatus } from '../components/Card.js';
import { ago } from '../components/format.js';
import { StatusLight } from '../components/StatusLight.js';
import { Tabs } from '../components/Tabs.js';
import { VirtualList } from '../components/VirtualList.js';
import { fileLight, targetChange } from '../lib/env.js';

type Tab = 'files' | 'findings' | 'compare' | 'sync';

function DiffTable({ diff, focusKey }: { diff: EnvDiff; focusKey?: string }) {
  const rows = [
    ...diff.changed.map((c) => ({ key: c.key, a: c.a, b: c.b, kind: 'changed' })),
    ...diff.onlyA.map((v) => ({ key: v.key, a: v.value, b: '', kind: 'only in A' })),
    ...diff.onlyB.map((v) => ({ key: v.key, a: '', b: v.value, kind: 'only in B' })),
    ...diff.same.map((v) => ({ key: v.key, a: v.value, b: v.value, kind: 'same' })),
  ];
  return (
    <div className="bounded" role="region" aria-label="Differences" tabIndex={0}>
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
    </div>
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

const LIGHT_WORD = { ok: 'no findings', warn: 'warnings', fail: 'errors', unknown: '', busy: '' } as const;

function FilesPanel({ audit }: { audit: EnvAudit }) {
  if (audit.files.length === 0) return <p>No .env files found.</p>;
  return (
    <VirtualList
      items={audit.files}
      label="Env files"
      testId="env-files"
      estimate={52}
      itemKey={(f) => f.path}
      render={(f) => {
        const light = fileLight(f, audit.findings);
        const count = audit.findings.filter((x) => x.file === f.file).length;
        return (
          <div className="file-row">
            <div className="file-name">
              <code>{f.file}</code>
              {f.referencedBy.length ? <div className="muted ellipsis">env_file of {f.referencedBy.map((r) => `${r.service} (${r.compose})`).join(', ')}</div> : null}
              {f.error ? <div className="error-text">line {f.error.line}: {f.error.message}</div> : null}
            </div>
            <span className="muted">{f.dialect}</span>
            <span>
              {f.keys} keys ({f.secretKeys} secret)
            </span>
            <span data-testid={`file-light-${f.file}`}>
              <StatusLight status={light} label={`${f.file}: ${LIGHT_WORD[light]}`} /> {count}
            </span>
          </div>
        );
      }}
    />
  );
}

function FindingsPanel({ findings, onShow }: { findings: EnvFinding[]; onShow: (f: EnvFinding) => void }) {
  if (findings.length === 0) return <p>No problems found.</p>;
  return (
    <VirtualList
      items={findings}
      label="Findings"
      testId="env-findings"
      estimate={64}
      itemKey={(f, i) => `${f.file}:${f.line}:${f.kind}:${i}`}
      render={(f) => (
        <div className="finding-row">
          <StatusLight status={f.severity === 'error' ? 'fail' : 'warn'} label={f.kind} />
          <div>
            <button className="link" onClick={() => onShow(f)} aria-label={`Show ${f.file} line ${f.line} in the diff`}>
              {f.file}:{f.line}
            </button>{' '}
            <strong>{f.kind}</strong> {f.key ? <code>{f.key}</code> : null} — {f.message}
            <div className="muted">Fix: {f.fix}</div>
          </div>
        </div>
      )}
    />
  );
}

/** Preview, then apply exactly that preview: the confirmation lists each file, and a plan that changed since is refused. */
function SyncPanel() {
  // The preview is what the operator reads: fetched only when asked, never refreshed behind their back.
  const preview = useOp('envSyncPreview', {}, { enabled: false, staleTime: Infinity, refetchOnWindowFocus: false });
  const apply = useAction('envSyncApply');
  const [applied, setApplied] = useState<{ result: EnvSyncResult; at: number }>();
  const showApplied = applied && applied.at > preview.updatedAt ? applied.result : undefined;
  const plan = showApplied ?? preview.data;
  const nothingToDo = preview.data ? !preview.data.targets.some((t) => t.changed) : true;
  return (
    <section className="card" aria-label="Regenerate from the source of truth" data-testid="env-sync">
      <header className="card-head">
        <h2>Regenerate from the source of truth</h2>
        <div className="card-actions">
          <button onClick={preview.reload} disabled={preview.loading || apply.busy}>
            {preview.loading ? 'Planning…' : preview.data ? 'Preview again' : 'Preview sync'}
          </button>
          <button className="primary" onClick={() => void apply.run({}).then((r) => r && setApplied({ result: r, at: Date.now() }))} disabled={!preview.data || Boolean(showApplied) || apply.busy || preview.loading || nothingToDo}>
            {apply.busy ? 'Applying…' : 'Apply'}
          </button>
        </div>
      </header>
      <p className="muted">Writes the vault's token and the ComfyUI URL into each configured target, quoted for its reader, with a timestamped backup of each file.</p>
      {preview.data && !showApplied ? <p className="muted">Planned {ago(new Date(preview.updatedAt).toISOString())}; Apply writes exactly this plan.</p> : null}
      {preview.error ? <ErrorNote message={preview.error} problem={preview.problem} /> : null}
      {apply.error ? <ErrorNote message={apply.error} problem={apply.problem} /> : null}
      {plan?.missing.map((m) => (
        <p key={m.source} className="error-note">
          {m.source}: {m.reason}
        </p>
      ))}
      {plan?.targets.length === 0 ? <p>No env targets are configured (config env.targets).</p> : null}
      {plan?.targets.map((t) => (
        <div key={t.path} className="sync-target">
          <p>
            <StatusLight status={t.error ? 'fail' : t.changed ? (showApplied ? 'ok' : 'warn') : 'ok'} label={t.file} /> <code>{t.file}</code> ({t.dialect}) — {targetChange(t, Boolean(showApplied))}
          </p>
          {t.diff.length ? <pre className="diff bounded">{t.diff.join('\n')}</pre> : null}
        </div>
      ))}
      {showApplied ? (
        <p role="status" data-testid="env-sync-outcome">
          <StatusLight status={showApplied.verified ? 'ok' : 'fail'} label="Sync" /> {showApplied.written.length} file(s) written
          {showApplied.written.length ? ` (${showApplied.written.map((w) => `${w.file} mode ${w.mode}`).join(', ')})` : ''}
          {showApplied.verified ? ', each re-read by its own reader with exactly the intended values.' : '; verification FAILED.'}
        </p>
      ) : null}
    </section>
  );
}

export function EnvPage() {
  const audit = useOp('envAudit', {});
  const diffOp = useAction('envDiff');
  const [tab, setTab] = useState<Tab>('files');
  const [pair, setPair] = useState<{ a: string; b: string }>({ a: '', b: '' });
  const [diff, setDiff] = useState<EnvDiff>();
  const [focus, setFocus] = useState<EnvFinding>();
  const files = audit.data?.files ?? [];
  const findings = audit.data?.findings ?? [];
  const errors = findings.filter((f) => f.severity === 'error').length;
  const compare = async (a: string, b: string, reveal = false) => {
    setPair({ a, b });
    const d = await diffOp.run({ a, b, reveal });
    if (d) setDiff(d);
  };
  const showFinding = (f: EnvFinding) => {
    setFocus(f);
    setTab('compare');
    const other = pair.b && pair.b !== f.file ? pair.b : files.find((x) => x.file !== f.file)?.file;
    if (other) void compare(f.file, other);
  };
  return (
    <div className="env-page">
      <OpStatus state={audit} what="env files" />
      {audit.data ? (
        <>
          <div className="env-summary">
            <StatusLight status={errors ? 'fail' : findings.length ? 'warn' : 'ok'} label="Env files" />
            <span>
              {files.length} file(s) under <code>{audit.data.root}</code> · {errors} error(s), {findings.length - errors} warning(s)
            </span>
            <button onClick={audit.reload} disabled={audit.loading}>
              {audit.loading ? 'Scanning…' : 'Scan again'}
            </button>
          </div>
          <Tabs
            label="Env sections"
            selected={tab}
            onSelect={setTab}
            tabs={[
              { id: 'files', label: `Files (${files.length})` },
              { id: 'findings', label: `Findings (${findings.length})` },
              { id: 'compare', label: 'Compare' },
              { id: 'sync', label: 'Sync' },
            ]}
          >
            {tab === 'files' ? <FilesPanel audit={audit.data} /> : null}
            {tab === 'findings' ? <FindingsPanel findings={findings} onShow={showFinding} /> : null}
            {tab === 'compare' ? (
              <section aria-label="Compare two files">
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
            ) : null}
            {tab === 'sync' ? <SyncPanel /> : null}
          </Tabs>
        </>
      ) : null}
    </div>
  );
}
