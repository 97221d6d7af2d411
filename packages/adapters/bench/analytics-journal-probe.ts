// `node bench/analytics-journal-probe.ts`: what the journal metrics (schema version 8) cost on
// Postgres, measured in one run. Not the analytics benchmark; a probe for the rollups' two sides:
//
// 1. Queries: 10,000 customers with subscription histories, monthly allowances and 1,000,000 usage
//    entries over 90 days (plus logged calls and expiries), written with plain inserts into the
//    journal and the call log so the rollups are built by the very triggers the ledger fires. Then
//    each journal metric over PROBE_QUERIES random ranges inside the data (odd instants, every
//    granularity), through `store.metric`: p50, p95, max of the wall time, and p50, p95 of the CPU
//    time the database backend spent (read from /proc, so the database must run on this machine):
//    on a shared machine the wall time includes waiting for a core, the CPU time does not.
// 2. Writes: the same 50,000 `recordUsageBatch` items (batches of 1,000, 10,000 customers with an
//    allowance each) and PROBE_OPS single `recordUsage` and `spend` calls, once on a schema without
//    version 8's triggers and indexes, once with them.
//
//   PROBE_QUERIES            ranges per metric (default 60)
//   PROBE_OPS                single operations per cell (default 2,000)
//   PROBE_DATABASE           keep the data in this database and reuse it on the next run (default: a
//                            database of the run's own, tally_probe_<pid>, dropped at the end)
//   TALLY_TEST_DATABASE_URL  admin URL
// `--queries-only` or `--writes-only` runs one half.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPostgresStore, type SqlStore } from '@tally/adapters/postgres';
import { type AnalyticsCatalog, type ChargeInput, createTally, type MetricName, sampleCatalog } from '@tally/core';
import pg from 'pg';
import { benchDatabase } from './support.ts';

const ADMIN_URL = process.env.TALLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEEP = process.env.PROBE_DATABASE;
const DATABASE = KEEP ?? `tally_probe_${process.pid}`;
const QUERIES = Number(process.env.PROBE_QUERIES ?? 60);
const OPS = Number(process.env.PROBE_OPS ?? 2000);
const CUSTOMERS = 10_000;
const ENTRIES = 1_000_000;
const DAYS = 90;
const DAY = 86_400_000;
const START = Date.UTC(2026, 7, 1);

const CATALOG: AnalyticsCatalog = {
  currency: 'USD',
  microsPerUsd: sampleCatalog.microsPerUsd,
  tiers: sampleCatalog.tiers.map((tier) => ({ id: tier.id, price: tier.price, interval: tier.interval })),
};

// Deterministic data: setseed, then per day one insert of that day's usage (hours 8–22 UTC, six
// models, 15 % BYOK), so the rollups grow the way a live ledger grows them, a day at a time.
const SEED = (schema: string) => `
set search_path to ${schema};
select setseed(0.42);
insert into tally_customers (id, tier, created_at)
select 'c' || lpad(i::text, 5, '0'), (array['trial', 'starter', 'professional', 'enterprise'])[1 + i % 4],
       timestamptz '${new Date(START).toISOString()}' - interval '30 days'
from generate_series(0, ${CUSTOMERS - 1}) i;
insert into tally_subscription_history
select 'c' || lpad(i::text, 5, '0'), (array['trial', 'starter', 'professional', 'enterprise'])[1 + (i + v) % 4], 'active', 'month',
       t, t + interval '30 days', null, null, null, null, 'sandbox', null, null, null, v,
       timestamptz '${new Date(START).toISOString()}' - interval '30 days', t
from generate_series(0, ${CUSTOMERS - 1}) i, generate_series(1, 4) v,
     lateral (select timestamptz '${new Date(START).toISOString()}' + ((v - 1) * 25 + i % 20) * interval '1 day' + (i % 86400) * interval '1 second' as t) s;
insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta, created_at)
select nextval('tally_operation_seq'), 'c' || lpad(i::text, 5, '0'), 'grant', 'system:grants', 'customer:c' || lpad(i::text, 5, '0'),
       50000000, i * 10 + p, 50000000, timestamptz '${new Date(START).toISOString()}' + (p * 30 + i % 30) * interval '1 day' + (i % 3600) * interval '1 second'
from generate_series(0, ${CUSTOMERS - 1}) i, generate_series(0, 2) p
order by 9;
`;

const DAY_OF_USAGE = (schema: string, day: number, count: number) => `
set search_path to ${schema};
with calls as (
  select 'c' || lpad(c::text, 5, '0') as customer_id, c,
         timestamptz '${new Date(START).toISOString()}' + ${day} * interval '1 day' + (8 * 3600 + floor(random() * 15 * 3600)) * interval '1 second' as at,
         (array['openai/gpt-4o-mini', 'openai/gpt-4o', 'anthropic/claude-sonnet-4', 'google/gemini-2.0-flash-lite', 'mistralai/mistral-nemo', 'meta-llama/llama-3.3-70b-instruct'])[1 + floor(random() * 6)::int] as model,
         floor(random() * 6000)::bigint as input, floor(random() * 1500)::bigint as output, random() < 0.15 as byok,
         1 + floor(random() * 40000)::bigint as amount
  from (select floor(random() * ${CUSTOMERS})::int as c from generate_series(1, ${count})) picks
)
insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta, usage, created_at)
select nextval('tally_operation_seq'), customer_id, 'usage', 'customer:' || customer_id, 'system:revenue', amount,
       case when c % 5 = 0 then null else c * 10 + least(${Math.floor(day / 30)}, 2) end,
       case when c % 5 = 0 then 0 else -amount end,
       jsonb_build_object('model', model, 'inputTokens', input::text, 'cachedInputTokens', '0', 'outputTokens', output::text,
                          'reasoningTokens', '0', 'providerCostNanoUsd', (input * 150 + output * 600)::text, 'markupBps', 1000,
                          'catalogVersion', 'probe', 'generationId', null, 'keySource', case when byok then 'byok' else 'managed' end),
       at
from calls
order by at;
insert into tally_uncharged_calls (customer_id, model, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens,
                                   provider_cost_nano_usd, key_source, free, catalog_version, idempotency_key, at)
select 'c' || lpad(c::text, 5, '0'), 'meta-llama/llama-3.3-70b-instruct:free', 500, 0, 200, 0, 0, 'managed', true, 'probe',
       'probe-${day}-' || n, timestamptz '${new Date(START).toISOString()}' + ${day} * interval '1 day' + (8 * 3600 + floor(random() * 15 * 3600)) * interval '1 second'
from (select n, floor(random() * ${CUSTOMERS})::int as c from generate_series(1, ${Math.floor(count / 10)}) n) picks;
`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function probeQueries(admin: pg.Client, url: string): Promise<void> {
  const schema = 'probe_queries';
  // One connection, so the backend whose CPU time is read is the one answering.
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0, options: `-c search_path=${schema}` });
  await admin.query(`create schema if not exists ${schema}`);
  const store = createPostgresStore({ pool });
  await store.migrate();
  const [{ pid }] = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows as [{ pid: number }];
  // utime + stime, in clock ticks (1/100 s on Linux).
  const cpu = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  let started = performance.now();
  await admin.query(`set search_path to ${schema}`);
  const [kept] = (await admin.query<{ n: number }>('select count(*)::int as n from tally_customers')).rows;
  if (!kept?.n) {
    await admin.query(SEED(schema));
    const perDay = Math.ceil(ENTRIES / DAYS);
    for (let day = 0; day < DAYS; day++) await admin.query(DAY_OF_USAGE(schema, day, perDay));
    await admin.query(`set search_path to ${schema}`);
    await admin.query('vacuum analyze');
  }
  const written = (performance.now() - started) / 1000;
  const counts = await admin.query(`select (select count(*) from ${schema}.tally_entries)::int as entries,
    (select count(*) from ${schema}.tally_uncharged_calls)::int as logged,
    (select count(*) from ${schema}.tally_customer_activity)::int as activity,
    (select count(*) from ${schema}.tally_usage_hours)::int as usage_hours,
    (select pg_size_pretty(sum(pg_total_relation_size(c.oid))) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = '${schema}' and c.relkind = 'r' and c.relname in ('tally_customer_activity', 'tally_usage_hours', 'tally_tier_hours',
      'tally_allowances', 'tally_allowance_days', 'tally_allowance_hours')) as rollups,
    (select pg_size_pretty(pg_total_relation_size('${schema}.tally_entries'))) as journal`);
  console.log(
    `data: ${JSON.stringify(counts.rows[0])}, ${kept?.n ? 'kept from an earlier run' : `written through the triggers in ${written.toFixed(0)} s`}`,
  );

  const metrics: MetricName[] = ['usage', 'margin', 'utilization', 'top-customers'];
  const granularities = ['day', 'week', 'month'] as const;
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (const metric of metrics) {
    const times: number[] = [];
    const cpus: number[] = [];
    for (let n = 0; n < QUERIES; n++) {
      const a = START + Math.floor(random() * DAYS * DAY);
      const b = START + Math.floor(random() * DAYS * DAY);
      const from = new Date(Math.min(a, b));
      const to = new Date(Math.max(a, b) + 1);
      // Every fourth range is the whole span, the common "last 90 days".
      const range = n % 4 === 0 ? { from: new Date(START + 1234), to: new Date(START + DAYS * DAY - 4321) } : { from, to };
      started = performance.now();
      const before = cpu();
      await store.metric(
        { metric, ...range, granularity: granularities[n % 3], ...(metric === 'top-customers' ? { limit: 10 } : {}) },
        CATALOG,
      );
      cpus.push(cpu() - before);
      times.push(performance.now() - started);
    }
    times.sort((x, y) => x - y);
    cpus.sort((x, y) => x - y);
    console.log(
      `  ${metric.padEnd(14)} wall p50 ${ms(percentile(times, 50))}, p95 ${ms(percentile(times, 95))}, max ${ms(times[times.length - 1] as number)}; ` +
        `backend CPU p50 ${ms(percentile(cpus, 50))}, p95 ${ms(percentile(cpus, 95))}`,
    );
  }
  await store.close();
  await pool.end();
}

const WITHOUT_V8 = (schema: string) => `
set search_path to ${schema};
drop trigger if exists tally_entries_rollups on tally_entries;
drop trigger if exists tally_uncharged_calls_rollups on tally_uncharged_calls;
drop trigger if exists tally_subscription_history_tiers on tally_subscription_history;
drop trigger if exists tally_customers_tier on tally_customers;
drop index if exists tally_entries_draws;
drop index if exists tally_subscription_history_state;
`;

async function probeWrites(admin: pg.Client, url: string): Promise<void> {
  const results: string[] = [];
  for (const [label, schema] of [
    ['without version 8', 'probe_writes_before'],
    ['with version 8', 'probe_writes_after'],
  ] as const) {
    const store: SqlStore = createPostgresStore({ connectionString: url, schema, max: 4 });
    await store.migrate();
    if (label === 'without version 8') await admin.query(WITHOUT_V8(schema));
    const tally = createTally({ catalog: sampleCatalog, store });
    for (let first = 0; first < CUSTOMERS; first += 500) {
      await store.transaction(async (tx) => {
        const seeding = createTally({ catalog: sampleCatalog, store: tx });
        for (let i = first; i < first + 500; i++) {
          await seeding.customers.upsert({ customerId: `w${i}`, tier: 'starter' });
          await seeding.grant({ customerId: `w${i}`, kind: 'allowance', amountMicros: 10n ** 15n, idempotencyKey: `w:${i}` });
        }
      });
    }
    const models = Object.keys(sampleCatalog.models);
    const item = (n: number): ChargeInput => ({
      customerId: `w${Math.floor(Math.random() * CUSTOMERS)}`,
      amountMicros: 1000n,
      idempotencyKey: randomUUID(),
      usage: {
        model: models[n % models.length] as string,
        inputTokens: 1000,
        outputTokens: 200,
        providerCostNanoUsd: 300_000n,
        markupBps: 1000,
        keySource: n % 7 === 0 ? 'byok' : 'managed',
      },
    });
    let started = performance.now();
    for (let batch = 0; batch < 50; batch++) await tally.recordUsageBatch(Array.from({ length: 1000 }, (_, n) => item(n)));
    const batched = (performance.now() - started) / 1000;
    started = performance.now();
    for (let n = 0; n < OPS; n++) await tally.recordUsage(item(n));
    const usage = (performance.now() - started) / OPS;
    started = performance.now();
    for (let n = 0; n < OPS; n++) {
      await tally.spend({ customerId: `w${Math.floor(Math.random() * CUSTOMERS)}`, amountMicros: 1000n, idempotencyKey: randomUUID() });
    }
    const spend = (performance.now() - started) / OPS;
    results.push(
      `  ${label.padEnd(18)} 50,000 batched items ${batched.toFixed(2)} s (${Math.round(50_000 / batched).toLocaleString('en-US')}/s); ` +
        `recordUsage ${ms(usage)}, spend ${ms(spend)} each (one writer)`,
    );
    await store.close();
  }
  console.log('write path:');
  for (const line of results) console.log(line);
}

async function main(): Promise<void> {
  const database = benchDatabase(ADMIN_URL, DATABASE);
  const root = new pg.Client({ connectionString: ADMIN_URL });
  await root.connect();
  const exists = (await root.query('select 1 from pg_database where datname = $1', [DATABASE])).rows.length > 0;
  if (!exists) await root.query(`create database ${DATABASE}`);
  if (!KEEP) database.created();
  await root.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    if (process.argv.includes('--writes-only')) await probeWrites(admin, url.toString());
    else if (process.argv.includes('--queries-only')) await probeQueries(admin, url.toString());
    else {
      await probeWrites(admin, url.toString());
      await probeQueries(admin, url.toString());
    }
  } finally {
    await admin.end();
    await database.drop();
  }
}

await main();
