import { type AnalyticsSnapshot, computeMetric } from '../analytics/oracle.js';
import type {
  AutoRechargeSettings,
  Coupon,
  CouponBenefit,
  CouponDefinition,
  CouponRedemption,
  PackPurchase,
  PurchaseCreditsCommand,
  RedeemCouponCommand,
  RefundPurchaseCommand,
  SubscriptionRecord,
} from '../billing/types.js';
import { SUBSCRIPTION_STATUSES } from '../billing/types.js';
import {
  checkProviderBalance,
  checkProviderKey,
  checkProviderKeyQuery,
  type ProviderBalance,
  type ProviderKeyQuery,
  type ProviderKeyRecord,
  providerKeyCursor,
} from '../byok/store.js';
import { TallyError } from '../errors/index.js';
import type { ClaimScheduledRunCommand, EmailDelivery, EmailDeliveryQuery, RecordEmailDeliveryCommand } from '../notifications/email.js';
import {
  checkClaimScheduledRun,
  checkCompleteScheduledRun,
  checkEmailDeliveryQuery,
  checkRecordEmailDelivery,
  checkScheduledJob,
  compareEmailDeliveries,
  emailDeliveryCursor,
  unclaimedRun,
} from '../notifications/email-store.js';
import {
  checkSetNotificationPreferences,
  type NotificationPreferences,
  notificationPreferences,
  type SetNotificationPreferencesCommand,
} from '../notifications/preferences.js';
import { type CustomerQuery, checkCustomerQuery, customerCursor, foldAsciiCase } from '../notifications/store.js';
import {
  checkUnchargedCalls,
  checkUnchargedQuery,
  compareUnchargedCalls,
  type UnchargedCall,
  type UnchargedCallQuery,
  type UnchargedCallRecord,
  unchargedCallCursor,
  unchargedCallKey,
} from './calls.js';
import { type CapCounter, checkCap, countedAt, EACH_END_USER_SCOPE, endUserOf, scopeOf, usedAt, validateSpendCap } from './spend-caps.js';
import type {
  AdjustCommand,
  AuditIssue,
  AuditReport,
  Balance,
  BalanceSnapshot,
  Bucket,
  BucketKind,
  CaptureCommand,
  CaptureResult,
  ChargeResult,
  ClaimOutboxCommand,
  CustomerRecord,
  Entry,
  EntryKind,
  EntryQuery,
  GrantCommand,
  GrantResult,
  Hold,
  HoldResult,
  HoldStatus,
  OutboxMessage,
  Page,
  ReleaseCommand,
  ReserveCommand,
  SetSpendCapCommand,
  SpendCapStatus,
  SpendCommand,
  TallyStore,
  UpsertCustomerCommand,
  UsageBatchItemResult,
  UsageCommand,
  UsageDetails,
} from './types.js';
import { customerAccount, debtAccount, GRANT_SOURCE, SYSTEM_ACCOUNTS } from './types.js';
import { identifier, MAX_AMOUNT_MICROS } from './validate.js';

/**
 * The in-memory TallyStore: the reference implementation of docs/ledger.md, used by tests, demos and
 * the simulation that checks the SQL stores against it.
 *
 * Atomicity comes from an undo log rather than copying state: every write pushes its inverse, so a
 * failing operation (or a rolled-back `transaction`) unwinds exactly what it did, and a successful
 * operation costs a handful of closures instead of a snapshot of a million-entry journal.
 *
 * While a `transaction` is open, calls on the store itself wait until it ends (as a second connection
 * would wait on the rows it locked), so nothing outside sees uncommitted work or gets rolled back
 * with it. Inside `fn`, use the `tx` handle it receives: a call on the outer store would wait forever.
 */

interface CustomerState {
  record: CustomerRecord;
  /** Cached account names: every entry of this customer shares the same strings. */
  account: string;
  debtAccount: string;
  balance: bigint;
  held: bigint;
  debt: bigint;
  /** Buckets with remaining > 0, in draining order. */
  buckets: Bucket[];
  activeHolds: Map<string, Hold>;
  /** Journal indexes of this customer's entries, ascending, so per-customer listings skip everyone else. */
  entryIndexes: number[];
}

type LedgerResult = GrantResult | ChargeResult | CaptureResult | HoldResult;
type RedeemResult = Awaited<ReturnType<TallyStore['redeemCoupon']>>;
type PurchaseResult = Awaited<ReturnType<TallyStore['purchaseCredits']>>;
type RefundResult = Awaited<ReturnType<TallyStore['refundPurchase']>>;
type StoredResult = LedgerResult | RedeemResult | PurchaseResult | RefundResult;

/** What an operation returns when it answers with an earlier result (a pack bought twice under two keys). */
class Replay<R> {
  constructor(readonly result: R) {}
}

interface IdempotencyRecord {
  operation: string;
  request: string;
  /** Shares the journal's entry objects (never mutated after they are written); the rest is a snapshot. */
  result: StoredResult;
}

interface Mark {
  undo: number;
  entry: number;
  operation: number;
  bucket: number;
  hold: number;
  outbox: number;
}

/**
 * Min-heap of buckets or holds by a time read from each (their expiry, which never changes): finds
 * due ones without scanning every customer. It keeps the records themselves, not a (time, id) pair
 * per record, which would stay on the heap until the time passed.
 */
class DueHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly timeOf: (item: T) => number) {}

  peekTime(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.timeOf(this.items[0] as T);
  }

  push(item: T): void {
    const items = this.items;
    const t = this.timeOf(item);
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (this.timeOf(p) <= t) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const t = this.timeOf(last);
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let childTime = this.timeOf(items[left] as T);
      if (right < n) {
        const rightTime = this.timeOf(items[right] as T);
        if (rightTime < childTime) {
          child = right;
          childTime = rightTime;
        }
      }
      if (childTime >= t) break;
      items[i] = items[child] as T;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

const OPERATIONS = {
  grant: 'grant',
  spend: 'spend',
  usage: 'usage',
  adjust: 'adjust',
  reserve: 'reserve',
  capture: 'capture',
  release: 'release',
} as const;

const TOPICS = { granted: 'credits.granted', charged: 'credits.charged', expired: 'credits.expired' } as const;

// Copies for callers: hand-written per type because they run on every call, and a generic deep copy
// was the memory store's largest cost in the simulation.
const copyDate = (date: Date) => new Date(date.getTime());

function copyEntry(e: Entry): Entry {
  return {
    id: e.id,
    operationId: e.operationId,
    customerId: e.customerId,
    kind: e.kind,
    fromAccount: e.fromAccount,
    toAccount: e.toAccount,
    amountMicros: e.amountMicros,
    bucketId: e.bucketId,
    bucketDeltaMicros: e.bucketDeltaMicros,
    holdId: e.holdId,
    description: e.description,
    usage: e.usage === null ? null : { ...e.usage },
    createdAt: copyDate(e.createdAt),
  };
}

function copyBucket(b: Bucket): Bucket {
  return {
    id: b.id,
    customerId: b.customerId,
    kind: b.kind,
    grantedMicros: b.grantedMicros,
    remainingMicros: b.remainingMicros,
    expiresAt: b.expiresAt === null ? null : copyDate(b.expiresAt),
    createdAt: copyDate(b.createdAt),
  };
}

function copyHold(h: Hold): Hold {
  return {
    ...h,
    expiresAt: copyDate(h.expiresAt),
    createdAt: copyDate(h.createdAt),
    settledAt: h.settledAt === null ? null : copyDate(h.settledAt),
  };
}

/**
 * Stored results keep the live hold, not a copy: results live as long as their keys and are read only
 * by replays, and a copied hold with its dates cost every metered call (a reserve and a capture) about
 * 640 bytes of heap for good, which set how often the collector had to mark the whole heap. A hold
 * changes only when it settles (status, `settledAt`, `capturedMicros`; the dates are replaced, never
 * changed in place) and never after, so a capture's or release's result is exact as it is, and a
 * reserve's replay puts back what the hold was when it was made. Results go out through `copyStored`.
 */
const asReserved = (result: HoldResult): HoldResult => ({
  ...result,
  hold: { ...result.hold, status: 'active', capturedMicros: null, settledAt: null },
});

const copyCustomer = (r: CustomerRecord): CustomerRecord => ({ ...r, createdAt: copyDate(r.createdAt) });
const copyEmailDelivery = (d: EmailDelivery): EmailDelivery => ({ ...d, at: copyDate(d.at) });

function copyMessage(m: OutboxMessage): OutboxMessage {
  return {
    ...m,
    createdAt: copyDate(m.createdAt),
    availableAt: copyDate(m.availableAt),
    deliveredAt: m.deliveredAt === null ? null : copyDate(m.deliveredAt),
  };
}

function copyResult<R extends LedgerResult>(result: R, replayed: boolean): R {
  const out: Record<string, unknown> = { ...result, balance: { ...result.balance }, replayed };
  if ('entries' in result) out.entries = result.entries.map(copyEntry);
  if ('bucket' in result) out.bucket = copyBucket(result.bucket);
  if ('hold' in result) out.hold = copyHold(result.hold);
  return out as R;
}

const dateOrNull = (date: Date | null): Date | null => (date === null ? null : copyDate(date));

function copySubscription(s: SubscriptionRecord): SubscriptionRecord {
  return {
    customerId: s.customerId,
    tier: s.tier,
    status: s.status,
    interval: s.interval,
    currentPeriodStart: copyDate(s.currentPeriodStart),
    currentPeriodEnd: copyDate(s.currentPeriodEnd),
    trialEnd: dateOrNull(s.trialEnd),
    scheduledChange: s.scheduledChange === null ? null : { tier: s.scheduledChange.tier, at: copyDate(s.scheduledChange.at) },
    pastDueSince: dateOrNull(s.pastDueSince),
    provider: s.provider,
    providerCustomerId: s.providerCustomerId,
    providerSubscriptionId: s.providerSubscriptionId,
    providerStateAt: dateOrNull(s.providerStateAt),
    version: s.version,
    createdAt: copyDate(s.createdAt),
    updatedAt: copyDate(s.updatedAt),
  };
}

const copyBenefit = (b: CouponBenefit): CouponBenefit =>
  b.type === 'credits'
    ? { type: 'credits', amountMicros: b.amountMicros, expiresInDays: b.expiresInDays }
    : { type: 'percent_off', percentOffBps: b.percentOffBps, durationPeriods: b.durationPeriods };

const copyCoupon = (c: Coupon): Coupon => ({
  code: c.code,
  benefit: copyBenefit(c.benefit),
  maxRedemptions: c.maxRedemptions,
  expiresAt: dateOrNull(c.expiresAt),
  tiers: [...c.tiers],
  redemptions: c.redemptions,
  active: c.active,
  createdAt: copyDate(c.createdAt),
});

const copyRedemption = (r: CouponRedemption): CouponRedemption => ({
  ...r,
  benefit: copyBenefit(r.benefit),
  createdAt: copyDate(r.createdAt),
});
const copyPurchase = (p: PackPurchase): PackPurchase => ({ ...p, createdAt: copyDate(p.createdAt) });
const copyAutoRecharge = (a: AutoRechargeSettings): AutoRechargeSettings => ({ ...a, updatedAt: copyDate(a.updatedAt) });

/** Copies any stored result; a replay marks the nested grant replayed too. */
function copyStored<R extends StoredResult>(result: R, replayed: boolean): R {
  if ('redemption' in result) {
    return { redemption: copyRedemption(result.redemption), grant: result.grant && copyResult(result.grant, replayed), replayed } as R;
  }
  if ('purchase' in result) {
    return 'grant' in result
      ? ({ purchase: copyPurchase(result.purchase), grant: copyResult(result.grant, replayed), replayed } as R)
      : ({ purchase: copyPurchase(result.purchase), clawedBackMicros: result.clawedBackMicros, replayed } as R);
  }
  return copyResult(result as LedgerResult, replayed) as R;
}

// ---- billing input checks (the SQL functions of @tally/adapters make the same ones)

const COUPON_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DAY_MS = 86_400_000;
/** Bounds that keep counts and days inside a Postgres integer. */
const MAX_COUNT = 1_000_000_000;
const MAX_DAYS = 36_500;

function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

/** Coupon codes are case-insensitive: letters, digits, `-` and `_`, kept upper-case. */
function couponCode(value: unknown): string {
  if (typeof value !== 'string' || !COUPON_CODE.test(value)) {
    throw invalid('code', 'must be 1-64 letters, digits, "-" or "_", starting with a letter or digit');
  }
  return value.toUpperCase();
}

function whole(value: unknown, field: string, least: number, most: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least || value > most) {
    throw invalid(field, `must be a whole number from ${least} to ${most}`);
  }
  return value;
}

function micros(value: unknown, field: string, least: bigint): bigint {
  if (typeof value !== 'bigint' || value < least || value > MAX_AMOUNT_MICROS) {
    throw invalid(field, `must be a bigint from ${least} to ${MAX_AMOUNT_MICROS}`);
  }
  return value;
}

function flag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

const optional = <T>(value: T | null, check: (value: T) => T): T | null => (value === null ? null : check(value));

function checkBenefit(benefit: CouponBenefit): CouponBenefit {
  if (benefit?.type === 'credits') {
    return {
      type: 'credits',
      amountMicros: micros(benefit.amountMicros, 'benefit.amountMicros', 1n),
      expiresInDays: optional(benefit.expiresInDays, (days) => whole(days, 'benefit.expiresInDays', 1, MAX_DAYS)),
    };
  }
  if (benefit?.type === 'percent_off') {
    return {
      type: 'percent_off',
      percentOffBps: whole(benefit.percentOffBps, 'benefit.percentOffBps', 1, 10_000),
      durationPeriods: whole(benefit.durationPeriods, 'benefit.durationPeriods', 1, 1_000),
    };
  }
  throw invalid('benefit.type', 'must be credits or percent_off');
}

function checkSubscription(s: SubscriptionRecord): SubscriptionRecord {
  const record: SubscriptionRecord = {
    customerId: identifier(s.customerId, 'customerId'),
    tier: identifier(s.tier, 'tier'),
    status: s.status,
    interval: s.interval,
    currentPeriodStart: new Date(time(s.currentPeriodStart, 'currentPeriodStart')),
    currentPeriodEnd: new Date(time(s.currentPeriodEnd, 'currentPeriodEnd')),
    trialEnd: optional(s.trialEnd, (d) => new Date(time(d, 'trialEnd'))),
    scheduledChange:
      s.scheduledChange === null
        ? null
        : {
            tier: optional(s.scheduledChange?.tier, (tier) => identifier(tier, 'scheduledChange.tier')),
            at: new Date(time(s.scheduledChange?.at, 'scheduledChange.at')),
          },
    pastDueSince: optional(s.pastDueSince, (d) => new Date(time(d, 'pastDueSince'))),
    provider: identifier(s.provider, 'provider'),
    providerCustomerId: optional(s.providerCustomerId, (id) => identifier(id, 'providerCustomerId')),
    providerSubscriptionId: optional(s.providerSubscriptionId, (id) => identifier(id, 'providerSubscriptionId')),
    providerStateAt: optional(s.providerStateAt, (d) => new Date(time(d, 'providerStateAt'))),
    version: whole(s.version, 'version', 1, MAX_COUNT),
    createdAt: new Date(time(s.createdAt, 'createdAt')),
    updatedAt: new Date(time(s.updatedAt, 'updatedAt')),
  };
  if (!(SUBSCRIPTION_STATUSES as readonly string[]).includes(record.status)) {
    throw invalid('status', `must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`);
  }
  if (record.interval !== 'month' && record.interval !== 'year') throw invalid('interval', 'must be month or year');
  if (record.currentPeriodEnd.getTime() <= record.currentPeriodStart.getTime()) {
    throw invalid('currentPeriodEnd', 'must be after currentPeriodStart');
  }
  return record;
}

function time(value: Date, label: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TallyError('VALIDATION', `${label} must be a valid date`, { details: { field: label } });
  return ms;
}

function requireAmount(value: bigint, rule: 'positive' | 'non-negative' | 'non-zero'): void {
  const ok = typeof value === 'bigint' && (rule === 'positive' ? value > 0n : rule === 'non-negative' ? value >= 0n : value !== 0n);
  if (!ok) throw new TallyError('VALIDATION', `amountMicros must be ${rule.replace('-', ' ')}`, { details: { field: 'amountMicros' } });
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

interface Charge {
  entries: Entry[];
  chargedMicros: bigint;
  debtMicros: bigint;
}

export function createMemoryStore(): TallyStore {
  const customers = new Map<string, CustomerState>();
  const buckets = new Map<string, Bucket>();
  const journal: Entry[] = [];
  const holds = new Map<string, Hold>();
  const keys = new Map<string, IdempotencyRecord>();
  /** Row `n` has id `n + 1`, as the journal's entries do, so rollback truncates it the same way. */
  const outboxRows: OutboxMessage[] = [];
  const outboxByDedupe = new Map<string, OutboxMessage>();
  /** Undelivered, live rows in id order: what `claimOutbox` walks instead of the whole outbox. */
  const pendingOutbox = new Map<string, OutboxMessage>();
  // The heaps may hold stale items (a bucket drained early, a hold released); every pop re-checks.
  const bucketExpiries = new DueHeap<Bucket>((bucket) => (bucket.expiresAt as Date).getTime());
  const holdExpiries = new DueHeap<Hold>((hold) => hold.expiresAt.getTime());
  const counters = { entry: 0, operation: 0, bucket: 0, hold: 0, outbox: 0 };
  /** Spend-cap counters per customer, by scope key (spend-caps.ts); a customer without caps has none. */
  const spendCaps = new Map<string, Map<string, CapCounter>>();
  /** The end user each hold was reserved for, when one was named. */
  const holdEndUsers = new Map<string, string>();

  const undo: Array<() => void> = [];
  let depth = 0;
  /** The open top-level transaction, if any; its token tells its own view from stale ones. */
  let activeTx: object | null = null;
  let gate: Promise<void> | null = null;

  function set<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
    const previous = target[key];
    target[key] = value;
    undo.push(() => {
      target[key] = previous;
    });
  }

  function mark(): Mark {
    return { undo: undo.length, ...counters };
  }

  function rollback(to: Mark): void {
    while (undo.length > to.undo) (undo.pop() as () => void)();
    journal.length = to.entry;
    counters.entry = to.entry;
    counters.operation = to.operation;
    counters.bucket = to.bucket;
    counters.hold = to.hold;
    counters.outbox = to.outbox;
    outboxRows.length = to.outbox;
  }

  function atomic<T>(fn: () => T): T {
    const start = mark();
    depth++;
    try {
      const result = fn();
      depth--;
      // Outside a transaction a finished top-level operation can never be undone, so drop its log.
      if (depth === 0 && activeTx === null) undo.length = 0;
      return result;
    } catch (error) {
      depth--;
      rollback(start);
      throw error;
    }
  }

  // ---- reads and small helpers

  function customerOrThrow(customerId: string): CustomerState {
    const state = customers.get(customerId);
    if (!state) throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
    return state;
  }

  function holdOrThrow(holdId: string): Hold {
    const hold = holds.get(holdId);
    if (!hold) throw new TallyError('NOT_FOUND', `Unknown hold "${holdId}"`, { details: { holdId } });
    return hold;
  }

  const snapshot = (c: CustomerState): BalanceSnapshot => ({ balanceMicros: c.balance, heldMicros: c.held, debtMicros: c.debt });
  const available = (c: CustomerState): bigint => c.balance - c.held + c.record.overdraftLimitMicros;
  const nextOperationId = (): string => String(++counters.operation);

  function insufficient(c: CustomerState, requested: bigint): TallyError {
    return new TallyError(
      'INSUFFICIENT_CREDITS',
      `Customer "${c.record.id}" has ${available(c)} micros available, ${requested} requested`,
      {
        details: { customerId: c.record.id, requestedMicros: requested.toString(), availableMicros: available(c).toString() },
      },
    );
  }

  // ---- writes

  function writeEntry(
    c: CustomerState,
    operationId: string,
    kind: EntryKind,
    fromAccount: string,
    toAccount: string,
    amountMicros: bigint,
    bucketId: string | null,
    bucketDeltaMicros: bigint,
    holdId: string | null,
    description: string | null,
    usage: UsageDetails | null,
    createdAt: Date,
  ): Entry {
    const index = counters.entry++;
    const entry: Entry = {
      id: String(index + 1),
      operationId,
      customerId: c.record.id,
      kind,
      fromAccount,
      toAccount,
      amountMicros,
      bucketId,
      bucketDeltaMicros,
      holdId,
      description,
      usage,
      createdAt,
    };
    journal.push(entry);
    c.entryIndexes.push(index);
    undo.push(() => {
      c.entryIndexes.pop();
    });
    return entry;
  }

  function insertOutbox(topic: string, payload: string, dedupeKey: string, at: Date): OutboxMessage | null {
    if (outboxByDedupe.has(dedupeKey)) return null;
    const message: OutboxMessage = {
      id: String(++counters.outbox),
      topic,
      payload,
      dedupeKey,
      attempts: 0,
      createdAt: at,
      availableAt: at,
      deliveredAt: null,
      lastError: null,
      dead: false,
    };
    outboxRows.push(message);
    outboxByDedupe.set(dedupeKey, message);
    pendingOutbox.set(message.id, message);
    undo.push(() => {
      outboxByDedupe.delete(dedupeKey);
      pendingOutbox.delete(message.id);
    });
    return message;
  }

  // Payloads are written with their keys already in sorted order (canonical JSON, bigints as strings)
  // without going through canonicalJson: one is written for nearly every operation.

  function emitGranted(c: CustomerState, operationId: string, kind: EntryKind, bucket: Bucket, at: Date): void {
    const payload = JSON.stringify({
      amountMicros: bucket.grantedMicros.toString(),
      at: at.toISOString(),
      balanceMicros: c.balance.toString(),
      bucketId: bucket.id,
      bucketKind: bucket.kind,
      customerId: c.record.id,
      expiresAt: bucket.expiresAt === null ? null : bucket.expiresAt.toISOString(),
      kind,
      operationId,
    });
    insertOutbox(TOPICS.granted, payload, `${TOPICS.granted}:${operationId}`, at);
  }

  function emitCharged(
    c: CustomerState,
    operationId: string,
    kind: EntryKind,
    amount: bigint,
    charged: Charge,
    holdId: string | null,
    at: Date,
  ): void {
    const payload = JSON.stringify({
      amountMicros: amount.toString(),
      at: at.toISOString(),
      balanceMicros: c.balance.toString(),
      chargedMicros: charged.chargedMicros.toString(),
      customerId: c.record.id,
      debtMicros: charged.debtMicros.toString(),
      holdId,
      kind,
      operationId,
    });
    insertOutbox(TOPICS.charged, payload, `${TOPICS.charged}:${operationId}`, at);
  }

  function emitExpired(c: CustomerState, operationId: string, amount: bigint, buckets: number, at: Date): void {
    const payload = JSON.stringify({
      amountMicros: amount.toString(),
      at: at.toISOString(),
      balanceMicros: c.balance.toString(),
      buckets,
      customerId: c.record.id,
      kind: 'expire',
      operationId,
    });
    insertOutbox(TOPICS.expired, payload, `${TOPICS.expired}:${operationId}`, at);
  }

  /** Expires the customer's due buckets as one operation. Returns how many buckets expired. */
  function expireDueBuckets(c: CustomerState, at: Date): number {
    const t = at.getTime();
    const list = c.buckets;
    let due = 0;
    while (due < list.length) {
      const expiresAt = (list[due] as Bucket).expiresAt;
      if (expiresAt === null || expiresAt.getTime() > t) break;
      due++;
    }
    if (due === 0) return 0;
    const operationId = nextOperationId();
    const when = new Date(t);
    let total = 0n;
    for (let i = 0; i < due; i++) {
      const bucket = list[i] as Bucket;
      const remaining = bucket.remainingMicros;
      writeEntry(c, operationId, 'expire', c.account, SYSTEM_ACCOUNTS.expired, remaining, bucket.id, -remaining, null, null, null, when);
      set(bucket, 'remainingMicros', 0n);
      total += remaining;
    }
    dropBuckets(c, due);
    set(c, 'balance', c.balance - total);
    emitExpired(c, operationId, total, due, when);
    return due;
  }

  function settleHold(c: CustomerState, hold: Hold, status: HoldStatus, at: Date): void {
    set(hold, 'status', status);
    set(hold, 'settledAt', at);
    set(c, 'held', c.held - hold.amountMicros);
    c.activeHolds.delete(hold.id);
    undo.push(() => {
      c.activeHolds.set(hold.id, hold);
    });
  }

  function expireDueHolds(c: CustomerState, at: Date): number {
    if (c.activeHolds.size === 0) return 0;
    const t = at.getTime();
    let count = 0;
    for (const hold of c.activeHolds.values()) {
      if (hold.expiresAt.getTime() <= t) {
        settleHold(c, hold, 'expired', new Date(t));
        count++;
      }
    }
    return count;
  }

  /** What every customer-scoped mutation does first, so spendable credit never depends on the sweepers. */
  function expireCustomer(c: CustomerState, at: Date): void {
    expireDueBuckets(c, at);
    expireDueHolds(c, at);
  }

  function addBucket(c: CustomerState, bucket: Bucket): void {
    const list = c.buckets;
    let at = list.length;
    if (bucket.expiresAt !== null) {
      const t = bucket.expiresAt.getTime();
      // Before the first bucket that expires later or never; equal expiry keeps creation order.
      let lo = 0;
      while (lo < at) {
        const mid = (lo + at) >> 1;
        const expiresAt = (list[mid] as Bucket).expiresAt;
        if (expiresAt !== null && expiresAt.getTime() <= t) lo = mid + 1;
        else at = mid;
      }
      bucketExpiries.push(bucket);
    }
    list.splice(at, 0, bucket);
    undo.push(() => {
      list.splice(at, 1);
    });
  }

  /** Drops the first `count` buckets (emptied or expired) from the customer's draining order. */
  function dropBuckets(c: CustomerState, count: number): void {
    const list = c.buckets;
    const removed = list.splice(0, count);
    undo.push(() => {
      list.unshift(...removed);
    });
  }

  /** A new bucket of `amount`; while the balance is negative the grant covers the overdraft first. */
  function credit(
    c: CustomerState,
    operationId: string,
    entryKind: EntryKind,
    kind: BucketKind,
    amount: bigint,
    expiresAt: Date | null,
    description: string | null,
    when: Date,
  ): { bucket: Bucket; entry: Entry } {
    const covered = c.balance < 0n ? min(amount, -c.balance) : 0n;
    const remaining = amount - covered;
    const bucket: Bucket = {
      id: String(++counters.bucket),
      customerId: c.record.id,
      kind,
      grantedMicros: amount,
      remainingMicros: remaining,
      expiresAt: expiresAt === null ? null : new Date(expiresAt.getTime()),
      createdAt: when,
    };
    buckets.set(bucket.id, bucket);
    undo.push(() => {
      buckets.delete(bucket.id);
    });
    const entry = writeEntry(
      c,
      operationId,
      entryKind,
      GRANT_SOURCE[kind],
      c.account,
      amount,
      bucket.id,
      remaining,
      null,
      description,
      null,
      when,
    );
    set(c, 'balance', c.balance + amount);
    if (remaining > 0n) addBucket(c, bucket);
    return { bucket, entry };
  }

  /** Takes `amount` from the buckets in draining order, the rest from the overdraft. */
  function drain(
    c: CustomerState,
    amount: bigint,
    operationId: string,
    kind: EntryKind,
    toAccount: string,
    holdId: string | null,
    description: string | null,
    usage: UsageDetails | null,
    when: Date,
    out: Entry[],
  ): void {
    const list = c.buckets;
    let rest = amount;
    let emptied = 0;
    while (rest > 0n && emptied < list.length) {
      const bucket = list[emptied] as Bucket;
      const remaining = bucket.remainingMicros;
      const take = min(remaining, rest);
      out.push(writeEntry(c, operationId, kind, c.account, toAccount, take, bucket.id, -take, holdId, description, usage, when));
      set(bucket, 'remainingMicros', remaining - take);
      rest -= take;
      if (take < remaining) break;
      emptied++;
    }
    if (emptied > 0) dropBuckets(c, emptied);
    if (rest > 0n) out.push(writeEntry(c, operationId, kind, c.account, toAccount, rest, null, 0n, holdId, description, usage, when));
    set(c, 'balance', c.balance - amount);
  }

  /**
   * `strict` refuses what is not available (spend, negative adjust); `usage` never refuses and turns
   * the shortfall into debt (usage, capture). Unlimited customers are charged to `system:unlimited`,
   * negative adjustments included: docs/ledger.md defines those as a spend to `system:adjustments`.
   */
  function charge(
    c: CustomerState,
    mode: 'strict' | 'usage',
    amount: bigint,
    operationId: string,
    kind: EntryKind,
    toAccount: string,
    holdId: string | null,
    description: string | null,
    usage: UsageDetails | null,
    when: Date,
  ): Charge {
    const entries: Entry[] = [];
    if (c.record.unlimited) {
      entries.push(
        writeEntry(c, operationId, kind, SYSTEM_ACCOUNTS.unlimited, toAccount, amount, null, 0n, holdId, description, usage, when),
      );
      // Nothing came from the customer's credit, which is what `chargedMicros` counts.
      return { entries, chargedMicros: 0n, debtMicros: 0n };
    }
    const free = available(c);
    if (mode === 'strict') {
      if (amount > free) throw insufficient(c, amount);
      drain(c, amount, operationId, kind, toAccount, holdId, description, usage, when, entries);
      return { entries, chargedMicros: amount, debtMicros: 0n };
    }
    const take = min(amount, free > 0n ? free : 0n);
    if (take > 0n) drain(c, take, operationId, kind, toAccount, holdId, description, usage, when, entries);
    const rest = amount - take;
    if (rest > 0n) {
      entries.push(writeEntry(c, operationId, kind, c.debtAccount, toAccount, rest, null, 0n, holdId, description, usage, when));
      set(c, 'debt', c.debt + rest);
    }
    return { entries, chargedMicros: take, debtMicros: rest };
  }

  interface MutationCommand {
    idempotencyKey: string;
    request: string;
    at: Date;
  }

  /**
   * Replays or refuses a used key; otherwise runs `fn` and stores its result under the key. `fn` may
   * answer with an earlier result (`Replay`), which the key then stores as well.
   */
  function idempotent<R extends StoredResult>(command: MutationCommand, operation: string, fn: (when: Date) => R | Replay<R>): R {
    const key = command.idempotencyKey;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw new TallyError('VALIDATION', 'idempotencyKey must be 1-255 characters', { details: { field: 'idempotencyKey' } });
    }
    const existing = keys.get(key);
    if (existing) {
      if (existing.operation === operation && existing.request === command.request) {
        const stored = operation === OPERATIONS.reserve ? asReserved(existing.result as HoldResult) : existing.result;
        return copyStored(stored as R, true);
      }
      throw new TallyError('IDEMPOTENCY_CONFLICT', `Idempotency key "${key}" was used for a different request`, {
        details: { idempotencyKey: key, operation: existing.operation },
      });
    }
    const outcome = fn(new Date(time(command.at, 'at')));
    const result = outcome instanceof Replay ? outcome.result : outcome;
    keys.set(key, { operation, request: command.request, result });
    undo.push(() => {
      keys.delete(key);
    });
    return copyStored(result, outcome instanceof Replay);
  }

  // ---- operations (synchronous; the store methods wrap them)

  function upsertCustomer(command: UpsertCustomerCommand): CustomerRecord {
    if (typeof command.overdraftLimitMicros !== 'bigint' || command.overdraftLimitMicros < 0n) {
      throw new TallyError('VALIDATION', 'overdraftLimitMicros must not be negative', { details: { field: 'overdraftLimitMicros' } });
    }
    const existing = customers.get(command.customerId);
    if (existing) {
      const record = existing.record;
      set(record, 'tier', command.tier);
      set(record, 'overdraftLimitMicros', command.overdraftLimitMicros);
      set(record, 'unlimited', command.unlimited);
      return copyCustomer(record);
    }
    const record: CustomerRecord = {
      id: command.customerId,
      tier: command.tier,
      overdraftLimitMicros: command.overdraftLimitMicros,
      unlimited: command.unlimited,
      createdAt: new Date(time(command.at, 'at')),
    };
    customers.set(record.id, {
      record,
      account: customerAccount(record.id),
      debtAccount: debtAccount(record.id),
      balance: 0n,
      held: 0n,
      debt: 0n,
      buckets: [],
      activeHolds: new Map(),
      entryIndexes: [],
    });
    undo.push(() => {
      customers.delete(record.id);
    });
    return copyCustomer(record);
  }

  function grant(command: GrantCommand): GrantResult {
    return idempotent(command, OPERATIONS.grant, (when) => {
      requireAmount(command.amountMicros, 'positive');
      if (command.expiresAt !== null && time(command.expiresAt, 'expiresAt') <= when.getTime()) {
        throw new TallyError('VALIDATION', 'expiresAt must be in the future', { details: { field: 'expiresAt' } });
      }
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      return grantBucket(c, command.kind, command.amountMicros, command.expiresAt, command.description, when);
    });
  }

  /** The grant path (a bucket, its entry, `credits.granted`) shared by grants, coupons and credit packs. */
  function grantBucket(
    c: CustomerState,
    kind: BucketKind,
    amount: bigint,
    expiresAt: Date | null,
    description: string | null,
    when: Date,
  ): GrantResult {
    const operationId = nextOperationId();
    const { bucket, entry } = credit(c, operationId, 'grant', kind, amount, expiresAt, description, when);
    emitGranted(c, operationId, 'grant', bucket, when);
    return { operationId, entries: [entry], balance: snapshot(c), replayed: false, bucket: copyBucket(bucket) };
  }

  function chargeOperation(command: SpendCommand, operation: string, kind: EntryKind, mode: 'strict' | 'usage'): ChargeResult {
    return idempotent(command, operation, (when) => {
      requireAmount(command.amountMicros, 'positive');
      const endUserId = endUserOf(command.endUserId);
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      const operationId = nextOperationId();
      const usage = command.usage ? { ...command.usage } : null;
      const result = charge(
        c,
        mode,
        command.amountMicros,
        operationId,
        kind,
        SYSTEM_ACCOUNTS.revenue,
        null,
        command.description,
        usage,
        when,
      );
      // After the credit check (so a customer out of credit hears that first); the operation is atomic.
      // Usage already happened: like a shortfall of credit, a cap never refuses it, but it counts.
      if (mode === 'strict') checkCaps(c, endUserId, command.amountMicros, when);
      countCaps(c, endUserId, command.amountMicros, when);
      emitCharged(c, operationId, kind, command.amountMicros, result, null, when);
      return {
        operationId,
        entries: result.entries,
        balance: snapshot(c),
        replayed: false,
        chargedMicros: result.chargedMicros,
        debtMicros: result.debtMicros,
      };
    });
  }

  // ---- spend caps (docs/ledger.md, "Spend caps")

  /** The caps an end user answers to: its own when set, else the each-end-user default. */
  function endUserCaps(caps: Map<string, CapCounter>, endUserId: string): CapCounter | undefined {
    const own = caps.get(endUserId);
    if (own?.explicit) return own;
    const each = caps.get(EACH_END_USER_SCOPE);
    return each?.explicit ? each : undefined;
  }

  const isCapped = (caps: Map<string, CapCounter> | undefined): caps is Map<string, CapCounter> =>
    caps !== undefined && [...caps.values()].some((counter) => counter.explicit);

  function heldBy(c: CustomerState, endUserId: string): bigint {
    let held = 0n;
    for (const hold of c.activeHolds.values()) if (holdEndUsers.get(hold.id) === endUserId) held += hold.amountMicros;
    return held;
  }

  /** Refuses (`SPEND_CAP_EXCEEDED`) what would take the customer or the end user past a cap. */
  function checkCaps(c: CustomerState, endUserId: string | null, amount: bigint, when: Date): void {
    const caps = spendCaps.get(c.record.id);
    if (!isCapped(caps)) return;
    const total = caps.get('');
    if (total?.explicit) {
      checkCap({
        customerId: c.record.id,
        endUserId: null,
        daily: total.daily,
        monthly: total.monthly,
        used: usedAt(total, when),
        heldMicros: c.held,
        requestedMicros: amount,
        at: when,
      });
    }
    if (endUserId === null) return;
    const limits = endUserCaps(caps, endUserId);
    if (!limits) return;
    checkCap({
      customerId: c.record.id,
      endUserId,
      daily: limits.daily,
      monthly: limits.monthly,
      used: usedAt(caps.get(endUserId), when),
      heldMicros: heldBy(c, endUserId),
      requestedMicros: amount,
      at: when,
    });
  }

  function counter(caps: Map<string, CapCounter>, key: string, when: Date): CapCounter {
    let row = caps.get(key);
    if (!row) {
      row = {
        daily: null,
        monthly: null,
        explicit: false,
        dayStart: Number.NEGATIVE_INFINITY,
        dayUsed: 0n,
        monthStart: Number.NEGATIVE_INFINITY,
        monthUsed: 0n,
        updatedAt: when,
      };
      caps.set(key, row);
      undo.push(() => caps.delete(key));
    }
    return row;
  }

  /** Adds a charge to the customer's and the end user's counters while the customer has any cap. */
  function countCaps(c: CustomerState, endUserId: string | null, amount: bigint, when: Date): void {
    const caps = spendCaps.get(c.record.id);
    if (amount <= 0n || !isCapped(caps)) return;
    for (const key of endUserId === null ? [''] : ['', endUserId]) {
      const row = counter(caps, key, when);
      const next = countedAt(row, amount, when);
      set(row, 'dayStart', next.dayStart);
      set(row, 'dayUsed', next.dayUsed);
      set(row, 'monthStart', next.monthStart);
      set(row, 'monthUsed', next.monthUsed);
    }
  }

  function capStatus(c: CustomerState, key: string, row: CapCounter, at: Date): SpendCapStatus {
    const used = usedAt(row, at);
    return {
      customerId: c.record.id,
      scope: scopeOf(key),
      dailyMicros: row.daily,
      monthlyMicros: row.monthly,
      usedTodayMicros: used.today,
      usedThisMonthMicros: used.month,
      heldMicros: key === '' ? c.held : key === EACH_END_USER_SCOPE ? 0n : heldBy(c, key),
      updatedAt: new Date(row.updatedAt),
    };
  }

  function setSpendCap(command: SetSpendCapCommand): SpendCapStatus {
    return atomic(() => {
      const { key, daily, monthly } = validateSpendCap(command);
      const when = time(command.at, 'at');
      const c = customerOrThrow(command.customerId);
      let caps = spendCaps.get(c.record.id);
      if (!caps) {
        const created = new Map<string, CapCounter>();
        caps = created;
        spendCaps.set(c.record.id, created);
        undo.push(() => spendCaps.delete(c.record.id));
      }
      const row = counter(caps, key, new Date(when));
      set(row, 'daily', daily);
      set(row, 'monthly', monthly);
      set(row, 'explicit', daily !== null || monthly !== null);
      set(row, 'updatedAt', new Date(when));
      return capStatus(c, key, row, new Date(when));
    });
  }

  function listSpendCaps(customerId: string, at: Date): SpendCapStatus[] {
    const c = customerOrThrow(customerId);
    const when = new Date(time(at, 'at'));
    const rows = [...(spendCaps.get(c.record.id) ?? new Map<string, CapCounter>()).entries()].filter(
      ([key, row]) => row.explicit || key !== EACH_END_USER_SCOPE,
    );
    rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return rows.map(([key, row]) => capStatus(c, key, row, when));
  }

  const spend = (command: SpendCommand) => chargeOperation(command, OPERATIONS.spend, 'spend', 'strict');
  const recordUsage = (command: UsageCommand) => chargeOperation(command, OPERATIONS.usage, 'usage', 'usage');

  function recordUsageBatch(commands: UsageCommand[]): UsageBatchItemResult[] {
    return commands.map((command): UsageBatchItemResult => {
      try {
        return { ok: true, result: atomic(() => recordUsage(command)) };
      } catch (error) {
        if (TallyError.is(error)) return { ok: false, code: error.code, message: error.message };
        throw error;
      }
    });
  }

  function adjust(command: AdjustCommand): ChargeResult | GrantResult {
    return idempotent<ChargeResult | GrantResult>(command, OPERATIONS.adjust, (when) => {
      requireAmount(command.amountMicros, 'non-zero');
      if (typeof command.reason !== 'string' || command.reason.trim() === '') {
        throw new TallyError('VALIDATION', 'reason is required', { details: { field: 'reason' } });
      }
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      const operationId = nextOperationId();
      if (command.amountMicros > 0n) {
        const { bucket, entry } = credit(c, operationId, 'adjust', 'adjustment', command.amountMicros, null, command.reason, when);
        emitGranted(c, operationId, 'adjust', bucket, when);
        return { operationId, entries: [entry], balance: snapshot(c), replayed: false, bucket: copyBucket(bucket) };
      }
      const amount = -command.amountMicros;
      const result = charge(c, 'strict', amount, operationId, 'adjust', SYSTEM_ACCOUNTS.adjustments, null, command.reason, null, when);
      emitCharged(c, operationId, 'adjust', amount, result, null, when);
      return {
        operationId,
        entries: result.entries,
        balance: snapshot(c),
        replayed: false,
        chargedMicros: result.chargedMicros,
        debtMicros: 0n,
      };
    });
  }

  function reserve(command: ReserveCommand): HoldResult {
    return idempotent(command, OPERATIONS.reserve, (when) => {
      requireAmount(command.amountMicros, 'positive');
      const expiresAt = time(command.expiresAt, 'expiresAt');
      if (expiresAt <= when.getTime())
        throw new TallyError('VALIDATION', 'expiresAt must be in the future', { details: { field: 'expiresAt' } });
      const endUserId = endUserOf(command.endUserId);
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      if (!c.record.unlimited && command.amountMicros > available(c)) throw insufficient(c, command.amountMicros);
      checkCaps(c, endUserId, command.amountMicros, when);
      const hold: Hold = {
        id: String(++counters.hold),
        customerId: c.record.id,
        amountMicros: command.amountMicros,
        status: 'active',
        capturedMicros: null,
        expiresAt: new Date(expiresAt),
        createdAt: when,
        settledAt: null,
      };
      holds.set(hold.id, hold);
      c.activeHolds.set(hold.id, hold);
      if (endUserId !== null) holdEndUsers.set(hold.id, endUserId);
      undo.push(() => {
        holds.delete(hold.id);
        c.activeHolds.delete(hold.id);
        holdEndUsers.delete(hold.id);
      });
      set(c, 'held', c.held + hold.amountMicros);
      holdExpiries.push(hold);
      return { hold, balance: snapshot(c), replayed: false };
    });
  }

  /** Lazy expiry runs first, so a hold past its time is `expired` here whether or not a sweeper ran. */
  function activeHold(hold: Hold, expiredCode: 'HOLD_EXPIRED' | 'HOLD_NOT_ACTIVE'): void {
    if (hold.status === 'active') return;
    const code = hold.status === 'expired' ? expiredCode : 'HOLD_NOT_ACTIVE';
    throw new TallyError(code, `Hold "${hold.id}" is ${hold.status}`, { details: { holdId: hold.id, status: hold.status } });
  }

  function capture(command: CaptureCommand): CaptureResult {
    return idempotent(command, OPERATIONS.capture, (when) => {
      requireAmount(command.amountMicros, 'non-negative');
      const hold = holdOrThrow(command.holdId);
      const c = customerOrThrow(hold.customerId);
      expireCustomer(c, when);
      activeHold(hold, 'HOLD_EXPIRED');
      settleHold(c, hold, 'captured', when);
      set(hold, 'capturedMicros', command.amountMicros);
      const operationId = nextOperationId();
      const usage = command.usage ? { ...command.usage } : null;
      let result: Charge = { entries: [], chargedMicros: 0n, debtMicros: 0n };
      if (command.amountMicros > 0n) {
        result = charge(
          c,
          'usage',
          command.amountMicros,
          operationId,
          'capture',
          SYSTEM_ACCOUNTS.revenue,
          hold.id,
          command.description,
          usage,
          when,
        );
        countCaps(c, holdEndUsers.get(hold.id) ?? null, command.amountMicros, when);
        emitCharged(c, operationId, 'capture', command.amountMicros, result, hold.id, when);
      }
      return {
        operationId,
        entries: result.entries,
        balance: snapshot(c),
        replayed: false,
        chargedMicros: result.chargedMicros,
        debtMicros: result.debtMicros,
        hold,
      };
    });
  }

  function release(command: ReleaseCommand): HoldResult {
    return idempotent(command, OPERATIONS.release, (when) => {
      const hold = holdOrThrow(command.holdId);
      const c = customerOrThrow(hold.customerId);
      expireCustomer(c, when);
      activeHold(hold, 'HOLD_NOT_ACTIVE');
      settleHold(c, hold, 'released', when);
      return { hold, balance: snapshot(c), replayed: false };
    });
  }

  function sweepHolds(at: Date): number {
    const t = time(at, 'at');
    let count = 0;
    while (holdExpiries.peekTime() <= t) {
      const hold = holdExpiries.pop() as Hold;
      undo.push(() => holdExpiries.push(hold));
      // Settled, or made by an operation that was rolled back (its id may since name another hold).
      if (hold.status !== 'active' || holds.get(hold.id) !== hold) continue;
      settleHold(customerOrThrow(hold.customerId), hold, 'expired', new Date(t));
      count++;
    }
    return count;
  }

  function expireBuckets(at: Date): number {
    const t = time(at, 'at');
    const when = new Date(t);
    let count = 0;
    while (bucketExpiries.peekTime() <= t) {
      const bucket = bucketExpiries.pop() as Bucket;
      undo.push(() => bucketExpiries.push(bucket));
      if (bucket.remainingMicros === 0n || buckets.get(bucket.id) !== bucket) continue;
      count += expireDueBuckets(customerOrThrow(bucket.customerId), when);
    }
    return count;
  }

  function balance(customerId: string, at: Date): Balance {
    const c = customerOrThrow(customerId);
    const t = time(at, 'at');
    let expiring = 0n;
    const visible: Bucket[] = [];
    for (const bucket of c.buckets) {
      if (bucket.expiresAt !== null && bucket.expiresAt.getTime() <= t) expiring += bucket.remainingMicros;
      else visible.push(copyBucket(bucket));
    }
    let released = 0n;
    let activeHolds = 0;
    for (const hold of c.activeHolds.values()) {
      if (hold.expiresAt.getTime() <= t) released += hold.amountMicros;
      else activeHolds++;
    }
    const balanceMicros = c.balance - expiring;
    const heldMicros = c.held - released;
    // docs/ledger.md defines `available` for limited customers only; an unlimited customer's spends
    // never consult it, so it reads 0 rather than a number that looks like a limit.
    const free = c.record.unlimited ? 0n : balanceMicros - heldMicros + c.record.overdraftLimitMicros;
    return {
      customerId: c.record.id,
      tier: c.record.tier,
      overdraftLimitMicros: c.record.overdraftLimitMicros,
      unlimited: c.record.unlimited,
      balanceMicros,
      heldMicros,
      debtMicros: c.debt,
      availableMicros: free > 0n ? free : 0n,
      buckets: visible,
      activeHolds,
    };
  }

  function listEntries(query: EntryQuery): Page<Entry> {
    const limit = query.limit;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new TallyError('VALIDATION', 'limit must be a positive integer', { details: { field: 'limit' } });
    let before = journal.length;
    if (query.cursor !== undefined) {
      if (!/^\d{1,16}$/.test(query.cursor)) throw new TallyError('VALIDATION', 'cursor is not valid', { details: { field: 'cursor' } });
      before = Math.min(Number(query.cursor) - 1, journal.length);
    }
    const kinds = query.kinds ? new Set<string>(query.kinds) : null;
    const from = query.from ? time(query.from, 'from') : Number.NEGATIVE_INFINITY;
    const to = query.to ? time(query.to, 'to') : Number.POSITIVE_INFINITY;
    const matches = (entry: Entry) => {
      if (kinds && !kinds.has(entry.kind)) return false;
      const t = entry.createdAt.getTime();
      return t >= from && t < to;
    };
    const items: Entry[] = [];
    let more = false;
    const take = (entry: Entry): boolean => {
      if (!matches(entry)) return true;
      if (items.length === limit) {
        more = true;
        return false;
      }
      items.push(copyEntry(entry));
      return true;
    };
    if (query.customerId !== undefined) {
      const indexes = customers.get(query.customerId)?.entryIndexes ?? [];
      // Binary search for the first index at or past the cursor, then walk backwards from there.
      let lo = 0;
      let hi = indexes.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((indexes[mid] as number) < before) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo - 1; i >= 0 && take(journal[indexes[i] as number] as Entry); i--);
    } else {
      for (let i = before - 1; i >= 0 && take(journal[i] as Entry); i--);
    }
    return { items, nextCursor: more ? (items[items.length - 1] as Entry).id : null };
  }

  function audit(): AuditReport {
    const issues: AuditIssue[] = [];
    const accounts = new Map<string, bigint>();
    const bucketDeltas = new Map<string, bigint>();
    const operationsWithEntries = new Set<string>();
    const move = (account: string, delta: bigint) => accounts.set(account, (accounts.get(account) ?? 0n) + delta);
    for (const entry of journal) {
      if (entry.amountMicros <= 0n || entry.fromAccount === entry.toAccount) {
        issues.push({
          code: 'ENTRY_INVALID',
          subject: `entry:${entry.id}`,
          expected: 'amount > 0 between two accounts',
          actual: `${entry.amountMicros} from ${entry.fromAccount} to ${entry.toAccount}`,
        });
      }
      move(entry.fromAccount, -entry.amountMicros);
      move(entry.toAccount, entry.amountMicros);
      if (entry.bucketId !== null) bucketDeltas.set(entry.bucketId, (bucketDeltas.get(entry.bucketId) ?? 0n) + entry.bucketDeltaMicros);
      operationsWithEntries.add(entry.operationId);
    }
    let totalMicros = 0n;
    for (const value of accounts.values()) totalMicros += value;
    if (totalMicros !== 0n) issues.push({ code: 'ZERO_SUM', subject: 'journal', expected: '0', actual: totalMicros.toString() });

    const heldByCustomer = new Map<string, bigint>();
    for (const hold of holds.values()) {
      if (hold.status === 'active') heldByCustomer.set(hold.customerId, (heldByCustomer.get(hold.customerId) ?? 0n) + hold.amountMicros);
    }
    const remainingByCustomer = new Map<string, bigint>();
    for (const bucket of buckets.values()) {
      remainingByCustomer.set(bucket.customerId, (remainingByCustomer.get(bucket.customerId) ?? 0n) + bucket.remainingMicros);
      const deltas = bucketDeltas.get(bucket.id) ?? 0n;
      const subject = `bucket:${bucket.id}`;
      if (deltas !== bucket.remainingMicros) {
        issues.push({ code: 'BUCKET_MISMATCH', subject, expected: deltas.toString(), actual: bucket.remainingMicros.toString() });
      }
      if (bucket.remainingMicros < 0n || bucket.remainingMicros > bucket.grantedMicros) {
        issues.push({
          code: 'BUCKET_OUT_OF_RANGE',
          subject,
          expected: `0..${bucket.grantedMicros}`,
          actual: bucket.remainingMicros.toString(),
        });
      }
    }
    for (const c of customers.values()) {
      const id = c.record.id;
      const journalBalance = accounts.get(c.account) ?? 0n;
      if (journalBalance !== c.balance) {
        issues.push({ code: 'BALANCE_MISMATCH', subject: c.account, expected: journalBalance.toString(), actual: c.balance.toString() });
      }
      const journalDebt = -(accounts.get(c.debtAccount) ?? 0n);
      if (journalDebt !== c.debt)
        issues.push({ code: 'DEBT_MISMATCH', subject: c.debtAccount, expected: journalDebt.toString(), actual: c.debt.toString() });
      const remaining = remainingByCustomer.get(id) ?? 0n;
      const positive = c.balance > 0n ? c.balance : 0n;
      if (remaining !== positive) {
        issues.push({ code: 'BUCKETS_VS_BALANCE', subject: c.account, expected: positive.toString(), actual: remaining.toString() });
      }
      const held = heldByCustomer.get(id) ?? 0n;
      if (held !== c.held) issues.push({ code: 'HELD_MISMATCH', subject: c.account, expected: held.toString(), actual: c.held.toString() });
    }
    const owners = new Map<string, string>();
    for (const [key, record] of keys) {
      const result = record.result;
      if (!('operationId' in result) || result.entries.length === 0) continue;
      const subject = `idempotency:${key}`;
      if (!operationsWithEntries.has(result.operationId)) {
        issues.push({ code: 'IDEMPOTENCY_MISMATCH', subject, expected: `entries of operation ${result.operationId}`, actual: 'none' });
      }
      const owner = owners.get(result.operationId);
      if (owner !== undefined) {
        issues.push({
          code: 'IDEMPOTENCY_MISMATCH',
          subject,
          expected: `operation ${result.operationId} claimed once`,
          actual: `also claimed by "${owner}"`,
        });
      } else {
        owners.set(result.operationId, key);
      }
    }
    const systemBalances: Record<string, bigint> = {};
    for (const account of Object.values(SYSTEM_ACCOUNTS)) systemBalances[account] = accounts.get(account) ?? 0n;
    for (const [account, value] of accounts) if (account.startsWith('system:')) systemBalances[account] = value;
    return {
      ok: issues.length === 0,
      customers: customers.size,
      entries: journal.length,
      buckets: buckets.size,
      holds: holds.size,
      totalMicros,
      systemBalances,
      issues,
    };
  }

  function enqueueOutbox(message: { topic: string; payload: string; dedupeKey: string; at: Date }): OutboxMessage | null {
    const at = new Date(time(message.at, 'at'));
    const row = insertOutbox(message.topic, message.payload, message.dedupeKey, at);
    return row && copyMessage(row);
  }

  function claimOutbox(command: ClaimOutboxCommand): OutboxMessage[] {
    const t = time(command.at, 'at');
    const leaseUntil = new Date(time(command.leaseUntil, 'leaseUntil'));
    const topics = command.topics ? new Set(command.topics) : null;
    const claimed: OutboxMessage[] = [];
    if (command.limit < 1) return claimed;
    for (const message of pendingOutbox.values()) {
      if (message.availableAt.getTime() > t || (topics && !topics.has(message.topic))) continue;
      // The lease is the row becoming available again later: an unfinished worker's rows come back.
      set(message, 'availableAt', leaseUntil);
      set(message, 'attempts', message.attempts + 1);
      claimed.push(copyMessage(message));
      if (claimed.length === command.limit) break;
    }
    return claimed;
  }

  function outboxOrThrow(id: string): OutboxMessage {
    const message = /^\d{1,16}$/.test(id) ? outboxRows[Number(id) - 1] : undefined;
    if (!message) throw new TallyError('NOT_FOUND', `Unknown outbox message "${id}"`, { details: { id } });
    return message;
  }

  function settleOutbox(message: OutboxMessage): void {
    pendingOutbox.delete(message.id);
    undo.push(() => {
      pendingOutbox.set(message.id, message);
    });
  }

  function completeOutbox(id: string, at: Date): void {
    const message = outboxOrThrow(id);
    if (message.deliveredAt !== null) return;
    set(message, 'deliveredAt', new Date(time(at, 'at')));
    settleOutbox(message);
  }

  function failOutbox(id: string, error: string, retryAt: Date | null, at: Date): void {
    time(at, 'at');
    const message = outboxOrThrow(id);
    set(message, 'lastError', error);
    if (retryAt === null) {
      set(message, 'dead', true);
      if (pendingOutbox.has(id)) settleOutbox(message);
    } else {
      set(message, 'availableAt', new Date(time(retryAt, 'retryAt')));
    }
  }

  function listOutbox(query: { dead?: boolean; delivered?: boolean; limit: number }): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    if (query.limit < 1) return out;
    for (const message of outboxRows) {
      if (query.dead !== undefined && message.dead !== query.dead) continue;
      if (query.delivered !== undefined && (message.deliveredAt !== null) !== query.delivered) continue;
      out.push(copyMessage(message));
      if (out.length === query.limit) break;
    }
    return out;
  }

  // ---- billing records (docs/billing.md)

  const subscriptions = new Map<string, SubscriptionRecord>();
  const subscriptionVersions = new Map<string, SubscriptionRecord[]>();
  const providerEvents = new Set<string>();
  const coupons = new Map<string, Coupon>();
  /** In id order; the id of `redemptions[n]` is `n + 1`. */
  const redemptions: CouponRedemption[] = [];
  /** `<code>\n<customer>` of every redemption: once per customer. */
  const redeemedBy = new Set<string>();
  const purchases = new Map<string, { purchase: PackPurchase; first: PurchaseResult }>();
  const autoRecharge = new Map<string, AutoRechargeSettings>();
  /** Recharges counted per `<customer>\n<month>`. */
  const rechargeClaims = new Map<string, number>();

  function put<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const previous = map.get(key);
    map.set(key, value);
    undo.push(() => {
      if (had) map.set(key, previous as V);
      else map.delete(key);
    });
  }

  function addTo<T>(target: Set<T>, value: T): void {
    target.add(value);
    undo.push(() => {
      target.delete(value);
    });
  }

  function append<T>(list: T[], value: T): void {
    list.push(value);
    undo.push(() => {
      list.pop();
    });
  }

  function positiveLimit(limit: number): number {
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalid('limit', 'must be a positive integer');
    return limit;
  }

  function saveSubscription(input: SubscriptionRecord, expectedVersion: number | null): SubscriptionRecord {
    const record = checkSubscription(input);
    const expected = optional(expectedVersion, (v) => whole(v, 'expectedVersion', 1, MAX_COUNT - 1));
    const version = expected === null ? 1 : expected + 1;
    if (record.version !== version) throw invalid('version', `must be ${version} when the expected version is ${expected}`);
    customerOrThrow(record.customerId);
    const stored = subscriptions.get(record.customerId)?.version ?? null;
    if (stored !== expected) {
      throw new TallyError('CONFLICT', `The subscription of "${record.customerId}" is at version ${stored}, not ${expected}`, {
        details: { customerId: record.customerId, expectedVersion: expected, version: stored },
      });
    }
    put(subscriptions, record.customerId, record);
    let history = subscriptionVersions.get(record.customerId);
    if (!history) {
      history = [];
      put(subscriptionVersions, record.customerId, history);
    }
    append(history, record);
    return copySubscription(record);
  }

  function listDueSubscriptions(query: { periodEndBefore: Date; pastDueBefore: Date; limit: number }): SubscriptionRecord[] {
    const periodEnd = time(query.periodEndBefore, 'periodEndBefore');
    const pastDue = time(query.pastDueBefore, 'pastDueBefore');
    const limit = positiveLimit(query.limit);
    const due = [...subscriptions.values()].filter(
      (s) =>
        s.status !== 'canceled' &&
        (s.currentPeriodEnd.getTime() <= periodEnd ||
          (s.status === 'past_due' && s.pastDueSince !== null && s.pastDueSince.getTime() <= pastDue)),
    );
    due.sort(
      (a, b) =>
        a.currentPeriodEnd.getTime() - b.currentPeriodEnd.getTime() ||
        (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
    );
    return due.slice(0, limit).map(copySubscription);
  }

  function recordProviderEvent(event: { provider: string; eventId: string; type: string; at: Date }): boolean {
    const id = `${identifier(event.provider, 'provider')}\n${identifier(event.eventId, 'eventId')}`;
    identifier(event.type, 'type');
    time(event.at, 'at');
    if (providerEvents.has(id)) return false;
    addTo(providerEvents, id);
    return true;
  }

  function createCoupon(definition: CouponDefinition, at: Date): Coupon {
    const createdAt = new Date(time(at, 'at'));
    const code = couponCode(definition.code);
    const benefit = checkBenefit(definition.benefit);
    const maxRedemptions = optional(definition.maxRedemptions, (n) => whole(n, 'maxRedemptions', 1, MAX_COUNT));
    const expiresAt = optional(definition.expiresAt, (d) => new Date(time(d, 'expiresAt')));
    if (expiresAt !== null && expiresAt.getTime() <= createdAt.getTime()) throw invalid('expiresAt', 'must be after the coupon is created');
    if (!Array.isArray(definition.tiers)) throw invalid('tiers', 'must be a list of tier ids');
    const tiers = definition.tiers.map((tier) => identifier(tier, 'tiers'));
    if (coupons.has(code)) throw new TallyError('CONFLICT', `Coupon "${code}" already exists`, { details: { code } });
    const coupon: Coupon = { code, benefit, maxRedemptions, expiresAt, tiers, redemptions: 0, active: true, createdAt };
    put(coupons, code, coupon);
    return copyCoupon(coupon);
  }

  function couponOrThrow(code: string): Coupon {
    const coupon = coupons.get(code);
    if (!coupon) throw new TallyError('COUPON_NOT_FOUND', `Unknown coupon "${code}"`, { details: { code } });
    return coupon;
  }

  function listCoupons(query: { limit: number }): Coupon[] {
    const limit = positiveLimit(query.limit);
    const all = [...coupons.values()].sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
    );
    return all.slice(0, limit).map(copyCoupon);
  }

  function setCouponActive(code: string, active: boolean): Coupon {
    const coupon = couponOrThrow(couponCode(code));
    set(coupon, 'active', flag(active, 'active'));
    return copyCoupon(coupon);
  }

  function redeemCoupon(command: RedeemCouponCommand): RedeemResult {
    return idempotent(command, 'redeem_coupon', (when) => {
      const code = couponCode(command.code);
      const tier = identifier(command.tier, 'tier');
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      const coupon = coupons.get(code);
      const details = { code, customerId: c.record.id };
      if (!coupon?.active) throw new TallyError('COUPON_NOT_FOUND', `Unknown coupon "${code}"`, { details });
      if (coupon.expiresAt !== null && coupon.expiresAt.getTime() <= when.getTime()) {
        throw new TallyError('COUPON_EXPIRED', `Coupon "${code}" expired at ${coupon.expiresAt.toISOString()}`, { details });
      }
      if (coupon.tiers.length > 0 && !coupon.tiers.includes(tier)) {
        throw new TallyError('COUPON_NOT_APPLICABLE', `Coupon "${code}" is not for the ${tier} tier`, { details: { ...details, tier } });
      }
      const pair = `${code}\n${c.record.id}`;
      if (redeemedBy.has(pair)) {
        throw new TallyError('COUPON_ALREADY_REDEEMED', `Customer "${c.record.id}" already redeemed "${code}"`, { details });
      }
      if (coupon.maxRedemptions !== null && coupon.redemptions >= coupon.maxRedemptions) {
        throw new TallyError('COUPON_EXHAUSTED', `Coupon "${code}" has no redemptions left`, { details });
      }
      set(coupon, 'redemptions', coupon.redemptions + 1);
      const benefit = coupon.benefit;
      const grant =
        benefit.type === 'credits'
          ? grantBucket(
              c,
              'coupon',
              benefit.amountMicros,
              benefit.expiresInDays === null ? null : new Date(when.getTime() + benefit.expiresInDays * DAY_MS),
              `Coupon ${code}`,
              when,
            )
          : null;
      const redemption: CouponRedemption = {
        id: String(redemptions.length + 1),
        code,
        customerId: c.record.id,
        benefit: copyBenefit(benefit),
        bucketId: grant === null ? null : grant.bucket.id,
        createdAt: when,
      };
      append(redemptions, redemption);
      addTo(redeemedBy, pair);
      const payload = JSON.stringify({
        at: when.toISOString(),
        benefit:
          benefit.type === 'credits'
            ? { amountMicros: benefit.amountMicros.toString(), expiresInDays: benefit.expiresInDays, type: benefit.type }
            : { durationPeriods: benefit.durationPeriods, percentOffBps: benefit.percentOffBps, type: benefit.type },
        code,
        customerId: c.record.id,
        redemptionId: redemption.id,
      });
      insertOutbox('coupon.redeemed', payload, `coupon.redeemed:${code}:${c.record.id}`, when);
      return { redemption: copyRedemption(redemption), grant, replayed: false };
    });
  }

  function listRedemptions(query: { customerId?: string; code?: string; limit: number }): CouponRedemption[] {
    const limit = positiveLimit(query.limit);
    const code = query.code === undefined ? undefined : COUPON_CODE.test(query.code) ? query.code.toUpperCase() : null;
    const out: CouponRedemption[] = [];
    if (code === null) return out;
    for (let i = redemptions.length - 1; i >= 0 && out.length < limit; i--) {
      const r = redemptions[i] as CouponRedemption;
      if ((query.customerId === undefined || r.customerId === query.customerId) && (code === undefined || r.code === code)) {
        out.push(copyRedemption(r));
      }
    }
    return out;
  }

  function purchaseCredits(command: PurchaseCreditsCommand): PurchaseResult {
    return idempotent<PurchaseResult>(command, 'purchase_credits', (when) => {
      const paymentId = identifier(command.paymentId, 'paymentId');
      const packId = identifier(command.packId, 'packId');
      const priceCents = micros(command.priceCents, 'priceCents', 1n);
      const creditsMicros = micros(command.creditsMicros, 'creditsMicros', 1n);
      const known = purchases.get(paymentId);
      if (known) {
        const p = known.purchase;
        if (
          p.customerId !== command.customerId ||
          p.packId !== packId ||
          p.priceCents !== priceCents ||
          p.creditsMicros !== creditsMicros
        ) {
          throw new TallyError('CONFLICT', `Payment "${paymentId}" was recorded for another purchase`, { details: { paymentId } });
        }
        return new Replay(known.first);
      }
      const c = customerOrThrow(command.customerId);
      expireCustomer(c, when);
      const grant = grantBucket(c, 'purchased', creditsMicros, null, `Credit pack ${packId}`, when);
      const purchase: PackPurchase = {
        paymentId,
        customerId: c.record.id,
        packId,
        priceCents,
        creditsMicros,
        bucketId: grant.bucket.id,
        refundedCents: 0n,
        clawedBackMicros: 0n,
        createdAt: when,
      };
      const result: PurchaseResult = { purchase: copyPurchase(purchase), grant, replayed: false };
      put(purchases, paymentId, { purchase, first: result });
      return result;
    });
  }

  function refundPurchase(command: RefundPurchaseCommand): RefundResult {
    return idempotent<RefundResult>(command, 'refund_purchase', (when) => {
      const paymentId = identifier(command.paymentId, 'paymentId');
      const refunded = micros(command.refundedCents, 'refundedCents', 0n);
      const known = purchases.get(paymentId);
      if (!known) throw new TallyError('NOT_FOUND', `Unknown payment "${paymentId}"`, { details: { paymentId } });
      const p = known.purchase;
      if (refunded > p.priceCents) throw invalid('refundedCents', `must not exceed the price of ${p.priceCents} cents`);
      const c = customerOrThrow(p.customerId);
      expireCustomer(c, when);
      // Refunds are cumulative, so an older (smaller) figure arriving late changes nothing.
      let total = p.refundedCents;
      if (refunded > total) total = refunded;
      const bucket = buckets.get(p.bucketId) as Bucket;
      const take = min((p.creditsMicros * total) / p.priceCents - p.clawedBackMicros, bucket.remainingMicros);
      if (take > 0n) {
        const operationId = nextOperationId();
        writeEntry(
          c,
          operationId,
          'clawback',
          c.account,
          GRANT_SOURCE.purchased,
          take,
          bucket.id,
          -take,
          null,
          `Refund of payment ${paymentId}`,
          null,
          when,
        );
        set(bucket, 'remainingMicros', bucket.remainingMicros - take);
        if (bucket.remainingMicros === 0n) {
          const list = c.buckets;
          const index = list.indexOf(bucket);
          list.splice(index, 1);
          undo.push(() => {
            list.splice(index, 0, bucket);
          });
        }
        set(c, 'balance', c.balance - take);
        const payload = JSON.stringify({
          amountMicros: take.toString(),
          at: when.toISOString(),
          balanceMicros: c.balance.toString(),
          customerId: c.record.id,
          paymentId,
        });
        insertOutbox('credits.clawed_back', payload, `credits.clawed_back:${paymentId}:${total}`, when);
      }
      set(p, 'refundedCents', total);
      set(p, 'clawedBackMicros', p.clawedBackMicros + take);
      return { purchase: copyPurchase(p), clawedBackMicros: take, replayed: false };
    });
  }

  function saveAutoRecharge(input: AutoRechargeSettings): AutoRechargeSettings {
    const settings: AutoRechargeSettings = {
      customerId: identifier(input.customerId, 'customerId'),
      enabled: flag(input.enabled, 'enabled'),
      thresholdMicros: micros(input.thresholdMicros, 'thresholdMicros', 0n),
      packId: identifier(input.packId, 'packId'),
      maxPerMonth: whole(input.maxPerMonth, 'maxPerMonth', 0, MAX_COUNT),
      updatedAt: new Date(time(input.updatedAt, 'updatedAt')),
    };
    customerOrThrow(settings.customerId);
    put(autoRecharge, settings.customerId, settings);
    return copyAutoRecharge(settings);
  }

  function claimAutoRecharge(query: { customerId: string; month: string; maxPerMonth: number; at: Date }): number | null {
    if (typeof query.month !== 'string' || !MONTH.test(query.month)) throw invalid('month', 'must be YYYY-MM');
    const max = whole(query.maxPerMonth, 'maxPerMonth', 0, MAX_COUNT);
    time(query.at, 'at');
    const c = customerOrThrow(query.customerId);
    const slot = `${c.record.id}\n${query.month}`;
    const count = rechargeClaims.get(slot) ?? 0;
    if (count >= max) return null;
    put(rechargeClaims, slot, count + 1);
    return count + 1;
  }

  function retryOutbox(id: string, at: Date): void {
    const availableAt = new Date(time(at, 'at'));
    const message = /^\d{1,16}$/.test(id) ? outboxRows[Number(id) - 1] : undefined;
    if (!message?.dead || message.deliveredAt !== null) {
      throw new TallyError('NOT_FOUND', `No dead outbox message "${id}"`, { details: { id } });
    }
    set(message, 'dead', false);
    set(message, 'attempts', 0);
    set(message, 'availableAt', availableAt);
    // Back among the pending rows in id order, where claimOutbox expects it.
    const pending = [...pendingOutbox.values(), message].sort((a, b) => Number(a.id) - Number(b.id));
    pendingOutbox.clear();
    for (const row of pending) pendingOutbox.set(row.id, row);
    undo.push(() => {
      pendingOutbox.delete(message.id);
    });
  }

  // ---- provider keys and balance snapshots (docs/byok.md)

  /** By `<customer>\n<provider>\n<source>`: "\n" sorts below every id character, so key order is tuple order. */
  const providerKeys = new Map<string, ProviderKeyRecord>();
  const providerBalances = new Map<string, ProviderBalance>();
  const providerSlot = (r: { customerId: string; provider: string; source: string }) => `${r.customerId}\n${r.provider}\n${r.source}`;
  const copyProviderKey = (r: ProviderKeyRecord): ProviderKeyRecord => ({
    ...r,
    createdAt: copyDate(r.createdAt),
    updatedAt: copyDate(r.updatedAt),
  });
  const copyProviderBalance = (b: ProviderBalance): ProviderBalance => ({ ...b, syncedAt: copyDate(b.syncedAt) });

  function drop<K, V>(map: Map<K, V>, key: K): boolean {
    if (!map.has(key)) return false;
    const previous = map.get(key) as V;
    map.delete(key);
    undo.push(() => {
      map.set(key, previous);
    });
    return true;
  }

  function putProviderKey(input: ProviderKeyRecord, expectedSealed?: string): ProviderKeyRecord {
    const record = checkProviderKey(input);
    if (expectedSealed !== undefined && typeof expectedSealed !== 'string') throw invalid('expectedSealed', 'must be a string');
    customerOrThrow(record.customerId);
    const slot = providerSlot(record);
    const stored = providerKeys.get(slot);
    if (expectedSealed !== undefined && stored?.sealed !== expectedSealed) {
      throw new TallyError('CONFLICT', `The ${record.provider} key of "${record.customerId}" changed since it was read`, {
        details: { customerId: record.customerId, provider: record.provider, source: record.source },
      });
    }
    const saved = stored ? { ...record, createdAt: stored.createdAt } : record;
    put(providerKeys, slot, saved);
    return copyProviderKey(saved);
  }

  function deleteProviderKey(customerId: string, provider: string, source: string): boolean {
    const slot = providerSlot({ customerId, provider, source });
    drop(providerBalances, slot);
    return drop(providerKeys, slot);
  }

  function listProviderKeys(query: ProviderKeyQuery): { items: ProviderKeyRecord[]; nextCursor: string | null } {
    const { after, limit, source } = checkProviderKeyQuery(query);
    const from = after === null ? null : providerSlot({ customerId: after[0], provider: after[1], source: after[2] });
    const slots = [...providerKeys.keys()].filter((slot) => from === null || slot > from).sort();
    const items: ProviderKeyRecord[] = [];
    for (const slot of slots) {
      const record = providerKeys.get(slot) as ProviderKeyRecord;
      if (source !== null && record.source !== source) continue;
      if (items.length === limit) return { items, nextCursor: providerKeyCursor(items[limit - 1] as ProviderKeyRecord) };
      items.push(copyProviderKey(record));
    }
    return { items, nextCursor: null };
  }

  function putProviderBalance(input: ProviderBalance): ProviderBalance | null {
    const balance = checkProviderBalance(input);
    customerOrThrow(balance.customerId);
    const slot = providerSlot(balance);
    const previous = providerBalances.get(slot);
    put(providerBalances, slot, balance);
    return previous ? copyProviderBalance(previous) : null;
  }

  function listProviderBalances(customerId: string): ProviderBalance[] {
    if (typeof customerId !== 'string' || customerId.includes('\n')) return [];
    const prefix = `${customerId}\n`;
    const slots = [...providerBalances.keys()].filter((slot) => slot.startsWith(prefix)).sort();
    return slots.map((slot) => copyProviderBalance(providerBalances.get(slot) as ProviderBalance));
  }

  // ---- notification preferences and the customer listing (docs/notifications.md)

  /** The categories each customer ever set; absent: the defaults. */
  const notificationSettings = new Map<string, { categories: Readonly<Record<string, boolean>>; updatedAt: Date }>();

  function getNotificationPreferences(customerId: string): NotificationPreferences {
    const c = customerOrThrow(customerId);
    const saved = notificationSettings.get(c.record.id);
    return notificationPreferences(c.record.id, saved?.categories ?? null, saved?.updatedAt ?? null);
  }

  function setNotificationPreferences(command: SetNotificationPreferencesCommand): NotificationPreferences {
    const { customerId, changes, at } = checkSetNotificationPreferences(command);
    const c = customerOrThrow(customerId);
    const saved = notificationSettings.get(c.record.id);
    // A new object rather than an edit of the old one, so `put`'s undo restores the old one whole.
    put(notificationSettings, c.record.id, { categories: { ...saved?.categories, ...changes }, updatedAt: at });
    return getNotificationPreferences(c.record.id);
  }

  function listCustomers(query: CustomerQuery): Page<CustomerRecord> {
    const { search, after, limit } = checkCustomerQuery(query);
    const needle = search === null ? null : foldAsciiCase(search);
    // A scan of every customer: the reference store favours plain code; the SQL stores walk an index.
    const ids: string[] = [];
    for (const id of customers.keys()) {
      if (after !== null && id <= after) continue;
      if (needle !== null && !foldAsciiCase(id).includes(needle)) continue;
      ids.push(id);
    }
    ids.sort();
    const items = ids.slice(0, limit).map((id) => copyCustomer((customers.get(id) as CustomerState).record));
    return { items, nextCursor: ids.length > limit ? customerCursor((items[limit - 1] as CustomerRecord).id) : null };
  }

  // ---- the email delivery log and the scheduler's claimed runs (docs/notifications.md)

  /** In append order; the id of `emailDeliveries[n]` is `n + 1`. */
  const emailDeliveries: EmailDelivery[] = [];
  /** By `<job>\n<slot ms>` (job names hold no newline); replaced whole on every change, so `put` can undo it. */
  const scheduledRuns = new Map<string, { job: string; slot: Date; leaseUntil: Date; completedAt: Date | null }>();
  const runKey = (job: string, slot: Date) => `${job}\n${slot.getTime()}`;

  function recordEmailDelivery(command: RecordEmailDeliveryCommand): EmailDelivery {
    const delivery: EmailDelivery = { id: String(emailDeliveries.length + 1), ...checkRecordEmailDelivery(command) };
    append(emailDeliveries, delivery);
    return copyEmailDelivery(delivery);
  }

  function listEmailDeliveries(query: EmailDeliveryQuery): Page<EmailDelivery> {
    const { customerId, status, template, after, limit } = checkEmailDeliveryQuery(query);
    // A scan and a sort of the whole log: the reference store favours plain code; the SQL stores walk an index.
    const found = emailDeliveries
      .filter(
        (d) =>
          (customerId === null || d.customerId === customerId) &&
          (status === null || d.status === status) &&
          (template === null || d.template === template) &&
          (after === null || compareEmailDeliveries(after, d) < 0),
      )
      .sort(compareEmailDeliveries);
    const items = found.slice(0, limit).map(copyEmailDelivery);
    return { items, nextCursor: found.length > limit ? emailDeliveryCursor(items[limit - 1] as EmailDelivery) : null };
  }

  function claimScheduledRun(command: ClaimScheduledRunCommand): boolean {
    const { job, slot, at, leaseUntil } = checkClaimScheduledRun(command);
    const run = scheduledRuns.get(runKey(job, slot));
    if (run && (run.completedAt !== null || run.leaseUntil.getTime() > at.getTime())) return false;
    put(scheduledRuns, runKey(job, slot), { job, slot, leaseUntil, completedAt: null });
    return true;
  }

  function completeScheduledRun(command: { job: string; slot: Date; at: Date }): void {
    const { job, slot, at } = checkCompleteScheduledRun(command);
    const run = scheduledRuns.get(runKey(job, slot));
    if (!run) throw unclaimedRun(job, slot);
    // Completing twice (a run whose lease ran out, finished by two instances) keeps the first time.
    if (run.completedAt === null) put(scheduledRuns, runKey(job, slot), { ...run, completedAt: at });
  }

  function lastScheduledRun(job: string): Date | null {
    const name = checkScheduledJob(job);
    let latest: number | null = null;
    for (const run of scheduledRuns.values()) {
      if (run.job === name && run.completedAt !== null && (latest === null || run.slot.getTime() > latest)) latest = run.slot.getTime();
    }
    return latest === null ? null : new Date(latest);
  }

  // ---- the call log: metered calls that charged nothing (docs/ledger.md)

  /** In insertion order; the id of `unchargedCalls[n]` is `n + 1`. */
  const unchargedCalls: UnchargedCallRecord[] = [];
  /** Every logged call's id, by `unchargedCallKey`. */
  const unchargedIds = new Map<string, string>();

  function recordUncharged(calls: UnchargedCall[]): number {
    const checked = checkUnchargedCalls(calls);
    // Every customer before any write: an unknown one refuses the whole batch.
    for (const call of checked) customerOrThrow(call.customerId);
    let added = 0;
    for (const call of checked) {
      const key = unchargedCallKey(call);
      if (unchargedIds.has(key)) continue;
      const record: UnchargedCallRecord = { id: String(unchargedCalls.length + 1), ...call };
      append(unchargedCalls, record);
      put(unchargedIds, key, record.id);
      added++;
    }
    return added;
  }

  function listUncharged(query: UnchargedCallQuery): Page<UnchargedCallRecord> {
    const { customerId, from, to, after, limit } = checkUnchargedQuery(query);
    // A scan and a sort of what the range holds: the reference store favours plain code; the SQL stores walk an index.
    const found = unchargedCalls
      .filter(
        (c) =>
          c.at.getTime() >= from.getTime() &&
          c.at.getTime() < to.getTime() &&
          (customerId === null || c.customerId === customerId) &&
          (after === null || compareUnchargedCalls(after, c) < 0),
      )
      .sort(compareUnchargedCalls);
    const items = found.slice(0, limit).map((c) => ({ ...c, at: copyDate(c.at) }));
    return { items, nextCursor: found.length > limit ? unchargedCallCursor(items[limit - 1] as UnchargedCallRecord) : null };
  }

  // ---- analytics (docs/analytics.md): the oracle over this store's own records

  function analyticsSnapshot(): AnalyticsSnapshot {
    const history = new Map<string, SubscriptionRecord[]>();
    for (const [customerId, versions] of subscriptionVersions) history.set(customerId, versions.map(copySubscription));
    return {
      customers: [...customers.values()].map((state) => copyCustomer(state.record)),
      entries: journal.map(copyEntry),
      uncharged: unchargedCalls.map((c) => ({ ...c, at: copyDate(c.at) })),
      subscriptions: history,
    };
  }

  // ---- the port

  type Enter = <T>(fn: () => T) => Promise<T>;

  /** Outside a transaction, wait for it to finish: nothing sees or interleaves with uncommitted work. */
  const enterOuter: Enter = async (fn) => {
    while (gate) await gate;
    return atomic(fn);
  };

  async function transaction<T>(fn: (tx: TallyStore) => Promise<T>): Promise<T> {
    while (gate) await gate;
    let open = () => {};
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const token = {};
    activeTx = token;
    const start = mark();
    try {
      const result = await fn(view(txEnter(token), nested(token)));
      undo.length = 0;
      return result;
    } catch (error) {
      rollback(start);
      throw error;
    } finally {
      activeTx = null;
      gate = null;
      open();
    }
  }

  function txEnter(token: object): Enter {
    return async (fn) => {
      if (activeTx !== token) throw new TallyError('CONFLICT', 'This transaction has already finished');
      return atomic(fn);
    };
  }

  /** A transaction inside a transaction is a savepoint: it rolls back its own work only. */
  function nested(token: object): TallyStore['transaction'] {
    return async function savepoint<T>(fn: (tx: TallyStore) => Promise<T>): Promise<T> {
      if (activeTx !== token) throw new TallyError('CONFLICT', 'This transaction has already finished');
      const start = mark();
      try {
        return await fn(view(txEnter(token), savepoint));
      } catch (error) {
        rollback(start);
        throw error;
      }
    };
  }

  function view(enter: Enter, tx: TallyStore['transaction']): TallyStore {
    return {
      transaction: tx,
      upsertCustomer: (command) => enter(() => upsertCustomer(command)),
      getCustomer: (customerId) =>
        enter(() => {
          const state = customers.get(customerId);
          return state ? copyCustomer(state.record) : null;
        }),
      grant: (command) => enter(() => grant(command)),
      spend: (command) => enter(() => spend(command)),
      recordUsage: (command) => enter(() => recordUsage(command)),
      recordUsageBatch: (commands) => enter(() => recordUsageBatch(commands)),
      adjust: (command) => enter(() => adjust(command)),
      reserve: (command) => enter(() => reserve(command)),
      capture: (command) => enter(() => capture(command)),
      release: (command) => enter(() => release(command)),
      setSpendCap: (command) => enter(() => setSpendCap(command)),
      listSpendCaps: (customerId, at) => enter(() => listSpendCaps(customerId, at)),
      sweepHolds: (at) => enter(() => sweepHolds(at)),
      expireBuckets: (at) => enter(() => expireBuckets(at)),
      balance: (customerId, at) => enter(() => balance(customerId, at)),
      getHold: (holdId) =>
        enter(() => {
          const hold = holds.get(holdId);
          return hold ? copyHold(hold) : null;
        }),
      listEntries: (query) => enter(() => listEntries(query)),
      audit: () => enter(audit),
      enqueueOutbox: (message) => enter(() => enqueueOutbox(message)),
      claimOutbox: (command) => enter(() => claimOutbox(command)),
      completeOutbox: (id, at) => enter(() => completeOutbox(id, at)),
      failOutbox: (id, error, retryAt, at) => enter(() => failOutbox(id, error, retryAt, at)),
      listOutbox: (query) => enter(() => listOutbox(query)),
      getSubscription: (customerId) =>
        enter(() => {
          const record = subscriptions.get(customerId);
          return record ? copySubscription(record) : null;
        }),
      saveSubscription: (record, expectedVersion) => enter(() => saveSubscription(record, expectedVersion)),
      listDueSubscriptions: (query) => enter(() => listDueSubscriptions(query)),
      subscriptionHistory: (customerId) => enter(() => (subscriptionVersions.get(customerId) ?? []).map(copySubscription)),
      recordProviderEvent: (event) => enter(() => recordProviderEvent(event)),
      createCoupon: (definition, at) => enter(() => createCoupon(definition, at)),
      getCoupon: (code) =>
        enter(() => {
          const coupon = typeof code === 'string' && COUPON_CODE.test(code) ? coupons.get(code.toUpperCase()) : undefined;
          return coupon ? copyCoupon(coupon) : null;
        }),
      listCoupons: (query) => enter(() => listCoupons(query)),
      setCouponActive: (code, active) => enter(() => setCouponActive(code, active)),
      redeemCoupon: (command) => enter(() => redeemCoupon(command)),
      listRedemptions: (query) => enter(() => listRedemptions(query)),
      purchaseCredits: (command) => enter(() => purchaseCredits(command)),
      getPurchase: (paymentId) =>
        enter(() => {
          const known = purchases.get(paymentId);
          return known ? copyPurchase(known.purchase) : null;
        }),
      refundPurchase: (command) => enter(() => refundPurchase(command)),
      getAutoRecharge: (customerId) =>
        enter(() => {
          const settings = autoRecharge.get(customerId);
          return settings ? copyAutoRecharge(settings) : null;
        }),
      saveAutoRecharge: (settings) => enter(() => saveAutoRecharge(settings)),
      claimAutoRecharge: (query) => enter(() => claimAutoRecharge(query)),
      retryOutbox: (id, at) => enter(() => retryOutbox(id, at)),
      putProviderKey: (record, expectedSealed) => enter(() => putProviderKey(record, expectedSealed)),
      getProviderKey: (customerId, provider, source) =>
        enter(() => {
          const record = providerKeys.get(providerSlot({ customerId, provider, source }));
          return record ? copyProviderKey(record) : null;
        }),
      deleteProviderKey: (customerId, provider, source) => enter(() => deleteProviderKey(customerId, provider, source)),
      listProviderKeys: (query) => enter(() => listProviderKeys(query)),
      putProviderBalance: (balance) => enter(() => putProviderBalance(balance)),
      listProviderBalances: (customerId) => enter(() => listProviderBalances(customerId)),
      getNotificationPreferences: (customerId) => enter(() => getNotificationPreferences(customerId)),
      setNotificationPreferences: (command) => enter(() => setNotificationPreferences(command)),
      listCustomers: (query) => enter(() => listCustomers(query)),
      recordEmailDelivery: (command) => enter(() => recordEmailDelivery(command)),
      listEmailDeliveries: (query) => enter(() => listEmailDeliveries(query)),
      claimScheduledRun: (command) => enter(() => claimScheduledRun(command)),
      completeScheduledRun: (command) => enter(() => completeScheduledRun(command)),
      lastScheduledRun: (job) => enter(() => lastScheduledRun(job)),
      recordUncharged: (calls) => enter(() => recordUncharged(calls)),
      listUncharged: (query) => enter(() => listUncharged(query)),
      metric: (query, catalog) => enter(() => computeMetric(analyticsSnapshot(), query, catalog)),
      // Metrics are computed from the journal itself: there are no rollups to fold.
      foldAnalytics: () => enter(() => true),
      close: async () => {},
    };
  }

  return view(enterOuter, transaction);
}
