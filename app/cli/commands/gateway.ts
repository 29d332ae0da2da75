import type { Command } from 'commander';
import { gatewayRunCommand } from '../../gateway/command.js';

/** `gateway run` (the gateway process); the panel's `gateway up|down|status|logs` join this group later. */
export function registerGatewayCommands(program: Command): void {
  program.command('gateway').description('the front door: per-client API keys in front of ComfyUI').addCommand(gatewayRunCommand());
}
