import { z } from 'zod';
import { op } from '../define.js';
import { dialects } from '../../config/schema.js';

export interface RotationStep {
  rotationId: string;
  step: string;
  status: 'started' | 'ok' | 'failed' | 'skipped';
  ms?: number;
  message?: string;
}

/**
 * How a copy of the credential compares with the vault: match (current token), stale
 * (the previous token), mismatch (some other value), missing (file or key absent),
 * malformed (not a bcrypt hash / bad syntax), unreadable (no access, engine down).
 */
export type LocationStatus = 'match' | 'stale' | 'mismatch' | 'missing' | 'malformed' | 'unreadable';

export interface LocationAudit {
  /** e.g. "container", "secret-file", "env:.env". */
  name: string;
  /** Host path, or container:path for a file inside the container. */
  path: string;
  status: LocationStatus;
  /** Fingerprint of the token (bcrypt hash) found there; never the value. */
  fingerprint?: string;
  detail?: string;
  /** How to make a copy that is not current right, where the panel cannot write it (e.g. a container-env location: the compose command). */
  fix?: string;
}

export interface TokenAudit {
  /** Vault present, every location matches, and the server takes exactly the current token. */
  consistent: boolean;
  vault: {
    present: boolean;
    /** Fingerprint of the current token (the bcrypt hash, itself a secret). */
    fingerprint?: string;
    previousFingerprint?: string;
    username?: string;
    createdAt?: string;
    keyBackend: string;
    keySecure: boolean;
    warning?: string;
  };
  locations: LocationAudit[];
  /** Every different token value found, so several values can be unified on one. */
  distinctTokens: { fingerprint: string; knownAs: 'current' | 'previous' | 'unknown'; locations: string[] }[];
  /** Facts from the live server; null when not checked (no vault credential, or no previous one). */
  live: { acceptsCurrent: boolean | null; rejectsAnonymous: boolean | null; rejectsPrevious: boolean | null; error?: string };
  /** A rotation or env sync that did not finish (settled at the next start or rotation, or with `token recover`). */
  pendingRotation?: {
    rotationId: string;
    step: string;
    /** "rotate", "init", "unify" or "env-sync". */
    kind?: string;
    /** Set when the journal is damaged and cannot be settled automatically: what is wrong and what to do. */
    damaged?: string;
  };
}

export interface RotationResult {
  ok: boolean;
  rotationId: string;
  kind: 'rotate' | 'init' | 'unify' | 'recover';
  /** The token in force afterwards (the new one when ok, else the old one). */
  fingerprint?: string;
  previousFingerprint?: string;
  steps: { name: string; ok: boolean; ms: number; message?: string }[];
  /** committed: new credential everywhere; rolled-back: old credential everywhere; rollback-failed: needs the operator. */
  outcome: 'committed' | 'rolled-back' | 'rollback-failed' | 'nothing-to-do';
  failedStep?: string;
  error?: string;
}

/** One line of the append-only credential audit log: fingerprints and steps, never a secret. */
export interface AuditEntry {
  time: string;
  actor: string;
  rotationId: string;
  kind: RotationResult['kind'];
  fingerprint?: string;
  previousFingerprint?: string;
  steps: { name: string; ok: boolean; ms: number }[];
  outcome: RotationResult['outcome'];
  failedStep?: string;
  durationMs: number;
  /**
   * Set on entries whose fingerprints are keyed with the install's key. Entries written before
   * keyed fingerprints lack it: theirs are unkeyed SHA-256 and will not match today's (a
   * fingerprint of either kind is still accepted by `token unify --to`).
   */
  keyedFingerprints?: boolean;
}

export interface TokenImportResult {
  fingerprint: string;
  previousFingerprint?: string;
  username: string;
  source: string;
}

export const tokenOps = {
  tokenAudit: op<TokenAudit>()('Compare every copy of the ComfyUI credential with the vault and check what the live server accepts', z.object({}).strict()),
  tokenRotate: op<RotationResult>()(
    'Generate a new credential, write it everywhere, restart ComfyUI and verify; roll back on any failure. Keeps the current username unless `username` is given',
    z.object({ username: z.string().regex(/^[^\s]+$/, 'a user name without spaces or line breaks').max(100).optional() }).strict(),
  ),
  tokenInit: op<RotationResult>()(
    'Create the first credential and write it everywhere (force: replace an existing vault credential)',
    z.object({ force: z.boolean().default(false) }).strict(),
  ),
  tokenImport: op<TokenImportResult>()(
    "Adopt an existing deployment's token into the vault, from the container's PASSWORD or a .env key",
    z.discriminatedUnion('from', [
      z.object({ from: z.literal('container') }).strict(),
      z.object({ from: z.literal('env'), file: z.string().min(1), key: z.string().min(1), dialect: z.enum(dialects).optional() }).strict(),
    ]),
  ),
  tokenUnify: op<RotationResult>()(
    'Write the token with this fingerprint (found by the audit) to every location, restart and verify',
    z.object({ to: z.string().regex(/^fp:[0-9a-f]{12}$/, 'a fingerprint such as fp:0123456789ab') }).strict(),
  ),
  tokenHistory: op<{ entries: AuditEntry[] }>()(
    'The credential audit log, newest first (who changed the token when, by fingerprint)',
    z.object({ limit: z.int().min(1).max(1_000).default(20) }).strict(),
  ),
  tokenRecover: op<RotationResult>()('Finish or roll back a rotation that was interrupted', z.object({}).strict()),
  tokenClientEnv: op<{ lines: string[] }>()(
    'SECRET: the COMFYUI_URL and COMFYUI_BEARER_TOKEN lines for a notebook or script, quoted for the reader; only on explicit request',
    z.object({ dialect: z.enum(dialects).default('dotenv') }).strict(),
  ),
};
