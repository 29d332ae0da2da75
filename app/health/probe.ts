import { probeAuth, type ProbeResult } from '../comfy/client.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { AuthProbeReport } from '../contract/ops/health.js';
import { PanelError } from '../errors.js';
import { readCurrentCredential, type VaultKeys } from '../tokens/vault.js';
import { fixFor } from './troubleshoot.js';

export interface AuthProbeOptions {
  url: string;
  /** The bcrypt hash (SECRET); only probeAuth sees it. */
  token: string;
  requests: number;
  timeoutMs: number;
  /** Replaces probeAuth (fault injection in tests). */
  probe?: (url: string, token: string, timeoutMs: number) => Promise<ProbeResult>;
}

/** Nearest-rank percentile of sorted values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Requests open at once, at most: well under the usual limit of 1024 open files. */
export const MAX_IN_FLIGHT = 200;

/**
 * N authenticated GET /system_stats at once: the success rate the original system saw go
 * from 13.3% to 100%, with counts by status and latency percentiles (ms, all requests).
 */
export async function probeAuthRate(opts: AuthProbeOptions): Promise<AuthProbeReport> {
  const probe = opts.probe ?? probeAuth;
  const started = performance.now();
  // Every request at once up to MAX_IN_FLIGHT; beyond that, workers keep that many open (file descriptors are finite).
  const results: ProbeResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < opts.requests) {
      const i = next++;
      results[i] = await probe(opts.url, opts.token, opts.timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.requests, MAX_IN_FLIGHT) }, worker));
  const byStatus: Record<string, number> = {};
  for (const r of results) {
    const key = r.status === null ? 'error' : String(r.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const succeeded = byStatus['200'] ?? 0;
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  return {
    url: opts.url,
    requests: opts.requests,
    succeeded,
    successRate: round1((100 * succeeded) / opts.requests),
    byStatus,
    p50: round1(percentile(latencies, 50)),
    p95: round1(percentile(latencies, 95)),
    p99: round1(percentile(latencies, 99)),
    durationMs: Math.round(performance.now() - started),
    errors: [...new Set(results.flatMap((r) => (r.error ? [r.error] : [])))].slice(0, 5),
  };
}

/** The probe for a configuration: the vault's token against comfyui.url, N from the config unless given. */
export async function probeConfigured(config: PanelConfig, paths: PanelPaths, requests?: number, keys?: VaultKeys): Promise<AuthProbeReport> {
  const cred = await readCurrentCredential(config, paths, keys);
  if (!cred) throw new PanelError('the panel holds no credential, so there is no token to probe with', 'no-credential', fixFor('no-credential').text);
  return probeAuthRate({ url: config.comfyui.url, token: cred.hash, requests: requests ?? config.health.probeRequests, timeoutMs: config.comfyui.timeoutMs });
}
