import { z } from 'zod';
import { dialects, type Dialect } from '../../config/schema.js';
import { op } from '../define.js';

/** How the dialect of a discovered file was decided. */
export type EnvDialectSource = 'config' | 'env_file' | 'compose-dir' | 'default';

export interface EnvFileSummary {
  /** Path relative to the audited root (absolute when outside it). */
  file: string;
  path: string;
  dialect: Dialect;
  dialectSource: EnvDialectSource;
  exists: boolean;
  /** Compose files (and services) that read this file through env_file. */
  referencedBy: { compose: string; service: string; line: number; required: boolean; format?: string }[];
  /** Number of assignments (duplicates counted once) and how many of them hold secrets. */
  keys: number;
  secretKeys: number;
  /** Set when the reader rejects the file (compose's own message for compose). */
  error?: { message: string; line: number; column?: number };
}

export type EnvFindingKind =
  | 'duplicate-key'
  | 'conflict'
  | 'missing-key'
  | 'compose-unsafe'
  | 'raw-quoted'
  | 'empty-secret'
  | 'malformed'
  | 'missing-file'
  | 'token-mismatch'
  /** The file is there but cannot be read: permissions, a FIFO or device, too large. */
  | 'unreadable'
  /** A file holding a ComfyUI credential that users other than its owner may read. */
  | 'readable-secret';

export interface EnvFinding {
  file: string;
  line: number;
  /** Absent for findings about a whole file. */
  key?: string;
  kind: EnvFindingKind;
  severity: 'error' | 'warning';
  /** Never holds a secret: secrets appear as fingerprints. */
  message: string;
  fix: string;
}

export interface EnvAudit {
  root: string;
  files: EnvFileSummary[];
  findings: EnvFinding[];
}

export interface EnvDiffValue {
  key: string;
  /** Masked (`mask`) when the key or value looks secret, unless reveal was asked for. */
  value: string;
  secret: boolean;
}

export interface EnvDiff {
  a: string;
  b: string;
  onlyA: EnvDiffValue[];
  onlyB: EnvDiffValue[];
  changed: { key: string; a: string; b: string; secret: boolean }[];
  same: EnvDiffValue[];
}

export interface EnvShowResult {
  file: string;
  dialect: Dialect;
  /** What the reader sees (compose: interpolated against the panel's environment); secrets masked unless revealed. */
  values?: Record<string, string>;
  error?: { message: string; line: number; column?: number };
}

export interface EnvSyncTargetPreview {
  file: string;
  path: string;
  dialect: Dialect;
  exists: boolean;
  changed: boolean;
  /** Unified-style line diff, secret values masked. */
  diff: string[];
  keys: { key: string; source: string; status: 'set' | 'unchanged' | 'no-value'; note?: string }[];
  /** The target cannot be planned (e.g. the file is malformed). */
  error?: string;
}

export interface EnvSyncPreview {
  root: string;
  targets: EnvSyncTargetPreview[];
  /** Values that could not be obtained, by source (e.g. no credential in the vault yet). */
  missing: { source: string; reason: string }[];
}

export interface EnvSyncResult extends EnvSyncPreview {
  written: { file: string; backup?: string; mode: string }[];
  /** Every target re-read with its dialect reader returned exactly the intended values. */
  verified: boolean;
}

const file = z.string().min(1).describe('Path of an env file, absolute or relative to env.root');
const dialect = z.enum(dialects).optional().describe('Reader to use; default: guessed (compose beside a compose file, else dotenv) or the configured target');

export const envOps = {
  envAudit: op<EnvAudit>()(
    'Find the .env files under the root and report duplicates, conflicts, compose-unsafe values, missing keys and token mismatches',
    z.object({ root: z.string().min(1).optional().describe("Folder to scan; default env.root, else the config file's folder") }).strict(),
  ),
  envDiff: op<EnvDiff>()(
    'Compare what two env files hold (each read with its own dialect); secret values masked unless reveal is true',
    z.object({ a: file, b: file, reveal: z.boolean().default(false) }).strict(),
  ),
  envShow: op<EnvShowResult>()(
    'What a reader sees in one env file; secret values masked unless reveal is true',
    z.object({ file, dialect, reveal: z.boolean().default(false) }).strict(),
  ),
  envSyncPreview: op<EnvSyncPreview>()('Plan writing the credential and URL into every configured env target (masked diff, nothing written)', z.object({}).strict()),
  envSyncApply: op<EnvSyncResult>()(
    'Write the configured env targets atomically with backups, then re-read each to verify it holds exactly the intended values',
    z.object({}).strict(),
  ),
};
