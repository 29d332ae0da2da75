/**
 * Consolidation: write the URL and the ComfyUI credential into every configured env
 * target, each in its own dialect. Plan first (nothing written), then apply atomically
 * with backups and verify by reading every target back with its reader.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnvSyncPreview, EnvSyncResult, EnvSyncTargetPreview } from '../contract/ops/env.js';
import type { EnvTarget } from '../config/schema.js';
import { errorMessage, PanelError } from '../errors.js';
import { writeFileAtomic, type AtomicWriteOptions, type AtomicWriteResult } from '../fs/atomic.js';
import { redact } from '../redact.js';
import { relativeName } from './discover.js';
import { ENV_NOT_FOUND, readEnvFile, readEnvText } from './files.js';
import { maskedLineDiff } from './line-diff.js';
import { literalValues } from './read.js';
import { resolveEnvTarget } from './root.js';
import { isSecret } from './secrets.js';
import { setEnvValues } from './set.js';

export interface EnvSyncValues {
  token?: string;
  username?: string;
  password?: string;
  url?: string;
}
type Source = keyof EnvSyncValues;

const NO_CREDENTIAL = 'no credential in the vault yet — run `comfy-panel token rotate` or import one';
const MISSING_REASON: Record<Source, string> = {
  token: NO_CREDENTIAL,
  username: NO_CREDENTIAL,
  password: 'the vault holds no password for the current credential (only its hash) — rotate the token to get one',
  url: 'comfyui.url is not set in the config',
};

export interface EnvSyncPlanItem {
  target: EnvTarget;
  path: string;
  file: string;
  exists: boolean;
  /** SECRET: full texts; never send these to a UI, use previewOf(). */
  currentText: string;
  newText: string;
  /** SECRET: the values this target gets. */
  updates: Record<string, string>;
  /** The mode it is written with: 0600 when it holds a secret, else the mode it has (0644 for a new file). */
  mode: number;
  /** The file's mode before the sync, restored by a rollback. The owner is never changed (see writeFileAtomic). */
  currentMode?: number;
  changed: boolean;
  keys: EnvSyncTargetPreview['keys'];
  error?: string;
}

export interface EnvSyncPlan {
  root: string;
  items: EnvSyncPlanItem[];
  missing: EnvSyncPreview['missing'];
}

/** The values to scrub from any text shown: the secret ones (the URL may be shown). */
function secretValues(updates: Record<string, string>): string[] {
  return Object.entries(updates)
    .filter(([k, v]) => isSecret(k, v))
    .map(([, v]) => v);
}

/** Text (every byte kept) and mode; only regular files are read, so a FIFO target is refused, not waited on. */
async function currentState(file: string): Promise<{ text: string; mode?: number }> {
  try {
    const { text, stat } = await readEnvFile(file);
    return { text, mode: stat.mode & 0o777 };
  } catch (e) {
    if (e instanceof PanelError && e.code === ENV_NOT_FOUND) return { text: '' };
    throw e;
  }
}

export async function planEnvSync(targets: EnvTarget[], root: string, values: EnvSyncValues): Promise<EnvSyncPlan> {
  const absRoot = path.resolve(root);
  const items: EnvSyncPlanItem[] = [];
  const missing = new Set<Source>();
  for (const target of targets) {
    const abs = resolveEnvTarget(absRoot, target);
    const updates: Record<string, string> = {};
    const keys: EnvSyncPlanItem['keys'] = [];
    for (const [key, source] of Object.entries(target.keys)) {
      const value = values[source];
      if (value === undefined) {
        missing.add(source);
        keys.push({ key, source, status: 'no-value', note: MISSING_REASON[source] });
      } else updates[key] = value;
    }
    const item: EnvSyncPlanItem = { target, path: abs, file: relativeName(absRoot, abs), exists: false, currentText: '', newText: '', updates, mode: 0o644, changed: false, keys };
    items.push(item);
    try {
      const state = await currentState(abs);
      item.exists = state.mode !== undefined;
      item.currentText = state.text;
      item.currentMode = state.mode;
      const before = literalValues(state.text, target.dialect, item.file);
      item.newText = setEnvValues(state.text, target.dialect, updates);
      const secret = [...literalValues(item.newText, target.dialect)].some(([k, v]) => isSecret(k, v ?? ''));
      item.mode = secret ? 0o600 : (state.mode ?? 0o644);
      item.changed = item.newText !== state.text || (item.exists && item.mode !== state.mode);
      for (const [key, value] of Object.entries(updates)) keys.push({ key, source: target.keys[key] ?? '', status: before.get(key) === value ? 'unchanged' : 'set' });
    } catch (e) {
      item.error = redact(errorMessage(e), secretValues(updates));
    }
  }
  return { root: absRoot, items, missing: [...missing].map((source) => ({ source, reason: MISSING_REASON[source] })) };
}

/** A mode change is a change too: say it, or a mode-only change would show an empty diff. */
function modeChange(item: EnvSyncPlanItem): string[] {
  if (!item.exists || item.currentMode === undefined || item.currentMode === item.mode) return [];
  return [`mode 0${item.currentMode.toString(8)} -> 0${item.mode.toString(8)}${item.mode === 0o600 ? ' (it holds a secret: only its owner may read it)' : ''}`];
}

/** What may be shown: masked diffs and statuses, no texts, no values. */
export function previewOf(plan: EnvSyncPlan): EnvSyncPreview {
  return {
    root: plan.root,
    missing: plan.missing,
    targets: plan.items.map((item) => ({
      file: item.file,
      path: item.path,
      dialect: item.target.dialect,
      exists: item.exists,
      changed: item.changed,
      diff: item.error ? [] : [...modeChange(item), ...maskedLineDiff(item.currentText, item.newText).map((line) => redact(line, secretValues(item.updates)))],
      keys: item.keys,
      ...(item.error ? { error: item.error } : {}),
    })),
  };
}

export interface ApplyOptions {
  /** Where backups of overwritten files go; default: beside each file. Keep them out of the project: they hold secrets. */
  backupDir?: string;
  /** The atomic writer; replaceable so tests can make a write fail. */
  write?: (file: string, data: string, opts: AtomicWriteOptions) => Promise<AtomicWriteResult>;
  /** Called once before the first write with the targets about to change (the caller journals them). */
  beforeWrite?: (pending: readonly EnvSyncPlanItem[]) => Promise<void>;
}

/**
 * Writes every changed target, then re-reads each with its dialect reader. Refuses
 * targets edited since the plan; on any failure restores the targets already written.
 * Applying the same plan again changes nothing.
 */
export async function applyEnvSync(plan: EnvSyncPlan, opts: ApplyOptions = {}): Promise<EnvSyncResult> {
  const write = opts.write ?? writeFileAtomic;
  const blocked = plan.items.filter((i) => i.error);
  if (blocked.length > 0) {
    throw new PanelError(`cannot sync: ${blocked.map((i) => `${i.file}: ${i.error}`).join('; ')}`, 'env-sync-blocked', 'Fix those files (see `comfy-panel env audit`) and preview again.');
  }
  const pending: EnvSyncPlanItem[] = [];
  for (const item of plan.items.filter((i) => i.changed)) {
    const now = await currentState(item.path);
    const modeOk = now.mode === undefined || now.mode === item.mode;
    if (now.text === item.newText && modeOk) continue; // already applied
    if (now.text !== item.currentText) {
      throw new PanelError(`${item.file} changed since the preview; nothing was written`, 'env-sync-stale', 'Preview the sync again, then apply.');
    }
    pending.push(item);
  }

  if (pending.length > 0) await opts.beforeWrite?.(pending);
  const written: { item: EnvSyncPlanItem; backup?: string }[] = [];
  try {
    for (const item of pending) {
      // Listed before the write: a write reported failed may still have landed, and must be rolled back too.
      const entry: (typeof written)[number] = { item };
      written.push(entry);
      await fs.mkdir(path.dirname(item.path), { recursive: true });
      // Backups mirror the target's place under the root, so two `.env` files never share a backup name.
      const backupDir = opts.backupDir ? path.join(opts.backupDir, path.dirname(item.file)) : undefined;
      const result = await write(item.path, item.newText, { mode: item.mode, ...(backupDir ? { backupDir } : {}) });
      if (result.backupPath) entry.backup = result.backupPath;
    }
    for (const item of plan.items) verify(item, await readEnvText(item.path).catch(() => ''));
  } catch (e) {
    const unrestored = await rollBack(written);
    const message = redact(errorMessage(e), plan.items.flatMap((i) => secretValues(i.updates)));
    if (unrestored.length > 0) {
      throw new PanelError(
        `env sync failed (${message}) and could not restore: ${unrestored.map((u) => (u.backup ? `${u.item.file} (original in ${u.backup})` : u.item.file)).join('; ')}`,
        'env-sync-rollback-failed',
        'Free space or fix permissions, then apply the sync again; a file the sync refuses to read can be copied back from its backup.',
        { cause: e },
      );
    }
    throw new PanelError(`env sync failed and was rolled back: ${message}`, 'env-sync-failed', 'Nothing changed; fix the cause and apply again.', { cause: e });
  }
  return {
    ...previewOf(plan),
    written: written.map(({ item, backup }) => ({ file: item.file, mode: `0${item.mode.toString(8)}`, ...(backup ? { backup } : {}) })),
    verified: true,
  };
}

/** Each written key reads back as its value, on its own: other lines may depend on the environment. */
function verify(item: EnvSyncPlanItem, text: string): void {
  const got = literalValues(text, item.target.dialect, item.file);
  for (const [key, value] of Object.entries(item.updates)) {
    if (got.get(key) !== value) throw new PanelError(`${item.file}: ${key} does not read back as the value written`, 'env-sync-verify');
  }
}

/** Puts back what each written target held; returns those it could not (a full disk fails the rollback too). */
async function rollBack<T extends { item: EnvSyncPlanItem }>(written: T[]): Promise<T[]> {
  const failed: T[] = [];
  for (const w of written) {
    const restore = w.item.exists
      ? writeFileAtomic(w.item.path, w.item.currentText, { backup: false, ...(w.item.currentMode !== undefined ? { mode: w.item.currentMode } : {}) })
      : fs.rm(w.item.path, { force: true });
    await restore.catch(() => failed.push(w));
  }
  return failed;
}
