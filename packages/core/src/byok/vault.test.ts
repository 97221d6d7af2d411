import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { createKeyVault, maskSecret, parseSealed, type SealedSecret, type StoredSecret, serializeSealed } from './vault.js';

const KEY_A: Uint8Array<ArrayBuffer> = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const KEY_B_BASE64 = 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k='; // 32 bytes
const SECRET = 'sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const ALICE = { customerId: 'cus_alice', provider: 'openrouter' };

const subtle = (globalThis as unknown as { crypto: { subtle: SubtleCrypto } }).crypto.subtle;

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<TallyError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (TallyError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a TallyError');
}

function fromB64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
function toB64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
/** Flips one bit of byte `index` (negative counts from the end). */
function flip(b64: string, index: number): string {
  const bytes = fromB64(b64);
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = (bytes[i] as number) ^ 0x01;
  return toB64(bytes);
}

describe('createKeyVault', () => {
  it('round-trips a provider key and keeps only a display hint in the clear', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    const sealed = await vault.seal(SECRET, ALICE);
    expect(sealed).toMatchObject({ version: 1, keyId: 'a', last4: 'abcd' });
    expect(fromB64(sealed.iv)).toHaveLength(12);
    // UTF-8 length of the secret + the 16-byte tag.
    expect(fromB64(sealed.ciphertext)).toHaveLength(SECRET.length + 16);
    expect(JSON.stringify(sealed)).not.toContain(SECRET.slice(9, -4));
    await expect(vault.open(sealed, ALICE)).resolves.toBe(SECRET);
  });

  it('is plain AES-256-GCM with the documented AAD (ciphertext ‖ tag)', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    const sealed = await vault.seal(SECRET, ALICE);
    const key = await subtle.importKey('raw', KEY_A, { name: 'AES-GCM' }, false, ['decrypt']);
    const aad = new TextEncoder().encode(JSON.stringify(['tally.byok', 1, 'a', 'cus_alice', 'openrouter']));
    const plain = await subtle.decrypt({ name: 'AES-GCM', iv: fromB64(sealed.iv), additionalData: aad }, key, fromB64(sealed.ciphertext));
    expect(new TextDecoder().decode(plain)).toBe(SECRET);
  });

  it('uses a fresh random IV for every seal', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    const seals = await Promise.all(Array.from({ length: 20 }, () => vault.seal(SECRET, ALICE)));
    expect(new Set(seals.map((s) => s.iv)).size).toBe(20);
    expect(new Set(seals.map((s) => s.ciphertext)).size).toBe(20);
    for (const s of seals) await expect(vault.open(s, ALICE)).resolves.toBe(SECRET);
  });

  it('accepts base64 keys (surrounding whitespace trimmed) and Uint8Array keys', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A, b: `${KEY_B_BASE64}\n` }, activeKeyId: 'b' });
    expect(vault.keyIds).toEqual(['a', 'b']);
    const sealed = await vault.seal(SECRET, ALICE);
    expect(sealed.keyId).toBe('b');
    const same = createKeyVault({ keys: { b: fromB64(KEY_B_BASE64) }, activeKeyId: 'b' });
    await expect(same.open(sealed, ALICE)).resolves.toBe(SECRET);
  });

  it('copies the key bytes it is given', async () => {
    const bytes = new Uint8Array(KEY_A);
    const vault = createKeyVault({ keys: { a: bytes }, activeKeyId: 'a' });
    bytes.fill(0);
    const sealed = await vault.seal(SECRET, ALICE);
    await expect(createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' }).open(sealed, ALICE)).resolves.toBe(SECRET);
  });

  it.each([
    ['a 16-byte key', { keys: { a: new Uint8Array(16) }, activeKeyId: 'a' }, 'got 16 bytes'],
    ['a 33-byte key', { keys: { a: new Uint8Array(33) }, activeKeyId: 'a' }, 'got 33 bytes'],
    ['a 24-byte base64 key', { keys: { a: toB64(new Uint8Array(24)) }, activeKeyId: 'a' }, 'got 24 bytes'],
    ['a hex key', { keys: { a: 'ab'.repeat(32) }, activeKeyId: 'a' }, 'got 48 bytes'],
    ['a non-base64 key', { keys: { a: 'not a key!' }, activeKeyId: 'a' }, 'not base64'],
    ['a number', { keys: { a: 42 as unknown as string }, activeKeyId: 'a' }, 'got number'],
    ['an unknown active key', { keys: { a: KEY_A }, activeKeyId: 'b' }, 'activeKeyId'],
    ['no keys', { keys: {}, activeKeyId: 'a' }, 'at least one key'],
    ['a key id with a dot', { keys: { 'a.b': KEY_A }, activeKeyId: 'a.b' }, 'key id'],
  ])('refuses %s with VALIDATION', async (_label, options, message) => {
    const error = await caught(() => createKeyVault(options));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toContain(message);
  });

  it('never puts key material in its errors', async () => {
    const leaked = toB64(new Uint8Array(24).fill(7));
    const error = await caught(() => createKeyVault({ keys: { a: leaked }, activeKeyId: 'a' }));
    expect(`${error.message} ${JSON.stringify(error.issues)} ${JSON.stringify(error.details)}`).not.toContain(leaked);
  });

  it.each([
    ['an empty string', ''],
    ['a lone surrogate', 'sk-abc\uD800def'],
    ['more than 16 KiB', 'x'.repeat(16 * 1024 + 1)],
  ])('refuses to seal %s', async (_label, plaintext) => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    expect((await caught(vault.seal(plaintext, ALICE))).code).toBe('VALIDATION');
  });

  it('refuses an empty or missing context', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    expect((await caught(vault.seal(SECRET, { customerId: '', provider: 'openrouter' }))).code).toBe('VALIDATION');
    expect((await caught(vault.seal(SECRET, { customerId: 'c' } as never))).code).toBe('VALIDATION');
  });

  it('shows no characters of short secrets', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    expect((await vault.seal('short-key', ALICE)).last4).toBe('');
    expect((await vault.seal('twelve-chars', ALICE)).last4).toBe('hars');
    // Code points, not UTF-16 units: an emoji is one character.
    expect((await vault.seal('secret-key-🔑🔑ab', ALICE)).last4).toBe('🔑🔑ab');
  });
});

describe('tampering', () => {
  const vault = createKeyVault({ keys: { a: KEY_A, b: KEY_B_BASE64 }, activeKeyId: 'a' });
  const sealedP = vault.seal(SECRET, ALICE);
  const cases: [string, (s: SealedSecret) => [StoredSecret, typeof ALICE]][] = [
    ['a flipped iv bit', (s) => [{ ...s, iv: flip(s.iv, 0) }, ALICE]],
    ['a flipped ciphertext bit', (s) => [{ ...s, ciphertext: flip(s.ciphertext, 0) }, ALICE]],
    ['a flipped tag bit', (s) => [{ ...s, ciphertext: flip(s.ciphertext, -1) }, ALICE]],
    ['a truncated tag', (s) => [{ ...s, ciphertext: toB64(fromB64(s.ciphertext).slice(0, -1)) }, ALICE]],
    ['a short iv', (s) => [{ ...s, iv: toB64(fromB64(s.iv).slice(0, 11)) }, ALICE]],
    ['non-base64 ciphertext', (s) => [{ ...s, ciphertext: `${s.ciphertext.slice(0, -2)}!!` }, ALICE]],
    ['another existing key id', (s) => [{ ...s, keyId: 'b' }, ALICE]],
    ['another customer', (s) => [s, { ...ALICE, customerId: 'cus_mallory' }]],
    ['another provider', (s) => [s, { ...ALICE, provider: 'openai' }]],
    ['a wrong version', (s) => [{ ...s, version: 2 as 1 }, ALICE]],
  ];

  it.each(cases)('%s does not open (VALIDATION, nothing leaked)', async (_label, tamper) => {
    const sealed = await sealedP;
    const [bad, context] = tamper(sealed);
    const error = await caught(vault.open(bad, context));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/^the sealed secret does not open/);
    const text = `${error.message} ${JSON.stringify(error.details)} ${JSON.stringify(error.issues)} ${String(error.cause)}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice(9, -4));
    expect(text).not.toContain(KEY_B_BASE64);
    // The untampered secret still opens.
    await expect(vault.open(sealed, ALICE)).resolves.toBe(SECRET);
  });

  it('an unknown key id is NOT_FOUND naming the key', async () => {
    const sealed = await sealedP;
    const error = await caught(vault.open({ ...sealed, keyId: 'k9' }, ALICE));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('"k9"');
    expect(error.details).toEqual({ keyId: 'k9' });
  });

  it('a vault with different bytes under the same key id does not open it', async () => {
    const other = createKeyVault({ keys: { a: KEY_B_BASE64 }, activeKeyId: 'a' });
    expect((await caught(other.open(await sealedP, ALICE))).code).toBe('VALIDATION');
  });
});

describe('rotation', () => {
  it('re-seals under the new key, and retiring the old key strands only unrotated secrets', async () => {
    const bob = { customerId: 'cus_bob', provider: 'anthropic' };
    const v1 = createKeyVault({ keys: { k1: KEY_A }, activeKeyId: 'k1' });
    const aliceOld = await v1.seal(SECRET, ALICE);
    const bobOld = await v1.seal('sk-ant-api03-bobbobbobbobbob-xyz9', bob);

    // Step 1 and 2: add the new key and make it active; old secrets still open.
    const v2 = createKeyVault({ keys: { k1: KEY_A, k2: KEY_B_BASE64 }, activeKeyId: 'k2' });
    expect(v2.needsRotation(aliceOld)).toBe(true);
    await expect(v2.open(bobOld, bob)).resolves.toBe('sk-ant-api03-bobbobbobbobbob-xyz9');
    const fresh = await v2.seal('sk-new-0000000000000000', ALICE);
    expect(fresh.keyId).toBe('k2');
    expect(v2.needsRotation(fresh)).toBe(false);

    // Step 3: rotate (only Alice's here, to show what a missed secret does).
    const aliceNew = await v2.rotate(aliceOld, ALICE);
    expect(aliceNew).toMatchObject({ version: 1, keyId: 'k2', last4: 'abcd' });
    expect(aliceNew.iv).not.toBe(aliceOld.iv);
    expect(v2.needsRotation(aliceNew)).toBe(false);
    // Rotation keeps the context binding.
    expect((await caught(v2.rotate(aliceOld, bob))).code).toBe('VALIDATION');

    // Step 4: retire k1.
    const v3 = createKeyVault({ keys: { k2: KEY_B_BASE64 }, activeKeyId: 'k2' });
    await expect(v3.open(aliceNew, ALICE)).resolves.toBe(SECRET);
    await expect(v3.open(fresh, ALICE)).resolves.toBe('sk-new-0000000000000000');
    const stranded = await caught(v3.open(bobOld, bob));
    expect(stranded.code).toBe('NOT_FOUND');
    expect(stranded.message).toContain('"k1"');
    expect((await caught(v3.rotate(bobOld, bob))).code).toBe('NOT_FOUND');
  });

  it('rotating a current secret re-seals it with a fresh IV under the same key', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    const sealed = await vault.seal(SECRET, ALICE);
    const again = await vault.rotate(parseSealed(serializeSealed(sealed)), ALICE);
    expect(again.keyId).toBe('a');
    expect(again.iv).not.toBe(sealed.iv);
    expect(again.last4).toBe('abcd');
    await expect(vault.open(again, ALICE)).resolves.toBe(SECRET);
  });
});

describe('serializeSealed / parseSealed', () => {
  it('round-trips through one compact string', async () => {
    const vault = createKeyVault({ keys: { 'key_2026-01': KEY_A }, activeKeyId: 'key_2026-01' });
    const sealed = await vault.seal(SECRET, ALICE);
    const text = vault.serialize(sealed);
    expect(text).toBe(`v1.key_2026-01.${sealed.iv}.${sealed.ciphertext}`);
    const parsed = vault.parseSealed(text);
    expect(parsed).toEqual({ version: 1, keyId: sealed.keyId, iv: sealed.iv, ciphertext: sealed.ciphertext });
    expect(serializeSealed(parsed)).toBe(text);
    await expect(vault.open(parsed, ALICE)).resolves.toBe(SECRET);
  });

  it('refuses junk with VALIDATION and never echoes the input', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A }, activeKeyId: 'a' });
    const good = serializeSealed(await vault.seal(SECRET, ALICE));
    const [, , iv, ct] = good.split('.') as [string, string, string, string];
    const junk = [
      '',
      SECRET, // a plaintext key stored by mistake
      'v1',
      `v2.a.${iv}.${ct}`,
      `V1.a.${iv}.${ct}`,
      `v1..${iv}.${ct}`,
      `v1.a b.${iv}.${ct}`,
      `v1.a.${iv}.${ct}.extra`,
      `v1.a.${iv}`,
      `v1.a.${iv.slice(0, -1)}.${ct}`,
      `v1.a.${iv}.${ct}x`,
      `v1.a.${iv}.${ct} `,
      ` ${good}`,
      `v1.a.${toB64(new Uint8Array(16))}.${ct}`,
      `v1.a.${iv}.${toB64(new Uint8Array(16))}`,
      `v1.a.-${iv.slice(1)}.${ct}`, // base64url is not base64
      // Non-canonical padding bits: "AB==" decodes like "AA==".
      `v1.a.${iv}.${'A'.repeat(24)}AB==`,
    ];
    for (const text of junk) {
      const error = await caught(() => parseSealed(text)).catch((e) => {
        throw new Error(`${JSON.stringify(text)}: ${e}`);
      });
      expect(error.code, JSON.stringify(text)).toBe('VALIDATION');
      expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(SECRET);
    }
    expect((await caught(() => parseSealed(42 as unknown as string))).code).toBe('VALIDATION');
  });

  it('round-trips any well-formed string (unicode included) through seal, serialize, parse and open', async () => {
    const vault = createKeyVault({ keys: { a: KEY_A, b: KEY_B_BASE64 }, activeKeyId: 'b' });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        ),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
        async (plaintext, customerId, provider) => {
          fc.pre(!/[\uD800-\uDFFF]/u.test(plaintext));
          const context = { customerId, provider };
          const sealed = await vault.seal(plaintext, context);
          const chars = Array.from(plaintext);
          expect(sealed.last4).toBe(chars.length >= 12 ? chars.slice(-4).join('') : '');
          const parsed = parseSealed(serializeSealed(sealed));
          expect(await vault.open(parsed, context)).toBe(plaintext);
          const error = await caught(vault.open(parsed, { customerId: `${customerId}x`, provider }));
          expect(error.code).toBe('VALIDATION');
          if (chars.length >= 12) expect(error.message).not.toContain(plaintext);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('maskSecret', () => {
  it.each([
    [SECRET, 'sk-or-v1-…abcd'],
    ['sk-proj-Abcdefghijklmnopqrstuvwxyz0123', 'sk-proj-…0123'],
    ['sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWX-wxyz', 'sk-ant-api03-…wxyz'],
    ['gsk_ABCDEFGHIJKLMNOP1234', 'gsk_…1234'],
    ['AIzaSyABCDEFGHIJKLMNOPQRSTUVWXYZ012345', '…2345'],
    ['sk-or-v1-abcdefg1234', '…1234'], // prefix dropped: fewer than 8 characters would stay hidden
    ['hunter2', '…'],
    ['', '…'],
  ])('masks %j as %j', (secret, masked) => {
    expect(maskSecret(secret)).toBe(masked);
  });
});
