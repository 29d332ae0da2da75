import { useMemo, useState } from 'react';
import type { PanelConfig } from '../../../app/config/schema.js';
import type { ConfigCheck } from '../../../app/contract/index.js';
import { useAction, useCall, useOp } from '../api/hooks.js';
import { Card, ErrorNote, OpStatus, Table } from '../components/Card.js';
import { NotificationsCard } from '../components/NotificationsCard.js';

/** The parts of a JSON Schema node the form reads. */
interface SchemaNode {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const isObjectNode = (n: SchemaNode) => n.type === 'object' && n.properties !== undefined;

function getAt(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

function setAt(value: Json, path: string[], leaf: Json | undefined): Json {
  const [head, ...rest] = path;
  if (head === undefined) return leaf ?? null;
  const obj = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value } : {};
  const next = rest.length ? setAt(obj[head] ?? {}, rest, leaf) : leaf;
  if (next === undefined) delete obj[head];
  else obj[head] = next;
  return obj;
}

/**
 * One field: a text, number, checkbox or select for a scalar; JSON text for lists, maps and
 * unions (mounts, env targets, GPUs), so every field the schema has can be edited here.
 */
function Field({ path, node, value, onChange, issue }: { path: string[]; node: SchemaNode; value: unknown; onChange: (v: Json | undefined) => void; issue?: string }) {
  const id = `cfg-${path.join('-')}`;
  const label = path.join('.');
  const [jsonText, setJsonText] = useState(() => (value === undefined ? '' : JSON.stringify(value)));
  const [jsonError, setJsonError] = useState('');
  let input;
  if (node.enum) {
    input = (
      <select id={id} value={typeof value === 'string' || typeof value === 'number' ? String(value) : ''} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">(unset)</option>
        {node.enum.map((v) => (
          <option key={String(v)} value={String(v)}>
            {String(v)}
          </option>
        ))}
      </select>
    );
  } else if (node.type === 'boolean') {
    input = <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (node.type === 'integer' || node.type === 'number') {
    input = (
      <input
        id={id}
        type="number"
        value={typeof value === 'number' ? value : ''}
        min={node.minimum}
        max={node.maximum}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
    );
  } else if (node.type === 'string') {
    input = <input id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />;
  } else {
    input = (
      <textarea
        id={id}
        rows={Math.min(8, Math.max(1, jsonText.length / 80 + 1))}
        value={jsonText}
        onChange={(e) => {
          setJsonText(e.target.value);
          try {
            onChange(e.target.value.trim() === '' ? undefined : (JSON.parse(e.target.value) as Json));
            setJsonError('');
          } catch (err) {
            setJsonError(`not valid JSON: ${(err as Error).message}`);
          }
        }}
      />
    );
  }
  return (
    <div className="settings-field">
      <label htmlFor={id}>
        <code>{label}</code>
      </label>
      {input}
      {node.description ? <p className="muted">{node.description}</p> : null}
      {issue ?? jsonError ? (
        <p className="error-note" role="alert">
          {issue ?? jsonError}
        </p>
      ) : null}
    </div>
  );
}

function Section({ path, node, draft, setDraft, issues }: { path: string[]; node: SchemaNode; draft: Json; setDraft: (d: Json) => void; issues: Map<string, string> }) {
  return (
    <>
      {Object.entries(node.properties ?? {}).map(([key, child]) => {
        const p = [...path, key];
        if (key === '$schema') return null;
        if (isObjectNode(child)) {
          return (
            <fieldset key={key}>
              <legend>{p.join('.')}</legend>
              {child.description ? <p className="muted">{child.description}</p> : null}
              <Section path={p} node={child} draft={draft} setDraft={setDraft} issues={issues} />
            </fieldset>
          );
        }
        return <Field key={key} path={p} node={child} value={getAt(draft, p)} issue={issues.get(p.join('.'))} onChange={(v) => setDraft(setAt(draft, p, v))} />;
      })}
    </>
  );
}

function SettingsForm({ config, path, schema, setSaved }: { config: PanelConfig; path: string; schema: SchemaNode; setSaved: (note: string) => void }) {
  const call = useCall();
  const save = useAction('configSave');
  const [draft, setDraft] = useState<Json>(() => JSON.parse(JSON.stringify(config)) as Json);
  const [check, setCheck] = useState<ConfigCheck>();
  const issues = useMemo(() => new Map((check?.issues ?? []).map((i) => [i.path, i.message])), [check]);
  const review = async () => {
    setSaved('');
    setCheck(await call('configCheck', { config: draft }));
  };
  return (
    <>
      <Card title="Configuration" testId="settings-form" wide>
        <p className="muted">
          <code>{path}</code>. Saving validates the whole file, writes it atomically and keeps the previous one as a timestamped backup beside it; the running app uses it at once.
        </p>
        <Section path={[]} node={schema} draft={draft} setDraft={(d) => (setDraft(d), setCheck(undefined))} issues={issues} />
        <div className="row">
          <button className="primary" onClick={() => void review()}>
            Review changes
          </button>
        </div>
      </Card>
      {check ? (
        <Card title="Changes" testId="settings-review" wide>
          {!check.ok ? (
            <>
              <ErrorNote message="The configuration is not valid; nothing was saved." />
              <ul className="plain-list">
                {check.issues.map((i) => (
                  <li key={i.path}>
                    <code>{i.path}</code>: {i.message}
                  </li>
                ))}
              </ul>
            </>
          ) : check.changes.length === 0 ? (
            <p>Nothing changed.</p>
          ) : (
            <>
              <Table head={['Setting', 'Now', 'After']}>
                {check.changes.map((c) => (
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
              <button className="primary" disabled={save.busy} onClick={() => void save.run({ config: draft }).then((v) => v && (setCheck(undefined), setSaved(`Saved ${v.path}.`)))}>
                {save.busy ? 'Saving…' : 'Save'}
              </button>
            </>
          )}
          {save.error ? <ErrorNote message={save.error} /> : null}
        </Card>
      ) : null}
    </>
  );
}

/** Every config field with its schema's description and limits, a diff before saving, and the setup wizard again. */
export function SettingsPage() {
  const view = useOp('configGet', {});
  const schema = useOp('configSchema', {}, { staleTime: Infinity });
  // Kept here: the form is made anew for the config the save loads, and the note must outlive it.
  const [saved, setSaved] = useState('');
  return (
    <div className="page">
      <Card title="Setup">
        <p className="muted">Adopt another container, or create one, with the setup wizard; it writes the configuration once, at its end.</p>
        <button onClick={() => window.dispatchEvent(new Event('comfy-panel:setup'))}>Run the setup wizard</button>
      </Card>
      <NotificationsCard />
      <OpStatus state={view} what="the configuration" />
      {view.data && schema.data ? (
        // A new form for every config the app loads (a save here, a change on disk): the fields show what is in use.
        <SettingsForm key={view.updatedAt} config={view.data.config} path={view.data.path} schema={schema.data} setSaved={setSaved} />
      ) : null}
      {saved ? <p role="status">{saved}</p> : null}
    </div>
  );
}
