import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { rendererDir } from '../../package-root.js';
import { startBrowserServer } from '../../serve/server.js';
import { createPanelRuntime } from '../../service/runtime.js';
import type { CliContext } from '../context.js';

export function registerServeCommand(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description('browser mode: serve the panel on 127.0.0.1 (reach it through an SSH tunnel); prints a URL with a one-time key')
    .option('-p, --port <port>', 'port on 127.0.0.1 (default: 8390; 0 picks a free one)', '8390')
    .action(async (opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: "${opts.port}" is not a port number (0-65535)`);
      const dir = rendererDir();
      if (!existsSync(path.join(dir, 'index.html'))) throw new ConfigError(`no built renderer in ${dir}`, 'run `npm run build` first');
      const runtime = createPanelRuntime({ mode: 'browser', loaded: await cli.config(), paths: cli.paths });
      const { ctx, handlers } = runtime;
      const server = await startBrowserServer({ handlers, bus: ctx.bus, rendererDir: dir, port });
      // The key is the credential for this launch: it goes to the operator's terminal only.
      if (cli.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
      else process.stdout.write(`ComfyUI Control Panel (browser mode) is listening on 127.0.0.1:${server.port}\nOpen: ${server.url}\nFrom another machine: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>, then open the same URL.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void Promise.all([server.close(), runtime.dispose()]).then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
