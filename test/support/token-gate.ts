/**
 * An HTTP forwarder in front of a ComfyUI that lets through only the bearer tokens it was told
 * (a stale auth layer in front of the server: it still knows the old token and refuses every new
 * one with 401). Requests without a token pass, so the server's own 401 stays visible.
 *
 *   const gate = await startTokenGate('http://127.0.0.1:8188', [oldHash]);   // gate.url for comfyui.url
 *   gate.allowAll();                                                          // the cause fixed
 *   await gate.close();
 */
import http from 'node:http';
import type net from 'node:net';

export interface TokenGate {
  url: string;
  /** Let every token through from now on. */
  allowAll(): void;
  close(): Promise<void>;
}

export async function startTokenGate(upstream: string, allowed: string[]): Promise<TokenGate> {
  const target = new URL(upstream);
  let open = false;
  const server = http.createServer((req, res) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!open && bearer !== undefined && !allowed.includes(bearer)) {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    // A connection per request: one kept alive across a restart of the server would fail the next request.
    const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    // The server not there (restarting): the client sees a failed connection, as it would without the gate.
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    allowAll: () => void (open = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
