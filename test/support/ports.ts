/**
 * Ports for test servers and containers that must be named before they listen. They come
 * from below the kernel's ephemeral range: Docker hands out random published ports (and the
 * kernel outgoing ones) from inside it, counting up from its start, so a port picked there
 * and freed (ComfyUI's old port once the gateway hides it) is soon taken by another test's
 * container, and a test that asserts nothing answers on it fails.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const LOW = 10_000;

function tryPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port nobody listens on right now, outside the range Docker and the kernel pick from. */
export async function freePort(): Promise<number> {
  const high = ephemeralStart();
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW));
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free port found between ${LOW} and ${high}`);
}
