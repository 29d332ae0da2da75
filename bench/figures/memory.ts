/**
 * Figure 7: memory of the process hosting the core, idle and after 100,000 log lines went
 * through it (a container's followed logs → the event bus → a WebSocket client, as a browser
 * would receive them). The Electron binary cannot be installed here, so the host measured is
 * the browser-mode server, `comfy-panel serve`, running the same core.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { measurement, type Figure } from '../measurement.js';
import { benchDocker, startPrinter } from '../support/docker.js';
import { startServe, stopServe, type ServeProcess } from '../support/serve.js';

const REPORTER = fileURLToPath(new URL('../support/memory-reporter.cjs', import.meta.url));
const IDLE_SETTLE_MS = 2_000;
const READY_TIMEOUT_MS = 15_000;
/** Lines stop arriving for this long: the burst is over (the server may drop lines for a slow client). */
const QUIET_MS = 3_000;
const POLL_MS = 100;
const MB = 1024 * 1024;

function memoryOf(child: ChildProcess): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the serve process did not report its memory (is the reporter loaded?)')), 5_000);
    child.once('message', (m: { type?: string; usage?: NodeJS.MemoryUsage }) => {
      clearTimeout(timer);
      if (m.type === 'memory' && m.usage) resolve(m.usage);
      else reject(new Error('unexpected message from the serve process'));
    });
    child.send('memory');
  });
}

async function callOp(serve: ServeProcess, name: string, input: unknown): Promise<void> {
  const res = await fetch(`${serve.origin}/api/op/${name}`, { method: 'POST', headers: { Authorization: serve.auth, 'Content-Type': 'application/json' }, body: JSON.stringify(input) });
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
}

/** The renderer's side of the socket: counts the log events it receives. */
async function eventClient(serve: ServeProcess): Promise<{ logs(): number; close(): void }> {
  const ws = new WebSocket(`${serve.origin.replace(/^http/, 'ws')}/api/events`, { headers: { Authorization: serve.auth } });
  let logs = 0;
  ws.on('message', (data: Buffer) => {
    if ((JSON.parse(data.toString()) as { event: string }).event === 'log') logs++;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { logs: () => logs, close: () => ws.close() };
}

export const memoryFigure: Figure = {
  id: 'memory',
  title: 'memory of the core host, idle and after log lines',
  async run(sizes, progress) {
    const docker = await benchDocker();
    const printer = await startPrinter(docker, { prefix: 'bench-memory', lines: sizes.memoryLines, mode: 'signal' });
    let serve: ServeProcess | undefined;
    let client: Awaited<ReturnType<typeof eventClient>> | undefined;
    try {
      serve = await startServe({ config: { container: { name: printer.name } }, nodeOptions: `--require ${REPORTER}`, ipc: true });
      client = await eventClient(serve);
      await sleep(IDLE_SETTLE_MS);
      const idle = await memoryOf(serve.child);

      await callOp(serve, 'containerLogsFollow', { follow: true });
      // The follow starts with new lines only: ping the printer until one arrives.
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (client.logs() === 0) {
        if (Date.now() > deadline) throw new Error(`no log line reached the event socket within ${READY_TIMEOUT_MS / 1000} s of containerLogsFollow`);
        await printer.container.kill({ signal: 'SIGHUP' });
        await sleep(300);
      }
      const before = client.logs();
      await printer.container.kill({ signal: 'SIGUSR2' });
      let lastCount = before;
      let lastChange = Date.now();
      while (client.logs() - before < sizes.memoryLines && Date.now() - lastChange < QUIET_MS) {
        await sleep(POLL_MS);
        if (client.logs() !== lastCount) [lastCount, lastChange] = [client.logs(), Date.now()];
      }
      const received = client.logs() - before;
      const after = await memoryOf(serve.child);
      progress(`memory: ${received} of ${sizes.memoryLines} lines reached the event socket`);
      const note = `comfy-panel serve (the Electron binary is not installable here); after gc; ${received} of ${sizes.memoryLines} lines reached the WebSocket client`;
      return [
        measurement({ id: 'memory.rss', label: `RSS after ${sizes.memoryLines} log lines`, value: after.rss / MB, unit: 'MB', baseline: idle.rss / MB, baselineLabel: 'RSS at idle', note }),
        measurement({ id: 'memory.heap', label: `JS heap used after ${sizes.memoryLines} log lines`, value: after.heapUsed / MB, unit: 'MB', baseline: idle.heapUsed / MB, baselineLabel: 'heap used at idle', note }),
      ];
    } finally {
      client?.close();
      if (serve) await stopServe(serve, progress);
      await printer.remove();
    }
  },
};
