import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { StagedOutcome, StagedRotation, StagedRotationRow } from '../contract/ops/fleet.js';
import type { RotationResult } from '../contract/ops/tokens.js';
import { ConfigError, PanelError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { redact } from '../redact.js';

export interface StagedRotationOptions {
  /** The instances in config order. */
  ids: string[];
  canary?: string;
  wave: number;
  resume: boolean;
  /** The panel's own data folder: the state of the last staged rotation lives there, so `resume` works across processes. */
  dataDir: string;
  /** Rotates one instance (its own rotation verifies, and rolls back on failure). */
  rotate: (id: string) => Promise<RotationResult>;
  /** Told when an instance starts and ends. */
  onRow?: (row: StagedRotationRow) => void;
}

const RowSchema = z.object({
  id: z.string(),
  wave: z.int().min(0),
  outcome: z.enum(['committed', 'rolled-back', 'failed', 'not-started']),
  fingerprint: z.string().optional(),
  failedStep: z.string().optional(),
  error: z.string().optional(),
});
const StateSchema = z.object({ rotationId: z.string(), instances: z.array(RowSchema), halted: z.boolean(), haltedAt: z.string().nullable() });

export const stagedRotationFile = (dataDir: string) => path.join(dataDir, 'fleet', 'staged-rotation.json');

async function readState(file: string): Promise<StagedRotation | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const parsed = StateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new PanelError(`${file}: not the state of a staged rotation (damaged)`, 'staged-rotation-state', 'Delete the file to start a new staged rotation (no credential is in it).');
  return parsed.data;
}

/** The canary alone (wave 0), then the others in config order, N at a time. */
function plan(ids: string[], canary: string | undefined, wave: number): StagedRotationRow[] {
  const first = canary ?? ids[0];
  if (first === undefined) throw new ConfigError('no instance to rotate');
  if (!ids.includes(first)) throw new ConfigError(`--canary ${first}: not an instance of this config (it has ${ids.join(', ')})`);
  const rest = ids.filter((id) => id !== first);
  return [{ id: first, wave: 0, outcome: 'not-started' }, ...rest.map((id, i) => ({ id, wave: 1 + Math.floor(i / wave), outcome: 'not-started' as const }))];
}

function rowOf(base: StagedRotationRow, r: RotationResult): StagedRotationRow {
  const outcome: StagedOutcome = r.outcome === 'committed' ? 'committed' : r.outcome === 'rolled-back' ? 'rolled-back' : 'failed';
  return {
    id: base.id,
    wave: base.wave,
    outcome,
    ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}),
    ...(r.failedStep ? { failedStep: r.failedStep } : {}),
    ...(r.error ? { error: redact(r.error) } : {}),
  };
}

/**
 * Rotates every instance in stages and halts at the first wave with a failure: the failed
 * instance has rolled itself back, later waves are not started. The state is written after each
 * wave, so `resume` (here or in another process) retries the failed and not-started instances.
 */
export async function stagedRotation(opts: StagedRotationOptions): Promise<StagedRotation> {
  const file = stagedRotationFile(opts.dataDir);
  let state: StagedRotation;
  if (opts.resume) {
    const prior = await readState(file);
    if (!prior?.halted) throw new ConfigError('no staged rotation to resume: the last one finished (or none ran)', 'Start a new one without --resume.');
    state = { ...prior, halted: false, haltedAt: null };
  } else {
    state = { rotationId: randomUUID(), instances: plan(opts.ids, opts.canary, opts.wave), halted: false, haltedAt: null };
  }
  const save = async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  };
  const waves = [...new Set(state.instances.map((r) => r.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    const todo = state.instances.filter((r) => r.wave === wave && r.outcome !== 'committed');
    const done = await Promise.all(
      todo.map(async (row) => {
        opts.onRow?.(row);
        const result = await opts.rotate(row.id).then(
          (r) => rowOf(row, r),
          (e: unknown): StagedRotationRow => ({ id: row.id, wave: row.wave, outcome: 'failed', error: redact(e instanceof Error ? e.message : String(e)) }),
        );
        opts.onRow?.(result);
        return result;
      }),
    );
    state.instances = state.instances.map((r) => done.find((d) => d.id === r.id) ?? r);
    const failed = state.instances.find((r) => r.wave === wave && r.outcome !== 'committed');
    if (failed) {
      state.halted = true;
      state.haltedAt = failed.id;
    }
    await save();
    if (state.halted) break;
  }
  return state;
}
