import type { QueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { EnvSyncPreview, OpInput, OpName, OpResult } from '../../../app/contract/index.js';
import { ago } from '../components/format.js';
import { planChanges, targetChange } from '../lib/env.js';
import { opKey, type InstanceId } from './keys.js';
import { useOp } from './query.js';

/** What a guard may use: calls for the current instance and the cache the operator's view came from. */
export interface GuardContext {
  call: <N extends OpName>(name: N, input: OpInput<N>) => Promise<OpResult<N>>;
  queries: QueryClient;
  instance: InstanceId;
}

/** How an operation that restarts ComfyUI or rewrites files is confirmed. */
export interface ConfirmSpec<N extends OpName> {
  title: string;
  confirmLabel: string;
  /** What will happen, with the container and files by name. */
  Body: (props: { input: OpInput<N> }) => ReactNode;
  /** Run after the operator confirmed: a reason to refuse (the data they read changed), or undefined. */
  verify?: (ctx: GuardContext, input: OpInput<N>) => Promise<string | undefined>;
}

/** Cached data is enough for a dialog; it fetches only what no page has loaded yet. */
const cached = { staleTime: Infinity, refetchOnWindowFocus: false } as const;

function ContainerName() {
  const s = useOp('containerStatus', {}, cached);
  return <code>{s.data?.name ?? 'the ComfyUI container'}</code>;
}

/** The copies of the credential an operation writes (all of them, or those not holding `except`). */
function TokenCopies({ except }: { except?: string }) {
  const audit = useOp('tokenAudit', {}, cached);
  if (!audit.data) return <p className="muted">{audit.error ?? 'Looking up where the token lives…'}</p>;
  const copies = audit.data.locations.filter((l) => except === undefined || l.fingerprint !== except);
  return (
    <ul className="plain-list" aria-label="Files and places rewritten">
      <li>the panel's vault (encrypted)</li>
      {copies.map((l) => (
        <li key={l.name}>
          {l.name}: <code>{l.path}</code>
        </li>
      ))}
    </ul>
  );
}

function ComposeCommandText() {
  const report = useOp('containerAdopt', {}, cached);
  return (
    <>
      <p>The panel runs, on this machine:</p>
      <pre>
        <code>{report.data?.composeCommand ?? '…'}</code>
      </pre>
      <p>
        Compose reads the project's files again and replaces <ContainerName /> with a new container made from them. {RESTART_NOTE}
      </p>
    </>
  );
}

const RESTART_NOTE = 'ComfyUI stops answering for a few seconds; a generation in progress is lost.';

function SyncPlan() {
  const preview = useOp('envSyncPreview', {}, cached);
  const p = preview.data;
  if (!p) return <p className="muted">{preview.error ?? 'Planning the sync…'}</p>;
  const changing = p.targets.filter((t) => t.changed || t.error);
  const same = p.targets.length - changing.length;
  return (
    <>
      <p>
        The plan below, made {ago(new Date(preview.updatedAt).toISOString())}, is applied exactly; if a file changed since, nothing is written and you see the new plan.
      </p>
      {changing.length ? (
        <ul className="plain-list" aria-label="Files rewritten">
          {changing.map((t) => (
            <li key={t.path}>
              <code>{t.file}</code> ({t.dialect}): {targetChange(t, false)}
            </li>
          ))}
        </ul>
      ) : (
        <p>No file needs a change.</p>
      )}
      {same ? <p className="muted">{same} other target(s) are already up to date and stay as they are.</p> : null}
      <p className="muted">Each rewritten file keeps a timestamped backup. ComfyUI is not restarted.</p>
    </>
  );
}

/** The staged rotation's order in words, over the fleet's instances. */
function FleetRotationPlan({ input }: { input: OpInput<'fleetRotate'> }) {
  const info = useOp('appInfo', {}, cached);
  const instances = info.data?.instances ?? [];
  const canary = input.canary ?? instances[0]?.id ?? 'the first instance';
  const wave = input.wave ?? 1;
  return (
    <>
      {input.resume ? (
        <p>The staged rotation that halted continues: the instances it committed are skipped, the rest rotate as planned then.</p>
      ) : (
        <p>
          <code>{canary}</code> rotates first, alone; then the other {Math.max(0, instances.length - 1)} instance(s), {wave} at a time.
        </p>
      )}
      <p>
        Each one gets a new password and token in its own vault, secret file and env targets; its ComfyUI restarts and the panel checks the new token. The first failure
        rolls that instance back and halts: the instances after it keep their credential. {RESTART_NOTE} Every client needs its instance's new token afterwards.
      </p>
    </>
  );
}

/**
 * The operations that restart ComfyUI or rewrite files, and what their dialog says. useAction asks
 * with these before every call, wherever the button is (a page, a check's "Fix it").
 */
export const confirmations: { [N in OpName]?: ConfirmSpec<N> } = {
  containerRestart: {
    title: 'Restart ComfyUI?',
    confirmLabel: 'Restart',
    Body: () => (
      <p>
        The container <ContainerName /> restarts. {RESTART_NOTE}
      </p>
    ),
  },
  containerStop: {
    title: 'Stop ComfyUI?',
    confirmLabel: 'Stop',
    Body: () => (
      <p>
        The container <ContainerName /> stops. ComfyUI answers nothing until it is started again; a generation in progress is lost.
      </p>
    ),
  },
  containerRecreate: {
    title: 'Recreate the container?',
    confirmLabel: 'Recreate',
    Body: ({ input }) => (
      <p>
        The container <ContainerName /> is stopped, set aside, and replaced by a new one made from the configuration, which is then started: ComfyUI restarts. If the new one
        fails, the old one is put back.{input.force ? ' It is detached from its compose project.' : ''}
      </p>
    ),
  },
  containerComposeApply: {
    title: 'Recreate through docker compose?',
    confirmLabel: 'Run docker compose',
    Body: () => <ComposeCommandText />,
  },
  tokenRotate: {
    title: 'Rotate the credential?',
    confirmLabel: 'Yes, rotate now',
    Body: () => (
      <>
        <p>A new password and token are written to:</p>
        <TokenCopies />
        <p>
          Then <ContainerName /> restarts and the panel checks that the new token is accepted and the old one refused; any failure puts the old credential back everywhere.
          Every client needs the new token afterwards.
        </p>
      </>
    ),
  },
  tokenInit: {
    title: 'Create the credential?',
    confirmLabel: 'Yes, create now',
    Body: ({ input }) => (
      <>
        <p>A new credential is created{input.force ? ', replacing the one in the vault,' : ''} and written to:</p>
        <TokenCopies />
        <p>
          Then <ContainerName /> restarts. {RESTART_NOTE}
        </p>
      </>
    ),
  },
  tokenUnify: {
    title: 'Use this token everywhere?',
    confirmLabel: 'Write it everywhere',
    Body: ({ input }) => (
      <>
        <p>
          The token <code>{input.to}</code> is written to every copy that holds another value:
        </p>
        <TokenCopies except={input.to} />
        <p>
          Then <ContainerName /> restarts and the panel verifies the token. Clients sending another token stop working.
        </p>
      </>
    ),
  },
  tokenRecover: {
    title: 'Finish the interrupted rotation?',
    confirmLabel: 'Recover',
    Body: () => (
      <>
        <p>The rotation that did not finish is completed or rolled back, which may rewrite:</p>
        <TokenCopies />
        <p>
          and restart <ContainerName />.
        </p>
      </>
    ),
  },
  fleetRotate: {
    title: 'Rotate the credential of every instance?',
    confirmLabel: 'Yes, rotate in stages',
    Body: ({ input }) => <FleetRotationPlan input={input} />,
  },
  envSyncApply: {
    title: 'Rewrite the env files?',
    confirmLabel: 'Apply',
    Body: () => <SyncPlan />,
    // The backend applies a fresh plan (it takes no plan id yet): refuse when that plan is not the one read.
    async verify({ call, queries, instance }) {
      const key = opKey('envSyncPreview', {}, instance);
      const read = queries.getQueryData<EnvSyncPreview>(key);
      const now = await call('envSyncPreview', {});
      queries.setQueryData(key, now);
      if (!read) return 'Nothing was previewed: read the plan, then apply.';
      const changed = planChanges(read, now);
      return changed.length ? `Not applied: ${changed.join(', ')} changed since the preview. Read the new plan, then apply again.` : undefined;
    },
  },
};
