import { TallyError } from '../errors/index.js';

// The subset of Web Crypto the vault uses (Node 20+, browsers, workers, Deno, Bun).
interface AesKey {
  readonly type: string;
}
interface AesGcmParams {
  name: 'AES-GCM';
  iv: Uint8Array;
  additionalData: Uint8Array;
  tagLength: 128;
}
interface WebCrypto {
  getRandomValues<T extends Uint8Array>(array: T): T;
  subtle: {
    importKey(
      format: 'raw',
      key: Uint8Array,
      algorithm: { name: 'AES-GCM' },
      extractable: false,
      usages: ['encrypt', 'decrypt'],
    ): Promise<AesKey>;
    encrypt(algorithm: AesGcmParams, key: AesKey, data: Uint8Array): Promise<ArrayBuffer>;
    decrypt(algorithm: AesGcmParams, key: AesKey, data: Uint8Array): Promise<ArrayBuffer>;
  };
}
// Base64 of binary strings: a global in every runtime core supports (Node 16+, browsers, workers, Deno, Bun).
const base64 = globalThis as unknown as { atob(text: string): string; btoa(binary: string): string };

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Provider keys are short; even a service-account JSON fits many times over. */
const MAX_SECRET_BYTES = 16 * 1024;
/** Secrets shorter than this show none of their characters (`last4` is empty). */
const MIN_LENGTH_TO_SHOW = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DOES_NOT_OPEN = 'the sealed secret does not open';

/** What a sealed secret is bound to: it opens only for the same customer and provider. */
export interface SecretContext {
  customerId: string;
  provider: string;
}

/**
 * A provider key encrypted with AES-256-GCM. Holds no key material; safe to store and to log
 * (except `last4`, which is meant for display).
 */
export interface SealedSecret {
  version: 1;
  /** Which vault key sealed it: `needsRotation` compares it with the active key. */
  keyId: string;
  /** Base64 of the 12 random bytes of the GCM nonce (fresh for every seal). */
  iv: string;
  /** Base64 of the ciphertext followed by the 16-byte GCM tag. */
  ciphertext: string;
  /** The last 4 characters of the secret, for display; empty for secrets under 12 characters. */
  last4: string;
}

/**
 * What `open`, `rotate` and `serializeSealed` need, and what `parseSealed` returns: a sealed secret
 * without its display hint (the compact string does not carry `last4`; store it beside it).
 */
export type StoredSecret = Omit<SealedSecret, 'last4'>;

export interface KeyVaultOptions {
  /** Every key the vault can open with, by id (`[A-Za-z0-9_-]`, ≤ 64): 32 raw bytes or their base64. */
  keys: Readonly<Record<string, Uint8Array | string>>;
  /** The key new secrets are sealed with; must be one of `keys`. */
  activeKeyId: string;
}

export interface KeyVault {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  /** Encrypts a provider key under the active key, bound to the customer and provider. */
  seal(plaintext: string, context: SecretContext): Promise<SealedSecret>;
  /**
   * Decrypts a sealed secret. `NOT_FOUND` when its key is not in the vault (retired); `VALIDATION`
   * when it was tampered with, sealed by a different key, or sealed for another customer or provider.
   */
  open(sealed: StoredSecret, context: SecretContext): Promise<string>;
  /** True when the secret was sealed with a key other than the active one. */
  needsRotation(sealed: StoredSecret): boolean;
  /** Opens with the key it was sealed under and seals again under the active key (a fresh IV). */
  rotate(sealed: StoredSecret, context: SecretContext): Promise<SealedSecret>;
  /** `serializeSealed`, at hand on the vault. */
  serialize(sealed: StoredSecret): string;
  /** `parseSealed`, at hand on the vault. */
  parseSealed(text: string): StoredSecret;
}

/**
 * A vault for customers' own provider keys (BYOK): AES-256-GCM through Web Crypto, with the
 * customer id and provider as additional authenticated data, and key ids for rotation.
 *
 * Rotation: add the new key to `keys` and make it `activeKeyId` (new secrets use it at once, old ones
 * still open); `rotate` every stored secret for which `needsRotation` is true; once none is left,
 * remove the old key. A secret missed by the sweep then fails with `NOT_FOUND` naming the old key id.
 */
export function createKeyVault(options: KeyVaultOptions): KeyVault {
  const found = (globalThis as unknown as { crypto?: WebCrypto }).crypto;
  if (!found?.subtle || typeof found.getRandomValues !== 'function') {
    throw new TallyError('INTERNAL', 'createKeyVault needs Web Crypto (globalThis.crypto.subtle), which this runtime does not provide');
  }
  const crypto: WebCrypto = found;
  const { keys, activeKeyId } = validateOptions(options);
  const imported = new Map<string, Promise<AesKey>>();

  function keyFor(keyId: string): Promise<AesKey> {
    const cached = imported.get(keyId);
    if (cached) return cached;
    const raw = keys.get(keyId);
    if (!raw) {
      throw new TallyError('NOT_FOUND', `the sealed secret was sealed with key "${keyId}", which is not in the vault (retired?)`, {
        details: { keyId },
      });
    }
    const key = crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    imported.set(keyId, key);
    return key;
  }

  async function seal(plaintext: string, context: SecretContext): Promise<SealedSecret> {
    const bytes = encodeSecret(plaintext);
    checkContext(context);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const params = gcm(iv, activeKeyId, context);
    const ciphertext = new Uint8Array(await crypto.subtle.encrypt(params, await keyFor(activeKeyId), bytes));
    return { version: 1, keyId: activeKeyId, iv: toBase64(iv), ciphertext: toBase64(ciphertext), last4: lastFour(plaintext) };
  }

  async function open(sealed: StoredSecret, context: SecretContext): Promise<string> {
    const { keyId, iv, ciphertext } = readSealed(sealed);
    checkContext(context);
    const key = await keyFor(keyId);
    try {
      const plain = await crypto.subtle.decrypt(gcm(iv, keyId, context), key, ciphertext);
      return new TextDecoder('utf-8', { fatal: true }).decode(plain);
    } catch (cause) {
      throw new TallyError('VALIDATION', `${DOES_NOT_OPEN}: wrong key, another customer or provider, or a tampered iv, ciphertext or tag`, {
        cause,
        details: { keyId, customerId: context.customerId, provider: context.provider },
      });
    }
  }

  return {
    activeKeyId,
    keyIds: Object.freeze([...keys.keys()]),
    seal,
    open,
    needsRotation(sealed) {
      return readSealed(sealed).keyId !== activeKeyId;
    },
    async rotate(sealed, context) {
      return seal(await open(sealed, context), context);
    },
    serialize: serializeSealed,
    parseSealed,
  };
}

/** The compact form for one text column: `v1.<keyId>.<iv>.<ciphertext>` (no `last4`). */
export function serializeSealed(sealed: StoredSecret): string {
  const { keyId } = readSealed(sealed);
  return `v1.${keyId}.${sealed.iv}.${sealed.ciphertext}`;
}

/** Parses what `serializeSealed` wrote; anything else is refused with `VALIDATION` (the input is not echoed). */
export function parseSealed(text: string): StoredSecret {
  if (typeof text !== 'string') throw new TallyError('VALIDATION', 'a sealed secret must be a string');
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') {
    throw new TallyError('VALIDATION', 'not a sealed secret: expected "v1.<keyId>.<iv>.<ciphertext>"', {
      details: { length: text.length },
    });
  }
  const sealed: StoredSecret = { version: 1, keyId: parts[1] as string, iv: parts[2] as string, ciphertext: parts[3] as string };
  readSealed(sealed);
  return sealed;
}

/**
 * A display form that keeps a vendor prefix and the last 4 characters: `sk-or-v1-…abcd`. Secrets
 * under 12 characters show nothing but `…`; the prefix is kept only while 8 or more characters stay hidden.
 */
export function maskSecret(plaintext: string): string {
  if (typeof plaintext !== 'string') throw new TallyError('VALIDATION', 'maskSecret takes a string');
  const chars = Array.from(plaintext);
  const tail = lastFour(plaintext);
  const prefix = /^(?:[a-z0-9]{1,5}[-_]){1,3}/.exec(plaintext)?.[0] ?? '';
  const hidden = chars.length - Array.from(prefix).length - tail.length;
  return `${hidden >= 8 ? prefix : ''}…${tail}`;
}

function lastFour(plaintext: string): string {
  const chars = Array.from(plaintext);
  return chars.length < MIN_LENGTH_TO_SHOW ? '' : chars.slice(-4).join('');
}

function validateOptions(options: KeyVaultOptions): { keys: Map<string, Uint8Array>; activeKeyId: string } {
  if (typeof options !== 'object' || options === null || typeof options.keys !== 'object' || options.keys === null) {
    throw new TallyError('VALIDATION', 'createKeyVault needs { keys, activeKeyId }');
  }
  const keys = new Map<string, Uint8Array>();
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [keyId, value] of Object.entries(options.keys)) {
    if (!KEY_ID.test(keyId)) {
      issues.push({ path: ['keys', keyId], message: 'a key id is 1 to 64 of [A-Za-z0-9_-]' });
      continue;
    }
    let bytes: Uint8Array | null = null;
    if (value instanceof Uint8Array) bytes = new Uint8Array(value);
    else if (typeof value === 'string') bytes = fromBase64(value.trim());
    if (!bytes || bytes.length !== KEY_BYTES) {
      const got = bytes ? `${bytes.length} bytes` : typeof value === 'string' ? 'a string that is not base64' : typeof value;
      issues.push({ path: ['keys', keyId], message: `a key is exactly 32 bytes (raw or base64), got ${got}` });
      continue;
    }
    keys.set(keyId, bytes);
  }
  if (keys.size === 0 && issues.length === 0) issues.push({ path: ['keys'], message: 'the vault needs at least one key' });
  if (typeof options.activeKeyId !== 'string' || !Object.hasOwn(options.keys, options.activeKeyId)) {
    issues.push({ path: ['activeKeyId'], message: 'the active key id must be one of the keys' });
  }
  if (issues.length > 0) {
    throw new TallyError('VALIDATION', `invalid key vault options: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      issues,
    });
  }
  return { keys, activeKeyId: options.activeKeyId };
}

function encodeSecret(plaintext: string): Uint8Array {
  if (typeof plaintext !== 'string' || plaintext.length === 0) {
    throw new TallyError('VALIDATION', 'the secret to seal must be a non-empty string');
  }
  // Lone surrogates would come back as U+FFFD: refuse them rather than open to a different string.
  if (/[\uD800-\uDFFF]/u.test(plaintext)) throw new TallyError('VALIDATION', 'the secret to seal is not well-formed Unicode');
  const bytes = new TextEncoder().encode(plaintext);
  if (bytes.length > MAX_SECRET_BYTES) {
    throw new TallyError('VALIDATION', `the secret to seal is longer than ${MAX_SECRET_BYTES} bytes`, { details: { bytes: bytes.length } });
  }
  return bytes;
}

function checkContext(context: SecretContext): void {
  const ok = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 256;
  if (typeof context !== 'object' || context === null || !ok(context.customerId) || !ok(context.provider)) {
    throw new TallyError('VALIDATION', 'a secret context is { customerId, provider }, each a non-empty string of at most 256 characters');
  }
}

function readSealed(sealed: StoredSecret): { keyId: string; iv: Uint8Array; ciphertext: Uint8Array } {
  if (typeof sealed !== 'object' || sealed === null || sealed.version !== 1) {
    throw new TallyError('VALIDATION', `${DOES_NOT_OPEN}: not a version 1 sealed secret`);
  }
  if (typeof sealed.keyId !== 'string' || !KEY_ID.test(sealed.keyId)) {
    throw new TallyError('VALIDATION', `${DOES_NOT_OPEN}: its key id is not 1 to 64 of [A-Za-z0-9_-]`);
  }
  const iv = typeof sealed.iv === 'string' ? fromBase64(sealed.iv) : null;
  if (!iv || iv.length !== IV_BYTES) throw new TallyError('VALIDATION', `${DOES_NOT_OPEN}: its iv is not 12 bytes of base64`);
  const ciphertext = typeof sealed.ciphertext === 'string' ? fromBase64(sealed.ciphertext) : null;
  if (!ciphertext || ciphertext.length <= TAG_BYTES || ciphertext.length > MAX_SECRET_BYTES + TAG_BYTES) {
    throw new TallyError('VALIDATION', `${DOES_NOT_OPEN}: its ciphertext is not base64 of a sealed secret's size`);
  }
  return { keyId: sealed.keyId, iv, ciphertext };
}

/** The AAD: version, key id, customer and provider, JSON-encoded so no two contexts collide. */
function gcm(iv: Uint8Array, keyId: string, context: SecretContext): AesGcmParams {
  const aad = JSON.stringify(['tally.byok', 1, keyId, context.customerId, context.provider]);
  return { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad), tagLength: 128 };
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return base64.btoa(binary);
}

/** Strict, canonical standard base64 with padding; null for anything else. */
function fromBase64(text: string): Uint8Array | null {
  if (text.length === 0 || !BASE64.test(text)) return null;
  const bytes = Uint8Array.from(base64.atob(text), (c) => c.charCodeAt(0));
  // Non-canonical trailing bits (e.g. "AB==" instead of "AA==") would give two spellings of one value.
  return toBase64(bytes) === text ? bytes : null;
}
