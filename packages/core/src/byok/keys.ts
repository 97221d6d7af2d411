import { TallyError } from '../errors/index.js';
import { identifier } from '../ledger/validate.js';
import { type Clock, systemClock } from '../time/index.js';
import { type ProviderKeyRecord, type ProviderKeySource, type ProviderStore, providerId, providerKeySource } from './store.js';
import type { KeyVault } from './vault.js';

/** A stored key as it may be shown: never the secret, only its last 4 characters. */
export interface ByokKeyInfo {
  provider: string;
  source: ProviderKeySource;
  last4: string;
  /** The vault key it is sealed with. */
  keyId: string;
  /** The provider's id of a provisioned key (OpenRouter's key hash); null for BYOK keys. */
  providerKeyHash: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ByokKeysOptions {
  store: ProviderStore;
  vault: KeyVault;
  clock?: Clock;
}

export interface SetProviderKeyOptions {
  /** Default `byok`. */
  source?: ProviderKeySource;
  /** Required for a provisioned key (the provider's id of it), absent for a BYOK key. */
  providerKeyHash?: string | null;
}

export interface ByokKeys {
  /** Seals and stores the customer's key for a provider, replacing any earlier one. Unknown customer: `NOT_FOUND`. */
  set(customerId: string, provider: string, secret: string, options?: SetProviderKeyOptions): Promise<ByokKeyInfo>;
  get(customerId: string, provider: string, source?: ProviderKeySource): Promise<ByokKeyInfo | null>;
  /** Deletes the key (and its balance snapshot). False when there was none. */
  remove(customerId: string, provider: string, source?: ProviderKeySource): Promise<boolean>;
  /** The plaintext key, for routing a call on it; null when none is stored. Never log or return it. */
  resolve(customerId: string, provider: string, source?: ProviderKeySource): Promise<string | null>;
  /**
   * Re-seals up to `limit` (default 100) stored keys that were sealed with a vault key other than the
   * active one; returns how many. Run it until it returns 0, then retire the old vault key. A key
   * changed while it was being re-sealed is left as the change wrote it.
   */
  rotate(options?: { limit?: number }): Promise<number>;
}

/** Longest secret accepted, in characters (the vault also bounds its size in bytes). */
const MAX_SECRET_LENGTH = 8192;
const PAGE = 100;

function checkSecret(secret: unknown): string {
  // The messages never contain the secret.
  if (typeof secret !== 'string' || secret.trim() === '') throw new TallyError('VALIDATION', 'the provider key must be a non-empty string');
  if (secret.length > MAX_SECRET_LENGTH) {
    throw new TallyError('VALIDATION', `the provider key is longer than ${MAX_SECRET_LENGTH} characters`, {
      details: { length: secret.length },
    });
  }
  if (secret.trim() !== secret) {
    throw new TallyError('VALIDATION', 'the provider key starts or ends with whitespace (a copy-and-paste slip?)');
  }
  return secret;
}

const info = (record: ProviderKeyRecord): ByokKeyInfo => ({
  provider: record.provider,
  source: record.source,
  last4: record.last4,
  keyId: record.keyId,
  providerKeyHash: record.providerKeyHash,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
});

/**
 * Customers' provider keys, sealed with the vault (AES-256-GCM, bound to customer and provider) and kept
 * in the store. `resolve` is the only way to the plaintext; everything else shows `last4`. See docs/byok.md.
 */
export function createByokKeys({ store, vault, clock = systemClock }: ByokKeysOptions): ByokKeys {
  const context = (customerId: string, provider: string) => ({ customerId, provider });

  async function read(customerId: string, provider: string, source: ProviderKeySource | undefined): Promise<ProviderKeyRecord | null> {
    return store.getProviderKey(identifier(customerId, 'customerId'), providerId(provider), providerKeySource(source ?? 'byok'));
  }

  return {
    async set(customerId, provider, secret, options = {}) {
      identifier(customerId, 'customerId');
      providerId(provider);
      const source = providerKeySource(options.source ?? 'byok');
      const hash = options.providerKeyHash ?? null;
      if (source === 'provisioned' && hash === null) {
        throw new TallyError('VALIDATION', 'a provisioned key needs providerKeyHash', { details: { field: 'providerKeyHash' } });
      }
      if (source === 'byok' && hash !== null) {
        throw new TallyError('VALIDATION', "a customer's own key has no providerKeyHash", { details: { field: 'providerKeyHash' } });
      }
      const sealed = await vault.seal(checkSecret(secret), context(customerId, provider));
      const now = clock.now();
      const stored = await store.putProviderKey({
        customerId,
        provider,
        source,
        sealed: vault.serialize(sealed),
        keyId: sealed.keyId,
        last4: sealed.last4,
        providerKeyHash: hash,
        createdAt: now,
        updatedAt: now,
      });
      return info(stored);
    },

    async get(customerId, provider, source) {
      const record = await read(customerId, provider, source);
      return record && info(record);
    },

    remove(customerId, provider, source) {
      return store.deleteProviderKey(identifier(customerId, 'customerId'), providerId(provider), providerKeySource(source ?? 'byok'));
    },

    async resolve(customerId, provider, source) {
      const record = await read(customerId, provider, source);
      if (!record) return null;
      return vault.open(vault.parseSealed(record.sealed), context(record.customerId, record.provider));
    },

    async rotate(options = {}) {
      const limit = options.limit ?? PAGE;
      if (!Number.isSafeInteger(limit) || limit < 1) throw new TallyError('VALIDATION', 'limit must be a positive whole number');
      let rotated = 0;
      let after: string | undefined;
      while (rotated < limit) {
        const page = await store.listProviderKeys({ limit: PAGE, ...(after === undefined ? {} : { after }) });
        for (const record of page.items) {
          const stored = vault.parseSealed(record.sealed);
          if (!vault.needsRotation(stored)) continue;
          const sealed = await vault.rotate(stored, context(record.customerId, record.provider));
          const next = { ...record, sealed: vault.serialize(sealed), keyId: sealed.keyId, updatedAt: clock.now() };
          try {
            await store.putProviderKey(next, record.sealed);
          } catch (error) {
            // Set or removed since it was read: whatever is stored now was not written by this sweep.
            if (TallyError.is(error, 'CONFLICT')) continue;
            throw error;
          }
          if (++rotated === limit) return rotated;
        }
        if (page.nextCursor === null) return rotated;
        after = page.nextCursor;
      }
      return rotated;
    },
  };
}
