/** Entry of the gateway image: the same `gateway run` command, as the whole program. */
import { gatewayRunCommand } from './command.js';

await gatewayRunCommand('comfy-panel-gateway').parseAsync(process.argv);
