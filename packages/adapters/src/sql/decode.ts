import type {
  AuditReport,
  AutoRechargeSettings,
  Balance,
  BalanceSnapshot,
  Bucket,
  BucketKind,
  CaptureResult,
  ChargeResult,
  Coupon,
  CouponBenefit,
  CouponRedemption,
  CustomerRecord,
  EmailDelivery,
  Entry,
  EntryKind,
  GrantResult,
  Hold,
  HoldResult,
  HoldStatus,
  NotificationPreferences,
  OutboxMessage,
  PackPurchase,
  ProviderBalance,
  ProviderKeyRecord,
  SpendCapStatus,
  SubscriptionRecord,
  SubscriptionStatus,
  UsageDetails,
} from '@tally/core';
import { notificationPreferences, scopeOf } from '@tally/core';

// The SQL functions answer in JSON with bigints as strings and times as ISO text; these turn
// that back into the port's types.
type Json = Record<string, unknown>;

const big = (value: unknown): bigint => BigInt(value as string);
const bigOrNull = (value: unknown): bigint | null => (value === null || value === undefined ? null : BigInt(value as string));
const time = (value: unknown): Date => new Date(value as string);
const timeOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(value as string));
const str = (value: unknown): string => value as string;
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function decodeUsage(value: unknown): UsageDetails | null {
  if (value === null || value === undefined) return null;
  const u = value as Json;
  return {
    model: str(u.model),
    inputTokens: big(u.inputTokens),
    cachedInputTokens: big(u.cachedInputTokens),
    outputTokens: big(u.outputTokens),
    reasoningTokens: big(u.reasoningTokens),
    providerCostNanoUsd: big(u.providerCostNanoUsd),
    markupBps: Number(u.markupBps),
    catalogVersion: str(u.catalogVersion),
    generationId: strOrNull(u.generationId),
    keySource: u.keySource === 'byok' ? 'byok' : 'managed',
  };
}

export function encodeUsage(usage: UsageDetails | null): string | null {
  if (!usage) return null;
  return JSON.stringify(usage, (_, value) => (typeof value === 'bigint' ? value.toString() : value));
}

export function decodeEntry(value: unknown): Entry {
  const e = value as Json;
  return {
    id: str(e.id),
    operationId: str(e.operationId),
    customerId: str(e.customerId),
    kind: e.kind as EntryKind,
    fromAccount: str(e.fromAccount),
    toAccount: str(e.toAccount),
    amountMicros: big(e.amountMicros),
    bucketId: strOrNull(e.bucketId),
    bucketDeltaMicros: big(e.bucketDeltaMicros),
    holdId: strOrNull(e.holdId),
    description: strOrNull(e.description),
    usage: decodeUsage(e.usage),
    createdAt: time(e.createdAt),
  };
}

export function decodeBucket(value: unknown): Bucket {
  const b = value as Json;
  return {
    id: str(b.id),
    customerId: str(b.customerId),
    kind: b.kind as BucketKind,
    grantedMicros: big(b.grantedMicros),
    remainingMicros: big(b.remainingMicros),
    expiresAt: timeOrNull(b.expiresAt),
    createdAt: time(b.createdAt),
  };
}

export function decodeHold(value: unknown): Hold {
  const h = value as Json;
  return {
    id: str(h.id),
    customerId: str(h.customerId),
    amountMicros: big(h.amountMicros),
    status: h.status as HoldStatus,
    capturedMicros: bigOrNull(h.capturedMicros),
    expiresAt: time(h.expiresAt),
    createdAt: time(h.createdAt),
    settledAt: timeOrNull(h.settledAt),
  };
}

export function decodeSpendCap(value: unknown): SpendCapStatus {
  const r = value as Json;
  return {
    customerId: str(r.customerId),
    scope: scopeOf(str(r.scope)),
    dailyMicros: bigOrNull(r.dailyMicros),
    monthlyMicros: bigOrNull(r.monthlyMicros),
    usedTodayMicros: big(r.usedTodayMicros),
    usedThisMonthMicros: big(r.usedThisMonthMicros),
    heldMicros: big(r.heldMicros),
    updatedAt: time(r.updatedAt),
  };
}

export function decodeSnapshot(value: unknown): BalanceSnapshot {
  const s = value as Json;
  return { balanceMicros: big(s.balanceMicros), heldMicros: big(s.heldMicros), debtMicros: big(s.debtMicros) };
}

export function decodeCustomer(value: unknown): CustomerRecord {
  const c = value as Json;
  return {
    id: str(c.id),
    tier: str(c.tier),
    overdraftLimitMicros: big(c.overdraftLimitMicros),
    unlimited: Boolean(c.unlimited),
    createdAt: time(c.createdAt),
  };
}

function operation(value: Json) {
  return {
    operationId: str(value.operationId),
    entries: (value.entries as unknown[]).map(decodeEntry),
    balance: decodeSnapshot(value.balance),
    replayed: value.replayed === true,
  };
}

export function decodeCharge(value: unknown): ChargeResult {
  const r = value as Json;
  return { ...operation(r), chargedMicros: big(r.chargedMicros), debtMicros: big(r.debtMicros) };
}

export function decodeGrant(value: unknown): GrantResult {
  const r = value as Json;
  return { ...operation(r), bucket: decodeBucket(r.bucket) };
}

export function decodeCapture(value: unknown): CaptureResult {
  const r = value as Json;
  return { ...decodeCharge(r), hold: decodeHold(r.hold) };
}

export function decodeHoldResult(value: unknown): HoldResult {
  const r = value as Json;
  return { hold: decodeHold(r.hold), balance: decodeSnapshot(r.balance), replayed: r.replayed === true };
}

export function decodeBalance(value: unknown): Balance {
  const b = value as Json;
  return {
    customerId: str(b.customerId),
    tier: str(b.tier),
    overdraftLimitMicros: big(b.overdraftLimitMicros),
    unlimited: Boolean(b.unlimited),
    balanceMicros: big(b.balanceMicros),
    heldMicros: big(b.heldMicros),
    debtMicros: big(b.debtMicros),
    availableMicros: big(b.availableMicros),
    buckets: (b.buckets as unknown[]).map(decodeBucket),
    activeHolds: Number(b.activeHolds),
  };
}

export interface OutboxRow {
  id: string;
  topic: string;
  payload: string;
  dedupe_key: string;
  attempts: number;
  created_at: Date | string;
  available_at: Date | string;
  delivered_at: Date | string | null;
  last_error: string | null;
  dead: boolean;
}

export function decodeOutbox(row: OutboxRow): OutboxMessage {
  return {
    id: String(row.id),
    topic: row.topic,
    payload: row.payload,
    dedupeKey: row.dedupe_key,
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at),
    availableAt: new Date(row.available_at),
    deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at),
    lastError: row.last_error,
    dead: row.dead,
  };
}

// ---- billing records (schema version 2)

export function decodeSubscription(value: unknown): SubscriptionRecord {
  const s = value as Json;
  const change = s.scheduledChange as Json | null;
  return {
    customerId: str(s.customerId),
    tier: str(s.tier),
    status: s.status as SubscriptionStatus,
    interval: s.interval === 'year' ? 'year' : 'month',
    currentPeriodStart: time(s.currentPeriodStart),
    currentPeriodEnd: time(s.currentPeriodEnd),
    trialEnd: timeOrNull(s.trialEnd),
    scheduledChange: change === null ? null : { tier: strOrNull(change.tier), at: time(change.at) },
    pastDueSince: timeOrNull(s.pastDueSince),
    provider: str(s.provider),
    providerCustomerId: strOrNull(s.providerCustomerId),
    providerSubscriptionId: strOrNull(s.providerSubscriptionId),
    providerStateAt: timeOrNull(s.providerStateAt),
    version: Number(s.version),
    createdAt: time(s.createdAt),
    updatedAt: time(s.updatedAt),
  };
}

export function decodeBenefit(value: unknown): CouponBenefit {
  const b = value as Json;
  return b.type === 'credits'
    ? { type: 'credits', amountMicros: big(b.amountMicros), expiresInDays: b.expiresInDays === null ? null : Number(b.expiresInDays) }
    : { type: 'percent_off', percentOffBps: Number(b.percentOffBps), durationPeriods: Number(b.durationPeriods) };
}

export function decodeCoupon(value: unknown): Coupon {
  const c = value as Json;
  return {
    code: str(c.code),
    benefit: decodeBenefit(c.benefit),
    maxRedemptions: c.maxRedemptions === null ? null : Number(c.maxRedemptions),
    expiresAt: timeOrNull(c.expiresAt),
    tiers: (c.tiers as unknown[]).map(str),
    redemptions: Number(c.redemptions),
    active: c.active === true,
    createdAt: time(c.createdAt),
  };
}

export function decodeRedemption(value: unknown): CouponRedemption {
  const r = value as Json;
  return {
    id: str(r.id),
    code: str(r.code),
    customerId: str(r.customerId),
    benefit: decodeBenefit(r.benefit),
    bucketId: strOrNull(r.bucketId),
    createdAt: time(r.createdAt),
  };
}

export function decodePurchase(value: unknown): PackPurchase {
  const p = value as Json;
  return {
    paymentId: str(p.paymentId),
    customerId: str(p.customerId),
    packId: str(p.packId),
    priceCents: big(p.priceCents),
    creditsMicros: big(p.creditsMicros),
    bucketId: str(p.bucketId),
    refundedCents: big(p.refundedCents),
    clawedBackMicros: big(p.clawedBackMicros),
    createdAt: time(p.createdAt),
  };
}

export function decodeAutoRecharge(value: unknown): AutoRechargeSettings {
  const a = value as Json;
  return {
    customerId: str(a.customerId),
    enabled: a.enabled === true,
    thresholdMicros: big(a.thresholdMicros),
    packId: str(a.packId),
    maxPerMonth: Number(a.maxPerMonth),
    updatedAt: time(a.updatedAt),
  };
}

/** A stored billing result carries its grant; a replay of the result is a replay of the grant too. */
function nestedGrant(value: unknown, replayed: boolean): GrantResult {
  return { ...decodeGrant(value), replayed };
}

export function decodeRedeemResult(value: unknown): { redemption: CouponRedemption; grant: GrantResult | null; replayed: boolean } {
  const r = value as Json;
  const replayed = r.replayed === true;
  return {
    redemption: decodeRedemption(r.redemption),
    grant: r.grant === null || r.grant === undefined ? null : nestedGrant(r.grant, replayed),
    replayed,
  };
}

export function decodePurchaseResult(value: unknown): { purchase: PackPurchase; grant: GrantResult; replayed: boolean } {
  const r = value as Json;
  const replayed = r.replayed === true;
  return { purchase: decodePurchase(r.purchase), grant: nestedGrant(r.grant, replayed), replayed };
}

export function decodeRefundResult(value: unknown): { purchase: PackPurchase; clawedBackMicros: bigint; replayed: boolean } {
  const r = value as Json;
  return { purchase: decodePurchase(r.purchase), clawedBackMicros: big(r.clawedBackMicros), replayed: r.replayed === true };
}

// ---- provider keys and balance snapshots (schema version 3): rows of plain selects, times as tally__ts text

export interface ProviderKeyRow {
  customer_id: string;
  provider: string;
  source: string;
  sealed: string;
  key_id: string;
  last4: string;
  provider_key_hash: string | null;
  created_at: string;
  updated_at: string;
}

export function decodeProviderKey(row: ProviderKeyRow): ProviderKeyRecord {
  return {
    customerId: row.customer_id,
    provider: row.provider,
    source: row.source === 'provisioned' ? 'provisioned' : 'byok',
    sealed: row.sealed,
    keyId: row.key_id,
    last4: row.last4,
    providerKeyHash: row.provider_key_hash,
    createdAt: time(row.created_at),
    updatedAt: time(row.updated_at),
  };
}

export interface ProviderBalanceRow {
  customer_id: string;
  provider: string;
  source: string;
  limit_nano_usd: string | null;
  usage_nano_usd: string;
  remaining_nano_usd: string | null;
  low: boolean;
  synced_at: string;
}

export function decodeProviderBalance(row: ProviderBalanceRow): ProviderBalance {
  return {
    customerId: row.customer_id,
    provider: row.provider,
    source: row.source === 'provisioned' ? 'provisioned' : 'byok',
    limitNanoUsd: bigOrNull(row.limit_nano_usd),
    usageNanoUsd: big(row.usage_nano_usd),
    remainingNanoUsd: bigOrNull(row.remaining_nano_usd),
    low: row.low === true,
    syncedAt: time(row.synced_at),
  };
}

export interface NotificationPreferencesRow {
  customer_id: string;
  /** The categories ever set (jsonb, parsed by the driver); null without a row. */
  categories: Record<string, unknown> | null;
  updated_at: string | null;
}

export const decodeNotificationPreferences = (row: NotificationPreferencesRow): NotificationPreferences =>
  notificationPreferences(row.customer_id, row.categories, timeOrNull(row.updated_at));

export interface EmailDeliveryRow {
  id: string;
  dedupe_key: string;
  customer_id: string | null;
  template: string;
  recipient: string | null;
  subject: string | null;
  status: string;
  suppression: string | null;
  attempt: number;
  error: string | null;
  transport: string | null;
  message_id: string | null;
  test: boolean;
  at: string;
}

/** The table's checks and core's (checkRecordEmailDelivery) keep template, status and suppression in their lists. */
export function decodeEmailDelivery(row: EmailDeliveryRow): EmailDelivery {
  return {
    id: row.id,
    dedupeKey: row.dedupe_key,
    customerId: row.customer_id,
    template: row.template as EmailDelivery['template'],
    to: row.recipient,
    subject: row.subject,
    status: row.status as EmailDelivery['status'],
    suppression: row.suppression as EmailDelivery['suppression'],
    attempt: Number(row.attempt),
    error: row.error,
    transport: row.transport,
    messageId: row.message_id,
    test: row.test === true,
    at: time(row.at),
  };
}

export type { AuditReport };
