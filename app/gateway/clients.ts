/**
 * The panel's operations on one deployment's client keys, in the shapes the CLI prints with
 * --json and the contract returns (stable fields: issue 18). Each takes the deployment's
 * gateway state (app/gateway/state.ts); the gateway picks every change up within its 250 ms reload.
 */
import type { ClientKeyView, ClientUsage, CreatedClientKey, RotatedClientKey } from '../contract/ops/gateway.js';
import { PanelError } from '../errors.js';
import { createKey, listKeys, revokeKey, rotateKey, type CreatedKey, type KeyInfo, type Scope } from './keys.js';
import type { StateLocation } from './state.js';
import { usage } from './usage.js';

export type { ClientKeyView, ClientUsage, CreatedClientKey, RotatedClientKey } from '../contract/ops/gateway.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `10m`, `2h`, `7d`, `1w`, `500ms` (one number and one unit) in milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new PanelError(`${what} "${text}": expected a number and a unit, e.g. 30s, 10m, 2h, 7d, 1w`, 'invalid-duration');
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** `--expires`: a duration from now (7d) or a date (2026-12-31 or an ISO date-time). */
export function parseExpiry(text: string, now = Date.now()): string {
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/.test(text.trim())) return new Date(now + parseDuration(text, 'expiry')).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new PanelError(`expiry "${text}": expected a duration (7d) or a date (2026-12-31T00:00:00Z)`, 'gateway-key-expiry');
  return new Date(at).toISOString();
}

/** `--rate 60/60s`, `10/1s`, `100/1h`: requests per period. */
export function parseRate(text: string): { requests: number; perSeconds: number } {
  const m = /^(\d+)\s*\/\s*(.+)$/.exec(text.trim());
  if (!m) throw new PanelError(`rate "${text}": expected REQUESTS/PERIOD, e.g. 60/1m`, 'gateway-key-limit');
  return { requests: Number(m[1]), perSeconds: parseDuration(m[2]!, 'rate period') / 1000 };
}

function view(k: KeyInfo): ClientKeyView {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    state: k.state,
    hint: k.hint,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt ?? null,
    revokedAt: k.revokedAt ?? null,
    rateLimit: k.rateLimit ?? null,
    maxQueued: k.maxQueued ?? null,
    supersededBy: k.supersededBy ?? null,
    rotatedFrom: k.rotatedFrom ?? null,
  };
}

const created = (k: CreatedKey): CreatedClientKey => ({ ...view(k), key: k.key });

export interface CreateClientInput {
  name: string;
  scope: Scope;
  expiresAt?: string;
  rateLimit?: { requests: number; perSeconds: number };
  maxQueued?: number;
}

export async function createClientKey(stateDir: StateLocation, input: CreateClientInput): Promise<CreatedClientKey> {
  return created(await createKey(stateDir, input));
}

/** Every key, newest first; revoked and expired ones too (until pruned), never a hash. */
export async function listClientKeys(stateDir: StateLocation): Promise<ClientKeyView[]> {
  return (await listKeys(stateDir)).map(view).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function revokeClientKey(stateDir: StateLocation, nameOrId: string): Promise<ClientKeyView[]> {
  return (await revokeKey(stateDir, nameOrId)).map(view);
}

/** The successor (its raw key shown once) and the old key, valid for the overlap, with who still uses it. */
export async function rotateClientKey(stateDir: StateLocation, name: string, overlapMs: number): Promise<RotatedClientKey> {
  const { successor, previous } = await rotateKey(stateDir, name, overlapMs);
  const used = (await usage(stateDir)).find((u) => u.key === previous.id);
  return { ...created(successor), previous: { ...view(previous), stillUsedBy: used?.addresses ?? [] } };
}

/** Usage per key (keys without any use included, with zeros), most recently used first. */
export async function clientUsage(stateDir: StateLocation, opts: { since?: Date } = {}): Promise<ClientUsage[]> {
  const [keys, used] = await Promise.all([listKeys(stateDir), usage(stateDir, opts)]);
  const byId = new Map(used.map((u) => [u.key, u]));
  const rows: ClientUsage[] = keys
    .filter((k) => k.scope !== 'control' || byId.has(k.id))
    .map((k) => {
      const u = byId.get(k.id);
      byId.delete(k.id);
      return { id: k.id, name: k.name, scope: k.scope, state: k.state, requests: u?.requests ?? 0, prompts: u?.prompts ?? 0, executionSeconds: u?.executionSeconds ?? 0, lastUsedAt: u?.lastUsedAt ?? null, lastAddress: u?.lastAddress ?? null, addresses: u?.addresses ?? [] };
    });
  // Usage of keys pruned from the store still counts.
  for (const u of byId.values()) rows.push({ id: u.key, name: u.name, scope: null, state: null, requests: u.requests, prompts: u.prompts, executionSeconds: u.executionSeconds, lastUsedAt: u.lastUsedAt ?? null, lastAddress: u.lastAddress ?? null, addresses: u.addresses });
  return rows.sort((a, b) => (b.lastUsedAt ?? '').localeCompare(a.lastUsedAt ?? '') || a.name.localeCompare(b.name));
}
