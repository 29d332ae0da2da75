import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PanelPaths } from '../config/paths.js';
import type { GenerationResult, RunParams, RunRecord } from '../contract/ops/generate.js';

export function runsFile(paths: PanelPaths): string {
  return path.join(paths.dataDir, 'generation-runs.jsonl');
}

/** A run's history line: its result and the parameters it ran with, so the UI can show and reuse them. */
export function runRecord(result: GenerationResult, params: RunParams, time = new Date()): RunRecord {
  const { prompt, negative, seed, width, height, steps } = params;
  const kept = Object.fromEntries(Object.entries({ prompt, negative, seed, width, height, steps }).filter(([, v]) => v !== undefined)) as RunParams;
  return { time: time.toISOString(), ...result, params: kept };
}

export async function appendRun(file: string, record: RunRecord): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** The latest `limit` runs, newest first; a damaged line (e.g. a crash mid-write) is skipped. */
export async function listRuns(file: string, limit: number): Promise<RunRecord[]> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const out: RunRecord[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as RunRecord);
    } catch {
      // a torn last line: ignore it rather than losing the whole history
    }
  }
  return out;
}
