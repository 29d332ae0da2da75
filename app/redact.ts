import { createHash } from 'node:crypto';

/** A short, stable, non-reversible name for a secret: safe to show, log and compare. */
export function fingerprint(secret: string): string {
  return `fp:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)}`;
}

/** Shows only that a value exists and how long it is. */
export function mask(value: string): string {
  if (value === '') return '(empty)';
  return `•••• (${value.length} chars, ${fingerprint(value)})`;
}

const BCRYPT = /\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}/g;
const TOKEN_PARAM = /\b(token=)([^\s&"']+)/gi;
const BEARER = /\b(Bearer\s+)([^\s"']+)/g;

/**
 * Removes anything that looks like a ComfyUI credential from free text: bcrypt hashes
 * (the API token), `token=` values (the ComfyUI-Login startup line, URLs) and Bearer
 * headers. Known secrets passed in are replaced too, wherever they appear.
 */
export function redact(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const s of known) if (s.length >= 6) out = out.split(s).join(`[redacted ${fingerprint(s)}]`);
  return out
    .replace(BCRYPT, (h) => `[redacted ${fingerprint(h)}]`)
    .replace(TOKEN_PARAM, (_m, k: string, v: string) => (v.startsWith('[redacted') ? `${k}${v}` : `${k}[redacted ${fingerprint(v)}]`))
    .replace(BEARER, (_m, k: string, v: string) => (v.startsWith('[redacted') ? `${k}${v}` : `${k}[redacted ${fingerprint(v)}]`));
}
