import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fernet (the cryptography package's token format), which aiohttp_session's
 * EncryptedCookieStorage uses for the AIOHTTP_SESSION cookie: version 0x80, 8-byte timestamp,
 * 16-byte IV, AES-128-CBC ciphertext, HMAC-SHA256 over all of it; urlsafe base64 with padding.
 * The key is the urlsafe-base64 text ComfyUI-Login keeps in `.secret-key.txt` (32 bytes:
 * signing key, then encryption key). Hand-written because no maintained npm package implements it
 * on node:crypto; the spec's test vector checks it (test/double/sessions.test.ts).
 */
export class Fernet {
  private readonly signing: Buffer;
  private readonly encryption: Buffer;

  /** Throws like cryptography's Fernet(key) when the key is not 32 url-safe base64-encoded bytes. */
  constructor(key: string) {
    const raw = /^[A-Za-z0-9_-]*={0,2}$/.test(key) && key.length % 4 === 0 ? Buffer.from(key, 'base64url') : Buffer.alloc(0);
    if (raw.length !== 32) throw new Error('Fernet key must be 32 url-safe base64-encoded bytes.');
    this.signing = raw.subarray(0, 16);
    this.encryption = raw.subarray(16);
  }

  encrypt(data: Buffer, now = Math.floor(Date.now() / 1000), iv: Buffer = randomBytes(16)): string {
    const cipher = createCipheriv('aes-128-cbc', this.encryption, iv);
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(now));
    const basic = Buffer.concat([Buffer.from([0x80]), ts, iv, cipher.update(data), cipher.final()]);
    const mac = createHmac('sha256', this.signing).update(basic).digest();
    return Buffer.concat([basic, mac]).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  }

  /** The plaintext, or undefined where cryptography raises InvalidToken. No TTL (the node sets none). */
  decrypt(token: string): Buffer | undefined {
    if (!/^[A-Za-z0-9_-]*={0,2}$/.test(token) || token.length % 4 !== 0) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 1 + 8 + 16 + 16 + 32 || raw[0] !== 0x80) return undefined;
    const basic = raw.subarray(0, raw.length - 32);
    const mac = createHmac('sha256', this.signing).update(basic).digest();
    if (!timingSafeEqual(mac, raw.subarray(raw.length - 32))) return undefined;
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.encryption, basic.subarray(9, 25));
      return Buffer.concat([decipher.update(basic.subarray(25)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
