import {
  type AnalyticsCatalog,
  analyticsCatalog,
  createMemoryStore,
  createTally,
  type MetricName,
  type MetricQuery,
  type MetricResult,
  metricToWire,
  sampleCatalog,
  TallyError,
  type TallyErrorCode,
  type WireMetricResult,
} from '@tally/core';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';
import type { MetricRequest, TallyClientLike } from '../provider/client.js';
import type {
  WireAutoRecharge,
  WireByokKey,
  WireCreditPack,
  WireEntry,
  WireMe,
  WireNotificationPreferences,
  WireTierChangePreview,
  WireTierChangeResult,
  WireTiers,
} from '../provider/wire.js';

/**
 * A client for tests that answers with wire JSON (the shapes `@tally/core/http` sends), records
 * every call, and can be told to fail or hold a method. Not exported from the package.
 */

/** The client's methods; `metric` is `admin.analytics.metric`. */
type Method = Exclude<keyof TallyClientLike, 'admin'> | 'metric';

export interface FakeState {
  me: WireMe;
  tiers: WireTiers;
  previews: Record<string, WireTierChangePreview>;
  changeResults: Record<string, WireTierChangeResult>;
  entries: WireEntry[];
  packs: WireCreditPack[];
  autoRecharge: WireAutoRecharge;
  byokKeys: WireByokKey[];
  preferences: WireNotificationPreferences;
  coupons: Record<string, { micros: string } | { percentOffBps: number; periods: number }>;
  /**
   * Answers `admin.analytics.metric` with an exact result, which the fake sends as the wire's JSON
   * (bigints as strings, Dates as ISO). Without it the fake is a customer's client: `FORBIDDEN`.
   */
  metrics?: (query: MetricQuery) => MetricResult | Promise<MetricResult>;
}

export const NOW = '2026-11-20T15:00:00.000Z';

export function starterState(): FakeState {
  const subscription = {
    tier: 'starter',
    status: 'active' as const,
    interval: 'month' as const,
    currentPeriodStart: '2026-11-05T09:00:00.000Z',
    currentPeriodEnd: '2026-12-05T09:00:00.000Z',
    trialEnd: null,
    scheduledChange: null,
    pastDueSince: null,
  };
  return {
    me: {
      customerId: 'cus_1',
      tier: { id: 'starter', name: 'Starter' },
      unlimited: false,
      subscription,
      balance: {
        customerId: 'cus_1',
        tier: 'starter',
        unlimited: false,
        balanceMicros: '25500000',
        heldMicros: '0',
        debtMicros: '0',
        availableMicros: '25500000',
        overdraftLimitMicros: '0',
        buckets: [
          {
            id: 'b1',
            kind: 'allowance',
            grantedMicros: '20000000',
            remainingMicros: '15500000',
            expiresAt: '2026-12-05T09:00:00.000Z',
            createdAt: '2026-11-05T09:00:00.000Z',
          },
          {
            id: 'b2',
            kind: 'purchased',
            grantedMicros: '10000000',
            remainingMicros: '10000000',
            expiresAt: null,
            createdAt: '2026-11-09T09:00:00.000Z',
          },
        ],
        allowance: { grantedMicros: '20000000', remainingMicros: '15500000', expiresAt: '2026-12-05T09:00:00.000Z' },
      },
      providerBalances: [],
    },
    tiers: {
      current: 'starter',
      tiers: [
        {
          id: 'trial',
          name: 'Trial',
          priceCents: '400',
          currency: 'USD',
          interval: 'month',
          allowanceMicros: '5000000',
          unlimited: false,
          trialDays: 14,
          markupBps: 1000,
        },
        {
          id: 'starter',
          name: 'Starter',
          priceCents: '1900',
          currency: 'USD',
          interval: 'month',
          allowanceMicros: '20000000',
          unlimited: false,
          trialDays: 0,
          markupBps: 1000,
        },
        {
          id: 'professional',
          name: 'Professional',
          priceCents: '4900',
          currency: 'USD',
          interval: 'month',
          allowanceMicros: '60000000',
          unlimited: false,
          trialDays: 0,
          markupBps: 500,
        },
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
    },
    previews: {
      professional: {
        from: 'starter',
        to: 'professional',
        direction: 'upgrade',
        timing: 'immediate',
        effectiveAt: NOW,
        currency: 'USD',
        lines: [
          { description: 'Unused time on Starter', amountCents: '-944', periodStart: NOW, periodEnd: '2026-12-05T09:00:00.000Z' },
          { description: 'Remaining time on Professional', amountCents: '2433', periodStart: NOW, periodEnd: '2026-12-05T09:00:00.000Z' },
        ],
        totalCents: '1489',
        amountDueCents: '1489',
        creditBalanceCents: '0',
        creditsGrantedMicros: '19866667',
        newPeriod: null,
      },
      trial: {
        from: 'starter',
        to: 'trial',
        direction: 'downgrade',
        timing: 'period_end',
        effectiveAt: '2026-12-05T09:00:00.000Z',
        currency: 'USD',
        lines: [],
        totalCents: '0',
        amountDueCents: '0',
        creditBalanceCents: '0',
        creditsGrantedMicros: '0',
        newPeriod: null,
      },
    },
    changeResults: {
      professional: { status: 'checkout', url: 'https://pay.example/checkout/cs_1' },
      trial: { status: 'scheduled', effectiveAt: '2026-12-05T09:00:00.000Z', subscription },
    },
    entries: Array.from({ length: 5 }, (_, i) => ({
      id: `e${i}`,
      operationId: `op${i}`,
      kind: i === 0 ? ('grant' as const) : ('capture' as const),
      amountMicros: i === 0 ? '20000000' : `-${i}250000`,
      description: i === 0 ? 'Monthly allowance' : null,
      bucketKind: 'allowance' as const,
      usage:
        i === 0
          ? null
          : {
              model: 'openai/gpt-4o',
              inputTokens: '120000',
              cachedInputTokens: '0',
              outputTokens: '3000',
              reasoningTokens: '0',
              providerCostNanoUsd: '1000000000',
              markupBps: 1000,
              keySource: 'managed' as const,
            },
      createdAt: `2026-11-${String(19 - i).padStart(2, '0')}T10:00:00.000Z`,
    })),
    packs: [
      { id: 'credits-10', name: '10 credits', priceCents: '1000', currency: 'USD', creditsMicros: '10000000' },
      { id: 'credits-50', name: '50 credits', priceCents: '4500', currency: 'USD', creditsMicros: '50000000' },
    ],
    autoRecharge: { enabled: false, thresholdMicros: '0', packId: 'credits-10', maxPerMonth: 1 },
    byokKeys: [],
    preferences: {
      categories: [
        { id: 'low_balance', enabled: true, required: false, reason: null },
        { id: 'monthly_reset', enabled: false, required: false, reason: null },
        { id: 'payment_failed', enabled: true, required: true, reason: 'Your access depends on a working payment.' },
      ],
    },
    coupons: { WELCOME5: { micros: '5000000' }, SAVE20: { percentOffBps: 2000, periods: 3 } },
  };
}

export interface FakeClient extends TallyClientLike {
  state: FakeState;
  /** Every call in order, as `method` or `method:arg`. */
  calls: string[];
  /** The next calls of `method` fail with this code (until `heal`). */
  fail(method: Method, code: TallyErrorCode | 'UNAUTHENTICATED'): void;
  heal(method: Method): void;
  /** Holds every call of `method` until the returned release function is called. */
  hold(method: Method): () => void;
}

export function createFakeClient(state: FakeState = starterState()): FakeClient {
  const calls: string[] = [];
  const failures = new Map<Method, string>();
  const holds = new Map<Method, Promise<void>>();
  const copy = <T>(value: T): T => structuredClone(value);

  async function answer<T>(method: Method, arg: unknown, produce: () => T | Promise<T>): Promise<T> {
    calls.push(arg === undefined ? method : `${method}:${typeof arg === 'string' ? arg : JSON.stringify(arg)}`);
    await holds.get(method);
    await Promise.resolve();
    const code = failures.get(method);
    if (code) throw new TallyError(code as TallyErrorCode, `fake ${method} failed with ${code}`, { details: { status: 400 } });
    return copy(await produce());
  }

  const client: FakeClient = {
    state,
    calls,
    fail: (method, code) => void failures.set(method, code),
    heal: (method) => void failures.delete(method),
    hold(method) {
      let release!: () => void;
      holds.set(
        method,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        holds.delete(method);
        release();
      };
    },
    me: () => answer('me', undefined, () => state.me),
    balance: () => answer('balance', undefined, () => state.me.balance),
    usage: (query) =>
      answer('usage', query, () => ({
        from: '2026-10-21T15:00:00.000Z',
        to: NOW,
        groupBy: query?.groupBy ?? 'model',
        rows: [],
        totalChargedMicros: '0',
      })),
    transactions: (query = {}) =>
      answer('transactions', query, () => {
        const filtered = state.entries.filter((e) => !query.kind || e.kind === query.kind);
        const start = query.cursor ? Number(query.cursor) : 0;
        const limit = query.limit ?? 20;
        const items = filtered.slice(start, start + limit);
        return { items, nextCursor: start + limit < filtered.length ? String(start + limit) : null };
      }),
    tiers: () => answer('tiers', undefined, () => state.tiers),
    previewTierChange: (tier) =>
      answer('previewTierChange', tier, () => {
        const preview = state.previews[tier];
        if (!preview) throw new TallyError('UNKNOWN_TIER', `no preview for ${tier}`);
        return preview;
      }),
    changeTier: (tier) =>
      answer('changeTier', tier, () => {
        const result = state.changeResults[tier];
        if (!result) throw new TallyError('UNKNOWN_TIER', `no change to ${tier}`);
        return result;
      }),
    cancelSubscription: () => answer('cancelSubscription', undefined, () => state.me.subscription as NonNullable<WireMe['subscription']>),
    resumeSubscription: () => answer('resumeSubscription', undefined, () => state.me.subscription as NonNullable<WireMe['subscription']>),
    paymentMethodPortal: (input) => answer('paymentMethodPortal', input, () => ({ url: 'https://pay.example/portal/ps_1' })),
    redeemCoupon: (code) =>
      answer('redeemCoupon', code, () => {
        const coupon = state.coupons[code];
        if (!coupon) throw new TallyError('COUPON_NOT_FOUND', `no coupon ${code}`);
        delete state.coupons[code];
        if ('micros' in coupon) {
          const balance = state.me.balance;
          balance.availableMicros = (BigInt(balance.availableMicros) + BigInt(coupon.micros)).toString();
          balance.balanceMicros = balance.availableMicros;
          return {
            code,
            benefit: { kind: 'credits', amountMicros: coupon.micros, expiresInDays: 30 },
            grantedMicros: coupon.micros,
            redeemedAt: NOW,
          };
        }
        return {
          code,
          benefit: { kind: 'percent_off', percentOffBps: coupon.percentOffBps, durationPeriods: coupon.periods },
          grantedMicros: null,
          redeemedAt: NOW,
        };
      }),
    creditPacks: () => answer('creditPacks', undefined, () => state.packs),
    buyCreditPack: (packId) => answer('buyCreditPack', packId, () => ({ url: `https://pay.example/checkout/${packId}` })),
    autoRecharge: () => answer('autoRecharge', undefined, () => state.autoRecharge),
    setAutoRecharge: (input) =>
      answer('setAutoRecharge', input, () => {
        state.autoRecharge = { ...input };
        return state.autoRecharge;
      }),
    spendCaps: () => answer('spendCaps', undefined, () => []),
    setSpendCap: (input) =>
      answer('setSpendCap', input, () => ({
        scope: { kind: 'customer' as const },
        dailyMicros: input.dailyMicros,
        monthlyMicros: input.monthlyMicros,
        usedTodayMicros: '0',
        usedThisMonthMicros: '0',
        heldMicros: '0',
      })),
    byokKeys: () => answer('byokKeys', undefined, () => state.byokKeys),
    setByokKey: (provider, apiKey) =>
      answer('setByokKey', provider, () => {
        const key = { provider, last4: apiKey.slice(-4), keyId: 'k1', createdAt: NOW, updatedAt: NOW };
        state.byokKeys = [...state.byokKeys.filter((k) => k.provider !== provider), key];
        return key;
      }),
    removeByokKey: (provider) =>
      answer('removeByokKey', provider, () => {
        const before = state.byokKeys.length;
        state.byokKeys = state.byokKeys.filter((k) => k.provider !== provider);
        return { provider, removed: state.byokKeys.length < before };
      }),
    notificationPreferences: () => answer('notificationPreferences', undefined, () => state.preferences),
    setNotificationPreferences: (input) =>
      answer('setNotificationPreferences', input, () => {
        for (const change of input.categories) {
          const category = state.preferences.categories.find((c) => c.id === change.id);
          if (!category || (category.required && !change.enabled)) throw new TallyError('VALIDATION', `cannot set ${change.id}`);
          category.enabled = change.enabled;
        }
        return state.preferences;
      }),
    admin: {
      analytics: {
        metric: <M extends MetricName>(query: MetricRequest<M>) =>
          answer('metric', query, async () => {
            if (!state.metrics) throw new TallyError('FORBIDDEN', 'This route is for admins');
            const { metric, from, to, granularity, limit } = query;
            const exact = { metric, from: new Date(from), to: new Date(to), granularity, limit };
            // The answer is for the metric asked.
            return metricToWire(await state.metrics(exact)) as unknown as WireMetricResult<M>;
          }),
      },
    },
  };
  return client;
}

export interface SampleAnalytics {
  catalog: AnalyticsCatalog;
  /** The exact answer of `computeMetric` over the sample data: what tests expect the widgets to show. */
  metric<M extends MetricName>(query: MetricQuery<M>): Promise<MetricResult<M>>;
}

/**
 * `generateSampleData` applied to a memory store through the ledger (the sample catalog). The memory
 * store answers metrics with `computeMetric` over its own records. Give `metrics: sample.metric` to
 * `createFakeClient` for an admin client.
 */
export async function sampleAnalytics(options: { seed: number; customers: number; days: number; start: Date }): Promise<SampleAnalytics> {
  const clock = createFakeClock(options.start);
  const store = createMemoryStore();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  await applySampleData(tally, generateSampleData({ ...options, catalog: sampleCatalog }), (at) => clock.set(at));
  const catalog = analyticsCatalog(sampleCatalog);
  return { catalog, metric: (query) => store.metric(query, catalog) };
}
