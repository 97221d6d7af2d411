/**
 * Provider keys and provider-balance snapshots: the storage port for BYOK and provisioned keys
 * (part of `TallyStore`; semantics in docs/byok.md). Every store checks its input with the functions
 * below, so the memory store, PGlite and Postgres refuse the same things with the same `VALIDATION`.
 */
import { TallyError } from '../errors/index.js';
import type { Page } from '../ledger/types.js';
import { identifier } from '../ledger/validate.js';
import { parseSealed } from './vault.js';

export const PROVIDER_KEY_SOURCES = ['byok', 'provisioned'] as const;
/** `byok`: the customer's own key. `provisioned`: a key the platform minted for the customer (e.g. an OpenRouter key with a credit limit). */
export type ProviderKeySource = (typeof PROVIDER_KEY_SOURCES)[number];

/** A provider id: a short lower-case slug such as `openrouter`, `openai`, `anthropic`. */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface ProviderKeyRecord {
  customerId: string;
  provider: string;
  source: ProviderKeySource;
  /** `serializeSealed` of the vault's seal: `v1.<keyId>.<iv>.<ciphertext>`. */
  sealed: string;
  /** The vault key that sealed it (the same as inside `sealed`), so rotation can be found without parsing. */
  keyId: string;
  /** The last 4 characters of the secret, for display; empty for short secrets. */
  last4: string;
  /** The provider's id of a provisioned key (OpenRouter's key hash); null for BYOK keys. */
  providerKeyHash: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a provider says is left on a key, as of `syncedAt`. Amounts are nano-USD. */
export interface ProviderBalance {
  customerId: string;
  provider: string;
  source: ProviderKeySource;
  /** The key's credit limit; null when it has none. */
  limitNanoUsd: bigint | null;
  /** Spend counted against the limit (the limit's reset period, or all time). */
  usageNanoUsd: bigint;
  /** Null: no limit. Negative when the key overspent. */
  remainingNanoUsd: bigint | null;
  /** Below the low-balance threshold when it was synced. */
  low: boolean;
  syncedAt: Date;
}

export interface ProviderKeyQuery {
  /** The previous page's `nextCursor`. */
  after?: string;
  /** 1 to 1000. */
  limit: number;
  source?: ProviderKeySource;
}

export interface ProviderStore {
  /**
   * Inserts or replaces the key of (customerId, provider, source); a replacement keeps the stored
   * `createdAt`. With `expectedSealed`, replaces only a stored key whose `sealed` equals it, else
   * `CONFLICT` (a rotation must not overwrite a key the customer changed meanwhile). Unknown customer: `NOT_FOUND`.
   */
  putProviderKey(record: ProviderKeyRecord, expectedSealed?: string): Promise<ProviderKeyRecord>;
  getProviderKey(customerId: string, provider: string, source: ProviderKeySource): Promise<ProviderKeyRecord | null>;
  /** Removes the key and its balance snapshot. False when there was none. */
  deleteProviderKey(customerId: string, provider: string, source: ProviderKeySource): Promise<boolean>;
  /** Keys in (customerId, provider, source) order (binary string order), a page at a time. */
  listProviderKeys(query: ProviderKeyQuery): Promise<Page<ProviderKeyRecord>>;
  /** Stores the snapshot of (customerId, provider, source) and returns the one it replaced. Unknown customer: `NOT_FOUND`. */
  putProviderBalance(balance: ProviderBalance): Promise<ProviderBalance | null>;
  /** The customer's snapshots in (provider, source) order; none for an unknown customer. */
  listProviderBalances(customerId: string): Promise<ProviderBalance[]>;
}

const MAX_NANO_USD = 2n ** 63n - 1n;
const HASH = /^[A-Za-z0-9_-]{1,200}$/;

function invalid(field: string, rule: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${rule}`, { details: { field } });
}

export function providerId(value: unknown, field = 'provider'): string {
  if (typeof value !== 'string' || !PROVIDER_ID.test(value)) {
    throw invalid(field, 'must be 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return value;
}

export function providerKeySource(value: unknown): ProviderKeySource {
  if (value === 'byok' || value === 'provisioned') return value;
  throw invalid('source', 'must be byok or provisioned');
}

function validDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) throw invalid(field, 'must be a valid date');
  return new Date(value.getTime());
}

function nanoUsd(value: unknown, field: string, allowNegative = false): bigint {
  if (typeof value !== 'bigint' || value > MAX_NANO_USD || value < (allowNegative ? -MAX_NANO_USD : 0n)) {
    throw invalid(field, `must be a bigint of nano-USD from ${allowNegative ? -MAX_NANO_USD : 0n} to ${MAX_NANO_USD}`);
  }
  return value;
}

/** Checks a key record and returns a copy of it. The sealed value must parse and name `keyId`. */
export function checkProviderKey(record: ProviderKeyRecord): ProviderKeyRecord {
  if (typeof record !== 'object' || record === null) throw invalid('record', 'must be a provider key record');
  const customerId = identifier(record.customerId, 'customerId');
  const provider = providerId(record.provider);
  const source = providerKeySource(record.source);
  const sealed = parseSealed(record.sealed);
  if (record.keyId !== sealed.keyId) throw invalid('keyId', 'must be the key id inside the sealed value');
  if (typeof record.last4 !== 'string' || Array.from(record.last4).length > 4) throw invalid('last4', 'must be at most 4 characters');
  const hash = record.providerKeyHash;
  if (hash !== null && (typeof hash !== 'string' || !HASH.test(hash))) {
    throw invalid('providerKeyHash', 'must be null or 1-200 letters, digits, "_" or "-"');
  }
  return {
    customerId,
    provider,
    source,
    sealed: record.sealed,
    keyId: record.keyId,
    last4: record.last4,
    providerKeyHash: hash,
    createdAt: validDate(record.createdAt, 'createdAt'),
    updatedAt: validDate(record.updatedAt, 'updatedAt'),
  };
}

/** Checks a balance snapshot and returns a copy of it. */
export function checkProviderBalance(balance: ProviderBalance): ProviderBalance {
  if (typeof balance !== 'object' || balance === null) throw invalid('balance', 'must be a provider balance');
  if (typeof balance.low !== 'boolean') throw invalid('low', 'must be true or false');
  return {
    customerId: identifier(balance.customerId, 'customerId'),
    provider: providerId(balance.provider),
    source: providerKeySource(balance.source),
    limitNanoUsd: balance.limitNanoUsd === null ? null : nanoUsd(balance.limitNanoUsd, 'limitNanoUsd'),
    usageNanoUsd: nanoUsd(balance.usageNanoUsd, 'usageNanoUsd'),
    remainingNanoUsd: balance.remainingNanoUsd === null ? null : nanoUsd(balance.remainingNanoUsd, 'remainingNanoUsd', true),
    low: balance.low,
    syncedAt: validDate(balance.syncedAt, 'syncedAt'),
  };
}

/** Checks a key query; `after` comes back as the (customerId, provider, source) it points past. */
export function checkProviderKeyQuery(query: ProviderKeyQuery): {
  after: [string, string, ProviderKeySource] | null;
  limit: number;
  source: ProviderKeySource | null;
} {
  if (!Number.isSafeInteger(query?.limit) || query.limit < 1 || query.limit > 1000)
    throw invalid('limit', 'must be a whole number from 1 to 1000');
  const source = query.source === undefined ? null : providerKeySource(query.source);
  if (query.after === undefined) return { after: null, limit: query.limit, source };
  // Ids never contain spaces (identifier(), PROVIDER_ID), so a space separates the cursor's parts.
  const parts = typeof query.after === 'string' ? query.after.split(' ') : [];
  try {
    if (parts.length !== 3) throw invalid('after', 'is not a cursor this store issued');
    return {
      after: [identifier(parts[0], 'after'), providerId(parts[1], 'after'), providerKeySource(parts[2])],
      limit: query.limit,
      source,
    };
  } catch {
    throw invalid('after', 'is not a cursor this store issued');
  }
}

/** The cursor that continues after `record`. */
export const providerKeyCursor = (record: Pick<ProviderKeyRecord, 'customerId' | 'provider' | 'source'>): string =>
  `${record.customerId} ${record.provider} ${record.source}`;
