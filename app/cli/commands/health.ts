import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import type { AuthProbeReport, CheckResult, CheckStatus, HealthSweep } from '../../contract/ops/health.js';
import { ConfigError } from '../../errors.js';
import { createHealthMonitor, probeConfigured, type HealthMonitor, type StateChange } from '../../health/index.js';
import type { CliContext } from '../context.js';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', unknown: '??  ' };

/** The stable --json shape of one check. */
const checkJson = (c: CheckResult) => ({ id: c.id, status: c.status, latencyMs: c.latencyMs, message: c.message, fix: c.fix ?? null });

function fixLine(c: CheckResult): string[] {
  if (!c.fix || c.status === 'ok') return [];
  return [`       fix: ${c.fix.text}${c.fix.action ? ` [panel action: ${c.fix.action}]` : ''}`];
}

function sweepText(s: HealthSweep): string {
  const width = Math.max(...s.checks.map((c) => c.id.length));
  const lines = s.checks.flatMap((c) => [`${MARK[c.status]} ${c.id.padEnd(width)}  ${c.message} (${c.latencyMs} ms)`, ...fixLine(c)]);
  const failed = s.checks.filter((c) => c.status === 'fail').length;
  lines.push('', failed ? `${failed} check${failed === 1 ? '' : 's'} failed` : 'no check failed');
  return lines.join('\n');
}

function monitorFor(cli: CliContext, loaded: LoadedConfig, keepAlive = false): HealthMonitor {
  return createHealthMonitor(cli.paths, { deps: () => ({ config: loaded.config, paths: cli.paths, configFile: loaded.path }), keepAlive });
}

function printSweep(cli: CliContext, s: HealthSweep): void {
  cli.print({ json: { ok: s.ok, startedAt: s.startedAt, durationMs: s.durationMs, checks: s.checks.map(checkJson) }, human: () => sweepText(s) });
  if (!s.ok) process.exitCode = 1;
}

function changeText(c: StateChange): string {
  return [`${c.result.checkedAt} ${c.id}: ${c.from} -> ${c.to}: ${c.result.message}`, ...fixLine(c.result)].join('\n');
}

/** Sweeps every interval until SIGINT/SIGTERM, printing only what changed (one JSON line per change under --json). */
async function watch(cli: CliContext, loaded: LoadedConfig, monitor: HealthMonitor): Promise<void> {
  monitor.notifier = {
    notify: (c) => {
      if (cli.json) process.stdout.write(`${JSON.stringify({ time: c.result.checkedAt, from: c.from, to: c.to, ...checkJson(c.result) })}\n`);
      else cli.print({ json: null, human: changeText(c) });
    },
  };
  monitor.start(loaded.config.health.intervalSec * 1000);
  cli.progress(`watching: a sweep every ${loaded.config.health.intervalSec} s; changes are printed (Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await monitor.stop();
}

function parseRequests(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ConfigError(`--requests ${value}: not a whole number from 1 to 10000`, 'Give e.g. --requests 50.');
  return n;
}

function probeText(r: AuthProbeReport): string {
  const counts = Object.entries(r.byStatus)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  return [
    `${r.requests} concurrent authenticated requests to ${r.url}/system_stats: ${r.successRate}% succeeded (${counts})`,
    `latency p50 ${r.p50} ms, p95 ${r.p95} ms, p99 ${r.p99} ms; ${r.durationMs} ms in all`,
    ...r.errors.map((e) => `  error: ${e}`),
  ].join('\n');
}

export function registerHealthCommands(program: Command, cli: CliContext): void {
  const health = program
    .command('health')
    .description('can notebooks generate right now? run every check (exit 1 when one fails)')
    .option('--watch', 're-run every health.intervalSec and print what changes')
    .action(async (opts: { watch?: boolean }) => {
      const loaded = await cli.config();
      const monitor = monitorFor(cli, loaded, opts.watch);
      printSweep(cli, await monitor.sweep());
      if (opts.watch) await watch(cli, loaded, monitor);
    });
  health
    .command('probe')
    .description('N concurrent authenticated requests: success rate, counts by status, latency p50/p95/p99 (exit 1 below 100%)')
    .option('--requests <n>', 'number of requests (default: config health.probeRequests)', parseRequests)
    .action(async (opts: { requests?: number }) => {
      const loaded = await cli.config();
      const r = await probeConfigured(loaded.config, cli.paths, opts.requests);
      cli.print({ json: r, human: () => probeText(r) });
      if (r.successRate < 100) process.exitCode = 1;
    });
}
