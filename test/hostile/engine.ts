/**
 * A hostile Docker engine: an HTTP server on a unix socket (pass `unix://<socket>` as
 * docker.host) that answers the calls the panel makes about one running container, except the
 * routes told to stay silent, which accept the request and never answer, as a hung dockerd does.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';

export type EngineRoute = 'ping' | 'version' | 'inspect' | 'restart' | 'stop' | 'start' | 'archive' | 'events' | 'other';

export interface FakeEngine {
  host: string;
  /** "METHOD /path" of every request, in order. */
  requests: string[];
  /** Routes that accept and never answer. */
  silent: Set<EngineRoute>;
  close(): Promise<void>;
}

function routeOf(method: string, pathname: string): EngineRoute {
  if (pathname.endsWith('/_ping')) return 'ping';
  if (pathname.endsWith('/version')) return 'version';
  if (pathname.endsWith('/events')) return 'events';
  if (/\/containers\/[^/]+\/json$/.test(pathname)) return 'inspect';
  if (/\/containers\/[^/]+\/archive$/.test(pathname)) return 'archive';
  const action = /\/containers\/[^/]+\/(restart|stop|start)$/.exec(pathname)?.[1];
  if (method === 'POST' && action) return action as EngineRoute;
  return 'other';
}

/** What `docker inspect` says about a running container with a passing healthcheck. */
function inspectOf(name: string) {
  const now = new Date(Date.now() - 60_000).toISOString();
  return {
    Id: 'f'.repeat(64),
    Name: `/${name}`,
    Created: now,
    RestartCount: 0,
    Image: 'sha256:abc',
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 42, ExitCode: 0, Error: '', StartedAt: now, FinishedAt: '0001-01-01T00:00:00Z', Health: { Status: 'healthy' } },
    Config: { Image: 'comfyui-qwen:latest', Labels: {}, Tty: false, Env: [] },
    HostConfig: { PortBindings: {} },
    NetworkSettings: { Ports: {} },
    Mounts: [],
  };
}

export async function startFakeEngine(dir: string, container: string): Promise<FakeEngine> {
  const socket = path.join(dir, `engine-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
  const requests: string[] = [];
  const silent = new Set<EngineRoute>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.47' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const pathname = new URL(req.url ?? '/', 'http://engine').pathname;
    requests.push(`${req.method} ${pathname}`);
    req.resume();
    const route = routeOf(req.method ?? 'GET', pathname);
    if (silent.has(route)) return; // accepted, never answered
    switch (route) {
      case 'ping':
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.47' });
        return void res.end('OK');
      case 'version':
        return json(res, 200, { Version: '27.5.1', ApiVersion: '1.47', Os: 'linux', Arch: 'amd64' });
      case 'inspect':
        return json(res, pathname.includes(`/${container}/`) ? 200 : 404, pathname.includes(`/${container}/`) ? inspectOf(container) : { message: 'No such container' });
      case 'events':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.flushHeaders(); // an event stream with nothing to say
      case 'restart':
      case 'stop':
      case 'start':
        res.writeHead(204);
        return void res.end();
      case 'archive':
        return json(res, 404, { message: 'Could not find the file in container' });
      case 'other':
        return json(res, 404, { message: `page not found: ${pathname}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    host: `unix://${socket}`,
    requests,
    silent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
