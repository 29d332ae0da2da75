/**
 * Runs the ComfyUI double in the foreground, logging like ComfyUI on stdout:
 *   npm run comfy-double -- --port 8188 --dir /tmp/comfy [--no-login] [--sampler-ms 3000] [--host 0.0.0.0]
 * SIGTERM / SIGINT close it promptly (exit 0).
 */
import { Command, InvalidArgumentError } from 'commander';
import { startComfyDouble } from './server.js';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

const program = new Command('comfy-double')
  .description('A ComfyUI + ComfyUI-Login test double')
  .requiredOption('--dir <path>', 'the ComfyUI root (login/PASSWORD, output/, models/, custom_nodes/)')
  .option('--port <n>', 'port to listen on (0 = random)', int, 8188)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--no-login', 'remove and do not load the ComfyUI-Login node (no auth)')
  .option('--sampler-ms <n>', 'total KSampler run time in milliseconds', int, 0)
  .parse();

const opts = program.opts<{ dir: string; port: number; host: string; login: boolean; samplerMs: number }>();
const comfy = await startComfyDouble({ ...opts, log: (line) => process.stdout.write(`${line}\n`) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void comfy.close().then(() => process.exit(0));
  });
}
