import { PGlite } from '@electric-sql/pglite';
import {
  type AnalyticsCatalog,
  computeMetric,
  type Granularity,
  type MetricQuery,
  readAnalyticsSnapshot,
  type SubscriptionRecord,
  TallyError,
  type TallyStore,
  type UnchargedCall,
  type UsageDetails,
} from '@tally/core';
import { usageDetails } from '@tally/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore, type SqlStore } from '../pglite/index.js';
import { createPostgresStore } from '../postgres/index.js';
import { createTestDatabase, EMPTY_TALLY_TABLES, type TestDatabase } from '../test-support/postgres.js';
import { migrations } from './migrate.js';

// The oracle test's journal (packages/core/src/analytics/oracle-journal.test.ts has it in full, with
// the arithmetic), written through the store, November 2026 (Sunday the 1st):
//   ada  starter, history starter (Oct 30) → pro (Nov 2 12:00); allowance A1 10 cr and purchased A2 5 cr;
//        C1 Sun 23:30 usage 12 cr on m-a (A1 + A2), C2 Mon 00:15 3,000,001 on m-b (A2 + debt), C3 13:00 1 (debt).
//   bob  pro, unlimited: C4 Mon 09:00 usage 2 cr on m-a (a batch of one).
//   cy   starter: allowance 6 cr (Nov 1 06:00, expires Nov 3), a 2 cr spend without usage, 4 cr expire.
//   dan  legacy: allowance 0.5 cr and purchased 1 cr; C5 BYOK usage 0.1 cr; C6 logged BYOK; C7 logged
//        free; C8 capture of 0.6 cr on m-a (from both buckets).
// The session time zone is India's (UTC+5:30) so nothing may lean on it: a local hour is not a UTC hour.

const CATALOG: AnalyticsCatalog = {
  currency: 'USD',
  microsPerUsd: 3_000_000n,
  tiers: [
    { id: 'starter', price: 1900n, interval: 'month' },
    { id: 'pro', price: 4900n, interval: 'month' },
    { id: 'team', price: 9900n, interval: 'month' },
  ],
};

const ZONE = 'Asia/Kolkata';
const t = (iso: string) => new Date(`${iso}Z`);
const HOUR = 3_600_000;
const DAY = 86_400_000;
const JOURNAL_METRICS = ['usage', 'margin', 'utilization', 'top-customers'] as const;

function usage(
  model: string,
  inputTokens: bigint,
  outputTokens: bigint,
  providerCostNanoUsd: bigint,
  keySource: 'managed' | 'byok' = 'managed',
): UsageDetails {
  return usageDetails({ model, inputTokens, outputTokens, providerCostNanoUsd, keySource });
}

function logged(
  customerId: string,
  key: string,
  model: string,
  tokens: [number, number],
  cost: bigint,
  keySource: 'managed' | 'byok',
  free: boolean,
  at: Date,
): UnchargedCall {
  return {
    customerId,
    endUserId: null,
    model,
    inputTokens: tokens[0],
    cachedInputTokens: 0,
    outputTokens: tokens[1],
    reasoningTokens: 0,
    providerCostNanoUsd: cost,
    keySource,
    free,
    catalogVersion: 'v1',
    generationId: null,
    idempotencyKey: key,
    at,
  };
}

function record(customerId: string, tier: string, version: number, at: Date): SubscriptionRecord {
  return {
    customerId,
    tier,
    status: 'active',
    interval: 'month',
    currentPeriodStart: at,
    currentPeriodEnd: t('2026-12-30T00:00'),
    trialEnd: null,
    scheduledChange: null,
    pastDueSince: null,
    provider: 'sandbox',
    providerCustomerId: null,
    providerSubscriptionId: null,
    providerStateAt: null,
    version,
    createdAt: t('2026-10-30T00:00'),
    updatedAt: at,
  };
}

const mutation = (key: string, at: Date) => ({ idempotencyKey: key, request: key, at });

async function writeScenario(store: TallyStore) {
  for (const [customerId, tier, unlimited] of [
    ['ada', 'starter', false],
    ['bob', 'pro', true],
    ['cy', 'starter', false],
    ['dan', 'legacy', false],
  ] as const) {
    await store.upsertCustomer({ customerId, tier, overdraftLimitMicros: 0n, unlimited, at: t('2026-10-30T00:00') });
  }
  await store.saveSubscription(record('ada', 'starter', 1, t('2026-10-30T00:00')), null);
  const grant = (
    key: string,
    customerId: string,
    kind: 'allowance' | 'purchased',
    amountMicros: bigint,
    at: string,
    expiresAt: string | null,
  ) =>
    store.grant({ ...mutation(key, t(at)), customerId, kind, amountMicros, expiresAt: expiresAt ? t(expiresAt) : null, description: null });
  await grant('a1', 'ada', 'allowance', 10_000_000n, '2026-11-01T00:00', '2026-11-05T00:00');
  await grant('a2', 'ada', 'purchased', 5_000_000n, '2026-11-01T00:00', null);
  await grant('c', 'cy', 'allowance', 6_000_000n, '2026-11-01T06:00', '2026-11-03T00:00');
  await grant('d', 'dan', 'allowance', 500_000n, '2026-11-01T12:00', '2026-11-10T00:00');
  await grant('d2', 'dan', 'purchased', 1_000_000n, '2026-11-01T12:00', null);
  const use = (key: string, customerId: string, amountMicros: bigint, at: string, details: UsageDetails) =>
    store.recordUsage({ ...mutation(key, t(at)), customerId, amountMicros, description: null, usage: details });
  expect((await use('c1', 'ada', 12_000_000n, '2026-11-01T23:30', usage('m-a', 1000n, 500n, 3_000_000_000n))).entries).toHaveLength(2);
  expect((await use('c2', 'ada', 3_000_001n, '2026-11-02T00:15', usage('m-b', 100n, 50n, 1_000_000_000n))).debtMicros).toBe(1n);
  const [batch] = await store.recordUsageBatch([
    {
      ...mutation('c4', t('2026-11-02T09:00')),
      customerId: 'bob',
      amountMicros: 2_000_000n,
      description: null,
      usage: usage('m-a', 300n, 200n, 700_000_000n),
    },
  ]);
  expect(batch?.ok).toBe(true);
  await store.spend({
    ...mutation('cy-spend', t('2026-11-02T10:00')),
    customerId: 'cy',
    amountMicros: 2_000_000n,
    description: null,
    usage: null,
  });
  await store.saveSubscription(record('ada', 'pro', 2, t('2026-11-02T12:00')), 1);
  await use('c3', 'ada', 1n, '2026-11-02T13:00', usage('m-a', 10n, 10n, 500n));
  await use('c5', 'dan', 100_000n, '2026-11-02T14:00', usage('m-b', 2000n, 1000n, 4_000_000_000n, 'byok'));
  await store.recordUncharged([
    logged('dan', 'c6', 'm-b', [400, 100], 800_000_000n, 'byok', false, t('2026-11-02T15:00')),
    logged('dan', 'c7', 'free-m', [50, 25], 0n, 'managed', true, t('2026-11-02T16:00')),
    logged('cy', 'late', 'free-m', [10, 10], 0n, 'managed', true, t('2026-11-05T10:00')),
  ]);
  const hold = await store.reserve({
    ...mutation('hold', t('2026-11-02T17:00')),
    customerId: 'dan',
    amountMicros: 800_000n,
    expiresAt: t('2026-11-02T18:00'),
  });
  const capture = await store.capture({
    ...mutation('c8', t('2026-11-02T17:05')),
    holdId: hold.hold.id,
    amountMicros: 600_000n,
    description: null,
    usage: usage('m-a', 120n, 80n, 150_000_000n),
  });
  expect(capture.entries).toHaveLength(2);
  expect(await store.expireBuckets(t('2026-11-03T00:00'))).toBe(1);
}

const RANGE = { from: t('2026-11-01T00:00'), to: t('2026-11-04T00:00'), granularity: 'day' as const };

/** Ranges that start and end on hours, inside hours, on days and not, and one inside a single hour. */
const RANGES: Array<{ from: Date; to: Date; granularity: Granularity }> = [
  RANGE,
  { from: t('2026-11-01T23:40'), to: t('2026-11-02T17:05:00.001'), granularity: 'week' },
  { from: t('2026-11-02T00:10'), to: t('2026-11-02T00:20'), granularity: 'month' },
  { from: t('2026-11-01T06:00'), to: t('2026-11-02T12:00'), granularity: 'day' },
  { from: t('2026-11-01T05:59:59.999'), to: t('2026-11-03T00:00:00.001'), granularity: 'day' },
  { from: t('2026-11-06T00:00'), to: t('2026-11-07T00:00'), granularity: 'day' },
  { from: t('2026-10-01T00:00'), to: t('2026-12-01T00:00'), granularity: 'month' },
];

/**
 * The store's records as the oracle reads them. `readAnalyticsSnapshot` asks for pages of 5,000, above
 * the 500 that `listCustomers` and `listUncharged` serve, so the page size is capped on the way.
 */
function snapshotOf(store: TallyStore) {
  return readAnalyticsSnapshot({
    ...store,
    listCustomers: (query) => store.listCustomers({ ...query, limit: Math.min(query.limit, 500) }),
    listUncharged: (query) => store.listUncharged({ ...query, limit: Math.min(query.limit, 500) }),
  });
}

/** Every journal metric over every range: the SQL answer is the oracle's, field for field. */
async function expectOracle(store: TallyStore, ranges = RANGES) {
  const snapshot = await snapshotOf(store);
  for (const range of ranges) {
    for (const metric of JOURNAL_METRICS) {
      const query: MetricQuery = { metric, ...range, ...(metric === 'top-customers' ? { limit: 3 } : {}) };
      expect(await store.metric(query, CATALOG), JSON.stringify(query)).toEqual(computeMetric(snapshot, query, CATALOG));
    }
  }
}

/** A store with a way to fold what its triggers queued into the rollups (writers fold every so often). */
interface Opened {
  store: SqlStore;
  fold: () => Promise<void>;
  close: () => Promise<void>;
}
type Open = () => Promise<Opened>;

function scenarioSuite(name: string, open: Open) {
  describe(`${name}: journal metrics`, () => {
    it('answers the hand-computed numbers, and the oracle on every range', async () => {
      const { store, fold, close } = await open();
      try {
        await writeScenario(store);
        const usageResult = await store.metric({ metric: 'usage', ...RANGE }, CATALOG);
        expect(usageResult.split).toEqual({
          free: { calls: 1, tokens: 75n },
          paid: { calls: 7, tokens: 5870n },
          byok: { calls: 2, tokens: 3500n },
          managed: { calls: 6, tokens: 2445n },
        });
        expect(usageResult.heatmap[6]?.[23]).toEqual({ calls: 1, tokens: 1500n });
        expect(usageResult.heatmap[0]?.[0]).toEqual({ calls: 1, tokens: 150n });
        expect(usageResult.byModel.map((m) => [m.model, m.calls, m.tokens, m.providerCostNanoUsd, m.creditsMicros])).toEqual([
          ['m-a', 4, 2220n, 3_850_000_500n, 14_600_001n],
          ['m-b', 3, 3650n, 5_800_000_000n, 3_100_001n],
          ['free-m', 1, 75n, 0n, 0n],
        ]);
        const margin = await store.metric({ metric: 'margin', ...RANGE }, CATALOG);
        expect(margin.total).toEqual({
          calls: 8,
          creditsMicros: 17_700_002n,
          revenueNanoUsd: 5_900_000_667n,
          costNanoUsd: 4_850_000_500n,
          marginNanoUsd: 1_050_000_167n,
          marginBps: 1780,
        });
        expect(margin.byTier.map((line) => [line.tier, line.calls, line.creditsMicros, line.costNanoUsd, line.marginBps])).toEqual([
          ['starter', 2, 15_000_001n, 4_000_000_000n, 2000],
          ['pro', 2, 2_000_001n, 700_000_500n, -500],
          ['legacy', 4, 700_000n, 150_000_000n, 3571],
        ]);
        expect(margin.byCustomer.map((line) => [line.customerId, line.revenueNanoUsd])).toEqual([
          ['ada', 5_000_000_667n],
          ['bob', 666_666_667n],
          ['dan', 233_333_333n],
        ]);
        const utilization = await store.metric({ metric: 'utilization', ...RANGE }, CATALOG);
        expect(utilization.tiers).toEqual([
          { tier: 'starter', grantedMicros: 16_000_000n, consumedMicros: 12_000_000n, expiredMicros: 4_000_000n, utilizationBps: 7500 },
          { tier: 'pro', grantedMicros: 0n, consumedMicros: 0n, expiredMicros: 0n, utilizationBps: null },
          { tier: 'team', grantedMicros: 0n, consumedMicros: 0n, expiredMicros: 0n, utilizationBps: null },
          { tier: 'legacy', grantedMicros: 500_000n, consumedMicros: 500_000n, expiredMicros: 0n, utilizationBps: 10_000 },
        ]);
        const top = await store.metric({ metric: 'top-customers', ...RANGE }, CATALOG);
        expect(top.customers).toEqual([
          { customerId: 'ada', tier: 'pro', creditsMicros: 15_000_002n, calls: 3, providerCostNanoUsd: 4_000_000_500n },
          { customerId: 'bob', tier: 'pro', creditsMicros: 2_000_000n, calls: 1, providerCostNanoUsd: 700_000_000n },
          { customerId: 'cy', tier: 'starter', creditsMicros: 2_000_000n, calls: 0, providerCostNanoUsd: 0n },
          { customerId: 'dan', tier: 'legacy', creditsMicros: 700_000n, calls: 4, providerCostNanoUsd: 4_950_000_000n },
        ]);
        await expectOracle(store);
        // Everything still queued, then everything folded: the same answers.
        await fold();
        await expectOracle(store);
      } finally {
        await close();
      }
    });

    it('moves calls and grants to the tier they were really on when history is saved late or a record tier changes', async () => {
      const { store, fold, close } = await open();
      try {
        await writeScenario(store);
        // Folded, so the changes below move rollups; a later capture (C9) stays queued, to be folded with the new tiers.
        await fold();
        const hold = await store.reserve({
          ...mutation('hold-2', t('2026-11-02T19:00')),
          customerId: 'dan',
          amountMicros: 100_000n,
          expiresAt: t('2026-11-02T20:00'),
        });
        await store.capture({
          ...mutation('c9', t('2026-11-02T19:30')),
          holdId: hold.hold.id,
          amountMicros: 50_000n,
          description: null,
          usage: usage('m-b', 5n, 5n, 5n),
        });
        // Saved after the calls, dated before them: team from Nov 1 12:00 (C1, C2), pro from Nov 2
        // 00:10:30 (C2 at 00:15, inside that hour), and a record of Nov 2 12:00 with a higher version
        // than v2's, which wins that instant (C3 on starter).
        await store.saveSubscription(record('ada', 'team', 3, t('2026-11-01T12:00')), 2);
        await store.saveSubscription(record('ada', 'starter', 4, t('2026-11-02T12:00')), 3);
        await store.saveSubscription(record('ada', 'pro', 5, t('2026-11-02T00:10:30')), 4);
        // Without history, the record's tier is the tier at every call and grant.
        await store.upsertCustomer({
          customerId: 'bob',
          tier: 'team',
          overdraftLimitMicros: 0n,
          unlimited: true,
          at: t('2026-11-03T00:00'),
        });
        await store.upsertCustomer({
          customerId: 'cy',
          tier: 'pro',
          overdraftLimitMicros: 0n,
          unlimited: false,
          at: t('2026-11-03T00:00'),
        });
        await store.upsertCustomer({
          customerId: 'dan',
          tier: 'starter',
          overdraftLimitMicros: 0n,
          unlimited: false,
          at: t('2026-11-03T00:00'),
        });
        // A first record for dan dated between his calls: C5 stays starter (the record's), the rest move.
        await store.saveSubscription(record('dan', 'team', 1, t('2026-11-02T14:30')), null);
        const margin = await store.metric({ metric: 'margin', ...RANGE }, CATALOG);
        // team: C1 (v3), C4 (bob's record), C6–C9 (dan's record); pro: C2 (v5); starter: C3 (v4 beats v2), C5.
        expect(margin.byTier.map((line) => [line.tier, line.calls])).toEqual([
          ['team', 6],
          ['pro', 1],
          ['starter', 2],
        ]);
        const utilization = await store.metric({ metric: 'utilization', ...RANGE }, CATALOG);
        expect(utilization.tiers.map((line) => [line.tier, line.grantedMicros])).toEqual([
          ['starter', 10_500_000n],
          ['pro', 6_000_000n],
          ['team', 0n],
        ]);
        await expectOracle(store);
      } finally {
        await close();
      }
    });
  });
}

let pglite: PGlite;
let pgliteSchemas = 0;

async function openPGlite(): Promise<Opened> {
  const schema = `analytics_journal_${++pgliteSchemas}`;
  const store = await createPGliteStore({ db: pglite, schema });
  return {
    store,
    fold: async () => {
      expect(await store.foldAnalytics()).toBe(true);
    },
    close: async () => {
      await store.close();
      await pglite.exec(`drop schema ${schema} cascade; set search_path to public`);
    },
  };
}

let postgres: TestDatabase;
let postgresSchemas = 0;

async function openPostgres(): Promise<Opened> {
  const schema = `analytics_journal_${++postgresSchemas}`;
  const store = createPostgresStore({ connectionString: postgres.url, schema, max: 8 });
  await store.migrate();
  return {
    store,
    fold: async () => {
      expect(await store.foldAnalytics()).toBe(true);
    },
    close: () => store.close(),
  };
}

beforeAll(async () => {
  pglite = await PGlite.create();
  await pglite.exec(`set timezone to '${ZONE}'`);
  postgres = await createTestDatabase('analytics_journal');
  await postgres.query(`alter database ${postgres.name} set timezone to '${ZONE}'`);
});
afterAll(async () => {
  await pglite.close();
  await postgres.drop();
});

scenarioSuite('PGlite', openPGlite);
scenarioSuite('Postgres', openPostgres);

describe('version 8 on a database that already has a journal', () => {
  it('backfills the rollups from a version 7 database, and the triggers carry on from there', async () => {
    const schema = 'analytics_journal_upgrade';
    await pglite.exec(`create schema ${schema}; set search_path to ${schema}`);
    await pglite.exec(
      'create table tally_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
    );
    for (const migration of migrations.filter((m) => m.version <= 7)) {
      await pglite.exec(migration.sql);
      await pglite.query('insert into tally_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
    }
    const store = await createPGliteStore({ db: pglite, schema, migrate: false });
    try {
      await writeScenario(store);
      // History saved late, before the upgrade: the backfill reads the tier at each call as it is now.
      await store.saveSubscription(record('ada', 'team', 3, t('2026-11-01T12:00')), 2);
      const applied = await store.migrate();
      expect(applied.applied).toContain(8);
      await expectOracle(store);
      await store.recordUsage({
        ...mutation('after', t('2026-11-02T13:30')),
        customerId: 'cy',
        amountMicros: 1_000_000n,
        description: null,
        usage: usage('m-b', 1n, 1n, 1n),
      });
      await store.upsertCustomer({ customerId: 'cy', tier: 'team', overdraftLimitMicros: 0n, unlimited: false, at: t('2026-11-03T00:00') });
      await expectOracle(store);
    } finally {
      await store.close();
      await pglite.exec(`drop schema ${schema} cascade; set search_path to public`);
    }
  });
});

describe('Postgres: concurrent writers', () => {
  it('writers that share rollup rows neither wait for each other nor lose a call', async () => {
    const { store, close } = await openPostgres();
    try {
      const customers = Array.from({ length: 16 }, (_, i) => `w${String(i).padStart(2, '0')}`);
      for (const customerId of customers) {
        await store.upsertCustomer({ customerId, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: t('2026-11-01T00:00') });
        await store.grant({
          ...mutation(`g-${customerId}`, t('2026-11-01T00:00')),
          customerId,
          kind: 'allowance',
          amountMicros: 1_000_000_000n,
          expiresAt: null,
          description: null,
        });
      }
      // Sixteen writers in the same hours on the same two models: every call updates the same hourly
      // rows. Small batches go item by item, so one transaction writes several of them in turn.
      await Promise.all(
        customers.map(async (customerId, w) => {
          for (let i = 0; i < 12; i++) {
            const at = new Date(t('2026-11-02T10:00').getTime() + ((i * 7 + w) % 120) * 60_000);
            const model = (i + w) % 2 === 0 ? 'm-a' : 'm-b';
            if (i % 3 === 0) {
              await store.recordUsageBatch(
                [0, 1, 2].map((n) => ({
                  ...mutation(`${customerId}-${i}-${n}`, at),
                  customerId,
                  amountMicros: 1000n + BigInt(n),
                  description: null,
                  usage: usage(n % 2 === 0 ? model : 'm-c', 10n, 5n, 100n),
                })),
              );
            } else if (i % 3 === 1) {
              await store.recordUsage({
                ...mutation(`${customerId}-${i}`, at),
                customerId,
                amountMicros: 2000n,
                description: null,
                usage: usage(model, 20n, 10n, 200n),
              });
            } else {
              await store.recordUncharged([
                logged(customers[(w + 1) % customers.length] as string, `${customerId}-${i}`, model, [5, 5], 50n, 'managed', false, at),
              ]);
            }
          }
        }),
      );
      const found = await store.metric({ metric: 'usage', from: t('2026-11-02T00:00'), to: t('2026-11-03T00:00') }, CATALOG);
      // Per writer: 4 batches of 3, 4 usages, 4 logged calls.
      expect(found.split.paid.calls).toBe(16 * 20);
      await expectOracle(store, [
        { from: t('2026-11-02T00:00'), to: t('2026-11-03T00:00'), granularity: 'day' },
        { from: t('2026-11-02T10:30'), to: t('2026-11-02T11:17'), granularity: 'day' },
      ]);
    } finally {
      await close();
    }
  });
});

const ACTIVE_DAYS_DRIFT = `
  with want as (
    select customer_id, day, gap, coalesce(least(day - lag(day) over (partition by customer_id order by day), 32), 32) as want
    from tally_active_days
  ), counted as (
    select day, gap, count(*) as customers from tally_active_days group by day, gap
  )
  select 'gap' as problem, customer_id, day, gap, want as expected from want where gap <> want
  union all
  select 'histogram', null, coalesce(c.day, g.day), coalesce(c.gap, g.gap), coalesce(c.customers, 0)
  from counted c full join (select * from tally_active_gaps where customers <> 0) g on g.day = c.day and g.gap = c.gap
  where c.customers is distinct from g.customers`;

describe('PGlite against the oracle on random journals', () => {
  const START = t('2026-11-01T00:00').getTime();
  // Instants over a week: on an hour (a rollup boundary), on a midnight, or anywhere.
  const instant = fc.oneof(
    fc.integer({ min: 0, max: 7 }).map((day) => new Date(START + day * DAY)),
    fc.integer({ min: 0, max: 7 * 24 }).map((hour) => new Date(START + hour * HOUR)),
    fc.integer({ min: 0, max: 7 * DAY - 1 }).map((ms) => new Date(START + ms)),
  );
  const TIERS = ['starter', 'pro', 'legacy'];
  const details = fc
    .record({
      model: fc.constantFrom('m-a', 'm-b'),
      tokens: fc.integer({ min: 0, max: 5000 }),
      cost: fc.integer({ min: 0, max: 10_000_000 }),
      byok: fc.boolean(),
    })
    .map(({ model, tokens, cost, byok }) => usage(model, BigInt(tokens), BigInt(tokens % 777), BigInt(cost), byok ? 'byok' : 'managed'));
  const who = fc.integer({ min: 0, max: 2 });
  const amount = fc.integer({ min: 0, max: 4_000_000 }).map(BigInt);
  const operation = fc.oneof(
    fc.record({
      op: fc.constant('grant' as const),
      who,
      at: instant,
      amount: amount.map((a) => a + 1n),
      allowance: fc.boolean(),
      hours: fc.option(fc.integer({ min: 1, max: 60 })),
    }),
    fc.record({ op: fc.constant('usage' as const), who, at: instant, amount, details: fc.option(details) }),
    fc.record({ op: fc.constant('spend' as const), who, at: instant, amount }),
    fc.record({
      op: fc.constant('batch' as const),
      items: fc.array(fc.record({ who, at: instant, amount, details }), { minLength: 1, maxLength: 6 }),
    }),
    fc.record({ op: fc.constant('logged' as const), who, at: instant, details, free: fc.boolean() }),
    fc.record({ op: fc.constant('capture' as const), who, at: instant, amount, details }),
    fc.record({ op: fc.constant('expire' as const), at: instant }),
    fc.record({ op: fc.constant('save' as const), who, at: instant, tier: fc.constantFrom(...TIERS) }),
    fc.record({ op: fc.constant('tier' as const), who, tier: fc.constantFrom(...TIERS) }),
    fc.record({ op: fc.constant('fold' as const) }),
  );
  const query = fc
    .record({
      // customers too: its active counts come from the days the folds add (schema v10).
      metric: fc.constantFrom(...JOURNAL_METRICS, 'customers' as const),
      a: instant,
      b: instant,
      granularity: fc.constantFrom<Granularity>('day', 'week', 'month'),
      limit: fc.integer({ min: 1, max: 4 }),
    })
    .filter(({ a, b }) => a.getTime() !== b.getTime())
    .map(({ metric, a, b, granularity, limit }) => ({
      metric,
      from: new Date(Math.min(a.getTime(), b.getTime())),
      to: new Date(Math.max(a.getTime(), b.getTime())),
      granularity,
      ...(metric === 'top-customers' ? { limit } : {}),
    }));

  it('SQL equals the oracle for random operations and random ranges', async () => {
    const { store, fold, close } = await openPGlite();
    let run = 0;
    // Refusals (no credit, an expired hold) are part of the game: the journal simply lacks them.
    const attempt = async (write: () => Promise<unknown>) => {
      try {
        await write();
      } catch (error) {
        if (!(error instanceof TallyError)) throw error;
      }
    };
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(operation, { minLength: 1, maxLength: 25 }),
          fc.array(query, { minLength: 1, maxLength: 4 }),
          async (operations, queries) => {
            // Each run starts from an empty journal, so a counterexample holds all that led to it.
            await pglite.exec(EMPTY_TALLY_TABLES);
            const prefix = `r${++run}`;
            const id = (who: number) => `${prefix}-${who}`;
            const versions = new Map<string, number>();
            for (let who = 0; who < 3; who++) {
              await store.upsertCustomer({
                customerId: id(who),
                tier: TIERS[who] as string,
                overdraftLimitMicros: who === 1 ? 1_000_000n : 0n,
                unlimited: who === 2 && run % 2 === 0,
                at: new Date(START - DAY),
              });
            }
            for (const [n, step] of operations.entries()) {
              const key = `${prefix}-${n}`;
              switch (step.op) {
                case 'grant':
                  await attempt(() =>
                    store.grant({
                      ...mutation(key, step.at),
                      customerId: id(step.who),
                      kind: step.allowance ? 'allowance' : 'purchased',
                      amountMicros: step.amount,
                      expiresAt: step.hours === null ? null : new Date(step.at.getTime() + step.hours * HOUR),
                      description: null,
                    }),
                  );
                  break;
                case 'usage':
                  await store.recordUsage({
                    ...mutation(key, step.at),
                    customerId: id(step.who),
                    amountMicros: step.amount,
                    description: null,
                    usage: step.details,
                  });
                  break;
                case 'spend':
                  await attempt(() =>
                    store.spend({
                      ...mutation(key, step.at),
                      customerId: id(step.who),
                      amountMicros: step.amount,
                      description: null,
                      usage: null,
                    }),
                  );
                  break;
                case 'batch':
                  await store.recordUsageBatch(
                    step.items.map((item, i) => ({
                      ...mutation(`${key}-${i}`, item.at),
                      customerId: id(item.who),
                      amountMicros: item.amount,
                      description: null,
                      usage: item.details,
                    })),
                  );
                  break;
                case 'logged':
                  await store.recordUncharged([
                    logged(
                      id(step.who),
                      key,
                      step.details.model,
                      [Number(step.details.inputTokens), Number(step.details.outputTokens)],
                      step.details.providerCostNanoUsd,
                      step.details.keySource,
                      step.free,
                      step.at,
                    ),
                  ]);
                  break;
                case 'capture':
                  await attempt(async () => {
                    const hold = await store.reserve({
                      ...mutation(`${key}-hold`, step.at),
                      customerId: id(step.who),
                      amountMicros: step.amount + 1n,
                      expiresAt: new Date(step.at.getTime() + HOUR),
                    });
                    await store.capture({
                      ...mutation(key, new Date(step.at.getTime() + 60_000)),
                      holdId: hold.hold.id,
                      amountMicros: step.amount,
                      description: null,
                      usage: step.details,
                    });
                  });
                  break;
                case 'expire':
                  await store.expireBuckets(step.at);
                  break;
                case 'save': {
                  const version = (versions.get(id(step.who)) ?? 0) + 1;
                  await store.saveSubscription(record(id(step.who), step.tier, version, step.at), version === 1 ? null : version - 1);
                  versions.set(id(step.who), version);
                  break;
                }
                case 'tier':
                  await store.upsertCustomer({
                    customerId: id(step.who),
                    tier: step.tier,
                    overdraftLimitMicros: step.who === 1 ? 1_000_000n : 0n,
                    unlimited: step.who === 2 && run % 2 === 0,
                    at: new Date(START - DAY),
                  });
                  break;
                case 'fold':
                  await fold();
                  break;
              }
            }
            const snapshot = await snapshotOf(store);
            for (const q of queries) expect(await store.metric(q, CATALOG)).toEqual(computeMetric(snapshot, q, CATALOG));
            // The active days (schema v10): each row's gap is the days since the customer's previous row
            // (32 at most, and for the first), and the histogram counts the rows by day and gap.
            const { rows: drift } = await pglite.query(ACTIVE_DAYS_DRIFT);
            expect(drift).toEqual([]);
          },
        ),
        { numRuns: 50 },
      );
    } finally {
      await close();
    }
  });
});
