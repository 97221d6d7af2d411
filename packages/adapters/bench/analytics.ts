// `pnpm bench:analytics`: every metric of docs/analytics.md on a large seeded data set, on Postgres and
// on PGlite. The seeding is part of the bench (not of CI): sample data for 10,000 customers over 90
// days (subscription history included), its usage thinned deterministically to about 1,000,000
// charged usage entries, written through the public API. Then each metric runs on random ranges
// inside the data (random start, 1–90 days, day/week/month), one query at a time after a warm-up;
// reported: p50 and p95 per metric and store. Nothing here asserts; a missed goal prints FAIL and
// still exits 0. Errors exit non-zero.
//
//   BENCH_CUSTOMERS          default 10000
//   BENCH_USAGE              target calls (charged and logged), default 1400000: about 1,045,000 usage entries
//   BENCH_QUERIES            timed queries per metric and store, default 40
//   BENCH_PGLITE=0           skip PGlite (its seeding takes several minutes)
//   BENCH_POSTGRES=0         skip Postgres
//   BENCH_KEEP_DATABASE=name seed Postgres into this database and keep it; a later run with the same
//                            name and data set measures it again without seeding (drop it yourself)
//   TALLY_TEST_DATABASE_URL  admin URL; the bench creates and drops its own database tally_bench_analytics_<pid>
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { createPGliteStore } from '@tally/adapters/pglite';
import { createPostgresStore } from '@tally/adapters/postgres';
import { createTally, METRICS, type MetricName, sampleCatalog, type TallyStore } from '@tally/core';
import { applySampleData, createFakeClock, createSeededRandom, generateSampleData, type SampleEvent } from '@tally/core/testing';
import pg from 'pg';
import { benchDatabase, goal } from './support.ts';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const USAGE = Number(process.env.BENCH_USAGE ?? 1_400_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 40);
const PGLITE = process.env.BENCH_PGLITE !== '0';
const POSTGRES = process.env.BENCH_POSTGRES !== '0';
const ADMIN_URL = process.env.TALLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEEP = process.env.BENCH_KEEP_DATABASE;
if (KEEP !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(KEEP)) throw new RangeError('BENCH_KEEP_DATABASE must be a lower-case SQL name');
const DATABASE = KEEP ?? `tally_bench_analytics_${process.pid}`;
const DAYS = 90;
const DAY = 86_400_000;
const GOAL_P95_MS = 100;
for (const [name, value] of [
  ['BENCH_CUSTOMERS', CUSTOMERS],
  ['BENCH_USAGE', USAGE],
  ['BENCH_QUERIES', QUERIES],
] as const) {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number ≥ 1`);
}

const START = new Date(Date.UTC(2026, 10, 1) - DAYS * DAY);
const END = new Date(Date.UTC(2026, 10, 1));

/**
 * The sample data with its usage thinned (each call kept by a seeded draw) or thickened (a call made
 * again a second later, under a key of its own, by the same draw) to about USAGE calls. At the default
 * size the generator's 90 days make about 1,331,000 calls, of which about 993,000 are charged entries
 * (free models and BYOK without a fee are only logged), so the default USAGE thickens them a little to
 * pass the 1,000,000 entries the issue asks for.
 */
function dataset(): { events: SampleEvent[]; usage: number } {
  const events = generateSampleData({ seed: 2026, customers: CUSTOMERS, days: DAYS, start: START });
  const usage = events.filter((e) => e.type === 'usage').length;
  const rate = USAGE / Math.max(1, usage);
  const random = createSeededRandom(7);
  const kept: SampleEvent[] = [];
  for (const event of events) {
    if (event.type !== 'usage') {
      kept.push(event);
    } else if (rate <= 1) {
      if (random.next() < rate) kept.push(event);
    } else {
      kept.push(event);
      if (random.next() < rate - 1) kept.push({ ...event, at: new Date(event.at.getTime() + 1_000), key: `${event.key}:again` });
    }
  }
  // A repeat a second later can pass an event of another customer; the seeding applies events in time order.
  kept.sort((a, b) => a.at.getTime() - b.at.getTime());
  return { events: kept, usage: kept.filter((e) => e.type === 'usage').length };
}

async function seed(store: TallyStore, events: SampleEvent[], label: string): Promise<number> {
  const clock = createFakeClock(START);
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  const started = performance.now();
  let last = started;
  await applySampleData(
    tally,
    events,
    (at) => clock.set(at),
    (done, total) => {
      const now = performance.now();
      if (now - last > 15_000) {
        last = now;
        process.stderr.write(`  ${label}: ${Math.round((done / total) * 100)} % seeded\n`);
      }
    },
  );
  return (performance.now() - started) / 1000;
}

interface Query {
  metric: MetricName;
  from: Date;
  to: Date;
  granularity: 'day' | 'week' | 'month';
}

/** The same random ranges for every store: a start in the data, 1–90 days long (clipped to its end). */
function queries(): Query[] {
  const random = createSeededRandom(42);
  const list: Query[] = [];
  for (const metric of METRICS) {
    // One full-range query at day granularity, the heaviest, then random ones.
    list.push({ metric, from: START, to: END, granularity: 'day' });
    for (let i = 1; i < QUERIES; i++) {
      const from = new Date(START.getTime() + random.int(0, DAYS - 1) * DAY + random.int(0, DAY - 1));
      const to = new Date(Math.min(END.getTime(), from.getTime() + random.int(1, DAYS) * DAY));
      list.push({ metric, from, to, granularity: random.pick(['day', 'week', 'month'] as const) });
    }
  }
  return list;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Row {
  store: string;
  metric: MetricName;
  p50: number;
  p95: number;
  max: number;
}

async function measure(label: string, store: TallyStore): Promise<Row[]> {
  const catalog = createTally({ catalog: sampleCatalog, store }).analytics.catalog();
  const all = queries();
  const rows: Row[] = [];
  for (const metric of METRICS) {
    const mine = all.filter((q) => q.metric === metric);
    // Warm-up: plans and caches, as a running server has them.
    for (const q of mine.slice(0, 3)) await store.metric(q, catalog);
    const times: number[] = [];
    for (const q of mine) {
      const started = performance.now();
      await store.metric(q, catalog);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    rows.push({ store: label, metric, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1) as number });
  }
  return rows;
}

const ms = (value: number) => (value < 10 ? value.toFixed(1) : Math.round(value).toString());

const database = benchDatabase(ADMIN_URL, DATABASE);

async function main(): Promise<void> {
  const { events, usage } = dataset();
  const customers = events.filter((e) => e.type === 'customer').length;
  process.stderr.write(
    `dataset: ${customers.toLocaleString('en-US')} customers, ${usage.toLocaleString('en-US')} calls, ${events.length.toLocaleString('en-US')} events\n`,
  );
  const rows: Row[] = [];
  const seeding: string[] = [];

  let version = '?';
  let entries = 0;
  if (POSTGRES) {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    admin.on('error', () => {});
    await admin.connect();
    try {
      version = (await admin.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v ?? '?';
      if (KEEP) {
        const found = await admin.query('select 1 from pg_database where datname = $1', [KEEP]);
        if (found.rowCount === 0) await admin.query(`create database ${DATABASE}`);
      } else {
        await admin.query(`drop database if exists ${DATABASE} with (force)`);
        await admin.query(`create database ${DATABASE}`);
        database.created();
      }
    } finally {
      await admin.end();
    }
    try {
      const url = new URL(ADMIN_URL);
      url.pathname = `/${DATABASE}`;
      const store = createPostgresStore({ connectionString: url.toString(), max: 4 });
      try {
        await store.migrate();
        let seconds: number | null = null;
        const client = new pg.Client({ connectionString: url.toString() });
        await client.connect();
        try {
          // A kept database that an earlier run finished seeding (it left a mark) is measured as it is.
          const marked = await client.query(`select to_regclass('bench_seeded') is not null as seeded`);
          const seeded = KEEP !== undefined && marked.rows[0]?.seeded === true;
          seconds = seeded ? null : await seed(store, events, 'Postgres');
          if (KEEP !== undefined && !seeded) await client.query('create table bench_seeded (at timestamptz default now())');
          await client.query('vacuum analyze');
          entries = Number(
            (await client.query<{ n: string }>(`select count(*)::text as n from tally_entries where usage is not null`)).rows[0]?.n,
          );
        } finally {
          await client.end();
        }
        seeding.push(
          seconds === null ? `Postgres: database ${DATABASE} as an earlier run seeded it` : `Postgres seeded in ${Math.round(seconds)} s`,
        );
        rows.push(...(await measure('Postgres', store)));
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  }

  if (PGLITE) {
    const db = new PGlite();
    const store = await createPGliteStore({ db });
    try {
      await store.migrate();
      const seconds = await seed(store, events, 'PGlite');
      await db.exec('vacuum analyze');
      const counted = Number(
        (await db.query<{ n: string }>(`select count(*)::text as n from tally_entries where usage is not null`)).rows[0]?.n,
      );
      if (!POSTGRES) entries = counted;
      seeding.push(`PGlite (in memory) seeded in ${Math.round(seconds)} s`);
      rows.push(...(await measure('PGlite', store)));
    } finally {
      await store.close();
      await db.close();
    }
  }

  console.log(
    `Tally analytics bench — Node ${process.version}, ${os.cpus().length} CPUs, Postgres ${version}; ` +
      `${customers.toLocaleString('en-US')} customers, ${entries.toLocaleString('en-US')} usage entries with calls, ` +
      `${QUERIES} queries per metric (one full 90-day range by day, the rest random ranges of 1–90 days, day/week/month)\n`,
  );
  console.log('| store | metric | p50 ms | p95 ms | max ms |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.store} | ${r.metric} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} |`);
  console.log(`\n${seeding.join('; ')}.\n\nGoals:`);
  const postgres = rows.filter((r) => r.store === 'Postgres');
  const worst = postgres.reduce<Row | null>((a, b) => (a === null || b.p95 > a.p95 ? b : a), null);
  if (worst) {
    console.log(
      goal(
        `every query p95 < ${GOAL_P95_MS} ms on Postgres`,
        postgres.every((r) => r.p95 < GOAL_P95_MS),
        `slowest: ${worst.metric} at ${ms(worst.p95)} ms`,
      ),
    );
  }
  console.log(
    goal(
      '≥ 1,000,000 usage entries and 10,000 customers',
      entries >= 1_000_000 && customers >= 10_000,
      `${entries.toLocaleString('en-US')} entries`,
    ),
  );
}

main().catch(async (error) => {
  console.error(error);
  await database.drop();
  process.exit(1);
});
