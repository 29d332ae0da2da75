import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, PanelError } from '../../errors.js';
import { rendererDir } from '../../package-root.js';
import { DEFAULT_SESSION_LIMITS } from '../../serve/guard.js';
import { LOGIN_URL_PATH, startBrowserServer } from '../../serve/server.js';
import { createPanelRuntime } from '../../service/runtime.js';
import type { CliContext } from '../context.js';

const HOST = '127.0.0.1';

async function portFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

/**
 * The error for a taken port. The panel does not move to another port by itself: the printed
 * URL and an operator's `ssh -L` tunnel name the port, and a taken port is most often a panel
 * that already runs, which a second one on another port would hide. It names a free port to use.
 */
async function portTaken(port: number, cause: unknown): Promise<PanelError> {
  let free: number | undefined;
  for (let p = port + 1; p <= Math.min(port + 20, 65535) && free === undefined; p++) if (await portFree(p)) free = p;
  const suggestion = free ?? 0;
  return new PanelError(
    `port ${port} on ${HOST} is already in use (is the panel already running? \`ss -ltnp 'sport = :${port}'\` shows what listens there)`,
    'port-in-use',
    `Open the panel that runs there, stop what holds the port, or start on another one: \`npm start -- --port ${suggestion}\` (or \`comfy-panel serve --port ${suggestion}\`)${free ? `; ${free} is free now` : ''}. \`--port 0\` takes any free port and prints it.`,
    { cause },
  );
}

export function registerServeCommand(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description('browser mode: serve the panel on 127.0.0.1 (reach it through an SSH tunnel); prints a URL with a one-time key')
    .option('-p, --port <port>', `port on ${HOST} (default: 8390; 0 picks a free one)`, '8390')
    .action(async (opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: "${opts.port}" is not a port number (0-65535)`);
      const dir = rendererDir();
      if (!existsSync(path.join(dir, 'index.html'))) throw new ConfigError(`no built renderer in ${dir}`, 'run `npm run build` first');
      const runtime = createPanelRuntime({ mode: 'browser', loaded: await cli.wholeConfig(), paths: cli.rootPaths });
      const { bus, handlers } = runtime;
      let server: Awaited<ReturnType<typeof startBrowserServer>>;
      try {
        server = await startBrowserServer({ handlers, bus, rendererDir: dir, port });
      } catch (e) {
        await runtime.dispose();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw await portTaken(port, e);
        if (code === 'EACCES') throw new PanelError(`port ${port} on ${HOST} may not be opened by this user`, 'port-denied', 'Use a port above 1023, e.g. `npm start -- --port 8390`.', { cause: e });
        throw e;
      }
      // The link and the launch key are the credentials of this launch: they go to the operator's terminal only.
      const newLink = `curl -s -X POST -H 'Authorization: Bearer ${server.key}' http://127.0.0.1:${server.port}${LOGIN_URL_PATH}`;
      if (cli.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, key: server.key })}\n`);
      else
        process.stdout.write(
          [
            `ComfyUI Control Panel (browser mode) is listening on ${HOST}:${server.port}`,
            `Open: ${server.url}`,
            `  (this link signs in once, within ${DEFAULT_SESSION_LIMITS.ticketTtlMs / 60_000} minutes; a session lasts up to ${DEFAULT_SESSION_LIMITS.maxAgeMs / 3_600_000} h, ${DEFAULT_SESSION_LIMITS.idleMs / 3_600_000} h without use, or until you sign out)`,
            `A new sign-in link: ${newLink}`,
            `Scripts: send the header "Authorization: Bearer ${server.key}"`,
            `From another machine: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>, then open the link.`,
            '',
          ].join('\n'),
        );
      await new Promise<void>((resolve) => {
        const stop = () => void Promise.all([server.close(), runtime.dispose()]).then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
