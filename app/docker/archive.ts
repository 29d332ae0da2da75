import type { Readable } from 'node:stream';
import path from 'node:path';
import tar from 'tar-stream';
import { PanelError } from '../errors.js';

export interface ArchiveFile {
  data: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** Reads the single file of a `getArchive` tar; a directory is an error. */
export async function readArchiveFile(archive: NodeJS.ReadableStream, pathInContainer: string): Promise<ArchiveFile> {
  try {
    return await firstFile((archive as Readable).pipe(tar.extract()), pathInContainer);
  } finally {
    (archive as Readable).destroy(); // stop the transfer of anything after the first entry
  }
}

async function firstFile(extract: tar.Extract, pathInContainer: string): Promise<ArchiveFile> {
  for await (const entry of extract) {
    const { type, mode = 0, uid = 0, gid = 0 } = entry.header;
    if (type !== 'file') {
      throw new PanelError(`${pathInContainer} in the container is a ${type ?? 'non-file'}, not a file`, 'container-not-a-file');
    }
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    return { data: Buffer.concat(parts), mode: mode & 0o7777, uid, gid };
  }
  throw new PanelError(`the archive of ${pathInContainer} is empty`, 'container-empty-archive');
}

/** Every regular file of a `getArchive` tar (a folder's), by its path in the tar. */
export async function readArchiveFiles(archive: NodeJS.ReadableStream): Promise<{ name: string; data: Buffer }[]> {
  const files: { name: string; data: Buffer }[] = [];
  for await (const entry of (archive as Readable).pipe(tar.extract())) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    if (entry.header.type === 'file') files.push({ name: entry.header.name, data: Buffer.concat(parts) });
  }
  return files;
}

export interface EntryHeader {
  type: string;
  uid: number;
  gid: number;
}

/** Type and owner of the first entry of an archive (the path itself), without reading the rest. */
export async function archiveEntry(archive: NodeJS.ReadableStream): Promise<EntryHeader | undefined> {
  const extract = (archive as Readable).pipe(tar.extract());
  try {
    for await (const entry of extract) {
      const { type = 'file', uid = 0, gid = 0 } = entry.header;
      return { type, uid, gid };
    }
    return undefined;
  } finally {
    (archive as Readable).destroy(); // only the first header is needed, not the folder's content
  }
}

/** A tar holding one file, for `putArchive` into the file's folder. */
export async function packFile(pathInContainer: string, data: Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: path.posix.basename(pathInContainer), mode, size: data.length, mtime: new Date(), ...(owner ?? { uid: 0, gid: 0 }) }, data);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
