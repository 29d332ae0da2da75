import { useEffect, useState } from 'react';
import { dialectLabels, dialects as dialectNames, type Dialect } from '../../../app/contract/names.js';
import type { ClientKeyView, ClientUsage, HandedOverKey } from '../../../app/contract/index.js';
import { useAction, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { ago } from '../components/format.js';
import { StatusLight } from '../components/StatusLight.js';

type Scope = 'read' | 'generate' | 'admin';
const SCOPE_HELP: Record<Scope, string> = {
  read: 'status and history',
  generate: 'prompts, queue, history, view, upload, WebSocket, its own interrupts',
  admin: 'everything ComfyUI serves',
};
const OVERLAPS = ['0s', '1h', '1d', '7d'] as const;

function GatewayCard() {
  const status = useOp('gatewayStatus', {});
  const up = useAction('gatewayUp');
  const down = useAction('gatewayDown');
  const s = status.data;
  const { reload } = status;
  // Docker's healthcheck moves a started gateway from starting to healthy (or unhealthy) seconds
  // later and no event says so: look again each second until it settles.
  const settling = s?.state === 'starting';
  useEffect(() => {
    if (!settling) return;
    const t = setInterval(reload, 1000);
    return () => clearInterval(t);
  }, [settling, reload]);
  return (
    <Card title="Gateway" testId="gateway" actions={<button onClick={status.reload}>Check again</button>}>
      <OpStatus state={status} what="the gateway" />
      {s ? (
        <>
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <StatusLight status={s.state === 'healthy' && s.reachable ? 'ok' : settling ? 'busy' : s.state === 'unknown' ? 'unknown' : 'fail'} label={s.state} /> {s.state}
            </dd>
            <dt>Clients use</dt>
            <dd>
              <code data-testid="gateway-url">{s.url}</code>
            </dd>
            <dt>ComfyUI</dt>
            <dd>
              {s.upstream.container} ({s.upstream.state}) at <code>{s.upstream.url}</code>, {s.upstream.publishedPorts.length ? `still published at ${s.upstream.publishedPorts.join(', ')}` : 'not published'}
            </dd>
          </dl>
          {s.problems.length ? (
            <ul data-testid="gateway-problems">
              {s.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      <div className="row">
        <button onClick={() => void up.run({})} disabled={up.busy}>
          Start gateway
        </button>
        <button onClick={() => void down.run({})} disabled={down.busy}>
          Stop gateway
        </button>
      </div>
      {up.error ? <ErrorNote message={up.error} /> : null}
      {down.error ? <ErrorNote message={down.error} /> : null}
    </Card>
  );
}

/**
 * The one place a new key is handed over. It goes straight to the clipboard and is never
 * rendered; it lives in this component's memory until Done.
 */
function HandOver({ created, onDone }: { created: HandedOverKey; onDone: () => void }) {
  const [dialect, setDialect] = useState<Dialect>('dotenv');
  const [note, setNote] = useState('');
  const copy = async (what: 'key' | 'env') => {
    try {
      await navigator.clipboard.writeText(what === 'key' ? created.key : `${created.envLines[dialect].join('\n')}\n`);
      setNote(what === 'key' ? `Copied the key of ${created.name}.` : `Copied the env lines for ${dialectLabels[dialect].title} readers.`);
    } catch (e) {
      setNote(`Copy failed: ${(e as Error).message}`);
    }
  };
  return (
    <div className="handover" role="region" aria-label={`New key ${created.name}`} data-testid="handover">
      <p>
        <strong>{created.name}</strong> ({created.scope}, ends in …{created.hint}){created.expiresAt ? `, expires ${created.expiresAt}` : ''}. Copy it now: this is the only time the key is available.
      </p>
      <div className="row">
        <button onClick={() => void copy('key')}>Copy key</button>
        <select value={dialect} onChange={(e) => setDialect(e.target.value as Dialect)} aria-label="Env file dialect">
          {dialectNames.map((d) => (
            <option key={d} value={d}>
              {dialectLabels[d].title}
            </option>
          ))}
        </select>
        <button onClick={() => void copy('env')}>Copy env lines</button>
        <button onClick={onDone}>Done</button>
      </div>
      {created.envFiles.length ? <p>Also written to {created.envFiles.join(', ')} (env targets that get this key).</p> : null}
      {note ? <p role="status">{note}</p> : null}
    </div>
  );
}

function CreateCard({ onCreated }: { onCreated: (k: HandedOverKey) => void }) {
  const create = useAction('clientKeyCreate');
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('generate');
  const [expiresIn, setExpiresIn] = useState('');
  const [rate, setRate] = useState('');
  const [maxQueued, setMaxQueued] = useState('');
  const [invalid, setInvalid] = useState('');
  const submit = async () => {
    // A limit that does not parse is refused here, never dropped: the key would be created without it.
    const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(rate);
    const rateLimit = m && Number(m[1]) > 0 && Number(m[2]) > 0 ? { requests: Number(m[1]), perSeconds: Number(m[2]) } : undefined;
    setInvalid(rate.trim() && !rateLimit ? `Rate limit "${rate.trim()}": expected requests/seconds, both numbers above 0, e.g. 60/60.` : '');
    if (rate.trim() && !rateLimit) return;
    const k = await create.run({
      name: name.trim(),
      scope,
      ...(expiresIn.trim() ? { expiresIn: expiresIn.trim() } : {}),
      ...(rateLimit ? { rateLimit } : {}),
      ...(maxQueued.trim() ? { maxQueued: Number(maxQueued) } : {}),
    });
    if (k) {
      setName('');
      onCreated(k);
    }
  };
  return (
    <Card title="New client key" testId="client-create">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="notebook-alice" required />
        </label>
        <label>
          Scope{' '}
          <select value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            {(Object.keys(SCOPE_HELP) as Scope[]).map((s) => (
              <option key={s} value={s}>
                {s}: {SCOPE_HELP[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Expires after <input value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} placeholder="e.g. 30d (empty: never)" />
        </label>
        <label>
          Rate limit <input value={rate} onChange={(e) => setRate(e.target.value)} placeholder="requests/seconds, e.g. 60/60" />
        </label>
        <label>
          Queued prompts at most <input value={maxQueued} onChange={(e) => setMaxQueued(e.target.value)} inputMode="numeric" placeholder="e.g. 2 (empty: no limit)" />
        </label>
        <button type="submit" disabled={create.busy || !name.trim()}>
          Create key
        </button>
      </form>
      {invalid ? <ErrorNote message={invalid} /> : null}
      {create.error ? <ErrorNote message={create.error} /> : null}
    </Card>
  );
}

function KeyRow({ k, u, onRotated }: { k: ClientKeyView; u: ClientUsage | undefined; onRotated: (k: HandedOverKey) => void }) {
  const revoke = useAction('clientKeyRevoke');
  const rotate = useAction('clientKeyRotate');
  const [overlap, setOverlap] = useState<(typeof OVERLAPS)[number]>('1d');
  const live = k.state === 'active' || k.state === 'overlap';
  return (
    <tr data-testid={`client-${k.name}`}>
      <td>{k.name}</td>
      <td>{k.scope}</td>
      <td>
        {k.state}
        {k.expiresAt && live ? <span className="muted"> until {k.expiresAt}</span> : null}
      </td>
      <td>
        <code>…{k.hint}</code>
      </td>
      <td>{u ? `${u.requests} / ${u.prompts} / ${u.executionSeconds.toFixed(1)} s` : '0 / 0 / 0 s'}</td>
      <td>{u?.lastUsedAt ? `${ago(u.lastUsedAt)} from ${u.lastAddress ?? '?'}` : 'never'}</td>
      <td>
        {live && k.scope !== 'control' ? (
          <div className="row">
            {k.state === 'active' && !k.supersededBy ? (
              <>
                <select value={overlap} onChange={(e) => setOverlap(e.target.value as (typeof OVERLAPS)[number])} aria-label={`Overlap for ${k.name}`}>
                  {OVERLAPS.map((o) => (
                    <option key={o} value={o}>
                      old key valid {o === '0s' ? 'no longer' : `for ${o}`}
                    </option>
                  ))}
                </select>
                <button
                  disabled={rotate.busy}
                  onClick={() =>
                    void rotate.run({ name: k.name, overlap }).then((r) => {
                      if (r) onRotated(r);
                    })
                  }
                >
                  Rotate
                </button>
              </>
            ) : null}
            <button disabled={revoke.busy} onClick={() => void revoke.run({ name: k.id })}>
              Revoke
            </button>
          </div>
        ) : null}
        {revoke.error ? <ErrorNote message={revoke.error} /> : null}
        {rotate.error ? <ErrorNote message={rotate.error} /> : null}
      </td>
    </tr>
  );
}

/** Per-client API keys of the gateway: create with scope, expiry and limits, copy env lines, revoke, rotate, usage. */
export function ClientsPage() {
  const keys = useOp('clientKeys', {});
  const usage = useOp('clientUsage', {});
  const [handed, setHanded] = useState<HandedOverKey>();
  const byId = new Map((usage.data?.keys ?? []).map((u) => [u.id, u]));
  const shown = (keys.data?.keys ?? []).filter((k) => k.scope !== 'control');
  return (
    <div className="cards">
      <GatewayCard />
      <CreateCard onCreated={setHanded} />
      {handed ? <HandOver created={handed} onDone={() => setHanded(undefined)} /> : null}
      <Card title="Client keys" testId="client-keys" wide actions={<button onClick={() => (keys.reload(), usage.reload())}>Refresh</button>}>
        <OpStatus state={keys} what="the keys" />
        {shown.length ? (
          <Table head={['Name', 'Scope', 'State', 'Key', 'Requests / prompts / execution', 'Last use', '']} testId="client-table">
            {shown.map((k) => (
              <KeyRow key={k.id} k={k} u={byId.get(k.id)} onRotated={setHanded} />
            ))}
          </Table>
        ) : keys.data ? (
          <p className="muted">No client keys yet. Each notebook, script or person gets its own, revocable on its own.</p>
        ) : null}
      </Card>
    </div>
  );
}
