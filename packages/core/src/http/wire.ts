/**
 * The JSON the HTTP API speaks (`@tally/core/http`) and the typed client reads (`@tally/core/client`).
 * Money and credits travel as decimal strings of integers (`"1500000"` micros), never as JSON numbers,
 * so no amount passes through a float; times are ISO 8601 strings in UTC. The zod schemas in
 * schemas.ts describe exactly these shapes (a type test keeps them equal) and generate the OpenAPI
 * document.
 */
import type { MetricName } from '../analytics/metrics.js';
import type { WireMetricResult as Metric } from '../analytics/wire.js';

/** A decimal string of an integer: micros, cents or nano-USD. */
export type IntegerString = string;
/** An ISO 8601 time in UTC, e.g. `2026-11-26T09:00:00.000Z`. */
export type IsoTime = string;

/** RFC 9457 problem details, with Tally's stable error code. */
export interface WireProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /**
   * A `TallyErrorCode`, or one of the handler's own: `UNAUTHENTICATED`, `ROUTE_NOT_FOUND`,
   * `METHOD_NOT_ALLOWED`, `UNSUPPORTED_MEDIA_TYPE`, `PAYLOAD_TOO_LARGE` (docs/http.md lists them all).
   */
  code: string;
  instance?: string;
  /** Where a request body or query failed validation. */
  issues?: Array<{ path: Array<string | number>; message: string }>;
  details?: Record<string, unknown>;
}

/** `GET /v1/health`. */
export interface WireHealth {
  status: 'ok';
  time: IsoTime;
}

export interface WirePage<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface WireBucket {
  id: string;
  kind: 'allowance' | 'purchased' | 'coupon' | 'adjustment';
  grantedMicros: IntegerString;
  remainingMicros: IntegerString;
  expiresAt: IsoTime | null;
  createdAt: IsoTime;
}

export interface WireBalance {
  customerId: string;
  tier: string;
  unlimited: boolean;
  balanceMicros: IntegerString;
  heldMicros: IntegerString;
  debtMicros: IntegerString;
  availableMicros: IntegerString;
  overdraftLimitMicros: IntegerString;
  buckets: WireBucket[];
  /**
   * The current period's allowance (the live allowance bucket): what a usage meter shows as
   * used = granted − remaining out of granted. Null when the tier has none or it has run out and expired.
   */
  allowance: { grantedMicros: IntegerString; remainingMicros: IntegerString; expiresAt: IsoTime | null } | null;
}

export type WireSubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled';

export interface WireSubscription {
  tier: string;
  status: WireSubscriptionStatus;
  interval: 'month' | 'year';
  currentPeriodStart: IsoTime;
  currentPeriodEnd: IsoTime;
  trialEnd: IsoTime | null;
  /** A downgrade or cancel waiting for the period end (`tier` null: a cancel). */
  scheduledChange: { tier: string | null; at: IsoTime } | null;
  pastDueSince: IsoTime | null;
}

export interface WireProviderBalance {
  provider: string;
  source: 'byok' | 'provisioned';
  limitNanoUsd: IntegerString | null;
  usageNanoUsd: IntegerString;
  remainingNanoUsd: IntegerString | null;
  low: boolean;
  syncedAt: IsoTime;
}

export interface WireMe {
  customerId: string;
  tier: { id: string; name: string };
  unlimited: boolean;
  subscription: WireSubscription | null;
  balance: WireBalance;
  providerBalances: WireProviderBalance[];
}

export interface WireTier {
  id: string;
  name: string;
  /** Price per interval in the catalog currency's minor unit; "0" for free tiers. */
  priceCents: IntegerString;
  currency: string;
  interval: 'month' | 'year';
  /** Credits granted per period; null for unlimited tiers. */
  allowanceMicros: IntegerString | null;
  unlimited: boolean;
  trialDays: number;
  /** Tier × model markup, in basis points, for the tier's default rule (display only). */
  markupBps: number;
}

export interface WireTiers {
  tiers: WireTier[];
  /** The caller's tier. */
  current: string;
}

export interface WireProrationLine {
  description: string;
  amountCents: IntegerString;
  periodStart: IsoTime;
  periodEnd: IsoTime;
}

export interface WireTierChangePreview {
  from: string;
  to: string;
  direction: 'upgrade' | 'downgrade';
  timing: 'immediate' | 'period_end';
  effectiveAt: IsoTime;
  currency: string;
  lines: WireProrationLine[];
  totalCents: IntegerString;
  /** Charged now: the total when positive. */
  amountDueCents: IntegerString;
  /** Kept as credit for later invoices when the total is negative. */
  creditBalanceCents: IntegerString;
  /** Credits granted at once by the change. */
  creditsGrantedMicros: IntegerString;
  newPeriod: { start: IsoTime; end: IsoTime } | null;
}

export type WireTierChangeResult =
  | { status: 'started'; subscription: WireSubscription }
  | { status: 'checkout'; url: string }
  | { status: 'charged'; paid: boolean; amountDueCents: IntegerString; hostedInvoiceUrl: string | null }
  | { status: 'payment_method_required'; url: string }
  | { status: 'scheduled'; effectiveAt: IsoTime; subscription: WireSubscription };

export interface WireEntry {
  id: string;
  operationId: string;
  kind: 'grant' | 'spend' | 'capture' | 'usage' | 'expire' | 'adjust' | 'clawback';
  /** Signed, from the customer's side: positive adds credit, negative takes it. */
  amountMicros: IntegerString;
  description: string | null;
  bucketKind: WireBucket['kind'] | null;
  usage: {
    model: string;
    inputTokens: IntegerString;
    cachedInputTokens: IntegerString;
    outputTokens: IntegerString;
    reasoningTokens: IntegerString;
    providerCostNanoUsd: IntegerString;
    markupBps: number;
    keySource: 'managed' | 'byok';
  } | null;
  createdAt: IsoTime;
}

export interface WireUsageRow {
  /** The model id (`groupBy=model`) or the UTC day `YYYY-MM-DD` (`groupBy=day`). */
  key: string;
  calls: number;
  inputTokens: IntegerString;
  outputTokens: IntegerString;
  chargedMicros: IntegerString;
  providerCostNanoUsd: IntegerString;
}

export interface WireUsage {
  from: IsoTime;
  to: IsoTime;
  groupBy: 'model' | 'day';
  rows: WireUsageRow[];
  totalChargedMicros: IntegerString;
}

export type WireCouponBenefit =
  | { kind: 'credits'; amountMicros: IntegerString; expiresInDays: number | null }
  | { kind: 'percent_off'; percentOffBps: number; durationPeriods: number };

export interface WireRedemption {
  code: string;
  benefit: WireCouponBenefit;
  /** Credits granted by a credits coupon; null for a discount. */
  grantedMicros: IntegerString | null;
  redeemedAt: IsoTime;
}

export interface WireCreditPack {
  id: string;
  name: string;
  priceCents: IntegerString;
  currency: string;
  creditsMicros: IntegerString;
}

export interface WireAutoRecharge {
  enabled: boolean;
  thresholdMicros: IntegerString;
  packId: string;
  maxPerMonth: number;
}

export interface WireSpendCap {
  scope: { kind: 'customer' } | { kind: 'end-user'; endUserId: string } | { kind: 'each-end-user' };
  dailyMicros: IntegerString | null;
  monthlyMicros: IntegerString | null;
  usedTodayMicros: IntegerString;
  usedThisMonthMicros: IntegerString;
  heldMicros: IntegerString;
}

export interface WireByokKey {
  provider: string;
  /** The last 4 characters of the key, for display; empty for short keys. */
  last4: string;
  keyId: string;
  createdAt: IsoTime;
  updatedAt: IsoTime;
}

export interface WireNotificationCategory {
  id: string;
  enabled: boolean;
  /** Transactional mail (e.g. payment failed) that cannot be turned off; `reason` says why. */
  required: boolean;
  reason: string | null;
}

export interface WireNotificationPreferences {
  categories: WireNotificationCategory[];
}

export interface WireCheckout {
  url: string;
}

/** `DELETE /v1/byok/{provider}`: false when no key was stored. */
export interface WireByokRemoved {
  provider: string;
  removed: boolean;
}

// ---- request bodies and queries (what the client sends; schemas.ts checks them)

export interface WireUsageQuery {
  /** Inclusive; default 30 days before `to`. */
  from?: IsoTime;
  /** Exclusive; default the start of tomorrow (UTC). At most 366 days after `from`. */
  to?: IsoTime;
  /** Default `model`. */
  groupBy?: 'model' | 'day';
}

export interface WireTransactionsQuery {
  cursor?: string;
  /** One entry kind or several, comma-separated (`spend,usage`). */
  kind?: string;
  /** 1-100, default 50. */
  limit?: number;
}

export interface WireTierRequest {
  tier: string;
}

export interface WirePortalRequest {
  /** Where the portal sends the customer back; must be on an allowed origin (docs/http.md). */
  returnUrl?: string;
}

export interface WireRedeemRequest {
  code: string;
}

export interface WireSpendCapInput {
  /** Omitted: the customer's total. `"*"`: each end user without a cap of its own. */
  endUserId?: string;
  dailyMicros: IntegerString | null;
  monthlyMicros: IntegerString | null;
}

export interface WireByokKeyInput {
  apiKey: string;
}

export interface WireNotificationPreferencesInput {
  categories: Array<{ id: string; enabled: boolean }>;
}

// ---- admin

export interface WireAdminCustomer {
  id: string;
  tier: string;
  unlimited: boolean;
  createdAt: IsoTime;
  subscriptionStatus: WireSubscriptionStatus | null;
}

export interface WireAdminCustomerDetail {
  customer: WireAdminCustomer;
  balance: WireBalance;
  subscription: WireSubscription | null;
}

export interface WireAdminCustomersQuery {
  /** Part of the customer id, any case (at most 100 characters). */
  search?: string;
  cursor?: string;
  /** 1-100, default 50. */
  limit?: number;
}

export interface WireGrantInput {
  /** The bucket the credit goes to; default `adjustment`. */
  kind?: WireBucket['kind'];
  amountMicros: IntegerString;
  expiresAt?: IsoTime | null;
  description?: string;
}

export interface WireAdjustInput {
  /** Signed: positive adds credit, negative takes it (never below what is available). */
  amountMicros: IntegerString;
  reason: string;
}

/** What an admin grant or adjustment did. */
export interface WireLedgerOperation {
  operationId: string;
  /** True when the `Idempotency-Key` was used before: the first call's result, nothing changed now. */
  replayed: boolean;
  entries: WireEntry[];
  balance: WireBalance;
}

export interface WireCouponInput {
  code: string;
  benefit: WireCouponBenefit;
  maxRedemptions?: number | null;
  expiresAt?: IsoTime | null;
  /** Tiers that may redeem it; empty or omitted: every tier. */
  tiers?: string[];
}

export interface WireCouponUpdate {
  active: boolean;
}

export interface WireCoupon {
  code: string;
  benefit: WireCouponBenefit;
  maxRedemptions: number | null;
  expiresAt: IsoTime | null;
  tiers: string[];
  redemptions: number;
  active: boolean;
  createdAt: IsoTime;
}

export interface WireAuditReport {
  ok: boolean;
  customers: number;
  entries: number;
  buckets: number;
  holds: number;
  totalMicros: IntegerString;
  systemBalances: Record<string, IntegerString>;
  issues: Array<{ code: string; subject: string; expected: string; actual: string }>;
}

export interface WireOutboxMessage {
  id: string;
  topic: string;
  dedupeKey: string;
  attempts: number;
  createdAt: IsoTime;
  lastError: string | null;
  dead: boolean;
}

/** `POST /v1/admin/outbox/dead-letters/{id}/retry`: the message is queued again. */
export interface WireOutboxRetried {
  id: string;
  retried: true;
}

// ---- emails (admin) and unsubscribe (public)

export type WireEmailTemplateId =
  | 'welcome'
  | 'low_balance'
  | 'monthly_reset'
  | 'coupon_redeemed'
  | 'tier_upgraded'
  | 'tier_downgraded'
  | 'payment_failed'
  | 'analytics_report';

export interface WireEmailTemplate {
  id: WireEmailTemplateId;
  /** The notification category whose preference decides whether the mail goes out; null for an admin mail. */
  category: string | null;
  required: boolean;
  description: string;
}

export interface WireEmailTemplates {
  templates: WireEmailTemplate[];
}

/** `GET /v1/admin/emails/preview/{template}` (`format=json`, the default). */
export interface WireEmailPreview {
  template: WireEmailTemplateId;
  locale: string;
  subject: string;
  html: string;
  text: string;
}

export interface WireEmailTestInput {
  template: WireEmailTemplateId;
  to: string;
  locale?: string;
}

export interface WireEmailDelivery {
  id: string;
  dedupeKey: string;
  customerId: string | null;
  template: WireEmailTemplateId;
  to: string | null;
  subject: string | null;
  status: 'sent' | 'failed' | 'suppressed';
  suppression: 'preference' | 'no_recipient' | null;
  /** 1 for the first try; more marks a retry. */
  attempt: number;
  error: string | null;
  transport: string | null;
  messageId: string | null;
  test: boolean;
  at: IsoTime;
}

export interface WireEmailLogQuery {
  customerId?: string;
  status?: WireEmailDelivery['status'];
  template?: WireEmailTemplateId;
  cursor?: string;
  /** 1-100, default 50. */
  limit?: number;
}

/** `POST /v1/unsubscribe?token=…` (JSON answer). */
export interface WireUnsubscribeResult {
  category: string;
  unsubscribed: true;
}

// ---- admin: analytics (the exact types are in analytics/metrics.ts; these are their JSON forms)

export type { WireMetricResult } from '../analytics/wire.js';

/** A metric's query as the client sends it: ISO times, the metric in the path. */
export interface WireMetricQuery<M extends MetricName = MetricName> {
  metric: M;
  from: string;
  to: string;
  granularity?: 'day' | 'week' | 'month';
  /** `top-customers` only: 1-100. */
  limit?: number;
}
export type WireCustomersMetric = Metric<'customers'>;
export type WireMrrMetric = Metric<'mrr'>;
export type WireChurnMetric = Metric<'churn'>;
export type WireRetentionMetric = Metric<'retention'>;
export type WireFunnelMetric = Metric<'funnel'>;
export type WireUsageMetric = Metric<'usage'>;
export type WireMarginMetric = Metric<'margin'>;
export type WireUtilizationMetric = Metric<'utilization'>;
export type WireTopCustomersMetric = Metric<'top-customers'>;
