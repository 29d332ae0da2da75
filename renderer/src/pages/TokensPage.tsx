import { useState } from 'react';
import { dialectLabels, dialects as dialectNames, type Dialect } from '../../../app/contract/names.js';
import type { LocationStatus, RotationResult, RotationStep, TokenAudit } from '../../../app/contract/index.js';
import { useAction, useCall, useEvent, useOp } from '../api/hooks.js';
import { Card, ErrorNote, Loading, OpStatus, Table } from '../components/Card.js';
import { ago, ms } from '../components/format.js';
import { STEP_LIGHT, StatusLight, type Light } from '../components/StatusLight.js';

const locationLight: Record<LocationStatus, Light> = { match: 'ok', stale: 'fail', mismatch: 'fail', missing: 'warn', malformed: 'fail', unreadable: 'unknown' };

function liveLight(v: boolean | null): Light {
  return v === null ? 'unknown' : v ? 'ok' : 'fail';
}

function CredentialCard({ audit }: { audit: TokenAudit }) {
  const call = useCall();
  const [dialect, setDialect] = useState<Dialect>('dotenv');
  const [note, setNote] = useState('');
  // The lines hold the token: they go straight to the clipboard and are never rendered.
  const copy = async () => {
    try {
      const { lines } = await call('tokenClientEnv', { dialect });
      await navigator.clipboard.writeText(`${lines.join('\n')}\n`);
      setNote(`Copied ${lines.length} lines for ${dialect} readers. They contain the token: paste them only into the client's env file.`);
    } catch (e) {
      setNote(`Copy failed: ${(e as Error).message}`);
    }
  };
  const v = audit.vault;
  return (
    <Card title="Credential" testId="credential">
      {!v.present ? (
        <p>No credential in the vault yet. Create one, or import the one your deployment uses.</p>
      ) : (
        <dl className="facts">
          <dt>Token</dt>
          <dd>
            <code data-testid="token-fingerprint">{v.fingerprint}</code>{' '}
            <span className="muted">(fingerprint of the bcrypt hash; the hash is the API token and is a secret too)</span>
          </dd>
          <dt>Age</dt>
          <dd>{ago(v.createdAt)}</dd>
          <dt>Username</dt>
          <dd>{v.username}</dd>
          {v.previousFingerprint ? (
            <>
              <dt>Previous</dt>
              <dd>
                <code>{v.previousFingerprint}</code>
              </dd>
            </>
          ) : null}
          <dt>Vault key</dt>
          <dd>
            {v.keyBackend} {v.keySecure ? null : <span className="muted">— {v.warning ?? 'protected by file permissions only'}</span>}
          </dd>
        </dl>
      )}
      {v.present ? (
        <div className="row">
          <label>
            <span className="sr-only">Client dialect</span>
            <select value={dialect} onChange={(e) => setDialect(e.target.value as Dialect)} aria-label="Client dialect">
              {dialectNames.map((d) => (
                <option key={d} value={d}>
                  {dialectLabels[d].title}
                </option>
              ))}
            </select>
          </label>
          <button onClick={() => void copy()}>Copy client env lines</button>
        </div>
      ) : null}
      {note ? <p role="status">{note}</p> : null}
    </Card>
  );
}

function RotateCard({ present }: { present: boolean }) {
  const rotate = useAction('tokenRotate');
  const init = useAction('tokenInit');
  const rotateFailed = [rotate, init].find((a) => a.error);
  const [steps, setSteps] = useState<RotationStep[]>([]);
  const [result, setResult] = useState<RotationResult>();
  useEvent('rotationStep', (s) => setSteps((list) => [...list.filter((x) => !(x.rotationId === s.rotationId && x.step === s.step)), s]));
  // The dialog (confirmations.tsx) says which files are rewritten and which container restarts.
  const go = async () => {
    setSteps([]);
    setResult(undefined);
    const r = present ? await rotate.run({}) : await init.run({ force: false });
    if (r) setResult(r);
  };
  const busy = rotate.busy || init.busy;
  return (
    <Card title={present ? 'Rotate the credential' : 'Create the credential'} testId="rotate">
      <p className="muted">
        Writes a new password and hash to every location, restarts ComfyUI, and checks that the new token is accepted and the old one refused. Any failure puts the old
        credential back everywhere.
      </p>
      <button className="primary" onClick={() => void go()} disabled={busy}>
        {busy ? 'Working…' : present ? 'Rotate now' : 'Create credential'}
      </button>
      {steps.length ? (
        <ol className="facts-list" aria-label="Rotation steps" data-testid="rotation-steps">
          {steps.map((s) => (
            <li key={`${s.rotationId}${s.step}`}>
              <StatusLight status={STEP_LIGHT[s.status]} label={s.step} />
              <span>
                {s.step}
                {s.ms !== undefined ? ` (${ms(s.ms)})` : ''}
                {s.message ? ` — ${s.message}` : ''}
              </span>
            </li>
          ))}
        </ol>
      ) : null}
      {result ? (
        <p role="status" data-testid="rotation-outcome">
          <StatusLight status={result.ok ? 'ok' : 'fail'} label="Rotation" /> {result.outcome}
          {result.fingerprint ? <> — token now <code>{result.fingerprint}</code></> : null}
          {result.failedStep ? ` — failed at ${result.failedStep}: ${result.error ?? ''}` : ''}
        </p>
      ) : null}
      {rotateFailed?.error ? <ErrorNote message={rotateFailed.error} problem={rotateFailed.problem} /> : null}
    </Card>
  );
}

function HistoryCard() {
  const history = useOp('tokenHistory', { limit: 20 });
  return (
    <Card title="Audit history" testId="token-history" wide>
      <OpStatus state={history} what="audit history" />
      {history.data?.entries.length === 0 ? <p className="muted">No credential change recorded yet.</p> : null}
      {history.data?.entries.length ? (
        <Table head={['When', 'What', 'Outcome', 'Token', 'Who']}>
          {history.data.entries.map((e) => (
            <tr key={e.rotationId}>
              <td>{ago(e.time)}</td>
              <td>
                {e.kind} <span className="muted">({ms(e.durationMs)})</span>
              </td>
              <td>
                <StatusLight status={e.outcome === 'committed' ? 'ok' : e.outcome === 'rolled-back' ? 'warn' : e.outcome === 'nothing-to-do' ? 'unknown' : 'fail'} label={e.kind} /> {e.outcome}
                {e.failedStep ? <div className="muted">failed at {e.failedStep}</div> : null}
              </td>
              <td>
                <code>{e.fingerprint ?? '—'}</code>
              </td>
              <td>{e.actor}</td>
            </tr>
          ))}
        </Table>
      ) : null}
    </Card>
  );
}

export function TokensPage() {
  const audit = useOp('tokenAudit', {});
  const unify = useAction('tokenUnify');
  const a = audit.data;
  return (
    <div className="grid">
      {!a && audit.loading ? <Loading what="credential audit" /> : null}
      {audit.error ? <ErrorNote message={audit.error} problem={audit.problem} /> : null}
      {a ? (
        <>
          <CredentialCard audit={a} />
          <RotateCard present={a.vault.present} />
          <Card title="Live server" testId="live-facts" actions={<button onClick={audit.reload}>Check again</button>}>
            <ul className="facts-list">
              <li>
                <StatusLight status={liveLight(a.live.acceptsCurrent)} label="Accepts the vault's token" />
                <span>Accepts the vault's token (200)</span>
              </li>
              <li>
                <StatusLight status={liveLight(a.live.rejectsAnonymous)} label="Rejects no token" />
                <span>Rejects a request without a token (401)</span>
              </li>
              <li>
                <StatusLight status={liveLight(a.live.rejectsPrevious)} label="Rejects the previous token" />
                <span>Rejects the previous token (401)</span>
              </li>
            </ul>
            {a.live.error ? <ErrorNote message={a.live.error} /> : null}
          </Card>
          <Card title="Where the token lives" testId="locations" wide>
            <p>
              <StatusLight status={a.consistent ? 'ok' : 'fail'} label="Consistency" /> {a.consistent ? 'Every copy matches the vault.' : 'Some copies differ from the vault.'}
            </p>
            <Table head={['Location', 'Status', 'Token']}>
              {a.locations.map((l) => (
                <tr key={l.name}>
                  <td>
                    {l.name}
                    <br />
                    <code>{l.path}</code>
                  </td>
                  <td>
                    <StatusLight status={locationLight[l.status]} label={l.name} /> {l.status}
                    {l.detail ? <div className="muted">{l.detail}</div> : null}
                  </td>
                  <td>{l.fingerprint ? <code>{l.fingerprint}</code> : '—'}</td>
                </tr>
              ))}
            </Table>
            {a.distinctTokens.length > 1 ? (
              <div>
                <p>{a.distinctTokens.length} different token values are in use. Unify every location on one:</p>
                <ul>
                  {a.distinctTokens.map((t) => (
                    <li key={t.fingerprint}>
                      <code>{t.fingerprint}</code> ({t.knownAs}, in {t.locations.join(', ')}){' '}
                      <button disabled={unify.busy} onClick={() => void unify.run({ to: t.fingerprint })}>
                        Use this one everywhere
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
            {unify.error ? <ErrorNote message={unify.error} problem={unify.problem} /> : null}
          </Card>
          <HistoryCard />
        </>
      ) : null}
    </div>
  );
}
