import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEntry, RotationResult } from '../contract/ops/tokens.js';

export const AUDIT_LOG = 'audit.jsonl';

/** Who acted: the front end and the OS user, e.g. "cli:alice@ws1". */
export function actorName(source: 'cli' | 'ui'): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return `${source}:${user}@${os.hostname()}`;
}

/** The newest `limit` entries, newest first; a damaged line is skipped, not fatal. */
export async function readAuditLog(dir: string, limit: number): Promise<AuditEntry[]> {
  const text = await fs.readFile(path.join(dir, AUDIT_LOG), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n').reverse()) {
    if (entries.length >= limit) break;
    try {
      if (line.trim()) entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      // a line cut by a crash mid-append
    }
  }
  return entries;
}

/** One line per credential change, fingerprints only: never a hash or a password. */
export async function appendAuditEntry(dir: string, actor: string, result: RotationResult, startedAt: Date): Promise<void> {
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    actor,
    rotationId: result.rotationId,
    kind: result.kind,
    fingerprint: result.fingerprint,
    previousFingerprint: result.previousFingerprint,
    steps: result.steps.map(({ name, ok, ms }) => ({ name, ok, ms })),
    outcome: result.outcome,
    failedStep: result.failedStep,
    durationMs: Date.now() - startedAt.getTime(),
    keyedFingerprints: true,
  };
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.appendFile(path.join(dir, AUDIT_LOG), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}
