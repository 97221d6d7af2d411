import { PGlite } from '@electric-sql/pglite';
import {
  type AnalyticsCatalog,
  type AnalyticsSnapshot,
  computeMetric,
  type Granularity,
  type MetricName,
  type MetricQuery,
  type MetricResult,
  readAnalyticsSnapshot,
  type SubscriptionRecord,
  type TallyStore,
} from '@tally/core';
import { usageDetails } from '@tally/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore, type SqlStore } from '../pglite/index.js';
import { createPostgresStore } from '../postgres/index.js';
import { createTestDatabase, EMPTY_TALLY_TABLES, type TestDatabase } from '../test-support/postgres.js';

// The oracle test's scenario (packages/core/src/analytics/oracle-subscriptions.test.ts has it in full,
// with the arithmetic), written through the store: January 2024, Mondays on the 1st, 8th, 15th, 22nd.
// Monthly prices: free 0, starter 1000, pro 5000, team 120006 a year = 10001 a month.
//   A trialing Jan 1 08:00 → active starter Jan 8 08:00 → pro Jan 15 00:00 → starter Jan 20 12:00
//   B active pro Dec 20 → canceled Jan 10 10:00 → active starter Jan 24 10:00 (reactivation)
//   C active team Jan 3 → past_due Jan 12 → active and canceled both saved Jan 17 09:00 (v4 wins)
//   D active on "legacy" (not in the catalog); E no history; F trialing Jan 22 → active pro Jan 25
//   (record tier starter); G trialing Jan 9 → canceled Jan 16 (record tier free).
// The session time zone is set to St John's (UTC−3:30, with daylight saving) so nothing may lean on it.

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

const ZONE = 'America/St_Johns';
const t = (iso: string) => new Date(`${iso}Z`);
const DAY = 86_400_000;

const MRR_POINTS_DRIFT = `
  with want as (
    select customer_id, updated_at, version, tier, paying
    from (select customer_id, updated_at, version, tier, status in ('active', 'past_due') as paying,
                 lag(tier) over w as prev_tier, lag(status in ('active', 'past_due')) over w as prev_paying, row_number() over w as n
          from tally_subscription_history
          window w as (partition by customer_id order by updated_at, version)) h
    where n = 1 or (prev_tier, prev_paying) is distinct from (tier, paying)
  )
  (select 'missing' as problem, * from want except select 'missing', * from tally_mrr_points)
  union all
  (select 'extra', * from tally_mrr_points except select 'extra', * from want)`;

type Save = [tier: string, status: SubscriptionRecord['status'], at: Date];

/** Saves the versions in order (1, 2, 3…), each at its own instant. */
async function saveHistory(store: TallyStore, customerId: string, saves: Save[]) {
  for (const [index, [tier, status, at]] of saves.entries()) {
    const record: SubscriptionRecord = {
      customerId,
      tier,
      status,
      interval: tier === 'team' ? 'year' : 'month',
      currentPeriodStart: at,
      currentPeriodEnd: new Date(at.getTime() + 30 * DAY),
      trialEnd: null,
      scheduledChange: null,
      pastDueSince: status === 'past_due' ? at : null,
      provider: 'sandbox',
      providerCustomerId: null,
      providerSubscriptionId: null,
      providerStateAt: null,
      version: index + 1,
      createdAt: saves[0]?.[2] ?? at,
      updatedAt: at,
    };
    await store.saveSubscription(record, index === 0 ? null : index);
  }
}

const USAGE = usageDetails();

const mutation = (key: string, at: Date) => ({ idempotencyKey: key, request: key, at });

function loggedCall(customerId: string, key: string, at: Date) {
  return {
    customerId,
    endUserId: null,
    model: 'meta/llama:free',
    inputTokens: 10,
    cachedInputTokens: 0,
    outputTokens: 5,
    reasoningTokens: 0,
    providerCostNanoUsd: 0n,
    keySource: 'managed' as const,
    free: true,
    catalogVersion: 'v1',
    generationId: null,
    idempotencyKey: key,
    at,
  };
}

async function writeScenario(store: TallyStore) {
  const customers: Array<[string, string, string, bigint]> = [
    ['A', 'starter', '2024-01-01T08:00', 0n],
    ['B', 'starter', '2023-12-20T00:00', 1_000_000n],
    ['C', 'team', '2024-01-03T00:00', 0n],
    ['D', 'legacy', '2024-01-05T00:00', 0n],
    ['E', 'free', '2024-01-12T00:00', 0n],
    ['F', 'starter', '2024-01-22T00:00', 0n],
    ['G', 'free', '2024-01-09T00:00', 0n],
  ];
  for (const [customerId, tier, createdAt, overdraftLimitMicros] of customers) {
    await store.upsertCustomer({ customerId, tier, overdraftLimitMicros, unlimited: false, at: t(createdAt) });
  }
  await saveHistory(store, 'A', [
    ['starter', 'trialing', t('2024-01-01T08:00')],
    ['starter', 'active', t('2024-01-08T08:00')],
    ['pro', 'active', t('2024-01-15T00:00')],
    ['starter', 'active', t('2024-01-20T12:00')],
  ]);
  await saveHistory(store, 'B', [
    ['pro', 'active', t('2023-12-20T00:00')],
    ['pro', 'canceled', t('2024-01-10T10:00')],
    ['starter', 'active', t('2024-01-24T10:00')],
  ]);
  await saveHistory(store, 'C', [
    ['team', 'active', t('2024-01-03T00:00')],
    ['team', 'past_due', t('2024-01-12T00:00')],
    ['team', 'active', t('2024-01-17T09:00')],
    ['team', 'canceled', t('2024-01-17T09:00')],
  ]);
  await saveHistory(store, 'D', [['legacy', 'active', t('2024-01-05T00:00')]]);
  await saveHistory(store, 'F', [
    ['starter', 'trialing', t('2024-01-22T00:00')],
    ['pro', 'active', t('2024-01-25T00:00')],
  ]);
  await saveHistory(store, 'G', [
    ['starter', 'trialing', t('2024-01-09T00:00')],
    ['starter', 'canceled', t('2024-01-16T00:00')],
  ]);

  // A: two buckets of 5, then one usage of 8 that drains both (two entries, one call).
  for (const key of ['a-grant-1', 'a-grant-2']) {
    await store.grant({
      ...mutation(key, t('2024-01-01T08:00')),
      customerId: 'A',
      kind: 'purchased',
      amountMicros: 5n,
      expiresAt: null,
      description: null,
    });
  }
  const drain = await store.recordUsage({
    ...mutation('a-usage', t('2024-01-08T09:00')),
    customerId: 'A',
    amountMicros: 8n,
    description: null,
    usage: USAGE,
  });
  expect(drain.entries).toHaveLength(2);
  // B: a spend without usage (on its overdraft) is not a call.
  await store.spend({ ...mutation('b-spend', t('2024-01-08T10:00')), customerId: 'B', amountMicros: 3n, description: null, usage: null });
  // C: a grant (not a call), then a capture with usage at Jan 15 00:00.
  await store.grant({
    ...mutation('c-grant', t('2024-01-03T00:00')),
    customerId: 'C',
    kind: 'purchased',
    amountMicros: 100n,
    expiresAt: null,
    description: null,
  });
  const hold = await store.reserve({
    ...mutation('c-hold', t('2024-01-14T00:00')),
    customerId: 'C',
    amountMicros: 50n,
    expiresAt: t('2024-01-16T00:00'),
  });
  await store.capture({
    ...mutation('c-capture', t('2024-01-15T00:00')),
    holdId: hold.hold.id,
    amountMicros: 20n,
    description: null,
    usage: USAGE,
  });
  // D: a usage a millisecond before Jan 8 (into debt).
  await store.recordUsage({
    ...mutation('d-usage', t('2024-01-07T23:59:59.999')),
    customerId: 'D',
    amountMicros: 4n,
    description: null,
    usage: USAGE,
  });
  await store.recordUncharged([
    loggedCall('A', 'a-free', t('2024-01-09T00:00')),
    loggedCall('E', 'e-free', t('2024-01-21T23:59:59.999')),
    loggedCall('B', 'b-free', t('2024-01-26T00:00')),
  ]);
}

const WEEKS = { from: t('2024-01-02T00:00'), to: t('2024-01-26T00:00'), granularity: 'week' as const };
const MONTHS = { from: t('2023-12-15T00:00'), to: t('2024-02-10T00:00'), granularity: 'month' as const };
const DAYS = { from: t('2024-01-14T12:00'), to: t('2024-01-17T12:00'), granularity: 'day' as const };

/** Bucketed points without their bounds, for comparing with the hand-computed numbers. */
const bare = <P extends { start: Date; end: Date }>(points: P[]) => points.map(({ start: _s, end: _e, ...rest }) => rest);

const mrrRow = (
  mrrAtStart: bigint,
  mrr: bigint,
  moves: Partial<Record<'new' | 'expansion' | 'contraction' | 'churn' | 'reactivation', bigint>>,
  growthBps: number | null,
) => ({
  mrrAtStart,
  mrr,
  arr: 12n * mrr,
  new: 0n,
  expansion: 0n,
  contraction: 0n,
  churn: 0n,
  reactivation: 0n,
  ...moves,
  net: mrr - mrrAtStart,
  growthBps,
});

const churnRow = (
  payingAtStart: number,
  churnedCustomers: number,
  mrrAtStart: bigint,
  lostMrr: bigint,
  logo: number | null,
  revenue: number | null,
) => ({
  payingAtStart,
  churnedCustomers,
  logoChurnBps: logo,
  mrrAtStart,
  lostMrr,
  revenueChurnBps: revenue,
});

/** The hand-computed answers (the oracle test explains each). */
function handCases(): Array<{ name: string; query: MetricQuery; check: (result: never) => void }> {
  const weekBounds = [
    ['2024-01-02T00:00:00.000Z', '2024-01-08T00:00:00.000Z'],
    ['2024-01-08T00:00:00.000Z', '2024-01-15T00:00:00.000Z'],
    ['2024-01-15T00:00:00.000Z', '2024-01-22T00:00:00.000Z'],
    ['2024-01-22T00:00:00.000Z', '2024-01-26T00:00:00.000Z'],
  ];
  const bounds = (points: Array<{ start: Date; end: Date }>) => points.map((p) => [p.start.toISOString(), p.end.toISOString()]);
  type R<M extends MetricName> = MetricResult<M>;
  const cases = [
    {
      name: 'mrr by week',
      query: { metric: 'mrr', ...WEEKS },
      check: (r: R<'mrr'>) => {
        expect(bounds(r.points)).toEqual(weekBounds);
        expect(bare(r.points)).toEqual([
          mrrRow(5000n, 15001n, { new: 10001n }, 20002),
          mrrRow(15001n, 15001n, { new: 5000n, churn: 5000n }, 0),
          mrrRow(15001n, 1000n, { contraction: 4000n, churn: 10001n }, -9333),
          mrrRow(1000n, 7000n, { new: 5000n, reactivation: 1000n }, 60000),
        ]);
      },
    },
    {
      name: 'mrr by month',
      query: { metric: 'mrr', ...MONTHS },
      check: (r: R<'mrr'>) => {
        expect(bounds(r.points)).toEqual([
          ['2023-12-15T00:00:00.000Z', '2024-01-01T00:00:00.000Z'],
          ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
          ['2024-02-01T00:00:00.000Z', '2024-02-10T00:00:00.000Z'],
        ]);
        expect(bare(r.points)).toEqual([
          mrrRow(0n, 5000n, { new: 5000n }, null),
          mrrRow(5000n, 7000n, { new: 6000n, contraction: 4000n }, 4000),
          mrrRow(7000n, 7000n, {}, 0),
        ]);
      },
    },
    {
      name: 'mrr by day',
      query: { metric: 'mrr', ...DAYS },
      check: (r: R<'mrr'>) => {
        expect(bounds(r.points)).toEqual([
          ['2024-01-14T12:00:00.000Z', '2024-01-15T00:00:00.000Z'],
          ['2024-01-15T00:00:00.000Z', '2024-01-16T00:00:00.000Z'],
          ['2024-01-16T00:00:00.000Z', '2024-01-17T00:00:00.000Z'],
          ['2024-01-17T00:00:00.000Z', '2024-01-17T12:00:00.000Z'],
        ]);
        expect(bare(r.points)).toEqual([
          mrrRow(11001n, 15001n, { expansion: 4000n }, 3636),
          mrrRow(15001n, 15001n, {}, 0),
          mrrRow(15001n, 15001n, {}, 0),
          mrrRow(15001n, 5000n, { churn: 10001n }, -6667),
        ]);
      },
    },
    {
      name: 'churn by week',
      query: { metric: 'churn', ...WEEKS },
      check: (r: R<'churn'>) =>
        expect(bare(r.points)).toEqual([
          churnRow(1, 0, 5000n, 0n, 0, 0),
          churnRow(2, 1, 15001n, 5000n, 5000, 3333),
          churnRow(2, 1, 15001n, 14001n, 5000, 9333),
          churnRow(1, 0, 1000n, 0n, 0, 0),
        ]),
    },
    {
      name: 'churn by month',
      query: { metric: 'churn', ...MONTHS },
      check: (r: R<'churn'>) =>
        expect(bare(r.points)).toEqual([
          churnRow(0, 0, 0n, 0n, null, null),
          churnRow(1, 0, 5000n, 4000n, 0, 8000),
          churnRow(3, 0, 7000n, 0n, 0, 0),
        ]),
    },
    {
      name: 'churn by day',
      query: { metric: 'churn', ...DAYS },
      check: (r: R<'churn'>) =>
        expect(bare(r.points)).toEqual([
          churnRow(2, 0, 11001n, 0n, 0, 0),
          churnRow(2, 0, 15001n, 0n, 0, 0),
          churnRow(2, 0, 15001n, 0n, 0, 0),
          churnRow(2, 1, 15001n, 10001n, 5000, 6667),
        ]),
    },
    {
      name: 'retention by week',
      query: { metric: 'retention', ...WEEKS },
      check: (r: R<'retention'>) => {
        expect(bounds(r.cohorts)).toEqual(weekBounds);
        expect(r.cohorts.map((c) => [c.customers, c.periods.map((p) => [p.retained, p.retainedBps])])).toEqual([
          [
            1,
            [
              [1, 10000],
              [1, 10000],
              [0, 0],
              [0, 0],
            ],
          ],
          [
            1,
            [
              [1, 10000],
              [1, 10000],
              [1, 10000],
            ],
          ],
          [
            0,
            [
              [0, null],
              [0, null],
            ],
          ],
          [1, [[1, 10000]]],
        ]);
      },
    },
    {
      name: 'retention by month',
      query: { metric: 'retention', ...MONTHS },
      check: (r: R<'retention'>) =>
        expect(r.cohorts.map((c) => [c.customers, c.periods.map((p) => [p.retained, p.retainedBps])])).toEqual([
          [
            1,
            [
              [1, 10000],
              [1, 10000],
              [1, 10000],
            ],
          ],
          [
            3,
            [
              [2, 6667],
              [2, 6667],
            ],
          ],
          [0, [[0, null]]],
        ]),
    },
    {
      name: 'retention by day',
      query: { metric: 'retention', from: t('2024-01-07T12:00'), to: t('2024-01-10T00:00'), granularity: 'day' },
      check: (r: R<'retention'>) =>
        expect(r.cohorts.map((c) => [c.start.toISOString(), c.customers, c.periods.map((p) => p.retained)])).toEqual([
          ['2024-01-07T12:00:00.000Z', 0, [0, 0, 0]],
          ['2024-01-08T00:00:00.000Z', 1, [1, 1]],
          ['2024-01-09T00:00:00.000Z', 0, [0]],
        ]),
    },
    {
      name: 'customers by week',
      query: { metric: 'customers', ...WEEKS },
      check: (r: R<'customers'>) =>
        expect(bare(r.points)).toEqual([
          { signUps: 2, active: 1, total: 4 },
          { signUps: 2, active: 1, total: 6 },
          { signUps: 0, active: 2, total: 6 },
          { signUps: 1, active: 0, total: 7 },
        ]),
    },
    {
      name: 'customers by month',
      query: { metric: 'customers', ...MONTHS },
      check: (r: R<'customers'>) =>
        expect(bare(r.points)).toEqual([
          { signUps: 1, active: 0, total: 1 },
          { signUps: 6, active: 5, total: 7 },
          { signUps: 0, active: 0, total: 7 },
        ]),
    },
    {
      name: 'customers by day',
      query: { metric: 'customers', ...DAYS },
      check: (r: R<'customers'>) =>
        expect(bare(r.points)).toEqual([
          { signUps: 0, active: 0, total: 6 },
          { signUps: 0, active: 1, total: 6 },
          { signUps: 0, active: 0, total: 6 },
          { signUps: 0, active: 0, total: 6 },
        ]),
    },
    {
      name: 'funnel to Jan 26',
      query: { metric: 'funnel', from: WEEKS.from, to: WEEKS.to },
      check: (r: R<'funnel'>) => {
        expect(r.granularity).toBe('day');
        expect([r.created, r.steps]).toEqual([
          5,
          [
            { tier: 'free', customers: 4, conversionBps: 8000 },
            { tier: 'starter', customers: 3, conversionBps: 7500 },
            { tier: 'pro', customers: 2, conversionBps: 6667 },
            { tier: 'team', customers: 1, conversionBps: 5000 },
          ],
        ]);
      },
    },
    {
      name: 'funnel to Jan 25 (F’s pro record is saved at `to`, not before)',
      query: { metric: 'funnel', from: WEEKS.from, to: t('2024-01-25T00:00') },
      check: (r: R<'funnel'>) =>
        expect(r.steps.map((s) => [s.customers, s.conversionBps])).toEqual([
          [4, 8000],
          [3, 7500],
          [1, 3333],
          [1, 10000],
        ]),
    },
    {
      name: 'funnel with nobody created',
      query: { metric: 'funnel', from: t('2024-02-01T00:00'), to: t('2024-03-01T00:00'), granularity: 'month' },
      check: (r: R<'funnel'>) =>
        expect([r.created, r.granularity, r.steps.map((s) => s.conversionBps)]).toEqual([0, 'month', [null, null, null, null]]),
    },
  ];
  return cases as never;
}

/** The scenario's checks against one store: each metric equals the oracle over the store's own records, and the hand numbers. */
function scenarioSuite(label: string, open: () => Promise<{ store: SqlStore; close: () => Promise<void> }>) {
  describe(label, () => {
    let store: SqlStore;
    let close: () => Promise<void>;
    let snapshot: AnalyticsSnapshot;

    beforeAll(async () => {
      ({ store, close } = await open());
      await writeScenario(store);
      snapshot = await readAnalyticsSnapshot(store);
    });
    afterAll(async () => {
      await close();
    });

    for (const { name, query, check } of handCases()) {
      it(name, async () => {
        const result = await store.metric(query, CATALOG);
        expect(result).toEqual(computeMetric(snapshot, query, CATALOG));
        expect(result).toMatchObject({ metric: query.metric, from: query.from, to: query.to });
        check(result as never);
      });
    }

    it('first MRR exactly at the bucket start counts as MRR before it (reactivation), and starts that cohort', async () => {
      // H: active and canceled saved at one instant (Jan 29 00:00, v2 wins), active again Feb 1.
      await store.upsertCustomer({
        customerId: 'H',
        tier: 'starter',
        overdraftLimitMicros: 0n,
        unlimited: false,
        at: t('2024-01-28T00:00'),
      });
      await saveHistory(store, 'H', [
        ['starter', 'active', t('2024-01-29T00:00')],
        ['starter', 'canceled', t('2024-01-29T00:00')],
        ['starter', 'active', t('2024-02-01T00:00')],
      ]);
      const week = { from: t('2024-01-29T00:00'), to: t('2024-02-12T00:00'), granularity: 'week' as const };
      const mrr = await store.metric({ metric: 'mrr', ...week }, CATALOG);
      // At Jan 29: A 1000 + B 1000 + F 5000 = 7000; H 0 → 1000 by Feb 5.
      expect(mrr.points[0]).toMatchObject({ mrrAtStart: 7000n, mrr: 8000n, new: 0n, reactivation: 1000n });
      const retention = await store.metric({ metric: 'retention', ...week }, CATALOG);
      expect(retention.cohorts.map((c) => [c.customers, c.periods.map((p) => p.retained)])).toEqual([
        [1, [1, 1]],
        [0, [0]],
      ]);
      const fresh = await readAnalyticsSnapshot(store);
      for (const metric of ['mrr', 'retention', 'churn', 'customers', 'funnel'] as const) {
        expect(await store.metric({ metric, ...week }, CATALOG)).toEqual(computeMetric(fresh, { metric, ...week }, CATALOG));
      }
    });

    it('refuses what the oracle refuses, with VALIDATION', async () => {
      const from = t('2020-01-01T00:30');
      const tooMany = { metric: 'customers' as const, from, to: new Date(from.getTime() + 3660 * DAY) };
      await expect(store.metric(tooMany, CATALOG)).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(store.metric({ ...WEEKS, metric: 'mrr', granularity: 'hour' as Granularity }, CATALOG)).rejects.toMatchObject({
        code: 'VALIDATION',
      });
      // The longest week range is fine: 524 weeks.
      expect((await store.metric({ ...tooMany, metric: 'churn', granularity: 'week' }, CATALOG)).points).toHaveLength(524);
    });
  });
}

let pglite: PGlite;
let pgliteSchemas = 0;

async function openPGlite(): Promise<{ store: SqlStore; close: () => Promise<void> }> {
  const schema = `analytics_subscriptions_${++pgliteSchemas}`;
  const store = await createPGliteStore({ db: pglite, schema });
  return {
    store,
    close: async () => {
      await store.close();
      await pglite.exec(`drop schema ${schema} cascade; set search_path to public`);
    },
  };
}

let postgres: TestDatabase;

beforeAll(async () => {
  pglite = await PGlite.create();
  await pglite.exec(`set timezone to '${ZONE}'`);
  postgres = await createTestDatabase('analytics_subscriptions');
  await postgres.query(`alter database ${postgres.name} set timezone to '${ZONE}'`);
});
afterAll(async () => {
  await pglite.close();
  await postgres.drop();
});

scenarioSuite('PGlite', openPGlite);

scenarioSuite('Postgres', async () => {
  const store = createPostgresStore({ connectionString: postgres.url, schema: 'scenario', max: 2 });
  await store.migrate();
  return { store, close: () => store.close() };
});

describe('PGlite against the oracle on random histories', () => {
  const TIERS = ['free', 'starter', 'pro', 'team', 'legacy'];
  const STATUSES = ['trialing', 'active', 'past_due', 'canceled'] as const;
  const START = t('2024-01-01T00:00').getTime();
  // Instants over ten weeks: often on a midnight (a bucket boundary at every granularity), else anywhere,
  // and drawn from few values so that saves collide.
  const instant = fc.oneof(
    fc.integer({ min: 0, max: 70 }).map((day) => new Date(START + day * DAY)),
    fc.integer({ min: 0, max: 70 * 24 }).map((hour) => new Date(START + hour * 3_600_000)),
    fc.integer({ min: 0, max: 70 * DAY - 1 }).map((ms) => new Date(START + ms)),
  );
  const customer = fc.record({
    tier: fc.constantFrom(...TIERS),
    createdAt: instant,
    saves: fc.array(fc.tuple(fc.constantFrom(...TIERS), fc.constantFrom(...STATUSES), instant), { maxLength: 5 }),
    calls: fc.array(fc.tuple(fc.boolean(), instant), { maxLength: 3 }),
  });
  const query = fc
    .record({
      metric: fc.constantFrom('customers', 'mrr', 'churn', 'retention', 'funnel') as fc.Arbitrary<MetricName>,
      a: instant,
      b: instant,
      granularity: fc.constantFrom<Granularity>('day', 'week', 'month'),
    })
    .filter(({ a, b }) => a.getTime() !== b.getTime())
    .map(({ metric, a, b, granularity }) => ({
      metric,
      from: new Date(Math.min(a.getTime(), b.getTime())),
      to: new Date(Math.max(a.getTime(), b.getTime())),
      granularity,
    }));

  let opened: { store: SqlStore; close: () => Promise<void> };
  beforeAll(async () => {
    opened = await openPGlite();
  });
  afterAll(async () => {
    await opened.close();
  });

  it('equals computeMetric for random customers, histories, calls and queries', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(customer, { minLength: 1, maxLength: 6 }),
        fc.array(query, { minLength: 1, maxLength: 5 }),
        async (customers, queries) => {
          run += 1;
          const { store } = opened;
          await pglite.exec(EMPTY_TALLY_TABLES);
          for (const [index, c] of customers.entries()) {
            const id = `c${index}`;
            await store.upsertCustomer({ customerId: id, tier: c.tier, overdraftLimitMicros: 0n, unlimited: false, at: c.createdAt });
            await saveHistory(store, id, c.saves);
            for (const [n, [charged, at]] of c.calls.entries()) {
              const key = `r${run}-${id}-${n}`;
              if (charged)
                await store.recordUsage({ ...mutation(key, at), customerId: id, amountMicros: 1n, description: null, usage: USAGE });
              else await store.recordUncharged([loggedCall(id, key, at)]);
            }
          }
          const snapshot = await readAnalyticsSnapshot(store);
          for (const q of queries) {
            expect(await store.metric(q, CATALOG)).toEqual(computeMetric(snapshot, q, CATALOG));
          }
          // The MRR points (schema v11) are exactly the records whose tier or paying status differs from
          // the record before them, however out of order the saves came.
          const { rows: drift } = await pglite.query(MRR_POINTS_DRIFT);
          expect(drift).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  }, 60_000);
});
