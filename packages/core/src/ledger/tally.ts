import { type AnalyticsCatalog, analyticsCatalog, type MetricName, type MetricQuery, type MetricResult } from '../analytics/metrics.js';
import type { ModelPrice } from '../catalog/schema.js';
import { type Catalog, findTier } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { customerCreatedMessage } from '../notifications/triggers.js';
import { chargeForKeySource, type PricedCall, priceCall, type TokenUsage } from '../pricing/cost.js';
import { type Clock, systemClock } from '../time/index.js';
import type { IntegerInput } from '../units/integer.js';
import { toBigInt } from '../units/integer.js';
import { type UnchargedCallInput, type UnchargedCallRecord, unchargedCallOf } from './calls.js';
import { canonicalJson } from './canonical.js';
import { EACH_END_USER_SCOPE, endUserOf } from './spend-caps.js';
import type {
  AuditReport,
  Balance,
  BucketKind,
  CaptureResult,
  ChargeResult,
  CustomerRecord,
  Entry,
  EntryKind,
  GrantResult,
  HoldResult,
  Page,
  SpendCapScope,
  SpendCapStatus,
  TallyStore,
  UsageBatchItemResult,
  UsageCommand,
  UsageDetails,
} from './types.js';
import { ENTRY_KINDS } from './types.js';
import { amount, bucketKind, date, duration, identifier, text } from './validate.js';

export interface CreateTallyOptions {
  catalog: Catalog;
  store: TallyStore;
  /** Where Tally reads the time; a fake clock in tests. */
  clock?: Clock;
}

export interface UsageInput {
  model: string;
  inputTokens: IntegerInput;
  cachedInputTokens?: IntegerInput;
  outputTokens: IntegerInput;
  reasoningTokens?: IntegerInput;
  providerCostNanoUsd: IntegerInput;
  markupBps: number;
  catalogVersion?: string;
  generationId?: string | null;
  keySource?: 'managed' | 'byok';
}

export interface GrantInput {
  customerId: string;
  kind: BucketKind;
  amountMicros: IntegerInput;
  expiresAt?: Date | string | null;
  description?: string;
  idempotencyKey: string;
}

export interface ChargeInput {
  customerId: string;
  /** The customer's end user or API key the charge is for: counted against its spend caps. */
  endUserId?: string;
  amountMicros: IntegerInput;
  description?: string;
  usage?: UsageInput;
  idempotencyKey: string;
  /**
   * `recordUsage` and `recordUsageBatch` only: when the usage happened; default the clock's now, and
   * never after it (`VALIDATION`). The entries carry this time, and bucket expiry and spend-cap
   * windows are judged at it. Not part of the request fingerprint: a retry replays whatever its `at`.
   */
  at?: Date;
}

export interface MeterInput {
  customerId: string;
  model: string;
  usage: TokenUsage;
  /** Per-token prices when the catalog has none for the model (e.g. live OpenRouter prices). */
  price?: ModelPrice;
  reportedCostNanoUsd?: bigint;
  generationId?: string;
  keySource?: 'managed' | 'byok';
  endUserId?: string;
  idempotencyKey: string;
}

export interface SpendCapInput {
  customerId: string;
  /** Omitted: the customer's total. `"*"`: each end user without a cap of its own. Else one end user or API key. */
  endUserId?: string;
  /** Credit micros per UTC day; omitted or null: no daily cap. */
  dailyMicros?: IntegerInput | null;
  /** Credit micros per UTC calendar month; omitted or null: no monthly cap. */
  monthlyMicros?: IntegerInput | null;
}

/** A page of the call log: calls with `from ≤ at < to`, oldest first. */
export interface ListUnchargedInput {
  customerId?: string;
  from: Date | string;
  to: Date | string;
  cursor?: string;
  /** 1–500, default 50. */
  limit?: number;
}

export interface TransactionsQuery {
  customerId?: string;
  kinds?: EntryKind[];
  from?: Date | string;
  to?: Date | string;
  cursor?: string;
  limit?: number;
}

function usageDetails(input: UsageInput | undefined, catalog: Catalog): UsageDetails | null {
  if (!input) return null;
  const count = (value: IntegerInput | undefined, label: string) => (value === undefined ? 0n : amount(value, label, 'non-negative'));
  if (!Number.isSafeInteger(input.markupBps) || input.markupBps < 0)
    throw new TallyError('VALIDATION', 'usage.markupBps must be a non-negative integer');
  return {
    model: identifier(input.model, 'usage.model'),
    inputTokens: count(input.inputTokens, 'usage.inputTokens'),
    cachedInputTokens: count(input.cachedInputTokens, 'usage.cachedInputTokens'),
    outputTokens: count(input.outputTokens, 'usage.outputTokens'),
    reasoningTokens: count(input.reasoningTokens, 'usage.reasoningTokens'),
    providerCostNanoUsd: toBigInt(input.providerCostNanoUsd, 'usage.providerCostNanoUsd'),
    markupBps: input.markupBps,
    catalogVersion: input.catalogVersion ?? catalog.version,
    generationId: input.generationId ?? null,
    keySource: input.keySource ?? 'managed',
  };
}

/** The request fingerprint stored with an idempotency key. */
function fingerprint(operation: string, payload: Record<string, unknown>): string {
  return canonicalJson({ operation, ...payload });
}

/**
 * Tally's ledger API: validates input (bad input changes nothing), reads the clock, and hands each
 * operation to the store, which carries it out atomically. See docs/ledger.md.
 */
export function createTally({ catalog, store, clock = systemClock }: CreateTallyOptions) {
  const now = () => clock.now();

  async function customer(customerId: string): Promise<CustomerRecord> {
    const record = await store.getCustomer(identifier(customerId, 'customerId'));
    if (!record) throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
    return record;
  }

  /** When a usage charge happened: its own `at` (not after now), else now. A spend happens now. */
  function chargedAt(input: ChargeInput, operation: string): Date {
    const at = now();
    if (input.at === undefined) return at;
    if (operation !== 'usage')
      throw new TallyError('VALIDATION', 'at is only for recordUsage and recordUsageBatch', { details: { field: 'at' } });
    if (!(input.at instanceof Date)) throw new TallyError('VALIDATION', 'at must be a Date', { details: { field: 'at' } });
    const usedAt = date(input.at, 'at');
    if (usedAt.getTime() > at.getTime()) throw new TallyError('VALIDATION', 'at must not be after now', { details: { field: 'at' } });
    return new Date(usedAt.getTime());
  }

  function chargeCommand(input: ChargeInput, operation: string): UsageCommand {
    const customerId = identifier(input.customerId, 'customerId');
    const amountMicros = amount(input.amountMicros, 'amountMicros', 'positive');
    const description = text(input.description, 'description');
    const usage = usageDetails(input.usage, catalog);
    const endUserId = endUserOf(input.endUserId);
    return {
      customerId,
      endUserId,
      amountMicros,
      description,
      usage,
      idempotencyKey: identifier(input.idempotencyKey, 'idempotencyKey'),
      // The end user joins the fingerprint only when named, so keys stored before caps existed still replay.
      request: fingerprint(operation, { customerId, amountMicros, description, usage, ...(endUserId ? { endUserId } : {}) }),
      at: chargedAt(input, operation),
    };
  }

  const reportCatalog = analyticsCatalog(catalog);

  return {
    catalog,
    store,

    customers: {
      /**
       * Creates the customer or moves it to another tier; overdraft and unlimited come from the catalog.
       * A new customer's `customer.created` event is written in the same transaction, once: its dedupe
       * key is the id, so two concurrent creations enqueue one row.
       */
      async upsert(input: { customerId: string; tier: string }): Promise<CustomerRecord> {
        const tier = findTier(catalog, input.tier);
        const customerId = identifier(input.customerId, 'customerId');
        const at = now();
        return store.transaction(async (tx) => {
          const existing = await tx.getCustomer(customerId);
          const record = await tx.upsertCustomer({
            customerId,
            tier: tier.id,
            overdraftLimitMicros: tier.overdraft,
            unlimited: tier.allowance === 'unlimited',
            at,
          });
          if (!existing) await tx.enqueueOutbox(customerCreatedMessage(customerId, at));
          return record;
        });
      },
      get: (customerId: string) => customer(customerId),
    },

    analytics: {
      /** One metric of docs/analytics.md over `[from, to)`, priced with this Tally's catalog. */
      metric: async <M extends MetricName>(query: MetricQuery<M>): Promise<MetricResult<M>> => store.metric(query, reportCatalog),
      /**
       * Folds what was written since the last fold into the store's rollups, so metrics stay fast: run it
       * from a job every minute or so. False when another fold was already running.
       */
      fold: (): Promise<boolean> => store.foldAnalytics(),
      /** The catalog facts the metrics read (tier prices and order, the credit rate, the currency). */
      catalog: (): AnalyticsCatalog => reportCatalog,
    },

    async grant(input: GrantInput): Promise<GrantResult> {
      const at = now();
      const customerId = identifier(input.customerId, 'customerId');
      const kind = bucketKind(input.kind);
      const amountMicros = amount(input.amountMicros, 'amountMicros', 'positive');
      const expiresAt = input.expiresAt == null ? null : date(input.expiresAt, 'expiresAt');
      // Whether expiresAt is still ahead is checked by the store after the idempotency key, so a late
      // retry of a grant replays its first result instead of failing.
      const description = text(input.description, 'description');
      return store.grant({
        customerId,
        kind,
        amountMicros,
        expiresAt,
        description,
        idempotencyKey: identifier(input.idempotencyKey, 'idempotencyKey'),
        request: fingerprint('grant', { customerId, kind, amountMicros, expiresAt, description }),
        at,
      });
    },

    /** Takes credits now, or fails with `INSUFFICIENT_CREDITS` and changes nothing. */
    spend: async (input: ChargeInput): Promise<ChargeResult> => store.spend(chargeCommand(input, 'spend')),

    /** Records usage that already happened: never refused; what credit can't cover becomes debt. */
    recordUsage: async (input: ChargeInput): Promise<ChargeResult> => store.recordUsage(chargeCommand(input, 'usage')),

    async recordUsageBatch(inputs: ChargeInput[]): Promise<UsageBatchItemResult[]> {
      if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 10_000) {
        throw new TallyError('VALIDATION', 'recordUsageBatch takes 1 to 10,000 items');
      }
      return store.recordUsageBatch(inputs.map((input) => chargeCommand(input, 'usage')));
    },

    /** Prices an LLM call for the customer's tier (catalog markup) and records it as usage. */
    async meter(input: MeterInput): Promise<{ priced: PricedCall; charge: ChargeResult | null }> {
      const record = await customer(input.customerId);
      const priced = priceCall({
        catalog,
        tier: record.tier,
        model: input.model,
        usage: input.usage,
        ...(input.price ? { price: input.price } : {}),
        ...(input.reportedCostNanoUsd !== undefined ? { reportedCostNanoUsd: input.reportedCostNanoUsd } : {}),
      });
      // BYOK: the customer's own key paid the provider; only the catalog's platform fee is charged, unmarked.
      const byok = input.keySource === 'byok';
      const chargeMicros = chargeForKeySource(catalog, priced, byok ? 'byok' : 'managed');
      // What the call was, whichever place records it (the journal or the call log).
      const call = {
        model: input.model,
        inputTokens: input.usage.inputTokens,
        cachedInputTokens: input.usage.cachedInputTokens ?? 0,
        outputTokens: input.usage.outputTokens,
        reasoningTokens: input.usage.reasoningTokens ?? 0,
        providerCostNanoUsd: priced.providerCostNanoUsd,
        catalogVersion: priced.catalogVersion,
        generationId: input.generationId ?? null,
        keySource: input.keySource ?? 'managed',
      };
      if (chargeMicros === 0n) {
        // Nothing to charge, so no journal entry: the call log keeps it, once per key, for usage analytics.
        await store.recordUncharged([
          unchargedCallOf(
            {
              ...call,
              customerId: record.id,
              endUserId: input.endUserId ?? null,
              free: priced.free,
              idempotencyKey: input.idempotencyKey,
            },
            { catalogVersion: catalog.version, at: now() },
          ),
        ]);
        return { priced, charge: null };
      }
      const charge = await store.recordUsage(
        chargeCommand(
          {
            customerId: record.id,
            amountMicros: chargeMicros,
            idempotencyKey: input.idempotencyKey,
            ...(input.endUserId !== undefined ? { endUserId: input.endUserId } : {}),
            usage: { ...call, markupBps: byok ? 0 : priced.markupBps },
          },
          'usage',
        ),
      );
      return { priced, charge };
    },

    /**
     * Logs metered calls that charged nothing (a free model, BYOK without a platform fee) so usage
     * analytics see them; a call already logged under its customer and key is skipped. Returns how
     * many were new. See docs/ledger.md, "Calls that charge nothing".
     */
    async recordUncharged(inputs: UnchargedCallInput[]): Promise<number> {
      if (!Array.isArray(inputs)) throw new TallyError('VALIDATION', 'recordUncharged takes a list of calls');
      const defaults = { catalogVersion: catalog.version, at: now() };
      return store.recordUncharged(inputs.map((input) => unchargedCallOf(input, defaults)));
    },

    /** The call log, a page at a time: calls with `from ≤ at < to`, oldest first. */
    async listUncharged(query: ListUnchargedInput): Promise<Page<UnchargedCallRecord>> {
      if (typeof query !== 'object' || query === null) throw new TallyError('VALIDATION', 'listUncharged takes a query');
      return store.listUncharged({
        from: date(query.from, 'from'),
        to: date(query.to, 'to'),
        limit: query.limit ?? 50,
        ...(query.customerId !== undefined ? { customerId: query.customerId } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      });
    },

    async adjust(input: { customerId: string; amountMicros: IntegerInput; reason: string; idempotencyKey: string }) {
      const customerId = identifier(input.customerId, 'customerId');
      const amountMicros = amount(input.amountMicros, 'amountMicros', 'non-zero');
      const reason = text(input.reason, 'reason', { required: true }) as string;
      return store.adjust({
        customerId,
        amountMicros,
        reason,
        idempotencyKey: identifier(input.idempotencyKey, 'idempotencyKey'),
        request: fingerprint('adjust', { customerId, amountMicros, reason }),
        at: now(),
      });
    },

    /** Reserves credits for a call whose cost is not known yet (e.g. a streaming LLM call). */
    async reserve(input: {
      customerId: string;
      /** Counted against this end user's spend caps (and the customer's) while the hold is active. */
      endUserId?: string;
      amountMicros: IntegerInput;
      ttlMs: number;
      idempotencyKey: string;
    }): Promise<HoldResult> {
      const at = now();
      const customerId = identifier(input.customerId, 'customerId');
      const endUserId = endUserOf(input.endUserId);
      const amountMicros = amount(input.amountMicros, 'amountMicros', 'positive');
      const ttlMs = duration(input.ttlMs, 'ttlMs');
      return store.reserve({
        customerId,
        endUserId,
        amountMicros,
        expiresAt: new Date(at.getTime() + ttlMs),
        idempotencyKey: identifier(input.idempotencyKey, 'idempotencyKey'),
        request: fingerprint('reserve', { customerId, amountMicros, ttlMs, ...(endUserId ? { endUserId } : {}) }),
        at,
      });
    },

    /** Settles a hold with the actual amount (may be more or less than reserved). */
    async capture(input: {
      holdId: string;
      amountMicros: IntegerInput;
      description?: string;
      usage?: UsageInput;
      idempotencyKey: string;
    }): Promise<CaptureResult> {
      const holdId = identifier(input.holdId, 'holdId');
      const amountMicros = amount(input.amountMicros, 'amountMicros', 'non-negative');
      const description = text(input.description, 'description');
      const usage = usageDetails(input.usage, catalog);
      return store.capture({
        holdId,
        amountMicros,
        description,
        usage,
        idempotencyKey: identifier(input.idempotencyKey, 'idempotencyKey'),
        request: fingerprint('capture', { holdId, amountMicros, description, usage }),
        at: now(),
      });
    },

    async release(input: { holdId: string; idempotencyKey?: string }): Promise<HoldResult> {
      const holdId = identifier(input.holdId, 'holdId');
      return store.release({
        holdId,
        idempotencyKey: identifier(input.idempotencyKey ?? `release:${holdId}`, 'idempotencyKey'),
        request: fingerprint('release', { holdId }),
        at: now(),
      });
    },

    balance: async (customerId: string): Promise<Balance> => store.balance(identifier(customerId, 'customerId'), now()),

    async transactions(query: TransactionsQuery = {}): Promise<Page<Entry>> {
      const limit = query.limit ?? 50;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) throw new TallyError('VALIDATION', 'limit must be between 1 and 500');
      for (const kind of query.kinds ?? []) {
        if (!(ENTRY_KINDS as readonly string[]).includes(kind)) throw new TallyError('VALIDATION', `unknown entry kind "${kind}"`);
      }
      return store.listEntries({
        limit,
        ...(query.customerId !== undefined ? { customerId: identifier(query.customerId, 'customerId') } : {}),
        ...(query.kinds ? { kinds: query.kinds } : {}),
        ...(query.from !== undefined ? { from: date(query.from, 'from') } : {}),
        ...(query.to !== undefined ? { to: date(query.to, 'to') } : {}),
        ...(query.cursor !== undefined ? { cursor: identifier(query.cursor, 'cursor') } : {}),
      });
    },

    spendCaps: {
      /**
       * Sets the daily and monthly caps of the customer's total, one end user, or (`endUserId: "*"`)
       * each end user without caps of its own. Both null or omitted: removes them. Enforced at reserve
       * and spend time with `SPEND_CAP_EXCEEDED`; recorded usage is never refused but counts.
       */
      async set(input: SpendCapInput): Promise<SpendCapStatus> {
        const customerId = identifier(input.customerId, 'customerId');
        let scope: SpendCapScope = { kind: 'customer' };
        if (input.endUserId === EACH_END_USER_SCOPE) scope = { kind: 'each-end-user' };
        else if (input.endUserId !== undefined) scope = { kind: 'end-user', endUserId: endUserOf(input.endUserId) as string };
        const cap = (value: IntegerInput | null | undefined, field: string) => (value == null ? null : amount(value, field, 'positive'));
        return store.setSpendCap({
          customerId,
          scope,
          dailyMicros: cap(input.dailyMicros, 'dailyMicros'),
          monthlyMicros: cap(input.monthlyMicros, 'monthlyMicros'),
          at: now(),
        });
      },
      /** Every capped scope and every end user counted, with what each used today and this month. */
      list: async (customerId: string): Promise<SpendCapStatus[]> => store.listSpendCaps(identifier(customerId, 'customerId'), now()),
    },

    sweepHolds: (): Promise<number> => store.sweepHolds(now()),
    expireBuckets: (): Promise<number> => store.expireBuckets(now()),
    audit: (): Promise<AuditReport> => store.audit(),
  };
}

export type Tally = ReturnType<typeof createTally>;
