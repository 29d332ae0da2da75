import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PanelError } from '../errors.js';
import { fingerprint } from '../redact.js';

/**
 * The ComfyUI-Login credential. ComfyUI-Login compares the API token as a plain string
 * against line 1 of login/PASSWORD, so the bcrypt HASH is the bearer token: the hash is a
 * secret too, exactly like the password (which only the browser login form uses).
 */
export interface Credential {
  /** bcrypt hash `$2b$12$...`: also the API bearer token. SECRET. */
  hash: string;
  username: string;
  /** The raw password for the browser login form; unknown for an imported hash. SECRET. */
  password?: string;
  /** ISO time the credential was created or imported. */
  createdAt: string;
}

/** Production cost; tests lower it through COMFY_PANEL_TEST_BCRYPT_COST (only under NODE_ENV=test or vitest). */
export const BCRYPT_COST = 12;

const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(value: string): boolean {
  return BCRYPT_HASH.test(value);
}

/** The cost to hash with: 12, unless a test run asks for less to stay fast. */
export function bcryptCost(env: NodeJS.ProcessEnv = process.env): number {
  const asked = env.COMFY_PANEL_TEST_BCRYPT_COST;
  const isTest = env.NODE_ENV === 'test' || Boolean(env.VITEST);
  if (!asked || !isTest) return BCRYPT_COST;
  const n = Number(asked);
  if (!Number.isInteger(n) || n < 4 || n > 31) throw new PanelError(`COMFY_PANEL_TEST_BCRYPT_COST=${asked} is not a bcrypt cost`, 'config', 'Use an integer from 4 to 31.');
  return n;
}

/** 24 random bytes as base64url: 32 URL-safe characters, well under bcrypt's 72-byte limit. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

// bcryptjs is pure JS and blocks its thread for ~200 ms at cost 12, so hashing runs in a
// Worker. The worker is an eval'd CommonJS script loading bcryptjs by absolute path, which
// works the same under tsx, vitest and a bundled build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.postMessage(bcrypt.hashSync(workerData.password, bcrypt.genSaltSync(workerData.cost)));
`;

export async function hashPassword(password: string, cost = bcryptCost()): Promise<string> {
  const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath, password, cost } });
  try {
    return await new Promise<string>((resolve, reject) => {
      worker.once('message', (hash: unknown) => (typeof hash === 'string' ? resolve(hash) : reject(new Error('bcrypt worker returned no hash'))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`bcrypt worker exited with code ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** A fresh credential: strong password, its bcrypt hash (the API token, a secret too). */
export async function createCredential(username: string, now = new Date()): Promise<Credential> {
  const password = generatePassword();
  return { hash: await hashPassword(password), username, password, createdAt: now.toISOString() };
}

/** The login/PASSWORD file content: `<hash>\n<username>`, no trailing newline. */
export function passwordFileContent(cred: Pick<Credential, 'hash' | 'username'>): string {
  return `${cred.hash}\n${cred.username}`;
}

export type ParsedPasswordFile = { ok: true; hash: string; username: string } | { ok: false; reason: string };

/** Reads a PASSWORD file as ComfyUI-Login does: line 1 the hash, line 2 the username. */
export function parsePasswordFile(text: string): ParsedPasswordFile {
  const [first = '', second = ''] = text.split('\n');
  const hash = first.replace(/\r$/, '').trim();
  if (!isBcryptHash(hash)) return { ok: false, reason: hash === '' ? 'line 1 is empty' : 'line 1 is not a bcrypt hash' };
  return { ok: true, hash, username: second.replace(/\r$/, '').trim() };
}

/** Safe to show: fingerprints of the token (hash) and the password, never the values. */
export function describeCredential(cred: Credential): { fingerprint: string; passwordFingerprint?: string; username: string; createdAt: string } {
  return {
    fingerprint: fingerprint(cred.hash),
    ...(cred.password ? { passwordFingerprint: fingerprint(cred.password) } : {}),
    username: cred.username,
    createdAt: cred.createdAt,
  };
}
