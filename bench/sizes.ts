/** How big each measurement is; every size can be set by an environment variable for quick runs. */
export interface BenchSizes {
  /** Lines of the generated .env (BENCH_ENV_LINES). */
  envLines: number;
  /** Timed parses of it per parser (BENCH_ENV_RUNS). */
  envRuns: number;
  /** Authenticated requests per side, client vs raw fetch (BENCH_REQUESTS). */
  requests: number;
  /** Requests in flight at once on each side (BENCH_CONCURRENCY). */
  concurrency: number;
  /** Alternating client/raw rounds the requests are split into (BENCH_ROUNDS). */
  rounds: number;
  /** Concurrent requests through the health probe (BENCH_PROBE_REQUESTS). */
  probeRequests: number;
  /** Health sweeps, each against its raw requests (BENCH_SWEEPS). */
  sweeps: number;
  /** Rotations, each against one bcrypt hash (BENCH_ROTATIONS). */
  rotations: number;
  /** Lines the log container prints (BENCH_LOG_LINES). */
  logLines: number;
  /** Alternating raw/pipeline reads of them (BENCH_LOG_ROUNDS). */
  logRounds: number;
  /** Cold loads of the dashboard and of the blank page (BENCH_PAINT_RUNS). */
  paintRuns: number;
  /** Log lines pushed through the serving process for the memory figure (BENCH_MEMORY_LINES). */
  memoryLines: number;
  /** How long serve runs against the endless ComfyUI, and the idle one beside it (BENCH_SERVE_SECONDS). */
  serveSeconds: number;
  /** Instances (double containers) of the fleet sweep figure (BENCH_FLEET_INSTANCES). */
  fleetInstances: number;
  /** Rebuild dist/ (CLI and renderer) before the renderer and memory figures (BENCH_BUILD=0 skips). */
  build: boolean;
}

export const DEFAULT_SIZES: BenchSizes = {
  envLines: 10_000,
  envRuns: 30,
  requests: 1_000,
  concurrency: 8,
  rounds: 20,
  probeRequests: 200,
  sweeps: 20,
  rotations: 3,
  logLines: 100_000,
  logRounds: 2,
  paintRuns: 3,
  memoryLines: 100_000,
  serveSeconds: 60,
  fleetInstances: 20,
  build: true,
};

const NUMERIC: Record<Exclude<keyof BenchSizes, 'build'>, string> = {
  envLines: 'BENCH_ENV_LINES',
  envRuns: 'BENCH_ENV_RUNS',
  requests: 'BENCH_REQUESTS',
  concurrency: 'BENCH_CONCURRENCY',
  rounds: 'BENCH_ROUNDS',
  probeRequests: 'BENCH_PROBE_REQUESTS',
  sweeps: 'BENCH_SWEEPS',
  rotations: 'BENCH_ROTATIONS',
  logLines: 'BENCH_LOG_LINES',
  logRounds: 'BENCH_LOG_ROUNDS',
  paintRuns: 'BENCH_PAINT_RUNS',
  memoryLines: 'BENCH_MEMORY_LINES',
  serveSeconds: 'BENCH_SERVE_SECONDS',
  fleetInstances: 'BENCH_FLEET_INSTANCES',
};

/** The default sizes, overridden by BENCH_* variables; a bad value is an error naming the variable. */
export function sizesFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSizes {
  const sizes = { ...DEFAULT_SIZES };
  for (const [field, name] of Object.entries(NUMERIC) as [keyof typeof NUMERIC, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw}: expected a whole number of at least 1`);
    sizes[field] = n;
  }
  if (env.BENCH_BUILD !== undefined) sizes.build = env.BENCH_BUILD !== '0';
  return sizes;
}
