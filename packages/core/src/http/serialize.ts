/**
 * Domain records → the wire shapes of wire.ts: bigints become decimal strings, dates ISO strings,
 * and nothing the contract lacks leaks out (the response schemas are strict; the tests parse with them).
 */
import type { Coupon, CouponBenefit, SubscriptionRecord } from '../billing/types.js';
import type { ByokKeyInfo, ProviderBalance } from '../byok/index.js';
import type { Catalog, Tier } from '../catalog/schema.js';
import type { AuditReport, Balance, Bucket, CustomerRecord, Entry, OutboxMessage, SpendCapStatus } from '../ledger/types.js';
import { customerAccount, GRANT_SOURCE } from '../ledger/types.js';
import type { EmailDelivery } from '../notifications/email.js';
import type { TierChangePreview } from '../proration/preview.js';
import type {
  WireAdminCustomer,
  WireAuditReport,
  WireBalance,
  WireBucket,
  WireByokKey,
  WireCoupon,
  WireCouponBenefit,
  WireEmailDelivery,
  WireEntry,
  WireOutboxMessage,
  WireProviderBalance,
  WireSpendCap,
  WireSubscription,
  WireTier,
  WireTierChangePreview,
} from './wire.js';

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);
const str = (value: bigint) => value.toString();
const strOrNull = (value: bigint | null) => (value === null ? null : value.toString());

export function wireBucket(bucket: Bucket): WireBucket {
  return {
    id: bucket.id,
    kind: bucket.kind,
    grantedMicros: str(bucket.grantedMicros),
    remainingMicros: str(bucket.remainingMicros),
    expiresAt: isoOrNull(bucket.expiresAt),
    createdAt: iso(bucket.createdAt),
  };
}

/**
 * The live allowance: every allowance bucket that has not expired at `now` (an upgrade adds a second
 * one for the same period), summed; it expires with the soonest of them.
 */
function allowanceOf(balance: Balance, now: Date): WireBalance['allowance'] {
  const live = balance.buckets.filter((b) => b.kind === 'allowance' && (b.expiresAt === null || b.expiresAt.getTime() > now.getTime()));
  if (live.length === 0) return null;
  let granted = 0n;
  let remaining = 0n;
  let expiresAt: Date | null = null;
  for (const bucket of live) {
    granted += bucket.grantedMicros;
    remaining += bucket.remainingMicros;
    if (bucket.expiresAt && (expiresAt === null || bucket.expiresAt.getTime() < expiresAt.getTime())) expiresAt = bucket.expiresAt;
  }
  return { grantedMicros: str(granted), remainingMicros: str(remaining), expiresAt: isoOrNull(expiresAt) };
}

export function wireBalance(balance: Balance, now: Date): WireBalance {
  return {
    customerId: balance.customerId,
    tier: balance.tier,
    unlimited: balance.unlimited,
    balanceMicros: str(balance.balanceMicros),
    heldMicros: str(balance.heldMicros),
    debtMicros: str(balance.debtMicros),
    availableMicros: str(balance.availableMicros),
    overdraftLimitMicros: str(balance.overdraftLimitMicros),
    buckets: balance.buckets.map(wireBucket),
    allowance: allowanceOf(balance, now),
  };
}

export function wireSubscription(record: SubscriptionRecord): WireSubscription {
  return {
    tier: record.tier,
    status: record.status,
    interval: record.interval,
    currentPeriodStart: iso(record.currentPeriodStart),
    currentPeriodEnd: iso(record.currentPeriodEnd),
    trialEnd: isoOrNull(record.trialEnd),
    scheduledChange: record.scheduledChange ? { tier: record.scheduledChange.tier, at: iso(record.scheduledChange.at) } : null,
    pastDueSince: isoOrNull(record.pastDueSince),
  };
}

export function wireProviderBalance(balance: ProviderBalance): WireProviderBalance {
  return {
    provider: balance.provider,
    source: balance.source,
    limitNanoUsd: strOrNull(balance.limitNanoUsd),
    usageNanoUsd: str(balance.usageNanoUsd),
    remainingNanoUsd: strOrNull(balance.remainingNanoUsd),
    low: balance.low,
    syncedAt: iso(balance.syncedAt),
  };
}

/** The markup of the tier's catch-all rule (`model: "*"`), the tier's own over a `"*"` tier's; 0 without one. */
function defaultMarkupBps(catalog: Catalog, tier: Tier): number {
  const own = catalog.markup.find((rule) => rule.tier === tier.id && rule.model === '*');
  const shared = catalog.markup.find((rule) => rule.tier === '*' && rule.model === '*');
  return (own ?? shared)?.bps ?? 0;
}

export function wireTier(catalog: Catalog, tier: Tier): WireTier {
  return {
    id: tier.id,
    name: tier.name,
    priceCents: str(tier.price),
    currency: catalog.currency,
    interval: tier.interval,
    allowanceMicros: tier.allowance === 'unlimited' ? null : str(tier.allowance),
    unlimited: tier.allowance === 'unlimited',
    trialDays: tier.trialDays,
    markupBps: defaultMarkupBps(catalog, tier),
  };
}

export function wirePreview(preview: TierChangePreview): WireTierChangePreview {
  return {
    from: preview.from,
    to: preview.to,
    direction: preview.direction,
    timing: preview.timing,
    effectiveAt: iso(preview.effectiveAt),
    currency: preview.total.currency,
    lines: preview.lines.map((line) => ({
      description: line.description,
      amountCents: str(line.amount.amount),
      periodStart: iso(line.start),
      periodEnd: iso(line.end),
    })),
    totalCents: str(preview.total.amount),
    amountDueCents: str(preview.amountDue.amount),
    creditBalanceCents: str(preview.creditBalance.amount),
    // An unlimited tier grants no countable credits; the tier list says it is unlimited.
    creditsGrantedMicros: preview.creditsGranted.kind === 'micros' ? str(preview.creditsGranted.micros) : '0',
    newPeriod: preview.newPeriod ? { start: iso(preview.newPeriod.start), end: iso(preview.newPeriod.end) } : null,
  };
}

const BUCKET_KIND_BY_SOURCE = new Map(Object.entries(GRANT_SOURCE).map(([kind, account]) => [account, kind as Bucket['kind']]));

/**
 * An entry as its customer sees it: positive when credit came in, negative when it went out (a charge
 * of an unlimited customer too, though it drew on no bucket). `bucketKinds` names the kind of the
 * buckets the caller knows (live buckets); a grant's kind follows from the account it came from.
 */
export function wireEntry(entry: Entry, bucketKinds: ReadonlyMap<string, Bucket['kind']>): WireEntry {
  const incoming = entry.toAccount === customerAccount(entry.customerId);
  const bucketKind =
    entry.bucketId === null
      ? null
      : (bucketKinds.get(entry.bucketId) ?? (incoming ? BUCKET_KIND_BY_SOURCE.get(entry.fromAccount) : null) ?? null);
  const usage = entry.usage;
  return {
    id: entry.id,
    operationId: entry.operationId,
    kind: entry.kind,
    amountMicros: str(incoming ? entry.amountMicros : -entry.amountMicros),
    description: entry.description,
    bucketKind,
    usage: usage
      ? {
          model: usage.model,
          inputTokens: str(usage.inputTokens),
          cachedInputTokens: str(usage.cachedInputTokens),
          outputTokens: str(usage.outputTokens),
          reasoningTokens: str(usage.reasoningTokens),
          providerCostNanoUsd: str(usage.providerCostNanoUsd),
          markupBps: usage.markupBps,
          keySource: usage.keySource,
        }
      : null,
    createdAt: iso(entry.createdAt),
  };
}

export function wireBenefit(benefit: CouponBenefit): WireCouponBenefit {
  return benefit.type === 'credits'
    ? { kind: 'credits', amountMicros: str(benefit.amountMicros), expiresInDays: benefit.expiresInDays }
    : { kind: 'percent_off', percentOffBps: benefit.percentOffBps, durationPeriods: benefit.durationPeriods };
}

export function domainBenefit(benefit: WireCouponBenefit): CouponBenefit {
  return benefit.kind === 'credits'
    ? { type: 'credits', amountMicros: BigInt(benefit.amountMicros), expiresInDays: benefit.expiresInDays }
    : { type: 'percent_off', percentOffBps: benefit.percentOffBps, durationPeriods: benefit.durationPeriods };
}

export function wireCoupon(coupon: Coupon): WireCoupon {
  return {
    code: coupon.code,
    benefit: wireBenefit(coupon.benefit),
    maxRedemptions: coupon.maxRedemptions,
    expiresAt: isoOrNull(coupon.expiresAt),
    tiers: [...coupon.tiers],
    redemptions: coupon.redemptions,
    active: coupon.active,
    createdAt: iso(coupon.createdAt),
  };
}

export function wireSpendCap(status: SpendCapStatus): WireSpendCap {
  return {
    scope: status.scope.kind === 'end-user' ? { kind: 'end-user', endUserId: status.scope.endUserId } : { kind: status.scope.kind },
    dailyMicros: strOrNull(status.dailyMicros),
    monthlyMicros: strOrNull(status.monthlyMicros),
    usedTodayMicros: str(status.usedTodayMicros),
    usedThisMonthMicros: str(status.usedThisMonthMicros),
    heldMicros: str(status.heldMicros),
  };
}

export function wireByokKey(info: ByokKeyInfo): WireByokKey {
  return { provider: info.provider, last4: info.last4, keyId: info.keyId, createdAt: iso(info.createdAt), updatedAt: iso(info.updatedAt) };
}

export function wireAdminCustomer(record: CustomerRecord, subscription: SubscriptionRecord | null): WireAdminCustomer {
  return {
    id: record.id,
    tier: record.tier,
    unlimited: record.unlimited,
    createdAt: iso(record.createdAt),
    subscriptionStatus: subscription?.status ?? null,
  };
}

export function wireAudit(report: AuditReport): WireAuditReport {
  return {
    ok: report.ok,
    customers: report.customers,
    entries: report.entries,
    buckets: report.buckets,
    holds: report.holds,
    totalMicros: str(report.totalMicros),
    systemBalances: Object.fromEntries(Object.entries(report.systemBalances).map(([account, micros]) => [account, str(micros)])),
    issues: report.issues.map((issue) => ({ code: issue.code, subject: issue.subject, expected: issue.expected, actual: issue.actual })),
  };
}

export function wireOutboxMessage(message: OutboxMessage): WireOutboxMessage {
  return {
    id: message.id,
    topic: message.topic,
    dedupeKey: message.dedupeKey,
    attempts: message.attempts,
    createdAt: iso(message.createdAt),
    lastError: message.lastError,
    dead: message.dead,
  };
}

export function wireEmailDelivery(delivery: EmailDelivery): WireEmailDelivery {
  return {
    id: delivery.id,
    dedupeKey: delivery.dedupeKey,
    customerId: delivery.customerId,
    template: delivery.template,
    to: delivery.to,
    subject: delivery.subject,
    status: delivery.status,
    suppression: delivery.suppression,
    attempt: delivery.attempt,
    error: delivery.error,
    transport: delivery.transport,
    messageId: delivery.messageId,
    test: delivery.test,
    at: delivery.at.toISOString(),
  };
}
