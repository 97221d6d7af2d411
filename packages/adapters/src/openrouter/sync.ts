import {
  type ByokKeyInfo,
  type ByokKeys,
  type Clock,
  NANO_USD_SCALE,
  type ProviderBalance,
  type ProviderKeyRecord,
  type ProviderKeySource,
  parseDecimal,
  systemClock,
  TallyError,
  type TallyStore,
} from '@tally/core';
import type { OpenRouterClient, OpenRouterKey, OpenRouterKeyLimits, OpenRouterLimitReset } from './client.js';

/** The outbox topic of a key whose balance turned low. */
export const PROVIDER_BALANCE_LOW = 'provider.balance_low';
const PROVIDER = 'openrouter';

export interface LowBalanceRule {
  /** Low below this share of the key's limit, in basis points. Default 1000 (10 %). */
  ratioBps?: number;
  /** Also low below this many nano-USD left, whatever the limit. */
  belowNanoUsd?: bigint;
}

export interface ProviderKeyRef {
  customerId: string;
  provider: string;
  source: ProviderKeySource;
}

export interface ProviderSyncError extends ProviderKeyRef {
  /** The TallyError code (`PROVIDER_REJECTED` for 401/402, `NOT_FOUND` for 404, …), else `INTERNAL`. */
  code: string;
  /** OpenRouter's HTTP status, when it answered. */
  status: number | null;
  message: string;
}

export interface SyncReport {
  /** Keys whose snapshot was written. */
  synced: number;
  /** Of those, the ones below the low-balance threshold now. */
  low: number;
  /** `provider.balance_low` messages enqueued: keys that turned low in this pass. */
  notified: number;
  /** Keys whose balance could not be read; their snapshots are left as they were. */
  failed: number;
  /** Keys of other providers, and keys removed while the pass ran. */
  skipped: number;
  errors: ProviderSyncError[];
}

export interface ProviderSyncOptions {
  store: TallyStore;
  keys: ByokKeys;
  /** On the management key: reads provisioned keys by hash and provisions new ones. */
  client: OpenRouterClient;
  /** A client on one customer's own key, for its `GET /key`. */
  clientForKey: (apiKey: string) => OpenRouterClient;
  clock?: Clock;
  lowBalance?: LowBalanceRule;
  /** Keys read per page. Default 100. */
  pageSize?: number;
  /** Each key that failed (with the key), and each pass of `start` that failed as a whole (with null). */
  onError?: (error: unknown, key: ProviderKeyRef | null) => void;
}

export interface ProvisionCustomerKeyInput {
  customerId: string;
  /** The key's credit limit in USD, an exact decimal string such as `"5"` or `"12.50"`; greater than 0. */
  limitUsd: string;
  /** When the limit starts over; default never. */
  limitReset?: OpenRouterLimitReset | null;
  /** Default `tally:<customerId>`. */
  name?: string;
}

export interface ProvisionedCustomerKey {
  key: ByokKeyInfo;
  openRouterKey: OpenRouterKey;
  balance: ProviderBalance;
}

export interface ProviderSync {
  /** One pass over every stored key. A key that fails is reported, never stops the others. */
  runOnce(): Promise<SyncReport>;
  /**
   * Runs a pass now and then every `intervalMs` (default one hour); a pass still running is not started
   * twice. Returns `stop`, which ends the schedule and resolves once a pass in flight has finished.
   */
  start(options?: { intervalMs?: number }): () => Promise<void>;
  /**
   * Creates an OpenRouter key with a credit limit for the customer (management key), stores it sealed
   * (source `provisioned`, with its hash) and writes its first snapshot. `NOT_FOUND` for an unknown
   * customer and `CONFLICT` when the customer already has one, both before anything is created.
   */
  provisionCustomerKey(input: ProvisionCustomerKeyInput): Promise<ProvisionedCustomerKey>;
}

function describeError(error: unknown): { code: string; status: number | null; message: string } {
  if (!TallyError.is(error)) return { code: 'INTERNAL', status: null, message: error instanceof Error ? error.message : String(error) };
  const status = error.details.status;
  return { code: error.code, status: typeof status === 'number' ? status : null, message: error.message };
}

/** What counts against the limit: spend in the limit's reset period (all time without one), BYOK spend when the key includes it. */
function usageOf(limits: OpenRouterKeyLimits): bigint {
  const period = (['daily', 'weekly', 'monthly'] as const).find((p) => p === limits.limitReset) ?? 'total';
  return limits.usage[period] + (limits.includeByokInLimit ? limits.byokUsage[period] : 0n);
}

/**
 * Mirrors what is left on each customer's OpenRouter key into a provider-balance snapshot (docs/byok.md,
 * "Provider sync"): provisioned keys through the management key (`GET /keys/{hash}`), BYOK keys through
 * their own `GET /key`. A key that turns low enqueues one `provider.balance_low` message, in the same
 * transaction as its snapshot; the dedupe key names the hour, so a second instance or a retried pass
 * in that hour adds nothing.
 */
export function createProviderSync(options: ProviderSyncOptions): ProviderSync {
  const { store, keys, client, clientForKey, onError } = options;
  const clock = options.clock ?? systemClock;
  const pageSize = options.pageSize ?? 100;
  const ratioBps = options.lowBalance?.ratioBps ?? 1000;
  const below = options.lowBalance?.belowNanoUsd;
  if (!Number.isSafeInteger(ratioBps) || ratioBps < 0 || ratioBps > 10_000) {
    throw new TallyError('VALIDATION', 'lowBalance.ratioBps must be a whole number from 0 to 10000');
  }
  if (below !== undefined && (typeof below !== 'bigint' || below < 0n)) {
    throw new TallyError('VALIDATION', 'lowBalance.belowNanoUsd must be a non-negative bigint');
  }
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new TallyError('VALIDATION', 'pageSize must be a whole number from 1 to 1000');
  }

  function isLow(limit: bigint | null, remaining: bigint | null): boolean {
    if (remaining === null) return false;
    if (remaining <= 0n || (below !== undefined && remaining < below)) return true;
    return limit !== null && remaining * 10_000n < limit * BigInt(ratioBps);
  }

  /** Writes the snapshot; true when it turned low and the notice was enqueued. */
  async function write(ref: ProviderKeyRef, limits: OpenRouterKeyLimits): Promise<{ balance: ProviderBalance; notified: boolean }> {
    const limit = limits.limitNanoUsd;
    const usage = usageOf(limits);
    const remaining = limit === null ? null : (limits.limitRemainingNanoUsd ?? limit - usage);
    const syncedAt = clock.now();
    const balance: ProviderBalance = {
      ...ref,
      limitNanoUsd: limit,
      usageNanoUsd: usage,
      remainingNanoUsd: remaining,
      low: isLow(limit, remaining),
      syncedAt,
    };
    const notified = await store.transaction(async (tx) => {
      const previous = await tx.putProviderBalance(balance);
      if (!balance.low || previous?.low) return false;
      const payload = JSON.stringify({
        at: syncedAt.toISOString(),
        customerId: ref.customerId,
        limitNanoUsd: limit === null ? null : limit.toString(),
        provider: ref.provider,
        remainingNanoUsd: remaining === null ? null : remaining.toString(),
        source: ref.source,
      });
      const hour = syncedAt.toISOString().slice(0, 13);
      const dedupeKey = `${PROVIDER_BALANCE_LOW}:${ref.customerId}:${ref.provider}:${ref.source}:${hour}`;
      return (await tx.enqueueOutbox({ topic: PROVIDER_BALANCE_LOW, payload, dedupeKey, at: syncedAt })) !== null;
    });
    return { balance, notified };
  }

  /** The key's limits from OpenRouter; null when the key was removed meanwhile. */
  async function limitsOf(record: ProviderKeyRecord): Promise<OpenRouterKeyLimits | null> {
    if (record.source === 'provisioned') {
      if (record.providerKeyHash === null) throw new TallyError('VALIDATION', 'a provisioned key without its OpenRouter hash');
      return client.getKeyByHash(record.providerKeyHash);
    }
    const apiKey = await keys.resolve(record.customerId, record.provider, 'byok');
    return apiKey === null ? null : clientForKey(apiKey).getKey();
  }

  async function runOnce(): Promise<SyncReport> {
    const report: SyncReport = { synced: 0, low: 0, notified: 0, failed: 0, skipped: 0, errors: [] };
    let after: string | undefined;
    do {
      const page = await store.listProviderKeys({ limit: pageSize, ...(after === undefined ? {} : { after }) });
      for (const record of page.items) {
        const ref: ProviderKeyRef = { customerId: record.customerId, provider: record.provider, source: record.source };
        if (record.provider !== PROVIDER) {
          report.skipped++;
          continue;
        }
        try {
          const limits = await limitsOf(record);
          if (limits === null) {
            report.skipped++;
            continue;
          }
          const { balance, notified } = await write(ref, limits);
          report.synced++;
          if (balance.low) report.low++;
          if (notified) report.notified++;
        } catch (error) {
          report.failed++;
          report.errors.push({ ...ref, ...describeError(error) });
          onError?.(error, ref);
        }
      }
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
    return report;
  }

  return {
    runOnce,

    start({ intervalMs = 3_600_000 } = {}) {
      if (!Number.isSafeInteger(intervalMs) || intervalMs < 1)
        throw new TallyError('VALIDATION', 'intervalMs must be a positive whole number');
      let running: Promise<void> | null = null;
      const tick = () => {
        if (running) return;
        running = runOnce()
          .then(
            () => {},
            (error: unknown) => onError?.(error, null),
          )
          .finally(() => {
            running = null;
          });
      };
      const timer = setInterval(tick, intervalMs);
      (timer as { unref?: () => void }).unref?.();
      tick();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },

    async provisionCustomerKey(input) {
      const limitNanoUsd = parseDecimal(input?.limitUsd, NANO_USD_SCALE, { label: 'limitUsd' });
      if (limitNanoUsd <= 0n) throw new TallyError('VALIDATION', 'limitUsd must be greater than 0', { details: { field: 'limitUsd' } });
      const { customerId } = input;
      const existing = await keys.get(customerId, PROVIDER, 'provisioned');
      if (!(await store.getCustomer(customerId))) {
        throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
      }
      if (existing) {
        throw new TallyError('CONFLICT', `Customer "${customerId}" already has a provisioned OpenRouter key`, {
          details: { customerId, hash: existing.providerKeyHash },
        });
      }
      const created = await client.createKey({
        name: input.name ?? `tally:${customerId}`,
        limitNanoUsd,
        limitReset: input.limitReset ?? null,
      });
      let key: ByokKeyInfo;
      try {
        key = await keys.set(customerId, PROVIDER, created.key, { source: 'provisioned', providerKeyHash: created.info.hash });
      } catch (error) {
        // Not stored: the key must not stay alive unseen at OpenRouter.
        try {
          await client.deleteKey(created.info.hash);
        } catch (cleanup) {
          throw new TallyError(
            'PROVIDER_UNAVAILABLE',
            `Storing the key failed and OpenRouter key ${created.info.hash} could not be deleted`,
            {
              cause: error,
              details: { orphanKeyHash: created.info.hash, cleanupError: cleanup instanceof Error ? cleanup.message : String(cleanup) },
            },
          );
        }
        throw error;
      }
      const { balance } = await write({ customerId, provider: PROVIDER, source: 'provisioned' }, created.info);
      return { key, openRouterKey: created.info, balance };
    },
  };
}
