/**
 * Per-client API keys of the gateway: format, hashing and the key store file.
 *
 * A key is `cpk_` + 43 base64url characters (32 random bytes, 256 bits). Only its SHA-256 is
 * stored. A slow password hash (bcrypt) exists to make guessing low-entropy passwords
 * expensive; a 256-bit random key cannot be guessed whatever the hash costs, so one SHA-256
 * (about 1 µs) per request is enough and keeps verification far under the 50 µs budget.
 *
 * The store is `<stateDir>/keys.json`, written by the panel on the host (atomically, so an
 * interrupted write leaves the old store) and read by the gateway, which reloads it on change
 * (on a remote engine through a copy in the gateway's volume: app/gateway/state.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PanelError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { stateOf, type StateLocation } from './state.js';

export const KEY_PREFIX = 'cpk_';
export const LINK_PREFIX = 'cpl_';
export const KEY_STORE_FILE = 'keys.json';
const KEY_RANDOM_BYTES = 32;
const KEY_PATTERN = /^cpk_[A-Za-z0-9_-]{43}$/;
const LINK_PATTERN = /^cpl_[A-Za-z0-9_-]{43}$/;

/**
 * `read`: status and history. `generate`: read + prompts, queue, view, upload, WebSocket,
 * its own interrupts. `admin`: everything ComfyUI serves. `control`: only the gateway's own
 * control endpoints (drain, resume, status): the panel's key, never a proxy credential.
 */
export const SCOPES = ['read', 'generate', 'admin', 'control'] as const;
export type Scope = (typeof SCOPES)[number];
export type ProxyScope = Exclude<Scope, 'control'>;

const RANK: Record<ProxyScope, number> = { read: 1, generate: 2, admin: 3 };

/** Whether a key of scope `has` may do what `needs` requires (control never proxies). */
export function scopeAllows(has: Scope, needs: ProxyScope): boolean {
  return has !== 'control' && RANK[has] >= RANK[needs];
}

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO date-time');

const KeyRecordSchema = z.object({
  id: z.string().regex(/^k_[0-9a-f]{16}$/),
  name: z.string().min(1).max(64),
  scope: z.enum(SCOPES),
  /** `sha256:` + hex of the whole key string. */
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Last 4 characters of the key, to tell keys apart in lists; 24 bits of 256 shown. */
  hint: z.string().length(4),
  createdAt: iso,
  expiresAt: iso.optional(),
  revokedAt: iso.optional(),
  /** Token bucket: at most `requests` per `perSeconds`, refilled continuously. */
  rateLimit: z.object({ requests: z.number().int().positive(), perSeconds: z.number().positive() }).optional(),
  /** At most this many of this key's prompts queued or running at once. */
  maxQueued: z.number().int().positive().optional(),
  /** Set on a key replaced by rotateKey: the successor's id (the old key stays valid until expiresAt). */
  supersededBy: z.string().optional(),
  rotatedFrom: z.string().optional(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

const LinkRecordSchema = z.object({
  id: z.string().regex(/^l_[0-9a-f]{16}$/),
  keyId: z.string(),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  expiresAt: iso,
});
export type LinkRecord = z.infer<typeof LinkRecordSchema>;

export const KeyStoreSchema = z.object({
  version: z.literal(1),
  keys: z.array(KeyRecordSchema),
  links: z.array(LinkRecordSchema).default([]),
});
export type KeyStore = z.infer<typeof KeyStoreSchema>;

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** Constant-time comparison of two stored hashes (same length by construction). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

export function looksLikeLink(value: string): boolean {
  return LINK_PATTERN.test(value);
}

function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(KEY_RANDOM_BYTES).toString('base64url')}`;
}

const newId = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

/** Whether a key is accepted at `now`: not revoked, not past its expiry. */
export function keyActive(k: KeyRecord, now = Date.now()): boolean {
  return !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > now);
}

export function storePath(stateDir: string): string {
  return path.join(stateDir, KEY_STORE_FILE);
}

/** Parses a store file's text; the error names the file and the field. */
export function parseKeyStore(text: string, file: string): KeyStore {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PanelError(`${file}: not valid JSON (${(e as Error).message})`, 'gateway-keys', 'Restore the key store from its newest backup beside it (keys.json.*.bak).');
  }
  const parsed = KeyStoreSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PanelError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, 'gateway-keys', 'Restore the key store from its newest backup beside it (keys.json.*.bak).');
  }
  return parsed.data;
}

/** The store in `stateDir`, or an empty one when there is none yet. */
export async function readKeyStore(stateDir: string): Promise<KeyStore> {
  const file = storePath(stateDir);
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new PanelError(`${file}: cannot read the key store (${e.code ?? e.message})`, 'gateway-keys', 'Check the folder permissions.');
  });
  return text === undefined ? { version: 1, keys: [], links: [] } : parseKeyStore(text, file);
}

// The gateway (uid 1000 in its container) must read the file the panel (often root) writes;
// it holds only hashes of 256-bit keys, which are worthless to a reader.
const STORE_MODE = 0o644;

/** One read-modify-write of the store, serialised per folder within this process, then published to the gateway. */
const queues = new Map<string, Promise<unknown>>();
async function updateStore<T>(location: StateLocation, change: (store: KeyStore, now: Date) => T): Promise<T> {
  const state = stateOf(location);
  const dir = path.resolve(state.dir);
  const previous = queues.get(dir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await fs.mkdir(dir, { recursive: true });
    const store = await readKeyStore(dir);
    const now = new Date();
    const result = change(store, now);
    // Links are one-time and short-lived: expired ones are dropped whenever the store is written.
    store.links = store.links.filter((l) => Date.parse(l.expiresAt) > now.getTime());
    await writeFileAtomic(storePath(dir), `${JSON.stringify(store, null, 2)}\n`, { mode: STORE_MODE, backupDir: path.join(dir, 'backups') });
    await state.publish?.();
    return result;
  });
  queues.set(dir, run);
  try {
    return await run;
  } finally {
    if (queues.get(dir) === run) queues.delete(dir);
  }
}

export interface CreateKeyInput {
  name: string;
  scope: Scope;
  /** ISO date-time, or a Date. */
  expiresAt?: string | Date;
  rateLimit?: { requests: number; perSeconds: number };
  maxQueued?: number;
}

/** What listKeys shows: never the hash. */
export interface KeyInfo {
  id: string;
  name: string;
  scope: Scope;
  hint: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  state: 'active' | 'overlap' | 'expired' | 'revoked';
  rateLimit?: { requests: number; perSeconds: number };
  maxQueued?: number;
  supersededBy?: string;
  rotatedFrom?: string;
}

export interface CreatedKey extends KeyInfo {
  /** The raw key: returned once, stored nowhere. */
  key: string;
}

function info(k: KeyRecord, now = Date.now()): KeyInfo {
  const { hash: _hash, ...rest } = k;
  const state = k.revokedAt ? 'revoked' : !keyActive(k, now) ? 'expired' : k.supersededBy ? 'overlap' : 'active';
  return { ...rest, state };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function validate(input: CreateKeyInput, now: Date): KeyRecord['expiresAt'] {
  if (!NAME.test(input.name)) throw new PanelError(`key name "${input.name}": use 1-64 letters, digits, dot, dash or underscore, starting with a letter or digit`, 'gateway-key-name');
  if (!SCOPES.includes(input.scope)) throw new PanelError(`scope "${String(input.scope)}": expected one of ${SCOPES.join(', ')}`, 'gateway-key-scope');
  if (input.maxQueued !== undefined && !(Number.isInteger(input.maxQueued) && input.maxQueued > 0)) throw new PanelError('maxQueued: expected a whole number > 0', 'gateway-key-limit');
  if (input.rateLimit && !(Number.isInteger(input.rateLimit.requests) && input.rateLimit.requests > 0 && input.rateLimit.perSeconds > 0)) {
    throw new PanelError('rateLimit: expected requests (whole number > 0) per perSeconds (> 0)', 'gateway-key-limit');
  }
  if (input.expiresAt === undefined) return undefined;
  const at = new Date(input.expiresAt);
  if (Number.isNaN(at.getTime())) throw new PanelError(`expiresAt "${String(input.expiresAt)}" is not a date`, 'gateway-key-expiry');
  if (at.getTime() <= now.getTime()) throw new PanelError(`expiresAt ${at.toISOString()} is in the past`, 'gateway-key-expiry');
  return at.toISOString();
}

function mint(input: CreateKeyInput, now: Date, expiresAt: string | undefined): { record: KeyRecord; key: string } {
  const key = newSecret(KEY_PREFIX);
  const record: KeyRecord = {
    id: newId('k_'),
    name: input.name,
    scope: input.scope,
    hash: hashSecret(key),
    hint: key.slice(-4),
    createdAt: now.toISOString(),
    ...(expiresAt ? { expiresAt } : {}),
    ...(input.rateLimit ? { rateLimit: input.rateLimit } : {}),
    ...(input.maxQueued ? { maxQueued: input.maxQueued } : {}),
  };
  return { record, key };
}

function activeByName(store: KeyStore, name: string, now: number): KeyRecord[] {
  return store.keys.filter((k) => k.name === name && keyActive(k, now));
}

/** Creates a key; the raw key is in the result and nowhere else. A name is unique among active keys. */
export async function createKey(stateDir: StateLocation, input: CreateKeyInput): Promise<CreatedKey> {
  return updateStore(stateDir, (store, now) => {
    const expiresAt = validate(input, now);
    if (activeByName(store, input.name, now.getTime()).length) throw new PanelError(`a key named "${input.name}" already exists`, 'gateway-key-exists', 'Pick another name, or rotate or revoke the existing key.');
    const { record, key } = mint(input, now, expiresAt);
    store.keys.push(record);
    return { ...info(record, now.getTime()), key };
  });
}

export async function listKeys(stateDir: StateLocation): Promise<KeyInfo[]> {
  const now = Date.now();
  return (await readKeyStore(stateOf(stateDir).dir)).keys.map((k) => info(k, now));
}

/** Revokes every active key of that name (a rotating pair included) or the key with that id. */
export async function revokeKey(stateDir: StateLocation, nameOrId: string): Promise<KeyInfo[]> {
  return updateStore(stateDir, (store, now) => {
    const hit = store.keys.filter((k) => (k.id === nameOrId || k.name === nameOrId) && !k.revokedAt && keyActive(k, now.getTime()));
    if (!hit.length) throw new PanelError(`no active key named "${nameOrId}"`, 'gateway-key-missing', 'List the keys with `comfy-panel key list`.');
    for (const k of hit) k.revokedAt = now.toISOString();
    store.links = store.links.filter((l) => !hit.some((k) => k.id === l.keyId));
    return hit.map((k) => info(k, now.getTime()));
  });
}

/**
 * Issues a successor with the same name, scope and limits, and keeps the old key valid for
 * `overlapMs` (then it expires by itself): clients move over without an outage.
 */
export async function rotateKey(stateDir: StateLocation, name: string, overlapMs: number): Promise<{ successor: CreatedKey; previous: KeyInfo }> {
  if (!(Number.isFinite(overlapMs) && overlapMs >= 0)) throw new PanelError('overlap: expected a duration >= 0', 'gateway-key-overlap');
  return updateStore(stateDir, (store, now) => {
    const current = activeByName(store, name, now.getTime()).filter((k) => !k.supersededBy);
    const old = current[0];
    if (!old) throw new PanelError(`no active key named "${name}"`, 'gateway-key-missing', 'List the keys with `comfy-panel key list`.');
    const { record, key } = mint({ name, scope: old.scope, rateLimit: old.rateLimit, maxQueued: old.maxQueued }, now, old.expiresAt);
    record.rotatedFrom = old.id;
    const overlapEnd = now.getTime() + overlapMs;
    old.expiresAt = new Date(old.expiresAt ? Math.min(Date.parse(old.expiresAt), overlapEnd) : overlapEnd).toISOString();
    old.supersededBy = record.id;
    store.keys.push(record);
    return { successor: { ...info(record, now.getTime()), key }, previous: info(old, now.getTime()) };
  });
}

/**
 * A one-time login link for a person: opening it in a browser and pressing "Sign in" gives a
 * session for that key, once, before `ttlMs` passes. Returns the path to append to the gateway URL.
 */
export async function mintLoginLink(stateDir: StateLocation, name: string, ttlMs = 10 * 60_000): Promise<{ path: string; expiresAt: string }> {
  return updateStore(stateDir, (store, now) => {
    const key = activeByName(store, name, now.getTime()).find((k) => !k.supersededBy && k.scope !== 'control');
    if (!key) throw new PanelError(`no active key named "${name}" that can sign in`, 'gateway-key-missing');
    const token = newSecret(LINK_PREFIX);
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    store.links.push({ id: newId('l_'), keyId: key.id, hash: hashSecret(token), expiresAt });
    return { path: `/_gateway/login?link=${token}`, expiresAt };
  });
}

/** Removes keys by id outright (the panel's own short-lived probe keys); unknown ids are ignored. */
export async function deleteKeys(stateDir: StateLocation, ids: readonly string[]): Promise<number> {
  return updateStore(stateDir, (store) => {
    const before = store.keys.length;
    store.keys = store.keys.filter((k) => !ids.includes(k.id));
    store.links = store.links.filter((l) => !ids.includes(l.keyId));
    return before - store.keys.length;
  });
}

/** Drops revoked and expired keys older than `keepMs` (their usage stays in the usage log). */
export async function pruneKeys(stateDir: StateLocation, keepMs: number): Promise<number> {
  return updateStore(stateDir, (store, now) => {
    const before = store.keys.length;
    store.keys = store.keys.filter((k) => keyActive(k, now.getTime()) || now.getTime() - Date.parse(k.revokedAt ?? k.expiresAt ?? k.createdAt) < keepMs);
    return before - store.keys.length;
  });
}
