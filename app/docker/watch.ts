import type Docker from 'dockerode';
import type { ContainerState } from '../contract/ops/container.js';
import { graceEndsIn } from './state.js';

/** Docker actions that can change the phase (health_status matches "health_status: healthy" etc.). */
const EVENTS = ['create', 'start', 'restart', 'die', 'oom', 'kill', 'stop', 'destroy', 'pause', 'unpause', 'health_status'];
const RECONNECT_MS = 2_000;

export interface WatchDeps {
  name: string;
  /** A client without an idle timeout: the events stream is quiet for long stretches. */
  events: Docker;
  state: () => Promise<ContainerState>;
  inspect: () => Promise<Docker.ContainerInspectInfo | undefined>;
}

/**
 * Emits the container's state once connected and on every transition. Each Docker event
 * triggers a fresh inspect (events alone do not say "crashed" vs "stopped"); refreshes run
 * one at a time. A running container without a healthcheck gets a timer for the end of
 * its grace period. The stream reconnects if the engine goes away.
 */
export function watchContainer(deps: WatchDeps, onState: (s: ContainerState) => void): () => void {
  let closed = false;
  let lastKey: string | undefined;
  let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();

  const refresh = () => {
    queue = queue
      .then(async () => {
        if (closed) return;
        const s = await deps.state();
        const key = `${s.id ?? ''}|${s.phase}|${s.health ?? ''}`;
        if (!closed && key !== lastKey) {
          lastKey = key;
          onState(s);
        }
        clearTimeout(graceTimer);
        const info = s.phase === 'starting' ? await deps.inspect() : undefined;
        const left = info && graceEndsIn(info);
        if (left !== undefined && !closed) graceTimer = setTimeout(refresh, left + 50);
      })
      .catch(() => undefined); // the events stream's own error handler reconnects
  };

  const reconnect = () => {
    stream = undefined;
    if (!closed) reconnectTimer = setTimeout(connect, RECONNECT_MS);
  };

  const connect = () => {
    deps.events
      .getEvents({ filters: { type: ['container'], container: [deps.name], event: EVENTS } })
      .then((s) => {
        if (closed) return (s as { destroy?: () => void }).destroy?.();
        stream = s;
        let partial = '';
        s.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          if (lines.some((l) => l.trim())) refresh();
        });
        s.on('error', () => undefined);
        s.on('close', reconnect);
        refresh();
      })
      .catch(reconnect);
  };

  connect();
  return () => {
    closed = true;
    clearTimeout(graceTimer);
    clearTimeout(reconnectTimer);
    stream?.destroy?.();
  };
}
