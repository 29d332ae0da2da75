import { constants, promises as fs, type Stats } from 'node:fs';
import { PanelError } from '../errors.js';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

/**
 * Reads a file that must be a regular file of at most maxBytes. Opened non-blocking, so a
 * FIFO is refused instead of waiting for a writer forever, and a device (/dev/zero) is refused
 * before a byte is read. Errors: `not-regular-file`, `file-too-large` (message names the file).
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new PanelError(`${file}: not a regular file (${kindOf(st)})`, 'not-regular-file');
    if (st.size > maxBytes) throw new PanelError(`${file}: larger than ${maxBytes} bytes (${st.size})`, 'file-too-large');
    // Read no more than the limit even if the file grows meanwhile.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) throw new PanelError(`${file}: larger than ${maxBytes} bytes`, 'file-too-large');
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await handle.close();
  }
}
