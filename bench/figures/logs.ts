/**
 * Figure 5: log lines per second from a container to the renderer's store, through the
 * panel's path (ContainerManager.logs: demux, line split, ANSI strip, redaction → event bus
 * → LogStore.append with a synchronous scheduler), against reading the same raw Docker log
 * stream without processing.
 */
import type { Readable } from 'node:stream';
import { parseConfig } from '../../app/config/load.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { EventBus } from '../../app/service/bus.js';
import { LogStore } from '../../renderer/src/stores/log-store.js';
import { measurement, type Figure } from '../measurement.js';
import { benchDocker, startPrinter } from '../support/docker.js';
import { alternate, median } from '../stats.js';

export const logsFigure: Figure = {
  id: 'logs',
  title: 'logs: container to renderer store',
  async run(sizes, progress) {
    const docker = await benchDocker();
    const printer = await startPrinter(docker, { prefix: 'bench-logs', lines: sizes.logLines, mode: 'burst' });
    try {
      const exit = (await printer.container.wait()) as { StatusCode: number };
      if (exit.StatusCode !== 0) throw new Error(`the log printer container exited with ${exit.StatusCode}`);
      progress(`logs: container printed ${sizes.logLines} lines`);

      // follow on a stopped container streams everything, then ends: the live path, bounded.
      let bytes = 0;
      const raw = async () => {
        const stream = (await printer.container.logs({ follow: true, stdout: true, stderr: true, timestamps: true })) as unknown as Readable;
        bytes = 0;
        for await (const chunk of stream) bytes += (chunk as Buffer).length;
      };
      const manager = new ContainerManager(parseConfig({ container: { name: printer.name } }));
      const pipeline = async () => {
        const bus = new EventBus();
        const store = new LogStore(10_000, (fn) => fn());
        let received = 0;
        bus.on('log', (line) => {
          received++;
          store.append([line]);
        });
        await manager.logs({ tail: 'all', follow: true, onLine: (line) => bus.emit('log', line) });
        if (received !== sizes.logLines) throw new Error(`the store received ${received} of ${sizes.logLines} lines`);
        if (store.lines().some((l) => l.text.includes('$2b$'))) throw new Error('a token reached the store unredacted');
      };

      const times = await alternate(sizes.logRounds, raw, pipeline);
      const rate = (ms: number) => Math.round(sizes.logLines / (ms / 1000));
      return [
        measurement({
          id: 'logs.throughput',
          label: `${sizes.logLines} lines (${Math.round(bytes / 1024)} KB raw) through demux, strip, redact, bus, LogStore; median of ${sizes.logRounds}`,
          value: rate(median(times.b)),
          unit: 'lines/s',
          baseline: rate(median(times.a)),
          baselineLabel: 'raw docker logs stream, bytes only',
          target: { kind: 'value-min', limit: 50_000, text: '>= 50,000 lines/s' },
        }),
      ];
    } finally {
      await printer.remove();
    }
  },
};
