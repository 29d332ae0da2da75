// After the e2e run: searches everything an operator or a log collector could see (server
// logs, audit and history files, CLI output, page text dumps, every payload the renderer
// received) for the live secrets of every vault the run created. Prints `leak-scan: ...`
// and exits 1 on any hit, naming the file and the secret's fingerprint, never the secret.
// The gateway's raw client keys and one-time links (cpk_/cpl_) count too: any such string whose
// SHA-256 is in a key store (keys.json) of the run is a live key that leaked. The upstream hash
// the gateway holds is the vault's current hash, looked for like every vault secret.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { hashSecret, KEY_STORE_FILE, parseKeyStore } from '../app/gateway/keys.js';
import { fingerprint } from '../app/redact.js';
import { Vault, VAULT_FILE } from '../app/tokens/vault.js';

const OUT = path.resolve(process.argv[2] ?? 'e2e-output');

function walk(dir: string, keep: (file: string) => boolean, found: string[] = []): string[] {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, keep, found);
    else if (entry.isFile() && keep(full)) found.push(full);
  }
  return found;
}

async function liveSecrets(): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (const file of walk(OUT, (f) => path.basename(f) === VAULT_FILE)) {
    const state = await new Vault(path.dirname(file)).read();
    for (const cred of [state?.current, state?.previous]) {
      for (const s of [cred?.hash, cred?.password]) if (s) secrets.set(s, fingerprint(s));
    }
  }
  return secrets;
}

/** Hash -> what it names, for every key and link of every gateway key store the run wrote. */
function liveKeyHashes(): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const file of walk(OUT, (f) => path.basename(f) === KEY_STORE_FILE)) {
    const store = parseKeyStore(readFileSync(file, 'utf8'), file);
    for (const k of store.keys) hashes.set(k.hash, `client key ${k.name} (…${k.hint})`);
    for (const l of store.links) hashes.set(l.hash, `login link of ${l.keyId}`);
  }
  return hashes;
}

/**
 * What may be seen: logs, audit and rotation journal files, history JSON(L), page text, payloads,
 * reports. Not the places that must hold the token: env files in the project, secret files.
 */
function scanned(file: string): boolean {
  const rel = path.relative(OUT, file).split(path.sep);
  if (rel.includes('project') || rel.includes('secrets')) return false;
  return /\.(log|txt|jsonl|json|md|html)$/.test(file) && statSync(file).size < 64 * 1024 * 1024;
}

const secrets = await liveSecrets();
const keyHashes = liveKeyHashes();
const files = walk(OUT, scanned);
const hits: string[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const [secret, fp] of secrets) {
    if (text.includes(secret) || text.includes(encodeURIComponent(secret))) hits.push(`${path.relative(OUT, file)} contains ${fp}`);
  }
  for (const candidate of new Set(text.match(/cp[kl]_[A-Za-z0-9_-]{43}/g) ?? [])) {
    const named = keyHashes.get(hashSecret(candidate));
    if (named) hits.push(`${path.relative(OUT, file)} contains the raw ${named}, ${fingerprint(candidate)}`);
  }
}
console.log(`leak-scan: ${secrets.size} live secrets from the run's vaults, ${keyHashes.size} client keys from its key stores, ${files.length} files scanned, ${hits.length} leaks`);
for (const h of hits) console.log(`  LEAK ${h}`);
process.exit(hits.length ? 1 : secrets.size + keyHashes.size === 0 ? 3 : 0);
