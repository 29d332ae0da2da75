import type { Command } from 'commander';
import type { CapabilityMatrix, FleetStatus } from '../../contract/ops/fleet.js';
import { ago } from '../../ago.js';
import { ConfigError } from '../../errors.js';
import type { CliContext } from '../context.js';

/** Every instance as the fleet commands need it: its id, label, view of the config and folders. */
async function instances(cli: CliContext) {
  const [loaded, { instanceConfig, instancePaths, listInstances }] = await Promise.all([cli.wholeConfig(), import('../../config/instances.js')]);
  return listInstances(loaded.config).map((i) => ({ ...i, config: instanceConfig(loaded.config, i.id), paths: instancePaths(cli.rootPaths, i.id), configFile: loaded.path }));
}

function statusText(s: FleetStatus): string {
  const lines = s.instances.map((r) => {
    const bad = r.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    const checks = r.checks.length ? (bad.length ? `FAIL ${bad.join(',')}` : 'ok') : 'no sweep yet';
    const gpu = r.gpu ? `${r.gpu.name}${r.gpu.vramTotalMb ? ` ${r.gpu.vramTotalMb} MiB` : ''}` : '-';
    const queue = r.queue ? `${r.queue.running}+${r.queue.pending}` : '-';
    const last = r.lastGeneration ? `${r.lastGeneration.ok ? 'ok' : 'FAILED'} ${r.lastGeneration.time}` : '-';
    return `${r.id.padEnd(16)} ${checks.padEnd(14)} ${gpu.padEnd(28)} ${queue.padEnd(6)} ${(r.tokenCreatedAt ? ago(r.tokenCreatedAt, Date.now()) : 'no token').padEnd(12)} ${last}${r.error ? `\n${''.padEnd(17)}${r.error}` : ''}`;
  });
  return [`${'instance'.padEnd(16)} ${'checks'.padEnd(14)} ${'gpu'.padEnd(28)} ${'queue'.padEnd(6)} ${'token'.padEnd(12)} last generation`, ...lines].join('\n');
}

function matrixText(m: CapabilityMatrix): string {
  const r = m.requirements;
  const head = `${m.workflow}: ${r.nodeClasses.length} node classes, ${r.models.length} model files${r.minVramMb ? `, ${r.minVramMb} MiB VRAM` : ''}`;
  const rows = m.instances.map((i) => {
    if (i.error) return `  ${i.id.padEnd(16)} ??   ${i.error}`;
    const lacks = [...i.missingNodes.map((n) => `node ${n}`), ...i.missingModels.map((x) => `${x.folder}/${x.file}`), ...(i.vram.ok ? [] : [`VRAM ${i.vram.haveMb ?? '?'} of ${i.vram.needMb} MiB`])];
    return `  ${i.id.padEnd(16)} ${i.ok ? 'yes ' : 'NO  '} ${lacks.join(', ')}`;
  });
  return [head, ...rows].join('\n');
}

export function registerFleetCommands(program: Command, cli: CliContext): void {
  const fleet = program.command('fleet').description('every instance at once: the fleet view, can this box run this workflow');

  fleet
    .command('status')
    .description('one row per instance: its last checks, GPU, queue, token age, last generation (an instance that does not answer gets an error, never a wait)')
    .action(async () => {
      const [list, { fleetRow }, { createHealthMonitor }] = await Promise.all([instances(cli), import('../../fleet/status.js'), import('../../health/index.js')]);
      const rows = await Promise.all(
        list.map((i) => fleetRow(i.id, i.label, { config: i.config, paths: i.paths, health: createHealthMonitor(i.paths, { deps: () => ({ config: i.config, paths: i.paths, configFile: i.configFile }) }) })),
      );
      const status: FleetStatus = { instances: rows, at: new Date().toISOString() };
      cli.print({ json: status, human: () => statusText(status) });
      if (rows.some((r) => r.error || r.checks.some((c) => c.status === 'fail'))) process.exitCode = 1;
    });

  fleet
    .command('workflow')
    .description('can each instance run this workflow? its node classes (/object_info), model files (model lists) and VRAM (/system_stats); exit 1 if one cannot')
    .argument('<workflow>', 'smoke, qwen, qwen-edit or an API-format JSON file')
    .option('--min-vram-mb <n>', 'VRAM the workflow needs, in MiB (the API does not tell model sizes)')
    .action(async (workflow: string, o: { minVramMb?: string }) => {
      const vram = o.minVramMb === undefined ? undefined : Number(o.minVramMb);
      if (vram !== undefined && (!Number.isInteger(vram) || vram < 1)) throw new ConfigError(`--min-vram-mb ${o.minVramMb}: not a number of MiB`);
      const source = workflow === 'smoke' || workflow === 'qwen' || workflow === 'qwen-edit' ? workflow : { file: workflow };
      const [list, { capabilitiesAcross }] = await Promise.all([instances(cli), import('../../fleet/capabilities.js')]);
      const m = await capabilitiesAcross(list, source, vram);
      cli.print({ json: m, human: () => matrixText(m) });
      if (m.instances.some((i) => !i.ok)) process.exitCode = 1;
    });
}
