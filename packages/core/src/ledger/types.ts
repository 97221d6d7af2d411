/**
 * The ledger's data and the storage port. Semantics are specified in docs/ledger.md; every store
 * (memory, PGlite, Postgres) must pass `runStoreConformance` from `@tally/core/testing`.
 */

import type { AnalyticsStore } from '../analytics/metrics.js';
import type { BillingStore } from '../billing/types.js';
import type { ProviderStore } from '../byok/store.js';
import type { EmailStore } from '../notifications/email.js';
import type { NotificationStore } from '../notifications/store.js';
import type { UnchargedCallStore } from './calls.js';

export const BUCKET_KINDS = ['allowance', 'purchased', 'coupon', 'adjustment'] as const;
/** Where a customer's credits came from; each kind is a separate bucket with its own expiry. */
export type BucketKind = (typeof BUCKET_KINDS)[number];

/** `clawback`: a refunded credit pack's unspent credit going back to `system:purchases` (docs/billing.md). */
export const ENTRY_KINDS = ['grant', 'spend', 'capture', 'usage', 'expire', 'adjust', 'clawback'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** System accounts. Their balances are derived from the journal, never stored in a row. */
export const SYSTEM_ACCOUNTS = {
  grants: 'system:grants',
  purchases: 'system:purchases',
  coupons: 'system:coupons',
  adjustments: 'system:adjustments',
  revenue: 'system:revenue',
  expired: 'system:expired',
  unlimited: 'system:unlimited',
} as const;

/** The system account a grant of each bucket kind is drawn from. */
export const GRANT_SOURCE: Record<BucketKind, string> = {
  allowance: SYSTEM_ACCOUNTS.grants,
  purchased: SYSTEM_ACCOUNTS.purchases,
  coupon: SYSTEM_ACCOUNTS.coupons,
  adjustment: SYSTEM_ACCOUNTS.adjustments,
};

export const customerAccount = (customerId: string) => `customer:${customerId}`;
export const debtAccount = (customerId: string) => `debt:${customerId}`;

export interface CustomerRecord {
  id: string;
  tier: string;
  /** How far below zero the balance may go (micros). */
  overdraftLimitMicros: bigint;
  /** Unlimited customers are never blocked; their charges are drawn from `system:unlimited`. */
  unlimited: boolean;
  createdAt: Date;
}

export interface Bucket {
  id: string;
  customerId: string;
  kind: BucketKind;
  grantedMicros: bigint;
  remainingMicros: bigint;
  expiresAt: Date | null;
  createdAt: Date;
}

/** What a metered call stores with its charge, so later catalog changes never rewrite history. */
export interface UsageDetails {
  model: string;
  inputTokens: bigint;
  cachedInputTokens: bigint;
  outputTokens: bigint;
  reasoningTokens: bigint;
  providerCostNanoUsd: bigint;
  markupBps: number;
  catalogVersion: string;
  generationId: string | null;
  /** `byok` calls run on the customer's own provider key. */
  keySource: 'managed' | 'byok';
}

/** One journal line: `amountMicros` moves from `fromAccount` to `toAccount`. */
export interface Entry {
  id: string;
  /** Groups the entries one operation wrote (a spend draining three buckets writes three). */
  operationId: string;
  customerId: string;
  kind: EntryKind;
  fromAccount: string;
  toAccount: string;
  amountMicros: bigint;
  bucketId: string | null;
  /** Signed change this entry made to `bucketId`'s remaining micros (0 without a bucket). */
  bucketDeltaMicros: bigint;
  holdId: string | null;
  description: string | null;
  usage: UsageDetails | null;
  createdAt: Date;
}

export type HoldStatus = 'active' | 'captured' | 'released' | 'expired';

export interface Hold {
  id: string;
  customerId: string;
  amountMicros: bigint;
  status: HoldStatus;
  capturedMicros: bigint | null;
  expiresAt: Date;
  createdAt: Date;
  settledAt: Date | null;
}

/** The customer's row after an operation. */
export interface BalanceSnapshot {
  balanceMicros: bigint;
  heldMicros: bigint;
  debtMicros: bigint;
}

export interface Balance extends BalanceSnapshot {
  customerId: string;
  tier: string;
  overdraftLimitMicros: bigint;
  unlimited: boolean;
  /** What a spend or reserve may take now: balance − held + overdraft limit (never below 0). */
  availableMicros: bigint;
  /** Buckets with credit left that have not expired at the time asked, soonest expiry first. */
  buckets: Bucket[];
  activeHolds: number;
}

// ---- Commands. `at` is the time the operation happens (from Tally's clock, not the database's).
// `idempotencyKey` + `request` (a canonical encoding of the payload) make every mutation retry-safe.

interface Mutation {
  idempotencyKey: string;
  /** Canonical JSON of the command without `at` and the key: equal payloads give equal strings. */
  request: string;
  at: Date;
}

export interface UpsertCustomerCommand {
  customerId: string;
  tier: string;
  overdraftLimitMicros: bigint;
  unlimited: boolean;
  at: Date;
}

export interface GrantCommand extends Mutation {
  customerId: string;
  kind: BucketKind;
  amountMicros: bigint;
  expiresAt: Date | null;
  description: string | null;
}

export interface SpendCommand extends Mutation {
  customerId: string;
  /** The customer's end user or API key the charge is for: counted against that scope's spend caps. */
  endUserId?: string | null;
  amountMicros: bigint;
  description: string | null;
  usage: UsageDetails | null;
}

export interface AdjustCommand extends Mutation {
  customerId: string;
  /** Signed: positive adds an `adjustment` bucket, negative drains buckets like a spend. */
  amountMicros: bigint;
  reason: string;
}

export interface ReserveCommand extends Mutation {
  customerId: string;
  /** Counted against the end user's spend caps while the hold is active, and its capture after. */
  endUserId?: string | null;
  amountMicros: bigint;
  expiresAt: Date;
}

export interface CaptureCommand extends Mutation {
  holdId: string;
  amountMicros: bigint;
  description: string | null;
  usage: UsageDetails | null;
}

export interface ReleaseCommand extends Mutation {
  holdId: string;
}

/** Where a spend cap applies: the customer's total, one end user (or API key), or each end user without a cap of its own. */
export type SpendCapScope = { kind: 'customer' } | { kind: 'end-user'; endUserId: string } | { kind: 'each-end-user' };

/** Limits in credit micros over UTC calendar days and months; null: no limit for that period. */
export interface SetSpendCapCommand {
  customerId: string;
  scope: SpendCapScope;
  dailyMicros: bigint | null;
  monthlyMicros: bigint | null;
  at: Date;
}

/** One scope's caps and what it has used in the windows containing `at` (docs/ledger.md, "Spend caps"). */
export interface SpendCapStatus {
  customerId: string;
  scope: SpendCapScope;
  dailyMicros: bigint | null;
  monthlyMicros: bigint | null;
  /** Charged in the UTC day / month of `at` while the customer had a cap. */
  usedTodayMicros: bigint;
  usedThisMonthMicros: bigint;
  /** Active holds in this scope: they count against both windows until they settle. */
  heldMicros: bigint;
  updatedAt: Date;
}

/** A charge for usage that already happened: never refused for lack of credit; the shortfall is debt. */
export type UsageCommand = SpendCommand;

export interface OperationResult {
  operationId: string;
  entries: Entry[];
  balance: BalanceSnapshot;
  /** True when this is the stored result of an earlier call with the same idempotency key. */
  replayed: boolean;
}

export interface GrantResult extends OperationResult {
  bucket: Bucket;
}

export interface ChargeResult extends OperationResult {
  /** Micros taken from the customer's credit (buckets and overdraft). */
  chargedMicros: bigint;
  /** Micros beyond the overdraft limit, recorded as debt. */
  debtMicros: bigint;
}

export interface HoldResult {
  hold: Hold;
  balance: BalanceSnapshot;
  replayed: boolean;
}

export interface CaptureResult extends ChargeResult {
  hold: Hold;
}

export type UsageBatchItemResult = { ok: true; result: ChargeResult } | { ok: false; code: string; message: string };

export interface EntryQuery {
  customerId?: string;
  kinds?: EntryKind[];
  /** Inclusive lower bound on `createdAt`. */
  from?: Date;
  /** Exclusive upper bound on `createdAt`. */
  to?: Date;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type AuditIssueCode =
  | 'ENTRY_INVALID'
  | 'ZERO_SUM'
  | 'BALANCE_MISMATCH'
  | 'DEBT_MISMATCH'
  | 'BUCKET_MISMATCH'
  | 'BUCKET_OUT_OF_RANGE'
  | 'BUCKETS_VS_BALANCE'
  | 'HELD_MISMATCH'
  | 'IDEMPOTENCY_MISMATCH';

export interface AuditIssue {
  code: AuditIssueCode;
  /** The customer, bucket, account or key concerned. */
  subject: string;
  expected: string;
  actual: string;
}

export interface AuditReport {
  ok: boolean;
  customers: number;
  entries: number;
  buckets: number;
  holds: number;
  /** Sum of every account's balance: always 0 in a sound journal. */
  totalMicros: bigint;
  /** Balances of the system accounts, derived from the journal. */
  systemBalances: Record<string, bigint>;
  issues: AuditIssue[];
}

export interface OutboxMessage {
  id: string;
  topic: string;
  /** JSON text; bigints are written as strings. */
  payload: string;
  /** Dedupe key for sinks: the same event is never enqueued twice under one key. */
  dedupeKey: string;
  attempts: number;
  createdAt: Date;
  availableAt: Date;
  deliveredAt: Date | null;
  lastError: string | null;
  dead: boolean;
}

export interface ClaimOutboxCommand {
  limit: number;
  /** Until when the claimed rows are leased to this worker. */
  leaseUntil: Date;
  at: Date;
  topics?: string[];
}

/**
 * The ledger with its log of calls that charged nothing (docs/ledger.md), the billing records
 * (docs/billing.md), provider keys (docs/byok.md) and notification preferences with the customer
 * listing, the email delivery log and the scheduler's claimed runs (docs/notifications.md), and the
 * metrics computed from all of it (docs/analytics.md) in one store.
 */
export interface TallyStore extends BillingStore, ProviderStore, NotificationStore, EmailStore, UnchargedCallStore, AnalyticsStore {
  /** Runs `fn` with a store whose operations all commit or roll back together. */
  transaction<T>(fn: (tx: TallyStore) => Promise<T>): Promise<T>;
  upsertCustomer(command: UpsertCustomerCommand): Promise<CustomerRecord>;
  getCustomer(customerId: string): Promise<CustomerRecord | null>;
  grant(command: GrantCommand): Promise<GrantResult>;
  spend(command: SpendCommand): Promise<ChargeResult>;
  recordUsage(command: UsageCommand): Promise<ChargeResult>;
  /** Many usage charges in one round trip; one item's failure does not stop the others. */
  recordUsageBatch(commands: UsageCommand[]): Promise<UsageBatchItemResult[]>;
  adjust(command: AdjustCommand): Promise<ChargeResult | GrantResult>;
  reserve(command: ReserveCommand): Promise<HoldResult>;
  capture(command: CaptureCommand): Promise<CaptureResult>;
  release(command: ReleaseCommand): Promise<HoldResult>;
  /** Sets or (both limits null) removes a scope's caps. Unknown customer: `NOT_FOUND`. */
  setSpendCap(command: SetSpendCapCommand): Promise<SpendCapStatus>;
  /** Every scope with caps, and every end user counted while the customer had any. */
  listSpendCaps(customerId: string, at: Date): Promise<SpendCapStatus[]>;
  /** Expires active holds whose time is up. Returns how many. */
  sweepHolds(at: Date): Promise<number>;
  /** Expires buckets whose time is up (an `expire` entry each). Returns how many. */
  expireBuckets(at: Date): Promise<number>;
  balance(customerId: string, at: Date): Promise<Balance>;
  getHold(holdId: string): Promise<Hold | null>;
  listEntries(query: EntryQuery): Promise<Page<Entry>>;
  audit(): Promise<AuditReport>;
  enqueueOutbox(message: { topic: string; payload: string; dedupeKey: string; at: Date }): Promise<OutboxMessage | null>;
  claimOutbox(command: ClaimOutboxCommand): Promise<OutboxMessage[]>;
  completeOutbox(id: string, at: Date): Promise<void>;
  failOutbox(id: string, error: string, retryAt: Date | null, at: Date): Promise<void>;
  listOutbox(query: { dead?: boolean; delivered?: boolean; limit: number }): Promise<OutboxMessage[]>;
  close(): Promise<void>;
}
