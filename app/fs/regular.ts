/**
 * Reading files the user (or an attacker) may have replaced by something else: a FIFO
 * would block the read forever (and with it libuv's file-system pool), a device may never
 * end. Only regular files are read, up to a size limit.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { PanelError } from '../errors.js';

export const NOT_REGULAR = 'fs-not-regular';
export const TOO_LARGE = 'fs-too-large';

export interface RegularFile {
  data: Buffer;
  /** The opened file's own status (what was read, not what the path pointed at earlier). */
  stat: Stats;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(file: string, st: Stats): PanelError {
  return new PanelError(`${file} is ${kindOf(st)}, not a regular file; only regular files are read`, NOT_REGULAR, `Replace ${file} by a regular file (or point the configuration at one).`);
}

const CHUNK = 64 * 1024;

/**
 * The bytes of a regular file. Errors: the file system's own (ENOENT, EACCES...) unchanged,
 * NOT_REGULAR for anything else than a regular file, TOO_LARGE past maxBytes. Symlinks are
 * followed. The type is checked before opening (opening a device can have effects) and again
 * on the opened descriptor, opened non-blocking, so a path swapped for a FIFO in between
 * cannot make the read wait.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<RegularFile> {
  const before = await fs.stat(file);
  if (!before.isFile()) throw notRegular(file, before);
  // O_NONBLOCK is undefined on Windows, where FIFOs cannot appear at a path anyway.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notRegular(file, stat);
    const tooLarge = (size: number) => new PanelError(`${file} is ${size} bytes, over the ${maxBytes}-byte limit; not read`, TOO_LARGE, `Check that ${file} is the file you mean.`);
    if (stat.size > maxBytes) throw tooLarge(stat.size);
    // Read to the end, but never past the limit: the file may grow while it is read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One byte more than the size says: a short read at the known size is the end, without another read.
      const chunk = Buffer.alloc(Math.min(Math.max(stat.size + 1 - total, 1), CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(total);
      if (bytesRead < chunk.length && total >= stat.size) break;
    }
    return { data: Buffer.concat(chunks, total), stat };
  } finally {
    await handle.close();
  }
}
