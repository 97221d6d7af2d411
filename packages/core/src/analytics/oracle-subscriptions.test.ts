import { describe, expect, it } from 'vitest';
import type { SubscriptionRecord, SubscriptionStatus } from '../billing/types.js';
import { TallyError } from '../errors/index.js';
import type { UnchargedCallRecord } from '../ledger/calls.js';
import type { CustomerRecord, Entry, EntryKind, UsageDetails } from '../ledger/types.js';
import { usageDetails } from '../testing/usage-details.js';
import type { AnalyticsCatalog, Granularity, MetricName, MetricResult } from './metrics.js';
import { type AnalyticsSnapshot, computeMetric } from './oracle.js';

// The scenario (all times UTC, January 2024; the 1st, 8th, 15th and 22nd are Mondays). Monthly
// prices: free 0, starter 1000, pro 5000, team 120006 a year = 10000.5 a month, rounded up to 10001.
//   A  created Jan 1 08:00: trialing starter; Jan 8 08:00 active starter (1000, first MRR); Jan 15
//      00:00 (a day and week boundary) upgrade to pro (5000); Jan 20 12:00 downgrade to starter (1000).
//   B  created Dec 20: active pro (5000) since Dec 20; Jan 10 10:00 canceled; Jan 24 10:00 back on
//      starter (1000): a reactivation. Record tier: starter.
//   C  created Jan 3: active team (10001) since Jan 3; Jan 12 past_due (still 10001); Jan 17 09:00
//      two saves at one instant, v3 active and v4 canceled: v4 wins, so 0 from then on.
//   D  created Jan 5: active on "legacy", a tier the catalog lacks: MRR 0 throughout.
//   E  created Jan 12 on free, without any subscription history.
//   F  created Jan 22: trialing starter; Jan 25 00:00 active pro (5000, first MRR). Its customer
//      record still says starter (the funnel's fallback tier).
//   G  created Jan 9: trialing starter; Jan 16 canceled without paying. Record tier: free.
// Calls: A at Jan 8 09:00 (one usage operation draining two buckets) and Jan 9 00:00 (logged);
// B a spend without usage at Jan 8 10:00 (not a call) and a logged call at Jan 26 00:00; C a capture
// at Jan 15 00:00 and a grant at Jan 3 (not a call); D a usage at Jan 7 23:59:59.999; E a logged call
// at Jan 21 23:59:59.999.

const CATALOG: AnalyticsCatalog = {
  currency: 'USD',
  microsPerUsd: 1_000_000n,
  tiers: [
    { id: 'free', price: 0n, interval: 'month' },
    { id: 'starter', price: 1000n, interval: 'month' },
    { id: 'pro', price: 5000n, interval: 'month' },
    { id: 'team', price: 120_006n, interval: 'year' },
  ],
};

const t = (iso: string) => new Date(`${iso}Z`);

function customer(id: string, tier: string, createdAt: string): CustomerRecord {
  return { id, tier, overdraftLimitMicros: 0n, unlimited: false, createdAt: t(createdAt) };
}

function history(customerId: string, ...saves: Array<[tier: string, status: SubscriptionStatus, at: string]>): SubscriptionRecord[] {
  return saves.map(([tier, status, at], index) => ({
    customerId,
    tier,
    status,
    interval: tier === 'team' ? 'year' : 'month',
    currentPeriodStart: t(at),
    currentPeriodEnd: new Date(t(at).getTime() + 30 * 86_400_000),
    trialEnd: null,
    scheduledChange: null,
    pastDueSince: status === 'past_due' ? t(at) : null,
    provider: 'sandbox',
    providerCustomerId: null,
    providerSubscriptionId: null,
    providerStateAt: null,
    version: index + 1,
    createdAt: t(saves[0]?.[2] ?? at),
    updatedAt: t(at),
  }));
}

const USAGE = usageDetails();

let entryId = 0;
function entry(customerId: string, operationId: string, kind: EntryKind, at: string, usage: UsageDetails | null): Entry {
  entryId += 1;
  return {
    id: String(entryId),
    operationId,
    customerId,
    kind,
    fromAccount: kind === 'grant' ? 'system:grants' : `customer:${customerId}`,
    toAccount: kind === 'grant' ? `customer:${customerId}` : 'system:revenue',
    amountMicros: 10n,
    bucketId: null,
    bucketDeltaMicros: 0n,
    holdId: null,
    description: null,
    usage,
    createdAt: t(at),
  };
}

function logged(id: string, customerId: string, at: string): UnchargedCallRecord {
  return {
    id,
    customerId,
    endUserId: null,
    model: 'meta/llama:free',
    inputTokens: 10,
    cachedInputTokens: 0,
    outputTokens: 5,
    reasoningTokens: 0,
    providerCostNanoUsd: 0n,
    keySource: 'managed',
    free: true,
    catalogVersion: 'v1',
    generationId: null,
    idempotencyKey: `call-${id}`,
    at: t(at),
  };
}

const SNAPSHOT: AnalyticsSnapshot = {
  customers: [
    customer('A', 'starter', '2024-01-01T08:00'),
    customer('B', 'starter', '2023-12-20T00:00'),
    customer('C', 'team', '2024-01-03T00:00'),
    customer('D', 'legacy', '2024-01-05T00:00'),
    customer('E', 'free', '2024-01-12T00:00'),
    customer('F', 'starter', '2024-01-22T00:00'),
    customer('G', 'free', '2024-01-09T00:00'),
  ],
  entries: [
    entry('C', '1', 'grant', '2024-01-03T00:00', null),
    entry('D', '2', 'usage', '2024-01-07T23:59:59.999', USAGE),
    entry('A', '3', 'usage', '2024-01-08T09:00', USAGE),
    entry('A', '3', 'usage', '2024-01-08T09:00', USAGE),
    entry('B', '4', 'spend', '2024-01-08T10:00', null),
    entry('C', '5', 'capture', '2024-01-15T00:00', USAGE),
  ],
  uncharged: [logged('1', 'A', '2024-01-09T00:00'), logged('2', 'E', '2024-01-21T23:59:59.999'), logged('3', 'B', '2024-01-26T00:00')],
  subscriptions: new Map([
    [
      'A',
      history(
        'A',
        ['starter', 'trialing', '2024-01-01T08:00'],
        ['starter', 'active', '2024-01-08T08:00'],
        ['pro', 'active', '2024-01-15T00:00'],
        ['starter', 'active', '2024-01-20T12:00'],
      ),
    ],
    [
      'B',
      history(
        'B',
        ['pro', 'active', '2023-12-20T00:00'],
        ['pro', 'canceled', '2024-01-10T10:00'],
        ['starter', 'active', '2024-01-24T10:00'],
      ),
    ],
    [
      'C',
      history(
        'C',
        ['team', 'active', '2024-01-03T00:00'],
        ['team', 'past_due', '2024-01-12T00:00'],
        ['team', 'active', '2024-01-17T09:00'],
        ['team', 'canceled', '2024-01-17T09:00'],
      ),
    ],
    ['D', history('D', ['legacy', 'active', '2024-01-05T00:00'])],
    ['F', history('F', ['starter', 'trialing', '2024-01-22T00:00'], ['pro', 'active', '2024-01-25T00:00'])],
    ['G', history('G', ['starter', 'trialing', '2024-01-09T00:00'], ['starter', 'canceled', '2024-01-16T00:00'])],
  ]),
};

function metric<M extends MetricName>(name: M, from: string, to: string, granularity?: Granularity): MetricResult<M> {
  return computeMetric(SNAPSHOT, { metric: name, from: t(from), to: t(to), ...(granularity ? { granularity } : {}) }, CATALOG);
}

/** The bucket bounds of a result's points, as ISO text. */
const bounds = (points: Array<{ start: Date; end: Date }>) => points.map((p) => [p.start.toISOString(), p.end.toISOString()]);

// Week buckets of [Jan 2, Jan 26): the first and last partial.
const WEEKS = ['2024-01-02T00:00', '2024-01-26T00:00'] as const;

describe('mrr', () => {
  it('weeks: new, churn, contraction, reactivation; a change on the boundary counts in the bucket it ends', () => {
    const result = metric('mrr', ...WEEKS, 'week');
    expect(result).toMatchObject({ metric: 'mrr', from: t(WEEKS[0]), to: t(WEEKS[1]), granularity: 'week' });
    expect(bounds(result.points)).toEqual([
      ['2024-01-02T00:00:00.000Z', '2024-01-08T00:00:00.000Z'],
      ['2024-01-08T00:00:00.000Z', '2024-01-15T00:00:00.000Z'],
      ['2024-01-15T00:00:00.000Z', '2024-01-22T00:00:00.000Z'],
      ['2024-01-22T00:00:00.000Z', '2024-01-26T00:00:00.000Z'],
    ]);
    // MRR at Jan 2: B 5000. Jan 8: B 5000 + C 10001 = 15001 (A is still trialing at 00:00). Jan 15:
    // A 5000 (the upgrade saved at 00:00 counts) + C 10001 = 15001. Jan 22: A 1000 (C's v4 won).
    // Jan 26: A 1000 + B 1000 + F 5000 = 7000.
    const fields = result.points.map(({ start: _s, end: _e, ...rest }) => rest);
    expect(fields).toEqual([
      // C 0 → 10001, first MRR Jan 3 after the start: new. 10001 × 10000 / 5000 = 20002.
      {
        mrrAtStart: 5000n,
        mrr: 15001n,
        arr: 180012n,
        new: 10001n,
        expansion: 0n,
        contraction: 0n,
        churn: 0n,
        reactivation: 0n,
        net: 10001n,
        growthBps: 20002,
      },
      // A 0 → 5000 (first MRR Jan 8 08:00, after 00:00): new; B 5000 → 0: churn.
      {
        mrrAtStart: 15001n,
        mrr: 15001n,
        arr: 180012n,
        new: 5000n,
        expansion: 0n,
        contraction: 0n,
        churn: 5000n,
        reactivation: 0n,
        net: 0n,
        growthBps: 0,
      },
      // A 5000 → 1000: contraction 4000; C 10001 → 0: churn. −14001 × 10000 / 15001 = −9333.38 → −9333.
      {
        mrrAtStart: 15001n,
        mrr: 1000n,
        arr: 12000n,
        new: 0n,
        expansion: 0n,
        contraction: 4000n,
        churn: 10001n,
        reactivation: 0n,
        net: -14001n,
        growthBps: -9333,
      },
      // B 0 → 1000 with MRR since Dec 20: reactivation; F 0 → 5000 (first MRR Jan 25): new. 6000 / 1000.
      {
        mrrAtStart: 1000n,
        mrr: 7000n,
        arr: 84000n,
        new: 5000n,
        expansion: 0n,
        contraction: 0n,
        churn: 0n,
        reactivation: 1000n,
        net: 6000n,
        growthBps: 60000,
      },
    ]);
  });

  it('months: partial first and last, changes that cancel out inside a bucket are not seen, no growth from 0', () => {
    const result = metric('mrr', '2023-12-15T00:00', '2024-02-10T00:00', 'month');
    expect(bounds(result.points)).toEqual([
      ['2023-12-15T00:00:00.000Z', '2024-01-01T00:00:00.000Z'],
      ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-02-01T00:00:00.000Z', '2024-02-10T00:00:00.000Z'],
    ]);
    const fields = result.points.map(({ start: _s, end: _e, ...rest }) => rest);
    expect(fields).toEqual([
      // B 0 → 5000, first MRR Dec 20 after Dec 15: new. MRR at the start is 0: no growth ratio.
      {
        mrrAtStart: 0n,
        mrr: 5000n,
        arr: 60000n,
        new: 5000n,
        expansion: 0n,
        contraction: 0n,
        churn: 0n,
        reactivation: 0n,
        net: 5000n,
        growthBps: null,
      },
      // Jan 1 → Feb 1: A 0 → 1000 new, F 0 → 5000 new, B 5000 → 1000 contraction (its cancel and
      // comeback inside the month are not seen), C 0 → 0 (joined and left inside). 2000 × 10000 / 5000.
      {
        mrrAtStart: 5000n,
        mrr: 7000n,
        arr: 84000n,
        new: 6000n,
        expansion: 0n,
        contraction: 4000n,
        churn: 0n,
        reactivation: 0n,
        net: 2000n,
        growthBps: 4000,
      },
      {
        mrrAtStart: 7000n,
        mrr: 7000n,
        arr: 84000n,
        new: 0n,
        expansion: 0n,
        contraction: 0n,
        churn: 0n,
        reactivation: 0n,
        net: 0n,
        growthBps: 0,
      },
    ]);
  });

  it('days: partial first and last day, expansion on a midnight boundary, a same-instant save decided by version', () => {
    const result = metric('mrr', '2024-01-14T12:00', '2024-01-17T12:00', 'day');
    expect(bounds(result.points)).toEqual([
      ['2024-01-14T12:00:00.000Z', '2024-01-15T00:00:00.000Z'],
      ['2024-01-15T00:00:00.000Z', '2024-01-16T00:00:00.000Z'],
      ['2024-01-16T00:00:00.000Z', '2024-01-17T00:00:00.000Z'],
      ['2024-01-17T00:00:00.000Z', '2024-01-17T12:00:00.000Z'],
    ]);
    const fields = result.points.map(({ start: _s, end: _e, ...rest }) => rest);
    const flat = { new: 0n, expansion: 0n, contraction: 0n, churn: 0n, reactivation: 0n, net: 0n, growthBps: 0 };
    expect(fields).toEqual([
      // A 1000 → 5000 (upgrade saved at exactly Jan 15 00:00); C past_due 10001 both times.
      // 4000 × 10000 / 11001 = 3636.03 → 3636.
      { ...flat, mrrAtStart: 11001n, mrr: 15001n, arr: 180012n, expansion: 4000n, net: 4000n, growthBps: 3636 },
      { ...flat, mrrAtStart: 15001n, mrr: 15001n, arr: 180012n },
      { ...flat, mrrAtStart: 15001n, mrr: 15001n, arr: 180012n },
      // C's v3 (active) and v4 (canceled) saved at Jan 17 09:00: v4 is the state, so churn 10001.
      // −10001 × 10000 / 15001 = −6666.89 → −6667.
      { ...flat, mrrAtStart: 15001n, mrr: 5000n, arr: 60000n, churn: 10001n, net: -10001n, growthBps: -6667 },
    ]);
  });
});

describe('mrr at the edges', () => {
  // H: active starter and canceled saved at the same instant, Jan 15 00:00 (v2 wins: MRR 0), then
  // active starter again Jan 18. Its first MRR (v1's updatedAt) is exactly the week's start.
  const edge: AnalyticsSnapshot = {
    customers: [customer('H', 'starter', '2024-01-10T00:00')],
    entries: [],
    uncharged: [],
    subscriptions: new Map([
      [
        'H',
        history(
          'H',
          ['starter', 'active', '2024-01-15T00:00'],
          ['starter', 'canceled', '2024-01-15T00:00'],
          ['starter', 'active', '2024-01-18T00:00'],
        ),
      ],
    ]),
  };
  const range = { from: t('2024-01-15T00:00'), to: t('2024-01-29T00:00'), granularity: 'week' as const };

  it('first MRR at the bucket start is MRR before the bucket: a reactivation, not new', () => {
    const [first, second] = computeMetric(edge, { metric: 'mrr', ...range }, CATALOG).points;
    expect(first).toMatchObject({ mrrAtStart: 0n, mrr: 1000n, new: 0n, reactivation: 1000n, net: 1000n, growthBps: null });
    expect(second).toMatchObject({ mrrAtStart: 1000n, mrr: 1000n, new: 0n, reactivation: 0n, net: 0n, growthBps: 0 });
    // Yet its cohort is that first week, and it is paying at the week's end.
    const cohorts = computeMetric(edge, { metric: 'retention', ...range }, CATALOG).cohorts;
    expect(cohorts.map((c) => [c.customers, c.periods.map((p) => p.retained)])).toEqual([
      [1, [1, 1]],
      [0, [0]],
    ]);
  });
});

describe('churn', () => {
  it('weeks: logo churn and gross revenue churn (churned plus contracted MRR)', () => {
    const result = metric('churn', ...WEEKS, 'week');
    expect(result).toMatchObject({ metric: 'churn', granularity: 'week' });
    expect(result.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      // Paying at Jan 2: B, still paying at Jan 8.
      { payingAtStart: 1, churnedCustomers: 0, logoChurnBps: 0, mrrAtStart: 5000n, lostMrr: 0n, revenueChurnBps: 0 },
      // Paying at Jan 8: B and C; B is at 0 on Jan 15. Lost 5000 × 10000 / 15001 = 3333.11 → 3333.
      { payingAtStart: 2, churnedCustomers: 1, logoChurnBps: 5000, mrrAtStart: 15001n, lostMrr: 5000n, revenueChurnBps: 3333 },
      // Paying at Jan 15: A and C; C churns (10001), A contracts (4000). 14001 / 15001 → 9333.38 → 9333.
      { payingAtStart: 2, churnedCustomers: 1, logoChurnBps: 5000, mrrAtStart: 15001n, lostMrr: 14001n, revenueChurnBps: 9333 },
      // Paying at Jan 22: A alone, still paying at Jan 26; B's and F's gains are not losses.
      { payingAtStart: 1, churnedCustomers: 0, logoChurnBps: 0, mrrAtStart: 1000n, lostMrr: 0n, revenueChurnBps: 0 },
    ]);
  });

  it('months and days: no one paying gives null ratios; expansion is not churn', () => {
    const months = metric('churn', '2023-12-15T00:00', '2024-02-10T00:00', 'month');
    expect(months.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      { payingAtStart: 0, churnedCustomers: 0, logoChurnBps: null, mrrAtStart: 0n, lostMrr: 0n, revenueChurnBps: null },
      // B pays at Jan 1 and Feb 1 (less): a contraction of 4000, 4000 / 5000 = 8000.
      { payingAtStart: 1, churnedCustomers: 0, logoChurnBps: 0, mrrAtStart: 5000n, lostMrr: 4000n, revenueChurnBps: 8000 },
      { payingAtStart: 3, churnedCustomers: 0, logoChurnBps: 0, mrrAtStart: 7000n, lostMrr: 0n, revenueChurnBps: 0 },
    ]);
    const days = metric('churn', '2024-01-14T12:00', '2024-01-17T12:00', 'day');
    const steady = { payingAtStart: 2, churnedCustomers: 0, logoChurnBps: 0, mrrAtStart: 15001n, lostMrr: 0n, revenueChurnBps: 0 };
    expect(days.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      { ...steady, mrrAtStart: 11001n },
      steady,
      steady,
      // C is lost: 1 of 2, 10001 × 10000 / 15001 = 6666.89 → 6667.
      { payingAtStart: 2, churnedCustomers: 1, logoChurnBps: 5000, mrrAtStart: 15001n, lostMrr: 10001n, revenueChurnBps: 6667 },
    ]);
  });
});

describe('retention', () => {
  it('weeks: cohorts by first MRR, a period for every later bucket, an empty cohort with null shares', () => {
    const result = metric('retention', ...WEEKS, 'week');
    expect(result).toMatchObject({ metric: 'retention', granularity: 'week' });
    expect(bounds(result.cohorts)).toEqual(bounds(metric('mrr', ...WEEKS, 'week').points));
    expect(result.cohorts.map((c) => [c.customers, c.periods])).toEqual([
      // C (first MRR Jan 3): paying at Jan 8 and 15, canceled by Jan 22 and 26.
      [
        1,
        [
          { retained: 1, retainedBps: 10000 },
          { retained: 1, retainedBps: 10000 },
          { retained: 0, retainedBps: 0 },
          { retained: 0, retainedBps: 0 },
        ],
      ],
      // A (first MRR Jan 8 08:00): paying at Jan 15, 22 and 26.
      [
        1,
        [
          { retained: 1, retainedBps: 10000 },
          { retained: 1, retainedBps: 10000 },
          { retained: 1, retainedBps: 10000 },
        ],
      ],
      [
        0,
        [
          { retained: 0, retainedBps: null },
          { retained: 0, retainedBps: null },
        ],
      ],
      // F (first MRR Jan 25).
      [1, [{ retained: 1, retainedBps: 10000 }]],
    ]);
  });

  it('months and days: a cohort of three with two kept', () => {
    const months = metric('retention', '2023-12-15T00:00', '2024-02-10T00:00', 'month');
    expect(months.cohorts.map((c) => [c.customers, c.periods])).toEqual([
      // B (Dec 20): paying at Jan 1, Feb 1, Feb 10.
      [
        1,
        [
          { retained: 1, retainedBps: 10000 },
          { retained: 1, retainedBps: 10000 },
          { retained: 1, retainedBps: 10000 },
        ],
      ],
      // A, C, F: at Feb 1 and Feb 10 A and F pay, C does not. 2 / 3 = 6666.67 → 6667.
      [
        3,
        [
          { retained: 2, retainedBps: 6667 },
          { retained: 2, retainedBps: 6667 },
        ],
      ],
      [0, [{ retained: 0, retainedBps: null }]],
    ]);
    // Days Jan 7 12:00 … Jan 10: A first pays on Jan 8 and still does at Jan 9 and 10.
    const days = metric('retention', '2024-01-07T12:00', '2024-01-10T00:00', 'day');
    expect(days.cohorts.map((c) => [c.start.toISOString(), c.customers, c.periods.map((p) => p.retained)])).toEqual([
      ['2024-01-07T12:00:00.000Z', 0, [0, 0, 0]],
      ['2024-01-08T00:00:00.000Z', 1, [1, 1]],
      ['2024-01-09T00:00:00.000Z', 0, [0]],
    ]);
  });
});

describe('customers', () => {
  it('weeks: sign-ups, callers (charged operations and logged calls, not grants or spends without usage), running total', () => {
    const result = metric('customers', ...WEEKS, 'week');
    expect(result).toMatchObject({ metric: 'customers', granularity: 'week' });
    expect(result.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      // C, D created; D's usage a millisecond before Jan 8; created before Jan 8: A B C D.
      { signUps: 2, active: 1, total: 4 },
      // E, G created; A called (two entries of one operation, and a logged call); B's spend has no usage.
      { signUps: 2, active: 1, total: 6 },
      // C's capture at Jan 15 00:00 and E's logged call at Jan 21 23:59:59.999.
      { signUps: 0, active: 2, total: 6 },
      // F created Jan 22; B's logged call at Jan 26 00:00 is outside [from, to).
      { signUps: 1, active: 0, total: 7 },
    ]);
  });

  it('months and days', () => {
    const months = metric('customers', '2023-12-15T00:00', '2024-02-10T00:00', 'month');
    expect(months.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      { signUps: 1, active: 0, total: 1 },
      // A C D E F G; callers A B C D E.
      { signUps: 6, active: 5, total: 7 },
      { signUps: 0, active: 0, total: 7 },
    ]);
    const days = metric('customers', '2024-01-14T12:00', '2024-01-17T12:00', 'day');
    expect(days.points.map(({ start: _s, end: _e, ...rest }) => rest)).toEqual([
      { signUps: 0, active: 0, total: 6 },
      { signUps: 0, active: 1, total: 6 },
      { signUps: 0, active: 0, total: 6 },
      { signUps: 0, active: 0, total: 6 },
    ]);
  });
});

describe('funnel', () => {
  it('the highest tier among history saved before `to` and the customer record; unknown tiers count nowhere', () => {
    const result = metric('funnel', ...WEEKS);
    // Created in the range: C D E F G. Highest: C team, D none (legacy), E free (no history), F pro
    // (saved Jan 25), G starter (history above its record's free).
    expect(result).toEqual({
      metric: 'funnel',
      from: t(WEEKS[0]),
      to: t(WEEKS[1]),
      granularity: 'day',
      created: 5,
      steps: [
        { tier: 'free', customers: 4, conversionBps: 8000 },
        { tier: 'starter', customers: 3, conversionBps: 7500 },
        // 2 / 3 = 6666.67 → 6667.
        { tier: 'pro', customers: 2, conversionBps: 6667 },
        { tier: 'team', customers: 1, conversionBps: 5000 },
      ],
    });
    // To Jan 25 00:00: F's pro record is saved at `to`, not before it, so F counts as starter.
    expect(metric('funnel', '2024-01-02T00:00', '2024-01-25T00:00').steps).toEqual([
      { tier: 'free', customers: 4, conversionBps: 8000 },
      { tier: 'starter', customers: 3, conversionBps: 7500 },
      { tier: 'pro', customers: 1, conversionBps: 3333 },
      { tier: 'team', customers: 1, conversionBps: 10000 },
    ]);
    // Nobody created in the range: every ratio is null from the first step on.
    expect(metric('funnel', '2024-02-01T00:00', '2024-03-01T00:00').steps.map((s) => [s.customers, s.conversionBps])).toEqual([
      [0, null],
      [0, null],
      [0, null],
      [0, null],
    ]);
  });
});

describe('checks', () => {
  it('a bad query or too many buckets is VALIDATION', () => {
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return TallyError.is(error) ? error.code : 'other';
      }
      return 'accepted';
    };
    expect(refused(() => metric('mrr', '2024-01-02T00:00', '2024-01-02T00:00'))).toBe('VALIDATION');
    expect(refused(() => metric('churn', ...WEEKS, 'hour' as Granularity))).toBe('VALIDATION');
    // 3,660 days from 00:30 touch 3,661 days.
    const from = t('2020-01-01T00:30');
    const to = new Date(from.getTime() + 3660 * 86_400_000);
    expect(refused(() => computeMetric(SNAPSHOT, { metric: 'retention', from, to }, CATALOG))).toBe('VALIDATION');
    expect(computeMetric(SNAPSHOT, { metric: 'mrr', from, to, granularity: 'week' }, CATALOG).points).toHaveLength(524);
  });
});
