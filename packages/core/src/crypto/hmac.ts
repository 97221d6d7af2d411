/**
 * HMAC-SHA-256 through Web Crypto (`globalThis.crypto.subtle`: Node 20+, browsers, workers, Deno,
 * Bun), so core signs without `node:crypto`. Used by the sandbox's webhook signatures and the
 * unsubscribe tokens.
 */
import { TallyError } from '../errors/index.js';

// The subset of Web Crypto used here.
interface HmacKey {
  readonly type: string;
}
interface WebCrypto {
  subtle: {
    importKey(
      format: 'raw',
      key: Uint8Array,
      algorithm: { name: 'HMAC'; hash: 'SHA-256' },
      extractable: false,
      usages: ['sign'],
    ): Promise<HmacKey>;
    sign(algorithm: 'HMAC', key: HmacKey, data: Uint8Array): Promise<ArrayBuffer>;
  };
}

/** A signing function for `secret`; the key is imported on first use and kept. */
export function hmacSha256(secret: Uint8Array): (message: Uint8Array) => Promise<Uint8Array> {
  const crypto = (globalThis as unknown as { crypto?: WebCrypto }).crypto;
  if (!crypto?.subtle) throw new TallyError('VALIDATION', 'HMAC signing needs Web Crypto (globalThis.crypto.subtle)');
  let key: Promise<HmacKey> | null = null;
  return async (message) => {
    key ??= crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await crypto.subtle.sign('HMAC', await key, message));
  };
}
