/** The Docker side of the bench: the engine the panel would use, and containers that print log lines. */
import type Docker from 'dockerode';
import { parseConfig } from '../../app/config/load.js';
import { connectDocker, resolveDockerTarget } from '../../app/docker/connection.js';
import { errorMessage } from '../../app/errors.js';
import { ensureDoubleImage } from '../../test/support/double-image.js';

/** The engine from DOCKER_HOST / the Docker context, as the panel resolves it; throws when it cannot be reached. */
export async function benchDocker(): Promise<Docker> {
  const config = parseConfig({});
  const { docker } = connectDocker(config);
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(`no Docker engine at ${resolveDockerTarget(config).host} (${errorMessage(e)}); start one with: eval "$(scripts/dockerd.sh start)"`, { cause: e });
  }
  return docker;
}

/**
 * ComfyUI-like lines: ANSI colours, an access-log shape, every 10th on stderr and every
 * 100th carrying a bcrypt token (as ComfyUI-Login's startup line does) for the redaction.
 * burst: print them and exit. signal: SIGHUP prints one "ready" line, SIGUSR2 prints them.
 * Pipes are synchronous in Node on Linux, so a plain loop of writes is backpressured.
 */
const PRINTER = String.raw`
const n = Number(process.env.LINES);
const hash = '$2b$12$' + 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 53);
function burst() {
  let out = '', err = '';
  for (let i = 1; i <= n; i++) {
    const text = i % 100 === 0
      ? 'For direct API calls, use token=' + hash + '\n'
      : '\x1b[32mINFO\x1b[0m 172.17.0.1 [24/Nov/2026:11:00:00 +0000] "GET /system_stats HTTP/1.1" 200 512 line ' + i + '\n';
    if (i % 10 === 0) err += text; else out += text;
    if (i % 1000 === 0 || i === n) { process.stdout.write(out); process.stderr.write(err); out = ''; err = ''; }
  }
}
if (process.env.MODE === 'burst') burst();
else {
  process.on('SIGHUP', () => process.stdout.write('ready\n'));
  process.on('SIGUSR2', burst);
  setInterval(() => {}, 1 << 30);
}
`;

export interface PrinterContainer {
  name: string;
  container: Docker.Container;
  remove(): Promise<void>;
}

/** Creates and starts a container (the double's image, node inside) running the line printer. */
export async function startPrinter(docker: Docker, opts: { prefix: string; lines: number; mode: 'burst' | 'signal' }): Promise<PrinterContainer> {
  const image = await ensureDoubleImage(docker);
  const name = `${opts.prefix}-${process.pid}-${Date.now().toString(36)}`;
  const container = await docker.createContainer({
    name,
    Image: image,
    Entrypoint: ['/usr/bin/node', '-e', PRINTER],
    Cmd: [],
    Env: [`LINES=${opts.lines}`, `MODE=${opts.mode}`],
    Healthcheck: { Test: ['NONE'] },
    Labels: { 'comfy-panel.bench': opts.prefix },
  });
  const remove = () => container.remove({ force: true }).then(() => undefined, () => undefined);
  try {
    await container.start();
  } catch (e) {
    await remove();
    throw e;
  }
  return { name, container, remove };
}
