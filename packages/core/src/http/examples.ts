/**
 * One worked example of every wire shape, typed against wire.ts so an example can't drift from the
 * contract. The schemas carry them into the OpenAPI document; openapi.test.ts parses each with its schema.
 */
import type {
  WireAdjustInput,
  WireAdminCustomer,
  WireAdminCustomerDetail,
  WireAuditReport,
  WireAutoRecharge,
  WireBalance,
  WireBucket,
  WireByokKey,
  WireByokRemoved,
  WireCheckout,
  WireChurnMetric,
  WireCoupon,
  WireCouponInput,
  WireCreditPack,
  WireCustomersMetric,
  WireEmailDelivery,
  WireEmailPreview,
  WireEmailTemplates,
  WireEmailTestInput,
  WireEntry,
  WireFunnelMetric,
  WireGrantInput,
  WireHealth,
  WireLedgerOperation,
  WireMarginMetric,
  WireMe,
  WireMrrMetric,
  WireNotificationPreferences,
  WireOutboxMessage,
  WireOutboxRetried,
  WireProblem,
  WireProviderBalance,
  WireRedemption,
  WireRetentionMetric,
  WireSpendCap,
  WireSubscription,
  WireTier,
  WireTierChangePreview,
  WireTierChangeResult,
  WireTiers,
  WireTopCustomersMetric,
  WireUsage,
  WireUsageMetric,
  WireUtilizationMetric,
} from './wire.js';

const customerId = 'cus_ada';

export const problemExample: WireProblem = {
  type: 'https://tally.dev/errors/insufficient_credits',
  title: 'Insufficient credits',
  status: 402,
  detail: 'The customer has 1.5 credits available; the charge needs 2',
  code: 'INSUFFICIENT_CREDITS',
  instance: '/v1/subscription/change',
};

export const healthExample: WireHealth = { status: 'ok', time: '2026-11-26T09:00:00.000Z' };

export const bucketExample: WireBucket = {
  id: '41',
  kind: 'allowance',
  grantedMicros: '20000000',
  remainingMicros: '14500000',
  expiresAt: '2026-12-02T00:00:00.000Z',
  createdAt: '2026-11-02T00:00:00.000Z',
};

export const balanceExample: WireBalance = {
  customerId,
  tier: 'starter',
  unlimited: false,
  balanceMicros: '14500000',
  heldMicros: '250000',
  debtMicros: '0',
  availableMicros: '14250000',
  overdraftLimitMicros: '0',
  buckets: [bucketExample],
  allowance: { grantedMicros: '20000000', remainingMicros: '14500000', expiresAt: '2026-12-02T00:00:00.000Z' },
};

export const subscriptionExample: WireSubscription = {
  tier: 'starter',
  status: 'active',
  interval: 'month',
  currentPeriodStart: '2026-11-02T00:00:00.000Z',
  currentPeriodEnd: '2026-12-02T00:00:00.000Z',
  trialEnd: null,
  scheduledChange: null,
  pastDueSince: null,
};

export const providerBalanceExample: WireProviderBalance = {
  provider: 'openrouter',
  source: 'byok',
  limitNanoUsd: '10000000000',
  usageNanoUsd: '2500000000',
  remainingNanoUsd: '7500000000',
  low: false,
  syncedAt: '2026-11-26T08:00:00.000Z',
};

export const meExample: WireMe = {
  customerId,
  tier: { id: 'starter', name: 'Starter' },
  unlimited: false,
  subscription: subscriptionExample,
  balance: balanceExample,
  providerBalances: [providerBalanceExample],
};

export const tierExample: WireTier = {
  id: 'starter',
  name: 'Starter',
  priceCents: '1900',
  currency: 'USD',
  interval: 'month',
  allowanceMicros: '20000000',
  unlimited: false,
  trialDays: 0,
  markupBps: 1000,
};

export const tiersExample: WireTiers = {
  tiers: [
    tierExample,
    {
      id: 'enterprise',
      name: 'Enterprise',
      priceCents: '9900',
      currency: 'USD',
      interval: 'month',
      allowanceMicros: null,
      unlimited: true,
      trialDays: 0,
      markupBps: 0,
    },
  ],
  current: 'starter',
};

export const tierChangePreviewExample: WireTierChangePreview = {
  from: 'starter',
  to: 'professional',
  direction: 'upgrade',
  timing: 'immediate',
  effectiveAt: '2026-11-17T00:00:00.000Z',
  currency: 'USD',
  lines: [
    {
      description: 'Unused time on Starter after 17 Nov 2026',
      amountCents: '-950',
      periodStart: '2026-11-17T00:00:00.000Z',
      periodEnd: '2026-12-02T00:00:00.000Z',
    },
    {
      description: 'Remaining time on Professional after 17 Nov 2026',
      amountCents: '2450',
      periodStart: '2026-11-17T00:00:00.000Z',
      periodEnd: '2026-12-02T00:00:00.000Z',
    },
  ],
  totalCents: '1500',
  amountDueCents: '1500',
  creditBalanceCents: '0',
  creditsGrantedMicros: '20000000',
  newPeriod: null,
};

export const tierChangeResultExample: WireTierChangeResult = {
  status: 'scheduled',
  effectiveAt: '2026-12-02T00:00:00.000Z',
  subscription: { ...subscriptionExample, scheduledChange: { tier: 'trial', at: '2026-12-02T00:00:00.000Z' } },
};

export const entryExample: WireEntry = {
  id: '1207',
  operationId: '311',
  kind: 'usage',
  amountMicros: '-4125',
  description: null,
  bucketKind: 'allowance',
  usage: {
    model: 'openai/gpt-4o-mini',
    inputTokens: '1200',
    cachedInputTokens: '0',
    outputTokens: '350',
    reasoningTokens: '0',
    providerCostNanoUsd: '390000',
    markupBps: 1000,
    keySource: 'managed',
  },
  createdAt: '2026-11-25T14:03:12.000Z',
};

export const usageExample: WireUsage = {
  from: '2026-10-27T00:00:00.000Z',
  to: '2026-11-26T00:00:00.000Z',
  groupBy: 'model',
  rows: [
    {
      key: 'openai/gpt-4o-mini',
      calls: 42,
      inputTokens: '50400',
      outputTokens: '14700',
      chargedMicros: '173250',
      providerCostNanoUsd: '16380000',
    },
  ],
  totalChargedMicros: '173250',
};

export const redemptionExample: WireRedemption = {
  code: 'WELCOME10',
  benefit: { kind: 'credits', amountMicros: '10000000', expiresInDays: 30 },
  grantedMicros: '10000000',
  redeemedAt: '2026-11-26T09:00:00.000Z',
};

export const creditPackExample: WireCreditPack = {
  id: 'credits-10',
  name: '10 credits',
  priceCents: '1000',
  currency: 'USD',
  creditsMicros: '10000000',
};

export const autoRechargeExample: WireAutoRecharge = {
  enabled: true,
  thresholdMicros: '2000000',
  packId: 'credits-10',
  maxPerMonth: 3,
};

export const spendCapExample: WireSpendCap = {
  scope: { kind: 'customer' },
  dailyMicros: '5000000',
  monthlyMicros: '50000000',
  usedTodayMicros: '1250000',
  usedThisMonthMicros: '18000000',
  heldMicros: '0',
};

export const byokKeyExample: WireByokKey = {
  provider: 'openrouter',
  last4: 'x9Qz',
  keyId: 'k2026',
  createdAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:00.000Z',
};

export const byokRemovedExample: WireByokRemoved = { provider: 'openrouter', removed: true };

export const notificationPreferencesExample: WireNotificationPreferences = {
  categories: [
    { id: 'low_balance', enabled: true, required: false, reason: null },
    { id: 'payment_failed', enabled: true, required: true, reason: 'Tells you when a payment did not go through' },
  ],
};

export const checkoutExample: WireCheckout = { url: 'https://checkout.example.com/c/cs_123' };

export const adminCustomerExample: WireAdminCustomer = {
  id: customerId,
  tier: 'starter',
  unlimited: false,
  createdAt: '2026-10-01T12:00:00.000Z',
  subscriptionStatus: 'active',
};

export const adminCustomerDetailExample: WireAdminCustomerDetail = {
  customer: adminCustomerExample,
  balance: balanceExample,
  subscription: subscriptionExample,
};

export const ledgerOperationExample: WireLedgerOperation = {
  operationId: '312',
  replayed: false,
  entries: [
    {
      id: '1208',
      operationId: '312',
      kind: 'grant',
      amountMicros: '5000000',
      description: 'Goodwill for the outage on 24 Nov',
      bucketKind: 'adjustment',
      usage: null,
      createdAt: '2026-11-26T09:00:00.000Z',
    },
  ],
  balance: { ...balanceExample, balanceMicros: '19500000', availableMicros: '19250000' },
};

export const couponExample: WireCoupon = {
  code: 'WELCOME10',
  benefit: { kind: 'credits', amountMicros: '10000000', expiresInDays: 30 },
  maxRedemptions: 1000,
  expiresAt: '2027-01-01T00:00:00.000Z',
  tiers: [],
  redemptions: 17,
  active: true,
  createdAt: '2026-11-01T00:00:00.000Z',
};

export const auditReportExample: WireAuditReport = {
  ok: true,
  customers: 120,
  entries: 48211,
  buckets: 513,
  holds: 2210,
  totalMicros: '0',
  systemBalances: { 'system:grants': '-2400000000', 'system:revenue': '1730000000' },
  issues: [],
};

export const outboxMessageExample: WireOutboxMessage = {
  id: '977',
  topic: 'subscription.updated',
  dedupeKey: 'subscription.updated:cus_ada:7',
  attempts: 8,
  createdAt: '2026-11-25T00:00:00.000Z',
  lastError: 'Lago answered 503',
  dead: true,
};

export const outboxRetriedExample: WireOutboxRetried = { id: '977', retried: true };

// ---- requests

export const grantInputExample: WireGrantInput = {
  kind: 'adjustment',
  amountMicros: '5000000',
  expiresAt: null,
  description: 'Goodwill for the outage on 24 Nov',
};

export const adjustInputExample: WireAdjustInput = { amountMicros: '-2000000', reason: 'Refunded the October overcharge' };

export const couponInputExample: WireCouponInput = {
  code: 'WELCOME10',
  benefit: { kind: 'credits', amountMicros: '10000000', expiresInDays: 30 },
  maxRedemptions: 1000,
  expiresAt: '2027-01-01T00:00:00.000Z',
  tiers: [],
};

export const emailTemplatesExample: WireEmailTemplates = {
  templates: [
    {
      id: 'low_balance',
      category: 'low_balance',
      required: false,
      description: 'Once a period, when less than 10 % of the allowance is left',
    },
  ],
};

export const emailPreviewExample: WireEmailPreview = {
  template: 'low_balance',
  locale: 'en',
  subject: 'Your Tally credits are running low',
  html: '<!DOCTYPE html><html lang="en">…</html>',
  text: 'Hi Ada, you have 74.25 credits left …',
};

export const emailTestInputExample: WireEmailTestInput = { template: 'low_balance', to: 'ops@example.com' };

export const emailDeliveryExample: WireEmailDelivery = {
  id: '311',
  dedupeKey: 'email:low_balance:cus_ada:bkt_9',
  customerId: 'cus_ada',
  template: 'low_balance',
  to: 'ada@example.com',
  subject: 'Your Tally credits are running low',
  status: 'sent',
  suppression: null,
  attempt: 1,
  error: null,
  transport: 'smtp',
  messageId: '<1f0c@mail.example.com>',
  test: false,
  at: '2026-11-26T09:00:00.000Z',
};

// ---- admin: analytics

const range = { from: '2026-08-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' } as const;
const octoberBucket = { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' };

export const customersMetricExample: WireCustomersMetric = {
  metric: 'customers',
  ...range,
  granularity: 'month',
  points: [{ ...octoberBucket, signUps: 14, active: 180, total: 252 }],
};

export const mrrMetricExample: WireMrrMetric = {
  metric: 'mrr',
  ...range,
  granularity: 'month',
  points: [
    {
      ...octoberBucket,
      mrrAtStart: '812300',
      mrr: '845600',
      arr: '10147200',
      new: '39900',
      expansion: '9000',
      contraction: '3000',
      churn: '12600',
      reactivation: '0',
      net: '33300',
      growthBps: 410,
    },
  ],
};

export const churnMetricExample: WireChurnMetric = {
  metric: 'churn',
  ...range,
  granularity: 'month',
  points: [
    {
      ...octoberBucket,
      payingAtStart: 120,
      churnedCustomers: 3,
      logoChurnBps: 250,
      mrrAtStart: '812300',
      lostMrr: '15600',
      revenueChurnBps: 192,
    },
  ],
};

export const retentionMetricExample: WireRetentionMetric = {
  metric: 'retention',
  ...range,
  granularity: 'month',
  cohorts: [
    {
      start: '2026-09-01T00:00:00.000Z',
      end: '2026-10-01T00:00:00.000Z',
      customers: 40,
      periods: [
        { retained: 40, retainedBps: 10000 },
        { retained: 36, retainedBps: 9000 },
      ],
    },
    { ...octoberBucket, customers: 0, periods: [{ retained: 0, retainedBps: null }] },
  ],
};

export const funnelMetricExample: WireFunnelMetric = {
  metric: 'funnel',
  ...range,
  granularity: 'month',
  created: 200,
  steps: [
    { tier: 'trial', customers: 200, conversionBps: 10000 },
    { tier: 'starter', customers: 120, conversionBps: 6000 },
    { tier: 'professional', customers: 30, conversionBps: 2500 },
    { tier: 'enterprise', customers: 3, conversionBps: 1000 },
  ],
};

const quiet = { calls: 0, tokens: '0' };
export const usageMetricExample: WireUsageMetric = {
  metric: 'usage',
  ...range,
  granularity: 'month',
  // Monday 09:00 and 10:00 UTC were busy; the rest of the week was quiet.
  heatmap: Array.from({ length: 7 }, (_, day) =>
    Array.from({ length: 24 }, (_, hour) => (day === 0 && (hour === 9 || hour === 10) ? { calls: 406, tokens: '1490700' } : quiet)),
  ),
  byModel: [{ model: 'openai/gpt-4o-mini', calls: 812, tokens: '2981400', providerCostNanoUsd: '1032480000', creditsMicros: '1135728' }],
  split: { free: quiet, paid: { calls: 812, tokens: '2981400' }, byok: quiet, managed: { calls: 812, tokens: '2981400' } },
  series: [{ ...octoberBucket, calls: 812, tokens: '2981400' }],
};

const marginExampleLine = {
  calls: 812,
  creditsMicros: '1135728',
  revenueNanoUsd: '1135728000',
  costNanoUsd: '1032480000',
  marginNanoUsd: '103248000',
  marginBps: 909,
};
export const marginMetricExample: WireMarginMetric = {
  metric: 'margin',
  ...range,
  granularity: 'month',
  total: marginExampleLine,
  byModel: [{ model: 'openai/gpt-4o-mini', ...marginExampleLine }],
  byTier: [{ tier: 'starter', ...marginExampleLine }],
  byCustomer: [{ customerId: 'cus_ada', ...marginExampleLine }],
};

export const utilizationMetricExample: WireUtilizationMetric = {
  metric: 'utilization',
  ...range,
  granularity: 'month',
  tiers: [{ tier: 'starter', grantedMicros: '400000000', consumedMicros: '231400000', expiredMicros: '98000000', utilizationBps: 5785 }],
};

export const topCustomersMetricExample: WireTopCustomersMetric = {
  metric: 'top-customers',
  ...range,
  granularity: 'month',
  customers: [{ customerId: 'cus_ada', tier: 'professional', creditsMicros: '48210000', calls: 911, providerCostNanoUsd: '41300000000' }],
};
