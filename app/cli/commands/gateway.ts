import type { Command } from 'commander';
import type { ContainerState } from '../../contract/ops/container.js';
import type { GatewayOverview } from '../../contract/ops/gateway.js';
import { GatewayManager } from '../../docker/gateway.js';
import { gatewayRunCommand } from '../../gateway/command.js';
import type { CliContext } from '../context.js';
import { healthyWithinMs, printLogs, tailOption } from './container.js';

function statusText(s: GatewayOverview): string {
  return [
    `gateway ${s.container.name}: ${s.state}${s.reachable ? `, answering at ${s.url}` : ` (${s.url} not answering)`}`,
    `upstream ${s.upstream.url}: ${s.upstream.container} ${s.upstream.state}, ${s.upstream.onNetwork ? 'on the private network' : 'NOT on the private network'}${s.upstream.publishedPorts.length ? `, still published at ${s.upstream.publishedPorts.join(', ')}` : ', not published'}`,
    s.problems.length ? `NOT OK:\n${s.problems.map((p) => `  - ${p}`).join('\n')}` : 'OK',
  ].join('\n');
}

const stateText = (s: ContainerState) => `${s.name}: ${s.phase}`;

/**
 * `gateway run` (the gateway process itself), and the panel's management of the configured
 * deployment's gateway container: `gateway up|down|status|logs`.
 */
export function registerGatewayCommands(program: Command, cli: CliContext): void {
  const gateway = program.command('gateway').description('the front door: per-client API keys in front of ComfyUI').addCommand(gatewayRunCommand());
  const manager = async () => {
    const { config } = await cli.config();
    return { m: new GatewayManager(config, { dataDir: cli.paths.dataDir }), config };
  };

  gateway
    .command('up')
    .description('create the private network and the gateway container if absent, start it and wait until it is healthy')
    .option('--no-wait', 'return without waiting for healthy')
    .action(async (opts: { wait: boolean }) => {
      const { m, config } = await manager();
      if (!config.gateway.enabled) cli.progress('gateway.enabled is false in the config: ComfyUI keeps its own published port until it is set and `comfy-panel container recreate` ran');
      let s = await m.up();
      if (opts.wait) {
        cli.progress(`waiting for ${s.name} to become healthy…`);
        s = await m.container.waitFor(['healthy', 'unhealthy', 'crashed', 'stopped'], healthyWithinMs(config.gateway.healthcheck));
        if (s.phase !== 'healthy') process.exitCode = 1;
      }
      const changes = await m.container.diffSpec().catch(() => []);
      if (changes.length) cli.progress(`the config changed since ${s.name} was created (${changes.map((c) => c.field).join(', ')}): \`comfy-panel gateway down --remove\` then \`gateway up\` applies it`);
      cli.print({ json: s, human: () => stateText(s) });
    });

  gateway
    .command('down')
    .description('stop the gateway (clients are refused until `gateway up`)')
    .option('--remove', 'also remove the container (and the private network when nothing else uses it)')
    .action(async (opts: { remove?: boolean }) => {
      const { m } = await manager();
      const s = await m.down(opts);
      cli.print({ json: s, human: () => stateText(s) });
    });

  gateway
    .command('status')
    .description('the gateway container, its URL, and whether ComfyUI is hidden behind it; exit 1 unless all is right')
    .action(async () => {
      const { m } = await manager();
      const s = await m.status();
      if (s.problems.length) process.exitCode = 1;
      cli.print({ json: s, human: () => statusText(s) });
    });

  gateway
    .command('logs')
    .description('gateway logs (keys never appear in them); --json prints one JSON line per log line')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --tail <n>', 'lines from the end', tailOption, 200)
    .action(async (opts: { follow?: boolean; tail: number }) => {
      const { m } = await manager();
      await printLogs(cli, m.container, opts);
    });
}
