import { InvalidArgumentError, type Command } from 'commander';
import type { ContainerOverview, ContainerState, Fact } from '../../contract/ops/container.js';
import { ContainerManager } from '../../docker/manager.js';
import { DockerError } from '../../docker/problems.js';
import { exitCodeText } from '../../docker/state.js';
import { waitReady } from '../../docker/wait-serving.js';
import type { PanelConfig } from '../../config/schema.js';
import { readCurrentCredential } from '../../tokens/vault.js';
import { EXIT, type CliContext } from '../context.js';
import { confirmOnTty } from './setup.js';

const yesNo = (f: Fact) => (f.value === null ? 'unknown' : f.value ? 'yes' : 'NO');
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

function overviewText(o: ContainerOverview): string {
  const who = !o.exists ? '' : o.managed ? ', created by the panel' : o.compose ? `, adopted (compose project ${o.compose.project})` : ', adopted';
  const lines = [`${o.name}: ${o.phase}${o.health && o.health !== 'none' ? ` (health ${o.health})` : ''}${o.image ? `, image ${o.image}` : ''}${who}`];
  if (o.exitCode !== undefined && o.phase !== 'healthy') lines.push(`  ${exitCodeText(o.exitCode, o.oomKilled)}`);
  if (o.ports.length) lines.push(`  ports: ${o.ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ')}`);
  for (const key of ['installed', 'loaded', 'enforced'] as const) lines.push(`  login node ${key}: ${yesNo(o.loginNode[key])} — ${o.loginNode[key].detail}`);
  if (o.stats) lines.push(`  ${o.stats.cpuPercent === null ? '' : `cpu ${o.stats.cpuPercent}%, `}memory ${mib(o.stats.memoryUsedBytes)} of ${mib(o.stats.memoryLimitBytes)}`);
  lines.push(`  gpu: ${o.gpu.gpus ? o.gpu.gpus.map((g) => `${g.name} ${g.memoryUsedMiB}/${g.memoryTotalMiB} MiB`).join('; ') : o.gpu.reason}`);
  lines.push(o.ok ? 'OK' : `NOT OK:\n${o.reasons.map((r) => `  - ${r}`).join('\n')}`);
  return lines.join('\n');
}

const stateText = (s: ContainerState) => `${s.name}: ${s.phase}${s.exitCode !== undefined && s.phase === 'crashed' ? ` (${exitCodeText(s.exitCode, s.oomKilled)})` : ''}`;

/** How long `up`/`restart` wait for healthy: the start period plus a few failed checks, at least a minute. */
export function healthyWithinMs(h: { startPeriodSec: number; intervalSec: number; timeoutSec: number; retries: number }): number {
  return Math.max(60_000, (h.startPeriodSec + (h.intervalSec + h.timeoutSec) * (h.retries + 1)) * 1000);
}

export function tailOption(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 100_000) throw new InvalidArgumentError('expected a whole number from 0 to 100000');
  return n;
}

/** Prints a managed container's log lines (one JSON line each under --json), following until Ctrl-C. */
export async function printLogs(cli: CliContext, m: ContainerManager, opts: { follow?: boolean; tail: number }): Promise<void> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    await m.logs({
      tail: opts.tail,
      follow: opts.follow,
      signal: abort.signal,
      onLine: (l) =>
        new Promise<void>((resolve) => {
          // Waiting for stdout to drain pushes back on the Docker stream.
          const text = cli.json ? JSON.stringify(l) : `${l.time} ${l.stream === 'stderr' ? 'E' : ' '} ${l.text}`;
          if (process.stdout.write(`${text}\n`)) resolve();
          else process.stdout.once('drain', resolve);
        }),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function registerContainerCommands(program: Command, cli: CliContext): void {
  const container = program.command('container').description('the ComfyUI container: state, lifecycle, logs, image');
  const manager = async () => {
    const { config } = await cli.config();
    return { m: new ContainerManager(config), config };
  };

  /**
   * Waits until ComfyUI itself answers and (auth required) ComfyUI-Login protects it; exit 1
   * otherwise. An exited or restart-looping container ends the wait at once with its exit code.
   */
  const settle = async (m: ContainerManager, config: PanelConfig, restartCountBefore: number, timeoutMs: number, wait: boolean) => {
    if (!wait) return { state: await m.state() };
    cli.progress(`waiting up to ${Math.round(timeoutMs / 1000)} s for ComfyUI at ${config.comfyui.url} to answer…`);
    const token = (await readCurrentCredential(config, cli.paths).catch(() => undefined))?.hash;
    const ready = await waitReady(m, config, { ...(token ? { token } : {}), timeoutMs, restartCountBefore });
    if (!ready.ok) process.exitCode = 1;
    return { state: await m.state(), ready };
  };

  container
    .command('status')
    .description('state, health, the three login-node facts, CPU/memory and GPU; exit 1 unless healthy and (when auth is required) protected')
    .action(async () => {
      const { m } = await manager();
      let o: ContainerOverview;
      try {
        o = await m.overview({ statsWithinMs: Infinity }); // one look, so no earlier sample to fall back on: wait for it
      } catch (e) {
        if (!(e instanceof DockerError)) throw e;
        o = ContainerManager.unreachable(m.name, e);
      }
      if (!o.ok) process.exitCode = 1;
      cli.print({ json: { state: o.phase, ...o }, human: () => overviewText(o) });
    });

  const starters = [
    ['up', 'create the container if absent, start it and wait until it is healthy', (m: ContainerManager) => m.start()],
    ['restart', 'restart the container and wait until it is healthy', (m: ContainerManager) => m.restart()],
  ] as const;
  for (const [command, description, action] of starters) {
    container
      .command(command)
      .description(description)
      .option('--no-wait', 'return without waiting for healthy')
      .action(async (opts: { wait: boolean }) => {
        const { m, config } = await manager();
        const before = await m.status();
        await action(m);
        const changes = await m.diffSpec().catch(() => []);
        if (changes.length) cli.progress(`the config changed since ${m.name} was created (${changes.map((c) => c.field).join(', ')}): \`comfy-panel container recreate\` applies it`);
        const { state, ready } = await settle(m, config, before.restartCount ?? 0, healthyWithinMs(config.container.healthcheck), opts.wait);
        const human = () =>
          !ready
            ? stateText(state)
            : ready.ok
              ? `${m.name}: ComfyUI answers at ${config.comfyui.url} (after ${(ready.waitedMs / 1000).toFixed(1)} s)${config.container.authRequired ? ', ComfyUI-Login installed, loaded and enforced' : ''}`
              : `${m.name}: ComfyUI answers, but is NOT protected:\n${ready.reasons.map((r) => `  - ${r}`).join('\n')}`;
        cli.print({ json: { ...state, ...(ready ? { ok: ready.ok, reasons: ready.reasons, waitedMs: ready.waitedMs } : {}) }, human });
      });
  }

  container
    .command('down')
    .description('stop the container gracefully (config stopTimeoutSec, then kill)')
    .option('--remove', 'also remove the container')
    .action(async (opts: { remove?: boolean }) => {
      const { m } = await manager();
      const s = opts.remove ? await m.remove() : await m.stop();
      cli.print({ json: s, human: () => stateText(s) });
    });

  container
    .command('logs')
    .description('container logs, ANSI-stripped, tokens redacted; --json prints one JSON line per log line')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --tail <n>', 'lines from the end', tailOption, 200)
    .action(async (opts: { follow?: boolean; tail: number }) => {
      const { m } = await manager();
      await printLogs(cli, m, opts);
    });

  container
    .command('build')
    .description('build the image (config container.image) from assets/docker/comfyui-qwen')
    .action(async () => {
      const { m } = await manager();
      const r = await m.build((line) => cli.progress(line));
      cli.print({ json: r, human: `built ${r.tag}${r.imageId ? ` (${r.imageId})` : ''}` });
    });

  container
    .command('adopt')
    .description('take over an existing container by name (e.g. made by compose) and show what the panel can change on it')
    .action(async () => {
      const { m } = await manager();
      const r = await m.adopt();
      cli.print({
        json: r,
        human: () =>
          [
            `${r.name} (${r.id.slice(0, 12)})${r.compose ? `, compose project ${r.compose.project}, service ${r.compose.service}` : ''}`,
            'the panel can:',
            ...r.canChange.map((c) => `  - ${c}`),
            'the panel cannot:',
            ...r.cannotChange.map((c) => `  - ${c}`),
            r.differences.length ? 'differences from the panel config:' : 'matches the panel config',
            ...r.differences.map((c) => `  - ${c.field}: ${c.from} -> ${c.to}`),
          ].join('\n'),
      });
    });

  container
    .command('compose-apply')
    .description('for a compose-made container: run the `docker compose … up -d --force-recreate SERVICE` that applies its project files (asks first unless --yes)')
    .option('-y, --yes', 'run without asking')
    .action(async (opts: { yes?: boolean }) => {
      const { m } = await manager();
      const command = await m.composeCommand();
      if (!opts.yes && !(await confirmOnTty(`run \`${command.text}\`?`))) {
        process.exitCode = EXIT.checkFailed;
        cli.print({ json: { ran: false, command: command.text }, human: `not run (pass --yes): ${command.text}` });
        return;
      }
      const r = await m.composeApply();
      cli.print({ json: { ran: true, ...r }, human: () => `${r.output.trim()}\n${stateText(r.state)}` });
    });

  container
    .command('recreate')
    .description('replace the container when the config changed, listing what changed')
    .option('--force', 'also recreate a compose-made container (detaches it from compose)')
    .action(async (opts: { force?: boolean }) => {
      const { m } = await manager();
      const r = await m.recreate({ force: opts.force });
      cli.print({
        json: r,
        human: () =>
          r.recreated ? [`recreated ${r.state.name}: ${r.state.phase}`, ...r.changes.map((c) => `  - ${c.field}: ${c.from} -> ${c.to}`)].join('\n') : `${r.state.name}: nothing changed`,
      });
    });
}
