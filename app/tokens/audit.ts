import type { LocationAudit, LocationStatus, TokenAudit } from '../contract/ops/tokens.js';
import { fingerprint, matchesFingerprint } from '../redact.js';
import type { Credential } from './credential.js';
import { PanelError } from '../errors.js';
import { JOURNAL_DAMAGED, readJournal, type Journal } from './journal.js';
import type { CredentialLocation, LocationReading } from './locations.js';
import type { ComfyServerControl } from './rotation.js';
import type { Vault, VaultState } from './vault.js';

export interface AuditDeps {
  vault: Vault;
  /** The vault's state when the caller read it already (a health sweep): not read a second time. */
  state?: Promise<VaultState | undefined>;
  locations: CredentialLocation[];
  server: Pick<ComfyServerControl, 'probe'>;
}

function statusOf(reading: LocationReading, state: VaultState | undefined): { status: LocationStatus; detail?: string } {
  if (reading.state !== 'present') return { status: reading.state, detail: reading.detail };
  if (reading.token === state?.previous?.hash && reading.token !== state.current.hash) return { status: 'stale' };
  if (reading.token !== state?.current.hash) return { status: 'mismatch' };
  // the token matches; a password or URL that differs still makes the copy wrong
  const pw = reading.values.password;
  if (pw !== undefined && state.current.password !== undefined && pw !== state.current.password) return { status: 'mismatch', detail: 'the password differs from the vault' };
  return reading.problem ? { status: 'mismatch', detail: reading.problem } : { status: 'match' };
}

function liveFacts(server: AuditDeps['server'], current: Credential | undefined, previous: Credential | undefined): Promise<TokenAudit['live']> {
  const expect = async (token: string | undefined, status: number) => {
    const r = await server.probe(token);
    return { ok: r.status === null ? null : r.status === status, error: r.status === null ? r.error : undefined };
  };
  if (!current) return Promise.resolve({ acceptsCurrent: null, rejectsAnonymous: null, rejectsPrevious: null, error: 'no credential in the vault' });
  return (async () => {
    const accepts = await expect(current.hash, 200);
    const anonymous = await expect(undefined, 401);
    const prev = previous ? await expect(previous.hash, 401) : { ok: null, error: undefined };
    const error = accepts.error ?? anonymous.error ?? prev.error;
    return { acceptsCurrent: accepts.ok, rejectsAnonymous: anonymous.ok, rejectsPrevious: prev.ok, ...(error ? { error } : {}) };
  })();
}

/** The pending journal as the audit shows it; a damaged one is reported, never thrown: the audit is how the operator repairs. */
async function pendingJournal(deps: AuditDeps): Promise<NonNullable<TokenAudit['pendingRotation']> | undefined> {
  let journal: Journal | undefined;
  try {
    journal = await readJournal(deps.vault);
  } catch (e) {
    if (e instanceof PanelError && e.code === JOURNAL_DAMAGED) return { rotationId: 'unknown', step: 'damaged', damaged: `${e.message}. ${e.fix ?? ''}`.trim() };
    throw e;
  }
  return journal && { rotationId: journal.rotationId, step: journal.step, kind: journal.kind };
}

/** Every copy of the credential against the vault, and what the live server takes. Fingerprints only. */
export async function auditCredential(deps: AuditDeps): Promise<TokenAudit> {
  const [state, keyInfo, journal] = await Promise.all([deps.state ?? deps.vault.read(), deps.vault.keyInfo(), pendingJournal(deps)]);
  const readings = await Promise.all(deps.locations.map(async (loc) => ({ loc, reading: await loc.read() })));
  const locations: LocationAudit[] = await Promise.all(
    readings.map(async ({ loc, reading }) => {
      const status = statusOf(reading, state);
      const fix = status.status !== 'match' && loc.fix ? await loc.fix().catch(() => undefined) : undefined;
      return {
        name: loc.name,
        path: loc.path,
        ...status,
        ...(reading.state === 'present' ? { fingerprint: fingerprint(reading.token) } : {}),
        ...(fix ? { fix } : {}),
      };
    }),
  );

  const byToken = new Map<string, string[]>();
  for (const { loc, reading } of readings) if (reading.state === 'present') byToken.set(reading.token, [...(byToken.get(reading.token) ?? []), loc.name]);
  const distinctTokens = [...byToken].map(([token, names]) => ({
    fingerprint: fingerprint(token),
    knownAs: token === state?.current.hash ? ('current' as const) : token === state?.previous?.hash ? ('previous' as const) : ('unknown' as const),
    locations: names,
  }));

  const live = await liveFacts(deps.server, state?.current, state?.previous);
  const consistent =
    state !== undefined &&
    journal === undefined &&
    locations.every((l) => l.status === 'match') &&
    live.acceptsCurrent === true &&
    live.rejectsAnonymous === true &&
    live.rejectsPrevious !== false;
  return {
    consistent,
    vault: {
      present: state !== undefined,
      ...(state ? { fingerprint: fingerprint(state.current.hash), username: state.current.username, createdAt: state.current.createdAt } : {}),
      ...(state?.previous ? { previousFingerprint: fingerprint(state.previous.hash) } : {}),
      keyBackend: keyInfo.backend,
      keySecure: keyInfo.secure,
      ...(keyInfo.warning ? { warning: keyInfo.warning } : {}),
    },
    locations,
    distinctTokens,
    live,
    ...(journal ? { pendingRotation: journal } : {}),
  };
}

/** The token with this fingerprint as found in some location, to unify every copy on it. */
export async function findTokenByFingerprint(
  deps: Pick<AuditDeps, 'vault' | 'locations'>,
  fp: string,
  username: string,
): Promise<Credential | undefined> {
  const state = await deps.vault.read();
  for (const known of [state?.current, state?.previous]) if (known && matchesFingerprint(known.hash, fp)) return known;
  for (const loc of deps.locations) {
    const r = await loc.read();
    if (r.state === 'present' && matchesFingerprint(r.token, fp)) {
      return { hash: r.token, username: r.values.username ?? username, createdAt: new Date().toISOString() };
    }
  }
  return undefined;
}
