import type { EnvFinding, EnvSyncPreview, EnvSyncTargetPreview } from '../../../app/contract/index.js';
import type { Light } from '../components/StatusLight.js';

/** A file's light: its reader's own error or any error finding is a failure, warnings a warning. */
export function fileLight(file: { file: string; error?: unknown }, findings: readonly EnvFinding[]): Light {
  const mine = findings.filter((f) => f.file === file.file);
  if (file.error || mine.some((f) => f.severity === 'error')) return 'fail';
  return mine.length ? 'warn' : 'ok';
}

/** What a sync does to one target, in words: never "will change" without saying what. */
export function targetChange(t: EnvSyncTargetPreview, applied: boolean): string {
  if (t.error) return t.error;
  if (!t.changed) return 'already up to date';
  const set = t.keys.filter((k) => k.status === 'set').map((k) => k.key);
  const keys = set.length ? `sets ${set.join(', ')}` : '';
  if (!t.exists) return `${applied ? 'created' : 'will be created'}${keys ? `; ${keys}` : ''}`;
  // Changed with an identical text: the plan's diff says the mode change ("mode 0644 -> 0600 ...").
  if (t.diff.every((line) => line.startsWith('mode '))) return `${applied ? 'mode changed' : 'only the mode changes'}, the contents are already right`;
  return `${applied ? 'written' : 'will change'}${keys ? `: ${keys}` : ''}`;
}

/** What the operator can compare of a target's plan: everything the preview shows. */
const planOf = (t: EnvSyncTargetPreview) => JSON.stringify([t.exists, t.changed, t.diff, t.keys, t.error ?? null, t.dialect]);

/**
 * The files whose plan differs between the preview the operator read and a fresh one (added or
 * removed targets included); empty when applying now does exactly what was read.
 */
export function planChanges(read: EnvSyncPreview, now: EnvSyncPreview): string[] {
  const before = new Map(read.targets.map((t) => [t.path, t]));
  const after = new Map(now.targets.map((t) => [t.path, t]));
  const changed = now.targets.filter((t) => !before.has(t.path) || planOf(before.get(t.path)!) !== planOf(t)).map((t) => t.file);
  const removed = read.targets.filter((t) => !after.has(t.path)).map((t) => t.file);
  const missing = JSON.stringify(read.missing) !== JSON.stringify(now.missing) ? ['the values to write'] : [];
  return [...changed, ...removed, ...missing];
}
