/**
 * The differential test of docs/analytics.md: seeded sample data (customers with a real subscription
 * history, usage at its own times) written into the memory store, PGlite and Postgres, then every
 * metric asked for random ranges (inside, around and outside the data, at odd instants as well as at
 * period boundaries) and granularities. Each store's answer must equal the brute-force oracle's
 * (`computeMetric`) on a snapshot read from that same store, and the three snapshots must give the
 * same answers. fast-check prints the failing query and the seed that replays it; TALLY_DIFF_SEED
 * picks other sample data and TALLY_DIFF_RUNS the number of queries per metric.
 *
 * The stores are the adapters' source, as their own tests use them, so the SQL under test is the
 * checkout's whether or not the package was built.
 */
import {
  type AnalyticsSnapshot,
  analyticsCatalog,
  computeMetric,
  createMemoryStore,
  createTally,
  GRANULARITIES,
  METRICS,
  type MetricName,
  type MetricQuery,
  monthlyPrice,
  readAnalyticsSnapshot,
  sampleCatalog,
  type TallyStore,
} from '@tally/core';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore } from '../../packages/adapters/src/pglite/index.js';
import { createPostgresStore } from '../../packages/adapters/src/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../../packages/adapters/src/test-support/postgres.js';

const SEED = Number(process.env.TALLY_DIFF_SEED ?? 20_261_101);
const CUSTOMERS = 120;
const DAYS = 60;
/** Random queries per metric (each runs on three stores and the oracle three times). */
const RUNS = Number(process.env.TALLY_DIFF_RUNS ?? 20);

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1);
const START = END - DAYS * DAY;
const catalog = analyticsCatalog(sampleCatalog);

interface Target {
  name: string;
  store: TallyStore;
  snapshot: AnalyticsSnapshot;
}

let db: TestDatabase | undefined;
const targets: Target[] = [];
const closing: Array<() => Promise<void>> = [];

/**
 * The store's records as the oracle reads them. `readAnalyticsSnapshot` asks for pages of 5,000, above
 * the 500 that `listCustomers` and `listUncharged` serve, so the page size is capped on the way.
 */
function snapshotOf(store: TallyStore): Promise<AnalyticsSnapshot> {
  return readAnalyticsSnapshot({
    ...store,
    listCustomers: (query) => store.listCustomers({ ...query, limit: Math.min(query.limit, 500) }),
    listUncharged: (query) => store.listUncharged({ ...query, limit: Math.min(query.limit, 500) }),
  });
}

async function seeded(name: string, store: TallyStore): Promise<Target> {
  const clock = createFakeClock();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  await applySampleData(tally, generateSampleData({ seed: SEED, customers: CUSTOMERS, days: DAYS }), (at) => clock.set(at));
  return { name, store, snapshot: await snapshotOf(store) };
}

// Filling the stores takes about 20 s on two idle cores; other test files run beside this one, so the hook gets more room.
beforeAll(async () => {
  db = await createTestDatabase('differential');
  const postgres = createPostgresStore({ connectionString: db.url, max: 4 });
  closing.push(() => postgres.close());
  await postgres.migrate();
  const pglite = await createPGliteStore();
  closing.push(() => pglite.close());
  // Postgres works in its own process while PGlite and the memory store fill this one.
  targets.push(...(await Promise.all([seeded('memory', createMemoryStore()), seeded('pglite', pglite), seeded('postgres', postgres)])));
}, 180_000);

afterAll(async () => {
  for (const close of closing) await close();
  await db?.drop();
});

// ---- the queries

const instant = (from: number, to: number) => fc.integer({ min: from, max: to });
/** Midnights, Monday midnights and the first of a month, where buckets start. */
const boundary = fc.integer({ min: -40, max: DAYS + 40 }).chain((day) => {
  const at = new Date(START + day * DAY);
  const monday = at.getTime() - ((at.getUTCDay() + 6) % 7) * DAY;
  return fc.constantFrom(at.getTime(), monday, Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
});
const edge = fc.oneof(instant(START - 40 * DAY, END + 40 * DAY), boundary);
/** `[from, to)`: mostly inside or across the data's span, sometimes wholly outside it, from a millisecond to 200 days. */
const range = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(edge, edge).filter(([a, b]) => a !== b) },
  { weight: 1, arbitrary: fc.tuple(edge, instant(1, 3 * DAY)).map(([a, length]) => [a, a + length] as const) },
  { weight: 1, arbitrary: fc.tuple(edge, instant(DAYS * DAY, 200 * DAY)).map(([a, length]) => [a - length, a] as const) },
);

function queryOf(metric: MetricName): fc.Arbitrary<MetricQuery> {
  return fc
    .record({
      range,
      granularity: fc.constantFrom(...GRANULARITIES),
      limit: metric === 'top-customers' ? fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }) : fc.constant(undefined),
    })
    .map(({ range: [a, b], granularity, limit }) => ({
      metric,
      from: new Date(Math.min(a, b)),
      to: new Date(Math.max(a, b)),
      granularity,
      ...(limit === undefined ? {} : { limit }),
    }));
}

describe(`analytics on seeded sample data (seed ${SEED}, ${CUSTOMERS} customers × ${DAYS} days): memory, PGlite and Postgres agree with the oracle`, () => {
  for (const metric of METRICS) {
    it(`${metric}`, async () => {
      await fc.assert(
        fc.asyncProperty(queryOf(metric), async (query) => {
          const expected = computeMetric((targets[0] as Target).snapshot, query, catalog);
          for (const target of targets) {
            // The same data in every store, so every snapshot gives the oracle's answer.
            if (target !== targets[0]) expect(computeMetric(target.snapshot, query, catalog), `oracle on ${target.name}`).toEqual(expected);
            expect(await target.store.metric(query, catalog), target.name).toEqual(expected);
          }
        }),
        { numRuns: RUNS },
      );
    });
  }
});

// ---- the data is realistic enough for the comparison to mean something

/** Each customer's MRR at `t` (docs/analytics.md), straight from the history. */
function mrrAt(snapshot: AnalyticsSnapshot, t: number): Map<string, bigint> {
  const mrr = new Map<string, bigint>();
  for (const [customerId, history] of snapshot.subscriptions) {
    let state: (typeof history)[number] | undefined;
    for (const record of history) {
      if (record.updatedAt.getTime() <= t && (!state || record.version > state.version)) state = record;
    }
    const paying = state?.status === 'active' || state?.status === 'past_due';
    mrr.set(customerId, paying && state ? monthlyPrice(state.tier, catalog) : 0n);
  }
  return mrr;
}

describe('the sample data', () => {
  it('has MRR at the end, and every kind of MRR movement day by day over its span', () => {
    const { snapshot } = targets[0] as Target;
    const end = [...mrrAt(snapshot, END).values()].reduce((a, b) => a + b, 0n);
    expect(end).toBeGreaterThan(0n);
    // When each customer first had MRR: the oldest record of a paying state.
    const firstMrr = new Map<string, number>();
    for (const [customerId, history] of snapshot.subscriptions) {
      const first = history.find((r) => (r.status === 'active' || r.status === 'past_due') && monthlyPrice(r.tier, catalog) > 0n);
      if (first) firstMrr.set(customerId, first.updatedAt.getTime());
    }
    const seen = new Set<string>();
    let before = mrrAt(snapshot, START);
    for (let t = START + DAY; t <= END; t += DAY) {
      const after = mrrAt(snapshot, t);
      for (const [customerId, b] of after) {
        const a = before.get(customerId) ?? 0n;
        if (a === 0n && b > 0n) seen.add((firstMrr.get(customerId) as number) <= t - DAY ? 'reactivation' : 'new');
        else if (a > 0n && b === 0n) seen.add('churn');
        else if (a > 0n && b > a) seen.add('expansion');
        else if (b > 0n && b < a) seen.add('contraction');
      }
      before = after;
    }
    expect([...seen].sort()).toEqual(['churn', 'contraction', 'expansion', 'new', 'reactivation']);
  });

  it('has calls on every model, BYOK and free calls, and calls on every day of the week at many hours', () => {
    const { snapshot } = targets[0] as Target;
    const charged = snapshot.entries.filter((e) => e.usage !== null);
    const models = new Set([...charged.map((e) => e.usage?.model), ...snapshot.uncharged.map((c) => c.model)]);
    expect([...models].sort()).toEqual(Object.keys(sampleCatalog.models).sort());
    expect(snapshot.uncharged.some((c) => c.keySource === 'byok')).toBe(true);
    expect(snapshot.uncharged.some((c) => c.free)).toBe(true);
    const times = [...charged.map((e) => e.createdAt), ...snapshot.uncharged.map((c) => c.at)];
    expect(new Set(times.map((at) => at.getUTCDay())).size).toBe(7);
    // Calls keep their own time (08:00–23:00), not the time their batch was written.
    expect(new Set(charged.map((e) => e.createdAt.getUTCHours())).size).toBeGreaterThanOrEqual(15);
  });

  it('is the same data in every store', () => {
    const summary = (s: AnalyticsSnapshot) => ({
      customers: s.customers.length,
      entries: s.entries.length,
      uncharged: s.uncharged.length,
      subscriptions: [...s.subscriptions.values()].reduce((n, history) => n + history.length, 0),
    });
    const [memory, ...sql] = targets as [Target, ...Target[]];
    expect(summary(memory.snapshot).subscriptions).toBeGreaterThan(CUSTOMERS);
    for (const target of sql) expect(summary(target.snapshot), target.name).toEqual(summary(memory.snapshot));
  });
});
