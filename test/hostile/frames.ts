/**
 * Raw WebSocket frames, valid and not, and a raw client socket that speaks the handshake
 * itself, so tests can send what no well-behaved library would (RFC 6455 section 5.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1-3 as a 3-bit number (must be 0 without an extension). */
  rsv?: number;
  /** Clients must mask, servers must not. */
  mask?: boolean;
  /** Claimed payload length, when it must differ from the real one (an "oversized" header). */
  claimedLength?: bigint;
}

export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const length = spec.claimedLength ?? BigInt(payload.length);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = spec.mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65_536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(length);
  }
  if (!spec.mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

const closePayload = (code: number, reason = '') => {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code);
  b.write(reason, 2);
  return b;
};

/** One bad frame per kind of protocol error a peer can commit. `masked` says which side sends them. */
export function badFrames(masked: boolean): { name: string; bytes: Buffer }[] {
  return [
    { name: 'invalid UTF-8 in a text frame', bytes: frame({ opcode: 1, payload: Buffer.from([0xc3, 0x28, 0xff]), mask: masked }) },
    { name: masked ? 'unmasked client frame' : 'masked server frame', bytes: frame({ opcode: 1, payload: 'hi', mask: !masked }) },
    { name: 'reserved opcode 0x3', bytes: frame({ opcode: 0x3, payload: 'x', mask: masked }) },
    { name: 'reserved control opcode 0xB', bytes: frame({ opcode: 0xb, mask: masked }) },
    { name: 'RSV1 set without an extension', bytes: frame({ opcode: 1, payload: 'x', rsv: 4, mask: masked }) },
    { name: 'RSV3 set', bytes: frame({ opcode: 2, payload: 'x', rsv: 1, mask: masked }) },
    { name: 'close code 999', bytes: frame({ opcode: 8, payload: closePayload(999), mask: masked }) },
    { name: 'close code 1005 on the wire', bytes: frame({ opcode: 8, payload: closePayload(1005), mask: masked }) },
    { name: 'close with a 1-byte payload', bytes: frame({ opcode: 8, payload: Buffer.from([3]), mask: masked }) },
    { name: 'fragmented ping', bytes: frame({ opcode: 9, fin: false, mask: masked }) },
    { name: 'continuation without a start', bytes: frame({ opcode: 0, payload: 'x', mask: masked }) },
    { name: 'a frame claiming 2^62 bytes', bytes: frame({ opcode: 2, claimedLength: 2n ** 62n, mask: masked }) },
    { name: 'a 1 MiB frame over the size limit', bytes: frame({ opcode: 2, payload: Buffer.alloc(1024 * 1024, 1), mask: masked }) },
    { name: 'a 64-bit length with the top bit set', bytes: frame({ opcode: 2, claimedLength: 2n ** 63n + 5n, mask: masked }) },
  ];
}

export interface RawClient {
  socket: net.Socket;
  /** The status line of the handshake answer, e.g. "HTTP/1.1 101 Switching Protocols". */
  status: string;
  /** Resolves when the server closed (or reset) the connection. */
  closed: Promise<void>;
  /** Every byte the server sent after the handshake. */
  received(): Buffer;
}

/** Opens a WebSocket by hand: the handshake with the given headers, then raw bytes are the caller's. */
export function rawWebSocket(port: number, pathname: string, headers: Record<string, string>): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    const expectAccept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    let buf = Buffer.alloc(0);
    let after: Buffer[] = [];
    let upgraded = false;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined); // a reset is one of the ways a server may close
    socket.on('data', (d: Buffer) => {
      if (upgraded) return void after.push(d);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      upgraded = true;
      after = [buf.subarray(end + 4)];
      const status = head.split('\r\n')[0] ?? '';
      if (/ 101 /.test(status) && !head.includes(expectAccept)) return reject(new Error('bad Sec-WebSocket-Accept'));
      resolve({ socket, status, closed, received: () => Buffer.concat(after) });
    });
    socket.once('connect', () => {
      const lines = [
        `GET ${pathname} HTTP/1.1`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.once('close', () => {
      if (!upgraded) reject(new Error('closed before the handshake answer'));
    });
  });
}
