import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorMessage, PanelError } from '../errors.js';
import { writeFileAtomic, type FileOwner } from '../fs/atomic.js';
import { decodeLossless } from '../fs/lossless.js';
import { NOT_REGULAR, readRegularFile } from '../fs/regular.js';
import { redact } from '../redact.js';
import { parsePasswordFile, passwordFileContent, type Credential } from './credential.js';

/** What a location holds now. Values are secrets: only fingerprints leave this module's callers. */
export type LocationReading =
  | { state: 'present'; token: string; values: Partial<Record<ValueSource, string>>; /** A non-secret value that is wrong (e.g. the URL). */ problem?: string }
  | { state: 'missing'; detail: string }
  | { state: 'malformed'; detail: string }
  | { state: 'unreadable'; detail: string };

export type ValueSource = 'token' | 'username' | 'password' | 'url';

/** The exact prior content of a location, to restore it byte for byte. SECRET (holds the old token). */
export interface LocationSnapshot {
  existed: boolean;
  /** Every byte kept: bytes that are not UTF-8 are escaped (app/fs/lossless.ts) and written back as they were. */
  content?: string;
  mode?: number;
  /** Host files: who owned it, for a restore that has to create it again. */
  owner?: FileOwner;
}

/** One place the credential is copied to. Injectable so tests can make any write fail. */
export interface CredentialLocation {
  readonly name: string;
  readonly path: string;
  /** False for a copy that carries no token (an env target mapping only the URL); the pre-commit re-read skips it. */
  readonly holdsToken?: boolean;
  read(): Promise<LocationReading>;
  snapshot(): Promise<LocationSnapshot>;
  write(cred: Credential): Promise<void>;
  restore(snapshot: LocationSnapshot): Promise<void>;
}

/** The subset of ContainerManager the container location needs. */
export interface ContainerFiles {
  readFileEntry(pathInContainer: string): Promise<{ data: Buffer; mode: number }>;
  writeFile(pathInContainer: string, data: Buffer | string, mode?: number): Promise<void>;
}

/** A file that is not there (host ENOENT, or ContainerManager's container-no-such-file); an absent container is not "missing". */
const isMissing = (e: unknown) => ['ENOENT', 'ENOTDIR', 'container-no-such-file'].includes((e as { code?: string }).code ?? '');
/** The container itself does not exist yet (first credential before the first start). */
const isAbsentContainer = (e: unknown) => (e as { code?: string }).code === 'docker-no-such-container';

function readingOfPasswordFile(text: string): LocationReading {
  const parsed = parsePasswordFile(text);
  if (!parsed.ok) return { state: 'malformed', detail: parsed.reason };
  return { state: 'present', token: parsed.hash, values: { token: parsed.hash, username: parsed.username } };
}

/** Host credential files (env targets, the secret file) are small; anything larger is not one. */
const MAX_HOST_FILE_BYTES = 1024 * 1024;

/** Only a regular file is read: a FIFO at a location's path must fail the operation, not hang it. */
async function readHostFile(file: string) {
  const { data, stat } = await readRegularFile(file, MAX_HOST_FILE_BYTES);
  return { text: decodeLossless(data), stat };
}

export async function hostSnapshot(file: string): Promise<LocationSnapshot> {
  try {
    const { text, stat } = await readHostFile(file);
    return { existed: true, content: text, mode: stat.mode & 0o777, owner: { uid: stat.uid, gid: stat.gid } };
  } catch (e) {
    if (isMissing(e)) return { existed: false };
    throw e;
  }
}

export async function hostRestore(file: string, snap: LocationSnapshot): Promise<void> {
  if (!snap.existed) {
    await fs.rm(file).catch((e: unknown) => {
      if (!isMissing(e)) throw e;
    });
    return;
  }
  // The file normally still exists and keeps its owner; if it was removed meanwhile it gets its old owner back.
  await writeFileAtomic(file, snap.content ?? '', { mode: snap.mode ?? 0o600, ...(snap.owner ? { newOwner: snap.owner } : {}), backup: false });
}

export async function readHost(file: string, interpret: (text: string) => LocationReading): Promise<LocationReading> {
  let text: string;
  try {
    text = (await readHostFile(file)).text;
  } catch (e) {
    if (isMissing(e)) return { state: 'missing', detail: 'no such file' };
    if (e instanceof PanelError && e.code === NOT_REGULAR) return { state: 'unreadable', detail: 'not a regular file (a FIFO, device or folder)' };
    return { state: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? 'cannot read' };
  }
  return interpret(text);
}

export interface SecretFileOptions {
  /** Owner of the file when it has to be created: the container user's uid:gid, so a non-root container can read it. */
  newOwner?: FileOwner;
}

/**
 * The host file mounted read-only into the container; its entrypoint copies it to
 * login/PASSWORD at start. Rewriting it keeps its owner, group and mode (the container
 * user must still read it); a new one is 0600, owned by `newOwner` when given.
 */
export function secretFileLocation(file: string, name = 'secret-file', opts: SecretFileOptions = {}): CredentialLocation {
  return {
    name,
    path: file,
    read: () => readHost(file, readingOfPasswordFile),
    snapshot: () => hostSnapshot(file),
    async write(cred) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, passwordFileContent(cred), { newMode: 0o600, ...(opts.newOwner ? { newOwner: opts.newOwner } : {}), backup: false });
    },
    restore: (snap) => hostRestore(file, snap),
  };
}

/**
 * login/PASSWORD inside the container, what ComfyUI-Login reads at start. When a host
 * secret file feeds it, writing is left to that file (the entrypoint copies it at
 * restart); otherwise it is written through the engine's archive API.
 */
export function containerPasswordLocation(files: ContainerFiles, comfyRoot: string, fedBySecretFile: boolean): CredentialLocation {
  const file = path.posix.join(comfyRoot, 'login', 'PASSWORD');
  const snapshot = async (): Promise<LocationSnapshot> => {
    try {
      const entry = await files.readFileEntry(file);
      return { existed: true, content: entry.data.toString('utf8'), mode: entry.mode & 0o777 };
    } catch (e) {
      // Nothing to restore in a container that does not exist yet.
      if (isMissing(e) || isAbsentContainer(e)) return { existed: false };
      throw e;
    }
  };
  return {
    name: 'container',
    path: `container:${file}`,
    async read() {
      try {
        return readingOfPasswordFile((await files.readFileEntry(file)).data.toString('utf8'));
      } catch (e) {
        if (isMissing(e)) return { state: 'missing', detail: 'no PASSWORD in the container' };
        if (isAbsentContainer(e)) return { state: 'missing', detail: 'the container does not exist yet' };
        return { state: 'unreadable', detail: redact(errorMessage(e)).slice(0, 200) };
      }
    },
    snapshot,
    async write(cred) {
      if (fedBySecretFile) return;
      await files.writeFile(file, passwordFileContent(cred), 0o600);
    },
    async restore(snap) {
      // A PASSWORD that did not exist cannot be deleted through the archive API; the restart then re-reads what is there.
      if (!fedBySecretFile && snap.existed) await files.writeFile(file, snap.content ?? '', snap.mode ?? 0o600);
    },
  };
}
