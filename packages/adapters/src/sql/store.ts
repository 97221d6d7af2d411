import {
  type AuditIssue,
  type AuditReport,
  type Balance,
  type CaptureResult,
  type ChargeResult,
  type CouponDefinition,
  type CustomerRecord,
  checkClaimScheduledRun,
  checkCompleteScheduledRun,
  checkCustomerQuery,
  checkEmailDeliveryQuery,
  checkProviderBalance,
  checkProviderKey,
  checkProviderKeyQuery,
  checkRecordEmailDelivery,
  checkScheduledJob,
  checkSetNotificationPreferences,
  customerCursor,
  type EmailDelivery,
  type Entry,
  type EntryQuery,
  emailDeliveryCursor,
  endUserOf,
  type GrantResult,
  type Hold,
  type HoldResult,
  type NotificationPreferences,
  type OutboxMessage,
  type Page,
  type ProviderBalance,
  type ProviderKeyRecord,
  providerKeyCursor,
  type SpendCapStatus,
  type SubscriptionRecord,
  SYSTEM_ACCOUNTS,
  TallyError,
  type TallyStore,
  type UsageBatchItemResult,
  type UsageCommand,
  unclaimedRun,
  validateSpendCap,
} from '@tally/core';
import { metricSql } from './analytics.js';
import { listUncharged, recordUncharged } from './calls.js';
import {
  decodeAutoRecharge,
  decodeBalance,
  decodeCapture,
  decodeCharge,
  decodeCoupon,
  decodeCustomer,
  decodeEmailDelivery,
  decodeEntry,
  decodeGrant,
  decodeHold,
  decodeHoldResult,
  decodeNotificationPreferences,
  decodeOutbox,
  decodeProviderBalance,
  decodeProviderKey,
  decodePurchase,
  decodePurchaseResult,
  decodeRedeemResult,
  decodeRedemption,
  decodeRefundResult,
  decodeSpendCap,
  decodeSubscription,
  type EmailDeliveryRow,
  encodeUsage,
  type NotificationPreferencesRow,
  type OutboxRow,
  type ProviderBalanceRow,
  type ProviderKeyRow,
} from './decode.js';
import { type SqlDriver, toParam, translateError } from './driver.js';
import { type MigrationResult, migrate } from './migrate.js';

export interface SqlStore extends TallyStore {
  /** Creates or upgrades the schema (advisory-locked, safe to run from several processes). */
  migrate(): Promise<MigrationResult>;
}

const DIGITS = /^\d{1,19}$/;
function numericId(value: string, label: string): string {
  if (!DIGITS.test(value)) throw new TallyError('NOT_FOUND', `Unknown ${label} "${value}"`, { details: { [label]: value } });
  return value;
}

// The billing functions check ranges and formats themselves (schema-v2.ts); these refuse, with the
// same VALIDATION, what cannot even be sent as a parameter of the declared type.

function invalid(field: string, rule: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${rule}`, { details: { field } });
}

function validTime(value: Date, field: string): Date {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) throw invalid(field, 'must be a valid date');
  return value;
}

const timeOrNull = (value: Date | null, field: string): Date | null => (value === null ? null : validTime(value, field));

const INT_MAX = 2_147_483_647;
function int(value: number | null, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || Math.abs(value) > INT_MAX)
    throw invalid(field, 'must be a whole number');
  return value;
}

const BIGINT_MAX = 2n ** 63n - 1n;
function bigint(value: bigint, field: string): bigint {
  if (typeof value !== 'bigint' || value > BIGINT_MAX || value < -BIGINT_MAX) throw invalid(field, 'must be a bigint');
  return value;
}

function text(value: string, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  return value;
}

function flag(value: boolean, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

function limitOf(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalid('limit', 'must be a positive integer');
  return limit;
}

function subscriptionParams(r: SubscriptionRecord, expectedVersion: number | null): unknown[] {
  const change = r.scheduledChange;
  if (change !== null && (typeof change !== 'object' || !(change.tier === null || typeof change.tier === 'string'))) {
    throw invalid('scheduledChange', 'must be { tier, at } or null');
  }
  return [
    text(r.customerId, 'customerId'),
    text(r.tier, 'tier'),
    text(r.status, 'status'),
    text(r.interval, 'interval'),
    validTime(r.currentPeriodStart, 'currentPeriodStart'),
    validTime(r.currentPeriodEnd, 'currentPeriodEnd'),
    timeOrNull(r.trialEnd, 'trialEnd'),
    change === null ? null : change.tier,
    change === null ? null : validTime(change.at, 'scheduledChange.at'),
    timeOrNull(r.pastDueSince, 'pastDueSince'),
    text(r.provider, 'provider'),
    r.providerCustomerId === null ? null : text(r.providerCustomerId, 'providerCustomerId'),
    r.providerSubscriptionId === null ? null : text(r.providerSubscriptionId, 'providerSubscriptionId'),
    timeOrNull(r.providerStateAt, 'providerStateAt'),
    int(r.version, 'version'),
    validTime(r.createdAt, 'createdAt'),
    validTime(r.updatedAt, 'updatedAt'),
    int(expectedVersion, 'expectedVersion'),
  ];
}

// Provider keys and balances (schema version 3). Ids are ordered in binary (collate "C"), as the memory store orders them.
const KEY_COLUMNS = `customer_id, provider, source, sealed, key_id, last4, provider_key_hash,
  tally__ts(created_at) as created_at, tally__ts(updated_at) as updated_at`;
const BALANCE_COLUMNS = `customer_id, provider, source, limit_nano_usd::text as limit_nano_usd, usage_nano_usd::text as usage_nano_usd,
  remaining_nano_usd::text as remaining_nano_usd, low, tally__ts(synced_at) as synced_at`;
const KEY_ORDER = 'customer_id collate "C", provider collate "C", source collate "C"';

// Customers (schema version 5): listed in binary id order, the order tally_customers_id_binary keeps.
const CUSTOMER_JSON = `jsonb_build_object('id', id, 'tier', tier, 'overdraftLimitMicros', overdraft_limit::text, 'unlimited', unlimited,
  'createdAt', tally__ts(created_at))`;

/** An `ilike` pattern for a substring: a backslash (LIKE's default escape) before `%`, `_` and `\`, so each matches only itself. */
const containsPattern = (search: string): string => `%${search.replace(/[\\%_]/g, '\\$&')}%`;

// The email delivery log (schema version 6), newest first by (at, id). The output names shadow the
// columns in an order by, so the listing orders by the qualified columns (d.at, d.id), not this text.
const DELIVERY_COLUMNS = `id::text as id, dedupe_key, customer_id, template, recipient, subject, status, suppression, attempt,
  error, transport, message_id, test, tally__ts(at) as at`;

function unknownCustomer(customerId: string): TallyError {
  return new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
}

function couponParams(d: CouponDefinition, at: Date): unknown[] {
  const b = d.benefit;
  if (!Array.isArray(d.tiers) || !d.tiers.every((tier) => typeof tier === 'string')) throw invalid('tiers', 'must be a list of tier ids');
  const credits = b?.type === 'credits';
  const percent = b?.type === 'percent_off';
  return [
    text(d.code, 'code'),
    text(b?.type, 'benefit.type'),
    credits ? bigint(b.amountMicros, 'benefit.amountMicros') : null,
    credits ? int(b.expiresInDays, 'benefit.expiresInDays') : null,
    percent ? int(b.percentOffBps, 'benefit.percentOffBps') : null,
    percent ? int(b.durationPeriods, 'benefit.durationPeriods') : null,
    int(d.maxRedemptions, 'maxRedemptions'),
    timeOrNull(d.expiresAt, 'expiresAt'),
    JSON.stringify(d.tiers),
    validTime(at, 'at'),
  ];
}

/**
 * A TallyStore on any Postgres (node-postgres, PGlite). Each ledger operation is one call to a
 * PL/pgSQL function: one round trip, atomic, with the customer row locked only inside it.
 */
export function createSqlStore(driver: SqlDriver): SqlStore {
  async function call<T>(fn: string, params: readonly unknown[], decode: (value: unknown) => T): Promise<T> {
    const placeholders = params.map((_, i) => `$${i + 1}`).join(', ');
    try {
      const { rows } = await driver.query<{ result: unknown }>(
        `select ${fn}(${placeholders}) as result`,
        params.map(toParam),
        `${fn}_${params.length}`,
      );
      return decode(rows[0]?.result);
    } catch (error) {
      throw translateError(error);
    }
  }

  async function rows<Row>(text: string, params: readonly unknown[] = [], on: SqlDriver = driver): Promise<Row[]> {
    try {
      return (await on.query<Row>(text, params.map(toParam))).rows;
    } catch (error) {
      throw translateError(error);
    }
  }

  /** spend and recordUsage: one SQL function, told which by its first argument. */
  const charge = (operation: 'spend' | 'usage', s: UsageCommand): Promise<ChargeResult> =>
    call(
      'tally_charge',
      [
        operation,
        s.idempotencyKey,
        s.request,
        s.customerId,
        endUserOf(s.endUserId),
        s.amountMicros,
        s.description,
        encodeUsage(s.usage),
        s.at,
      ],
      decodeCharge,
    );

  const store: SqlStore = {
    migrate: () => migrate(driver),

    transaction: (fn) => driver.transaction((tx) => fn(createSqlStore(tx))),

    upsertCustomer: (c) => call('tally_upsert_customer', [c.customerId, c.tier, c.overdraftLimitMicros, c.unlimited, c.at], decodeCustomer),

    async getCustomer(customerId: string): Promise<CustomerRecord | null> {
      const [row] = await rows<{ c: unknown }>(
        `select jsonb_build_object('id', id, 'tier', tier, 'overdraftLimitMicros', overdraft_limit::text, 'unlimited', unlimited,
                'createdAt', tally__ts(created_at)) as c from tally_customers where id = $1`,
        [customerId],
      );
      return row ? decodeCustomer(row.c) : null;
    },

    grant: (g): Promise<GrantResult> =>
      call(
        'tally_grant',
        [g.idempotencyKey, g.request, g.customerId, g.kind, g.amountMicros, g.expiresAt, g.description, g.at],
        decodeGrant,
      ),

    spend: async (s): Promise<ChargeResult> => charge('spend', s),
    recordUsage: async (s): Promise<ChargeResult> => charge('usage', s),

    async recordUsageBatch(commands: UsageCommand[]): Promise<UsageBatchItemResult[]> {
      if (commands.length === 0) return [];
      // Each item runs at its own time (schema v9); the batch's latest is what items without one get.
      const at = new Date(Math.max(...commands.map((c) => c.at.getTime())));
      const items = JSON.stringify(
        commands.map((c) => ({
          key: c.idempotencyKey,
          at: c.at.toISOString(),
          request: c.request,
          customerId: c.customerId,
          endUserId: endUserOf(c.endUserId),
          amount: c.amountMicros.toString(),
          description: c.description,
          usage: c.usage ? JSON.parse(encodeUsage(c.usage) as string) : null,
        })),
      );
      return call('tally_usage_batch', [items, at], (value) =>
        (value as Array<Record<string, unknown>>).map((item) =>
          item.ok === true
            ? { ok: true, result: decodeCharge(item.result) }
            : { ok: false, code: String(item.code), message: String(item.message) },
        ),
      );
    },

    adjust: (a) =>
      call('tally_adjust', [a.idempotencyKey, a.request, a.customerId, a.amountMicros, a.reason, a.at], (value) =>
        (value as Record<string, unknown>).bucket ? decodeGrant(value) : decodeCharge(value),
      ),

    reserve: async (r): Promise<HoldResult> =>
      call(
        'tally_reserve',
        [r.idempotencyKey, r.request, r.customerId, endUserOf(r.endUserId), r.amountMicros, r.expiresAt, r.at],
        decodeHoldResult,
      ),

    async setSpendCap(command): Promise<SpendCapStatus> {
      const { key, daily, monthly } = validateSpendCap(command);
      return call('tally_set_spend_cap', [command.customerId, key, daily, monthly, command.at], decodeSpendCap);
    },

    listSpendCaps: (customerId, at): Promise<SpendCapStatus[]> =>
      call('tally_list_spend_caps', [customerId, at], (value) => (value as unknown[]).map(decodeSpendCap)),

    capture: (c): Promise<CaptureResult> =>
      call(
        'tally_capture',
        [c.idempotencyKey, c.request, numericId(c.holdId, 'hold'), c.amountMicros, c.description, encodeUsage(c.usage), c.at],
        decodeCapture,
      ),

    release: (r): Promise<HoldResult> =>
      call('tally_release', [r.idempotencyKey, r.request, numericId(r.holdId, 'hold'), r.at], decodeHoldResult),

    sweepHolds: (at) => call('tally_sweep_holds', [at], Number),
    expireBuckets: (at) => call('tally_expire_buckets', [at], Number),
    balance: (customerId, at): Promise<Balance> => call('tally_balance', [customerId, at], decodeBalance),

    async getHold(holdId: string): Promise<Hold | null> {
      if (!DIGITS.test(holdId)) return null;
      const [row] = await rows<{ h: unknown }>('select tally__hold_json(h) as h from tally_holds h where id = $1::bigint', [holdId]);
      return row ? decodeHold(row.h) : null;
    },

    async listEntries(query: EntryQuery): Promise<Page<Entry>> {
      if (query.cursor !== undefined && !DIGITS.test(query.cursor))
        throw new TallyError('VALIDATION', 'cursor is not one this store issued');
      const found = await rows<{ e: unknown }>(
        `select tally__entry_json(e) as e from tally_entries e
         where ($1::text is null or customer_id = $1)
           and ($2::text is null or kind = any (string_to_array($2, ',')))
           and ($3::timestamptz is null or created_at >= $3)
           and ($4::timestamptz is null or created_at < $4)
           and ($5::bigint is null or id < $5)
         order by id desc
         limit $6`,
        [
          query.customerId ?? null,
          query.kinds?.join(',') ?? null,
          query.from ?? null,
          query.to ?? null,
          query.cursor ?? null,
          query.limit + 1,
        ],
      );
      const items = found.slice(0, query.limit).map((row) => decodeEntry(row.e));
      return { items, nextCursor: found.length > query.limit ? (items.at(-1)?.id ?? null) : null };
    },

    audit: () => driver.transaction((tx) => auditSql(tx)),

    async enqueueOutbox(message): Promise<OutboxMessage | null> {
      const [row] = await rows<OutboxRow>(
        `insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at) values ($1, $2, $3, $4, $4)
         on conflict (dedupe_key) do nothing returning *`,
        [message.topic, message.payload, message.dedupeKey, message.at],
      );
      return row ? decodeOutbox(row) : null;
    },

    async claimOutbox(command): Promise<OutboxMessage[]> {
      const claimed = await rows<OutboxRow>(
        `update tally_outbox set leased_until = $2, attempts = attempts + 1
         where id in (
           select id from tally_outbox
           where delivered_at is null and not dead and available_at <= $3 and (leased_until is null or leased_until <= $3)
             and ($4::text is null or topic = any (string_to_array($4, ',')))
           order by id
           limit $1
           for update skip locked)
         returning *`,
        [command.limit, command.leaseUntil, command.at, command.topics?.join(',') ?? null],
      );
      return claimed.map(decodeOutbox).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    },

    async completeOutbox(id, at) {
      await rows('update tally_outbox set delivered_at = $2, leased_until = null where id = $1::bigint', [
        numericId(id, 'outbox message'),
        at,
      ]);
    },

    async failOutbox(id, error, retryAt) {
      await rows(
        `update tally_outbox set last_error = $2, leased_until = null, available_at = coalesce($3::timestamptz, available_at),
                dead = ($3::timestamptz is null)
         where id = $1::bigint`,
        [numericId(id, 'outbox message'), error.slice(0, 2000), retryAt],
      );
    },

    async listOutbox(query): Promise<OutboxMessage[]> {
      const found = await rows<OutboxRow>(
        `select * from tally_outbox
         where ($1::boolean is null or dead = $1) and ($2::boolean is null or (delivered_at is not null) = $2)
         order by id limit $3`,
        [query.dead ?? null, query.delivered ?? null, query.limit],
      );
      return found.map(decodeOutbox);
    },

    // ---- billing records (schema version 2; docs/billing.md)

    async getSubscription(customerId: string): Promise<SubscriptionRecord | null> {
      const [row] = await rows<{ s: unknown }>(
        'select tally__subscription_json(s) as s from tally_subscriptions s where customer_id = $1',
        [customerId],
      );
      return row ? decodeSubscription(row.s) : null;
    },

    saveSubscription: async (record, expectedVersion) =>
      call('tally_save_subscription', subscriptionParams(record, expectedVersion), decodeSubscription),

    async listDueSubscriptions(query) {
      const found = await rows<{ s: unknown }>(
        `select tally__subscription_json(s) as s from tally_subscriptions s
         where status <> 'canceled' and (current_period_end <= $1 or (status = 'past_due' and past_due_since <= $2))
         order by current_period_end, customer_id collate "C"
         limit $3`,
        [validTime(query.periodEndBefore, 'periodEndBefore'), validTime(query.pastDueBefore, 'pastDueBefore'), limitOf(query.limit)],
      );
      return found.map((row) => decodeSubscription(row.s));
    },

    async subscriptionHistory(customerId) {
      // The history table has the subscription table's columns, so its rows read as subscriptions.
      const found = await rows<{ s: unknown }>(
        `select tally__subscription_json(jsonb_populate_record(null::tally_subscriptions, to_jsonb(h))) as s
         from tally_subscription_history h where customer_id = $1 order by version`,
        [customerId],
      );
      return found.map((row) => decodeSubscription(row.s));
    },

    recordProviderEvent: async (event) =>
      call(
        'tally_record_provider_event',
        [text(event.provider, 'provider'), text(event.eventId, 'eventId'), text(event.type, 'type'), validTime(event.at, 'at')],
        (value) => value === true,
      ),

    createCoupon: async (definition, at) => call('tally_create_coupon', couponParams(definition, at), decodeCoupon),

    async getCoupon(code) {
      const [row] = await rows<{ k: unknown }>('select tally__coupon_json(k) as k from tally_coupons k where code = upper($1)', [code]);
      return row ? decodeCoupon(row.k) : null;
    },

    async listCoupons(query) {
      const found = await rows<{ k: unknown }>(
        'select tally__coupon_json(k) as k from tally_coupons k order by created_at desc, code collate "C" limit $1',
        [limitOf(query.limit)],
      );
      return found.map((row) => decodeCoupon(row.k));
    },

    setCouponActive: async (code, active) => call('tally_set_coupon_active', [text(code, 'code'), flag(active, 'active')], decodeCoupon),

    redeemCoupon: async (r) =>
      call(
        'tally_redeem_coupon',
        [r.idempotencyKey, r.request, text(r.code, 'code'), r.customerId, text(r.tier, 'tier'), validTime(r.at, 'at')],
        decodeRedeemResult,
      ),

    async listRedemptions(query) {
      const found = await rows<{ r: unknown }>(
        `select tally__redemption_json(r, k) as r
         from tally_coupon_redemptions r join tally_coupons k on k.code = r.code
         where ($1::text is null or r.customer_id = $1) and ($2::text is null or r.code = upper($2))
         order by r.id desc
         limit $3`,
        [query.customerId ?? null, query.code ?? null, limitOf(query.limit)],
      );
      return found.map((row) => decodeRedemption(row.r));
    },

    purchaseCredits: async (p) =>
      call(
        'tally_purchase_credits',
        [
          p.idempotencyKey,
          p.request,
          text(p.paymentId, 'paymentId'),
          p.customerId,
          text(p.packId, 'packId'),
          bigint(p.priceCents, 'priceCents'),
          bigint(p.creditsMicros, 'creditsMicros'),
          validTime(p.at, 'at'),
        ],
        decodePurchaseResult,
      ),

    async getPurchase(paymentId) {
      const [row] = await rows<{ p: unknown }>('select tally__purchase_json(p) as p from tally_pack_purchases p where payment_id = $1', [
        paymentId,
      ]);
      return row ? decodePurchase(row.p) : null;
    },

    refundPurchase: async (r) =>
      call(
        'tally_refund_purchase',
        [r.idempotencyKey, r.request, text(r.paymentId, 'paymentId'), bigint(r.refundedCents, 'refundedCents'), validTime(r.at, 'at')],
        decodeRefundResult,
      ),

    async getAutoRecharge(customerId) {
      const [row] = await rows<{ a: unknown }>(
        'select tally__auto_recharge_json(a) as a from tally_auto_recharge a where customer_id = $1',
        [customerId],
      );
      return row ? decodeAutoRecharge(row.a) : null;
    },

    saveAutoRecharge: async (a) =>
      call(
        'tally_save_auto_recharge',
        [
          text(a.customerId, 'customerId'),
          flag(a.enabled, 'enabled'),
          bigint(a.thresholdMicros, 'thresholdMicros'),
          text(a.packId, 'packId'),
          int(a.maxPerMonth, 'maxPerMonth'),
          validTime(a.updatedAt, 'updatedAt'),
        ],
        decodeAutoRecharge,
      ),

    claimAutoRecharge: async (q) =>
      call(
        'tally_claim_auto_recharge',
        [text(q.customerId, 'customerId'), text(q.month, 'month'), int(q.maxPerMonth, 'maxPerMonth'), validTime(q.at, 'at')],
        (value) => (value === null || value === undefined ? null : Number(value)),
      ),

    retryOutbox: async (id, at) => call('tally_retry_outbox', [numericId(id, 'outbox message'), validTime(at, 'at')], () => undefined),

    // ---- provider keys and balance snapshots (schema version 3; docs/byok.md)

    async putProviderKey(input, expectedSealed): Promise<ProviderKeyRecord> {
      const r = checkProviderKey(input);
      const values = [r.customerId, r.provider, r.source, r.sealed, r.keyId, r.last4, r.providerKeyHash, r.updatedAt];
      if (expectedSealed !== undefined) {
        const [row] = await rows<ProviderKeyRow>(
          `update tally_provider_keys set sealed = $4, key_id = $5, last4 = $6, provider_key_hash = $7, updated_at = $8
           where customer_id = $1 and provider = $2 and source = $3 and sealed = $9
           returning ${KEY_COLUMNS}`,
          [...values, text(expectedSealed, 'expectedSealed')],
        );
        if (row) return decodeProviderKey(row);
        if (!(await store.getCustomer(r.customerId))) throw unknownCustomer(r.customerId);
        throw new TallyError('CONFLICT', `The ${r.provider} key of "${r.customerId}" changed since it was read`, {
          details: { customerId: r.customerId, provider: r.provider, source: r.source },
        });
      }
      // Inserting through a select that finds the customer: an unknown one inserts nothing (NOT_FOUND)
      // instead of a foreign-key error, which would abort the caller's transaction.
      const [row] = await rows<ProviderKeyRow>(
        `insert into tally_provider_keys (customer_id, provider, source, sealed, key_id, last4, provider_key_hash, created_at, updated_at)
         select $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $9::timestamptz, $8::timestamptz
         where exists (select 1 from tally_customers where id = $1)
         on conflict (customer_id, provider, source) do update set sealed = excluded.sealed, key_id = excluded.key_id,
           last4 = excluded.last4, provider_key_hash = excluded.provider_key_hash, updated_at = excluded.updated_at
         returning ${KEY_COLUMNS}`,
        [...values, r.createdAt],
      );
      if (!row) throw unknownCustomer(r.customerId);
      return decodeProviderKey(row);
    },

    async getProviderKey(customerId, provider, source) {
      const [row] = await rows<ProviderKeyRow>(
        `select ${KEY_COLUMNS} from tally_provider_keys where customer_id = $1 and provider = $2 and source = $3`,
        [customerId, provider, source],
      );
      return row ? decodeProviderKey(row) : null;
    },

    async deleteProviderKey(customerId, provider, source) {
      const [row] = await rows<{ deleted: string }>(
        `with k as (delete from tally_provider_keys where customer_id = $1 and provider = $2 and source = $3 returning 1),
              b as (delete from tally_provider_balances where customer_id = $1 and provider = $2 and source = $3)
         select count(*)::text as deleted from k`,
        [customerId, provider, source],
      );
      return row !== undefined && row.deleted !== '0';
    },

    async listProviderKeys(query): Promise<Page<ProviderKeyRecord>> {
      const { after, limit, source } = checkProviderKeyQuery(query);
      const found = await rows<ProviderKeyRow>(
        `select ${KEY_COLUMNS} from tally_provider_keys
         where ($1::text is null or (${KEY_ORDER}) > ($1::text, $2::text, $3::text)) and ($4::text is null or source = $4)
         order by ${KEY_ORDER}
         limit $5`,
        [after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, source, limit + 1],
      );
      const items = found.slice(0, limit).map(decodeProviderKey);
      return { items, nextCursor: found.length > limit ? providerKeyCursor(items[limit - 1] as ProviderKeyRecord) : null };
    },

    async putProviderBalance(input): Promise<ProviderBalance | null> {
      const b = checkProviderBalance(input);
      // Read (locked) then write, in one transaction: a concurrent put of the same key waits on the
      // lock and then returns what this one wrote. (Two first puts of a key may both return null.)
      return driver.transaction(async (tx) => {
        const [previous] = await rows<ProviderBalanceRow>(
          `select ${BALANCE_COLUMNS} from tally_provider_balances where customer_id = $1 and provider = $2 and source = $3 for update`,
          [b.customerId, b.provider, b.source],
          tx,
        );
        const saved = await rows(
          `insert into tally_provider_balances (customer_id, provider, source, limit_nano_usd, usage_nano_usd, remaining_nano_usd, low, synced_at)
           select $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::boolean, $8::timestamptz
           where exists (select 1 from tally_customers where id = $1)
           on conflict (customer_id, provider, source) do update set limit_nano_usd = excluded.limit_nano_usd,
             usage_nano_usd = excluded.usage_nano_usd, remaining_nano_usd = excluded.remaining_nano_usd, low = excluded.low,
             synced_at = excluded.synced_at
           returning 1`,
          [b.customerId, b.provider, b.source, b.limitNanoUsd, b.usageNanoUsd, b.remainingNanoUsd, b.low, b.syncedAt],
          tx,
        );
        if (saved.length === 0) throw unknownCustomer(b.customerId);
        return previous ? decodeProviderBalance(previous) : null;
      });
    },

    async listProviderBalances(customerId) {
      const found = await rows<ProviderBalanceRow>(
        `select ${BALANCE_COLUMNS} from tally_provider_balances where customer_id = $1 order by provider collate "C", source collate "C"`,
        [customerId],
      );
      return found.map(decodeProviderBalance);
    },

    // ---- notification preferences and the customer listing (schema version 5; docs/notifications.md)

    async getNotificationPreferences(customerId): Promise<NotificationPreferences> {
      // No customer's id holds NUL, and Postgres would refuse it as a parameter rather than find nothing.
      if (typeof customerId !== 'string' || customerId.includes('\0')) throw unknownCustomer(String(customerId));
      const [row] = await rows<NotificationPreferencesRow>(
        `select c.id as customer_id, p.categories, tally__ts(p.updated_at) as updated_at
         from tally_customers c left join tally_notification_preferences p on p.customer_id = c.id
         where c.id = $1`,
        [customerId],
      );
      if (!row) throw unknownCustomer(customerId);
      return decodeNotificationPreferences(row);
    },

    async setNotificationPreferences(command): Promise<NotificationPreferences> {
      const { customerId, changes, at } = checkSetNotificationPreferences(command);
      // One statement: the merge happens under the row's lock, so concurrent saves of different
      // categories both land; an unknown customer inserts nothing (NOT_FOUND) instead of failing
      // the foreign key, which would abort the caller's transaction.
      const [row] = await rows<NotificationPreferencesRow>(
        `insert into tally_notification_preferences as p (customer_id, categories, updated_at)
         select $1::text, $2::jsonb, $3::timestamptz
         where exists (select 1 from tally_customers where id = $1)
         on conflict (customer_id) do update set categories = p.categories || excluded.categories, updated_at = excluded.updated_at
         returning p.customer_id, p.categories, tally__ts(p.updated_at) as updated_at`,
        [customerId, JSON.stringify(changes), at],
      );
      if (!row) throw unknownCustomer(customerId);
      return decodeNotificationPreferences(row);
    },

    async listCustomers(query): Promise<Page<CustomerRecord>> {
      const { search, after, limit } = checkCustomerQuery(query);
      // Collation "C" makes ilike fold ASCII letters only, as the memory store does (foldAsciiCase).
      const found = await rows<{ c: unknown }>(
        `select ${CUSTOMER_JSON} as c from tally_customers
         where ($1::text is null or id collate "C" > $1) and ($2::text is null or id collate "C" ilike $2)
         order by id collate "C"
         limit $3`,
        [after, search === null ? null : containsPattern(search), limit + 1],
      );
      const items = found.slice(0, limit).map((row) => decodeCustomer(row.c));
      return { items, nextCursor: found.length > limit ? customerCursor((items[limit - 1] as CustomerRecord).id) : null };
    },

    // ---- the email delivery log and the scheduler's claimed runs (schema version 6; docs/notifications.md)

    async recordEmailDelivery(command): Promise<EmailDelivery> {
      const d = checkRecordEmailDelivery(command);
      const [row] = await rows<EmailDeliveryRow>(
        `insert into tally_email_deliveries
           (dedupe_key, customer_id, template, recipient, subject, status, suppression, attempt, error, transport, message_id, test, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning ${DELIVERY_COLUMNS}`,
        [
          d.dedupeKey,
          d.customerId,
          d.template,
          d.to,
          d.subject,
          d.status,
          d.suppression,
          d.attempt,
          d.error,
          d.transport,
          d.messageId,
          d.test,
          d.at,
        ],
      );
      return decodeEmailDelivery(row as EmailDeliveryRow);
    },

    async listEmailDeliveries(query): Promise<Page<EmailDelivery>> {
      const { customerId, status, template, after, limit } = checkEmailDeliveryQuery(query);
      // Only the filters given, so the planner sees plain conditions it can serve from an index.
      const params: unknown[] = [];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      const where = [
        customerId === null ? null : `customer_id = ${param(customerId)}`,
        status === null ? null : `status = ${param(status)}`,
        template === null ? null : `template = ${param(template)}`,
        after === null ? null : `(d.at, d.id) < (${param(after.at)}::timestamptz, ${param(after.id)}::bigint)`,
      ].filter((condition) => condition !== null);
      const found = await rows<EmailDeliveryRow>(
        `select ${DELIVERY_COLUMNS} from tally_email_deliveries d
         ${where.length === 0 ? '' : `where ${where.join(' and ')}`}
         order by d.at desc, d.id desc
         limit ${param(limit + 1)}`,
        params,
      );
      const items = found.slice(0, limit).map(decodeEmailDelivery);
      return { items, nextCursor: found.length > limit ? emailDeliveryCursor(items[limit - 1] as EmailDelivery) : null };
    },

    async claimScheduledRun(command): Promise<boolean> {
      const c = checkClaimScheduledRun(command);
      // One statement: a free slot is inserted; a taken one is updated only when neither completed
      // nor leased. Concurrent claimers wait on the key and re-check the winner's row, so one wins.
      const claimed = await rows(
        `insert into tally_scheduled_runs as r (job, slot, claimed_at, lease_until) values ($1, $2, $3, $4)
         on conflict (job, slot) do update set claimed_at = excluded.claimed_at, lease_until = excluded.lease_until
           where r.completed_at is null and r.lease_until <= excluded.claimed_at
         returning 1`,
        [c.job, c.slot, c.at, c.leaseUntil],
      );
      return claimed.length === 1;
    },

    async completeScheduledRun(command): Promise<void> {
      const { job, slot, at } = checkCompleteScheduledRun(command);
      // Completing twice (a run whose lease ran out, finished by two instances) keeps the first time.
      const [row] = await rows<{ known: boolean }>(
        `with done as (update tally_scheduled_runs set completed_at = $3 where job = $1 and slot = $2 and completed_at is null returning 1)
         select exists (select 1 from tally_scheduled_runs where job = $1 and slot = $2) as known`,
        [job, slot, at],
      );
      if (row?.known !== true) throw unclaimedRun(job, slot);
    },

    async lastScheduledRun(job): Promise<Date | null> {
      const [row] = await rows<{ slot: string | null }>(
        'select tally__ts(max(slot)) as slot from tally_scheduled_runs where job = $1 and completed_at is not null',
        [checkScheduledJob(job)],
      );
      return row?.slot ? new Date(row.slot) : null;
    },

    // ---- the call log of calls that charged nothing (schema version 7; docs/ledger.md)

    recordUncharged: (calls) => recordUncharged(rows, calls),
    listUncharged: (query) => listUncharged(rows, query),

    // ---- analytics (docs/analytics.md)

    metric: (query, catalog) => metricSql(driver, query, catalog),
    foldAnalytics: () => call('tally_fold_rollups', [], (value) => value === true),

    close: () => driver.close(),
  };
  return store;
}

async function auditSql(tx: SqlDriver): Promise<AuditReport> {
  await tx.query('set transaction isolation level repeatable read');
  const issues: AuditIssue[] = [];
  const add = (code: AuditIssue['code'], subject: string, expected: unknown, actual: unknown) =>
    issues.push({ code, subject, expected: String(expected), actual: String(actual) });

  const invalid = await tx.query<{ id: string; amount: string }>(
    'select id::text, amount::text from tally_entries where amount <= 0 or from_account = to_account',
  );
  for (const row of invalid.rows) add('ENTRY_INVALID', `entry:${row.id}`, 'amount > 0 between two accounts', row.amount);

  const accounts = await tx.query<{ account: string; balance: string }>(
    `select account, sum(amount)::text as balance from (
       select to_account as account, amount from tally_entries
       union all select from_account, -amount from tally_entries) moves
     group by account`,
  );
  const derived = new Map(accounts.rows.map((row) => [row.account, BigInt(row.balance)]));
  let totalMicros = 0n;
  const systemBalances: Record<string, bigint> = Object.fromEntries(Object.values(SYSTEM_ACCOUNTS).map((account) => [account, 0n]));
  for (const [account, balance] of derived) {
    totalMicros += balance;
    if (account.startsWith('system:')) systemBalances[account] = balance;
  }
  if (totalMicros !== 0n) add('ZERO_SUM', 'journal', 0n, totalMicros);

  const customers = await tx.query<{ id: string; balance: string; debt: string; held: string; buckets: string; active_holds: string }>(
    `select c.id, c.balance::text, c.debt::text, c.held::text,
            coalesce((select sum(remaining) from tally_buckets b where b.customer_id = c.id), 0)::text as buckets,
            coalesce((select sum(amount) from tally_holds h where h.customer_id = c.id and h.status = 'active'), 0)::text as active_holds
     from tally_customers c`,
  );
  for (const c of customers.rows) {
    const balance = BigInt(c.balance);
    const journal = derived.get(`customer:${c.id}`) ?? 0n;
    if (journal !== balance) add('BALANCE_MISMATCH', `customer:${c.id}`, journal, balance);
    const debt = -(derived.get(`debt:${c.id}`) ?? 0n);
    if (debt !== BigInt(c.debt)) add('DEBT_MISMATCH', `debt:${c.id}`, debt, c.debt);
    const positive = balance > 0n ? balance : 0n;
    if (BigInt(c.buckets) !== positive) add('BUCKETS_VS_BALANCE', `customer:${c.id}`, positive, c.buckets);
    if (BigInt(c.active_holds) !== BigInt(c.held)) add('HELD_MISMATCH', `customer:${c.id}`, c.active_holds, c.held);
  }

  const buckets = await tx.query<{ id: string; granted: string; remaining: string; deltas: string }>(
    `select b.id::text, b.granted::text, b.remaining::text, coalesce(d.deltas, 0)::text as deltas
     from tally_buckets b left join (select bucket_id, sum(bucket_delta) as deltas from tally_entries where bucket_id is not null group by bucket_id) d
       on d.bucket_id = b.id`,
  );
  for (const b of buckets.rows) {
    if (BigInt(b.deltas) !== BigInt(b.remaining)) add('BUCKET_MISMATCH', `bucket:${b.id}`, b.deltas, b.remaining);
    if (BigInt(b.remaining) < 0n || BigInt(b.remaining) > BigInt(b.granted))
      add('BUCKET_OUT_OF_RANGE', `bucket:${b.id}`, `0..${b.granted}`, b.remaining);
  }

  const orphaned = await tx.query<{ key: string }>(
    `select i.key from tally_idempotency i
     where i.operation_id is not null and not exists (select 1 from tally_entries e where e.operation_id = i.operation_id)`,
  );
  for (const row of orphaned.rows) add('IDEMPOTENCY_MISMATCH', `key:${row.key}`, 'entries for its operation', 'none');
  const shared = await tx.query<{ operation_id: string; keys: string }>(
    'select operation_id::text, count(*)::text as keys from tally_idempotency where operation_id is not null group by operation_id having count(*) > 1',
  );
  for (const row of shared.rows) add('IDEMPOTENCY_MISMATCH', `operation:${row.operation_id}`, 1, row.keys);
  const unfinished = await tx.query<{ key: string }>('select key from tally_idempotency where result is null');
  for (const row of unfinished.rows) add('IDEMPOTENCY_MISMATCH', `key:${row.key}`, 'a stored result', 'none');

  const counts = await tx.query<{ entries: string; buckets: string; holds: string }>(
    'select (select count(*) from tally_entries)::text as entries, (select count(*) from tally_buckets)::text as buckets, (select count(*) from tally_holds)::text as holds',
  );
  const count = counts.rows[0];
  return {
    ok: issues.length === 0,
    customers: customers.rows.length,
    entries: Number(count?.entries ?? 0),
    buckets: Number(count?.buckets ?? 0),
    holds: Number(count?.holds ?? 0),
    totalMicros,
    systemBalances,
    issues,
  };
}
