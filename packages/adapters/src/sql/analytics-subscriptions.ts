/**
 * `customers`, `mrr`, `churn`, `retention` and `funnel` in SQL (docs/analytics.md), held to the
 * oracle in `@tally/core`. Each is one statement over the raw tables: the buckets come from
 * `generate_series` in UTC, and a customer's MRR is read once per bucket it changes in, not once
 * per bucket.
 */
import {
  type AnalyticsCatalog,
  type CheckedMetricQuery,
  type CustomersPoint,
  type MetricBucket,
  type MetricResult,
  metricBuckets,
  type RetentionCohort,
  ratioBps,
} from '@tally/core';
import type { AnalyticsRows } from './analytics.js';

// Parameters: $1 from, $2 to, $3 granularity; the catalog's tiers as jsonb ([{ id, price, interval }] in
// catalog order) come last.
// Periods are cut in UTC whatever the session's time zone: `at time zone 'UTC'` turns the range into
// UTC wall time, `date_trunc` and the `1 <granularity>` steps work on that (weeks start on Monday), and
// the second `at time zone 'UTC'` turns each period start back into an instant.
const BUCKETS = `
  buckets as (
    select g.i::int as i,
           greatest(g.p at time zone 'UTC', $1::timestamptz) as bucket_start,
           least((g.p + ('1 ' || $3::text)::interval) at time zone 'UTC', $2::timestamptz) as bucket_end
    from generate_series(date_trunc($3::text, $1::timestamptz at time zone 'UTC'), $2::timestamptz at time zone 'UTC',
                         ('1 ' || $3::text)::interval) with ordinality as g(p, i)
    where g.p < $2::timestamptz at time zone 'UTC'
  ),
  edges as (
    select array_agg(bucket_start order by i) as starts, array_agg(bucket_end order by i) as ends, count(*)::int as n from buckets
  )`;

// The catalog as two aligned arrays: tier ids in catalog order and their monthly prices (a yearly price
// divided by 12, half up: round of numeric is half away from zero, and price / 12 is either exactly .5
// or at least 1/12 away from it). `array_position` finds a tier's first place, as the catalog lookup
// does, and costs less per row than a join.
const tiers = (param: string) => `
  tiers as (
    select coalesce(array_agg(tier ->> 'id' order by rank), '{}') as ids,
           coalesce(array_agg((case when tier ->> 'interval' = 'year' then round((tier ->> 'price')::numeric / 12)
                                    else (tier ->> 'price')::numeric end)::bigint order by rank), '{}') as monthly
    from jsonb_array_elements(${param}::jsonb) with ordinality as c(tier, rank)
  )`;

// Every saved record up to `to` that can change MRR (tally_mrr_points, schema v11: the others repeat
// their predecessor's tier and paying status) with the MRR it stands for, and the bin it falls in: 0 for records at or
// before `from` (the state at `from`), else the bucket i with start < updated_at ≤ end, because a record
// saved at a bucket's end is part of the state at that end. Timestamps are whole microseconds, so
// "ends before updated_at" is "ends at or before updated_at − 1µs", which is width_bucket's count.
// `states` keeps each customer's last record per bin in save order (newest, then highest version): `b`
// is its MRR at the bin's end, `a` at the end of its previous bin (0 before any record). `paid_at`: the
// earliest save with MRR so far, which on any row with MRR, or after one, is when the customer first had
// MRR; `first_paid` marks the first state that knows it. All windows share one order, so the records
// are sorted once (or read in the order of the points' primary key, which holds what they need), over frames of rows, which cost less
// than the default range frame. `offset 0` keeps `saved` a subquery of its own, so its expressions are
// computed once per record, before the sort, rather than at every use above it.
const STATES = `
  saved as (
    select h.customer_id, h.updated_at, h.version,
           case when h.paying then coalesce((select monthly from tiers)[array_position((select ids from tiers), h.tier)], 0) else 0 end as mrr,
           case when h.updated_at <= $1::timestamptz then 0
                else width_bucket(h.updated_at - interval '1 microsecond', (select ends from edges)) + 1 end as bin
    from tally_mrr_points h
    where h.updated_at <= $2::timestamptz
    offset 0
  ),
  ordered as (
    select customer_id, updated_at, version, mrr, bin, lead(bin) over w as next_bin, min(updated_at) filter (where mrr > 0) over w as paid_at
    from saved
    window w as (partition by customer_id order by updated_at, version rows unbounded preceding)
  ),
  states as (
    select customer_id, bin, mrr as b, paid_at, coalesce(lag(mrr) over w, 0) as a, lead(bin) over w as next_state_bin,
           lag(paid_at) over w is null as first_paid
    from ordered
    where next_bin is distinct from bin
    window w as (partition by customer_id order by updated_at, version rows unbounded preceding)
  )`;

/** Milliseconds since the epoch as text: the same on every driver, whatever it makes of timestamps. */
const millis = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint::text`;

interface BucketRow {
  bucket_start: string;
  bucket_end: string;
}

const bucketOf = (row: BucketRow): MetricBucket => ({ start: new Date(Number(row.bucket_start)), end: new Date(Number(row.bucket_end)) });

function tiersParam(catalog: AnalyticsCatalog): string {
  return JSON.stringify(catalog.tiers.map((tier) => ({ id: tier.id, price: tier.price.toString(), interval: tier.interval })));
}

interface MovementRow extends BucketRow {
  mrr_at_start: string;
  mrr: string;
  new: string;
  expansion: string;
  contraction: string;
  churn: string;
  reactivation: string;
  paying_at_start: string;
  churned: string;
}

/**
 * Per bucket: MRR and paying customers at its start, MRR at its end, and each customer's change between
 * the two. Only a customer with a record in a bin can differ between the bin's start and end, and its
 * MRR at the start is its state at the end of its previous bin (`a`, 0 before any record). Bin 0, the
 * states at `from`, opens the running sums; its movements are not a bucket's and are never read.
 */
function movements(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MovementRow[]> {
  return rows<MovementRow>(
    `with ${BUCKETS}, ${tiers('$4')}, ${STATES},
     moves as (
       select bin,
              sum(b - a) as net,
              count(*) filter (where a = 0) - count(*) filter (where b = 0) as net_paying,
              sum(b) filter (where a = 0 and paid_at > (select starts from edges)[bin]) as new,
              sum(b) filter (where a = 0 and paid_at <= (select starts from edges)[bin]) as reactivation,
              sum(b - a) filter (where a > 0 and b > a) as expansion,
              sum(a - b) filter (where b > 0 and b < a) as contraction,
              sum(a) filter (where b = 0) as churn,
              count(*) filter (where b = 0) as churned
       from states
       where a <> b
       group by bin
     ),
     running as (
       select k.i, k.bucket_start, k.bucket_end, m.net, m.net_paying, m.new, m.reactivation, m.expansion, m.contraction,
              m.churn, m.churned,
              coalesce(sum(m.net) over w, 0) as mrr_end,
              coalesce(sum(m.net_paying) over w, 0) as paying_end
       from (select 0 as i, null::timestamptz as bucket_start, null::timestamptz as bucket_end union all select * from buckets) k
       left join moves m on m.bin = k.i
       window w as (order by k.i)
     )
     select ${millis('bucket_start')} as bucket_start, ${millis('bucket_end')} as bucket_end,
            (mrr_end - coalesce(net, 0))::text as mrr_at_start, mrr_end::text as mrr,
            coalesce(new, 0)::text as new, coalesce(expansion, 0)::text as expansion,
            coalesce(contraction, 0)::text as contraction, coalesce(churn, 0)::text as churn,
            coalesce(reactivation, 0)::text as reactivation,
            (paying_end - coalesce(net_paying, 0))::text as paying_at_start, coalesce(churned, 0)::text as churned
     from running where i > 0 order by i`,
    [query.from, query.to, query.granularity, tiersParam(catalog)],
  );
}

async function mrrMetric(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MetricResult<'mrr'>> {
  const points = (await movements(rows, query, catalog)).map((row) => {
    const mrrAtStart = BigInt(row.mrr_at_start);
    const mrr = BigInt(row.mrr);
    const net = mrr - mrrAtStart;
    return {
      ...bucketOf(row),
      mrrAtStart,
      mrr,
      arr: 12n * mrr,
      new: BigInt(row.new),
      expansion: BigInt(row.expansion),
      contraction: BigInt(row.contraction),
      churn: BigInt(row.churn),
      reactivation: BigInt(row.reactivation),
      net,
      growthBps: ratioBps(net, mrrAtStart),
    };
  });
  return { metric: 'mrr', from: query.from, to: query.to, granularity: query.granularity, points };
}

async function churnMetric(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MetricResult<'churn'>> {
  const points = (await movements(rows, query, catalog)).map((row) => {
    const payingAtStart = Number(row.paying_at_start);
    const churnedCustomers = Number(row.churned);
    const mrrAtStart = BigInt(row.mrr_at_start);
    const lostMrr = BigInt(row.churn) + BigInt(row.contraction);
    return {
      ...bucketOf(row),
      payingAtStart,
      churnedCustomers,
      logoChurnBps: ratioBps(churnedCustomers, payingAtStart),
      mrrAtStart,
      lostMrr,
      revenueChurnBps: ratioBps(lostMrr, mrrAtStart),
    };
  });
  return { metric: 'churn', from: query.from, to: query.to, granularity: query.granularity, points };
}

/**
 * A cohort is the bucket holding a customer's first MRR. Each cohort customer's paying spans (bins
 * from one state to the next, MRR > 0, clipped to the cohort's first bucket) add 1 to the count at the
 * span's first bucket end and take it off after its last; a running sum gives `retained` for every
 * later bucket. Only cohorts with customers are summed; the others are all zeros.
 */
async function retentionMetric(
  rows: AnalyticsRows,
  query: CheckedMetricQuery,
  catalog: AnalyticsCatalog,
): Promise<MetricResult<'retention'>> {
  const found = await rows<BucketRow & { customers: string; retained: string | null }>(
    `with ${BUCKETS}, ${tiers('$4')}, ${STATES},
     spans as (
       select c.cohort, s.first_paid, s.b, greatest(s.bin, c.cohort) as first_end, coalesce(s.next_state_bin - 1, (select n from edges)) as last_end
       from states s cross join lateral (select width_bucket(s.paid_at, (select starts from edges)) as cohort) c
       where s.paid_at >= $1::timestamptz and s.paid_at < $2::timestamptz
     ),
     sizes as (select cohort, count(*) filter (where first_paid) as customers from spans group by cohort),
     steps as (
       select cohort, m, sum(d) as d
       from (select cohort, first_end as m, count(*) as d from spans where b > 0 and first_end <= last_end group by 1, 2
             union all
             select cohort, last_end + 1, -count(*) from spans where b > 0 and first_end <= last_end group by 1, 2) x
       group by cohort, m
     ),
     running as (
       select z.cohort, k.i as m, sum(coalesce(c.d, 0)) over (partition by z.cohort order by k.i) as retained
       from sizes z join buckets k on k.i >= z.cohort left join steps c on c.cohort = z.cohort and c.m = k.i
     ),
     kept as (select cohort, string_agg(retained::text, ',' order by m) as retained from running group by cohort)
     select ${millis('k.bucket_start')} as bucket_start, ${millis('k.bucket_end')} as bucket_end,
            coalesce(z.customers, 0)::text as customers, p.retained
     from buckets k left join sizes z on z.cohort = k.i left join kept p on p.cohort = k.i
     order by k.i`,
    [query.from, query.to, query.granularity, tiersParam(catalog)],
  );
  const cohorts: RetentionCohort[] = found.map((row, index) => {
    const customers = Number(row.customers);
    const retained = row.retained === null ? new Array<number>(found.length - index).fill(0) : row.retained.split(',').map(Number);
    return {
      ...bucketOf(row),
      customers,
      periods: retained.map((count) => ({ retained: count, retainedBps: ratioBps(count, customers) })),
    };
  });
  return { metric: 'retention', from: query.from, to: query.to, granularity: query.granularity, cohorts };
}

/**
 * Sign-ups and the running total from the customers. Active customers (schema-v10.ts): for a bucket's
 * whole UTC days [a, b), the days histogram counts each customer once, at its first active day there;
 * the calls of the partial days at the bucket's edges (read raw) and the calls still queued for
 * folding add the customers among them that have no active day in [a, b).
 */
async function customersMetric(rows: AnalyticsRows, query: CheckedMetricQuery): Promise<MetricResult<'customers'>> {
  const found = await rows<BucketRow & { sign_ups: string; active: string; total: string }>(
    `with ${BUCKETS},
     sign_ups as (
       select width_bucket(c.created_at, (select starts from edges)) as i, count(*) as n
       from tally_customers c
       where c.created_at >= $1::timestamptz and c.created_at < $2::timestamptz
       group by 1
     ),
     spans as (
       select k.i, k.bucket_start, k.bucket_end, d.a, d.b,
              least(k.bucket_end, timestamptz '1970-01-01 00:00:00+00' + make_interval(days => d.a)) as head_end,
              greatest(timestamptz '1970-01-01 00:00:00+00' + make_interval(days => greatest(d.a, d.b)), k.bucket_start) as tail_start
       from buckets k
       cross join lateral (select ceil(extract(epoch from k.bucket_start) / 86400)::int as a,
                                  floor(extract(epoch from k.bucket_end) / 86400)::int as b) d
     ),
     whole as (
       select s.i, sum(g.customers) as n
       from spans s join tally_active_gaps g on g.day >= s.a and g.day < s.b and g.gap > g.day - s.a
       group by s.i
     ),
     edge_calls as (
       select s.i, x.customer_id
       from spans s
       cross join lateral (
         select e.customer_id from tally_entries e
         where ((e.created_at >= s.bucket_start and e.created_at < s.head_end) or (e.created_at >= s.tail_start and e.created_at < s.bucket_end))
           and e.kind in ('usage', 'spend', 'capture') and e.usage is not null
         union
         select u.customer_id from tally_uncharged_calls u
         where (u.at >= s.bucket_start and u.at < s.head_end) or (u.at >= s.tail_start and u.at < s.bucket_end)
       ) x
       union
       select width_bucket(p.at, (select starts from edges)), p.customer_id
       from tally__pending_activity() p
       where p.calls > 0 and p.at >= $1::timestamptz and p.at < $2::timestamptz
     ),
     extra as (
       select c.i, count(*) as n
       from edge_calls c join spans s on s.i = c.i
       -- A probe of the primary key per edge customer (a few thousand at most): as a scalar subquery it
       -- stays one, where NOT EXISTS would become a join that may read every active day. A bucket without
       -- a whole day (a day bucket that starts or ends inside its day) needs none: all its customers are
       -- edge customers.
       where case when s.a >= s.b then true
                  else (select true from tally_active_days d where d.customer_id = c.customer_id and d.day >= s.a and d.day < s.b limit 1) is null
             end
       group by c.i
     )
     select ${millis('k.bucket_start')} as bucket_start, ${millis('k.bucket_end')} as bucket_end,
            coalesce(s.n, 0)::text as sign_ups, (coalesce(w.n, 0) + coalesce(x.n, 0))::text as active,
            ((select count(*) from tally_customers where created_at < $1::timestamptz) + sum(coalesce(s.n, 0)) over (order by k.i))::text as total
     from buckets k left join sign_ups s on s.i = k.i left join whole w on w.i = k.i left join extra x on x.i = k.i
     order by k.i`,
    [query.from, query.to, query.granularity],
  );
  const points: CustomersPoint[] = found.map((row) => ({
    ...bucketOf(row),
    signUps: Number(row.sign_ups),
    active: Number(row.active),
    total: Number(row.total),
  }));
  return { metric: 'customers', from: query.from, to: query.to, granularity: query.granularity, points };
}

/** Each customer created in the range at its highest catalog rank; a step counts those at its rank or later. */
async function funnelMetric(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MetricResult<'funnel'>> {
  const [found] = await rows<{ created: string; customers: string | null }>(
    `with ${tiers('$3')},
     made as (select id, tier from tally_customers where created_at >= $1::timestamptz and created_at < $2::timestamptz),
     highest as (
       select customer_id, max(array_position((select ids from tiers), tier)) as rank
       from tally_subscription_history where updated_at < $2::timestamptz group by customer_id
     ),
     ranks as (
       select m.id, greatest(array_position((select ids from tiers), m.tier), h.rank) as rank
       from made m left join highest h on h.customer_id = m.id
     ),
     steps as (
       select k, count(r.id) as customers
       from generate_series(1, cardinality((select ids from tiers))) k left join ranks r on r.rank >= k
       group by k
     )
     select (select count(*) from made)::text as created,
            (select string_agg(customers::text, ',' order by k) from steps) as customers`,
    [query.from, query.to, tiersParam(catalog)],
  );
  const created = Number(found?.created ?? 0);
  const counts = found?.customers ? found.customers.split(',').map(Number) : [];
  let previous = created;
  const steps = catalog.tiers.map((tier, index) => {
    const customers = counts[index] ?? 0;
    const step = { tier: tier.id, customers, conversionBps: ratioBps(customers, previous) };
    previous = customers;
    return step;
  });
  return { metric: 'funnel', from: query.from, to: query.to, granularity: query.granularity, created, steps };
}

export async function subscriptionMetricSql(
  rows: AnalyticsRows,
  query: CheckedMetricQuery,
  catalog: AnalyticsCatalog,
): Promise<MetricResult> {
  // The bucket count is checked here, before a statement runs, with the same VALIDATION as the oracle.
  if (query.metric !== 'funnel') metricBuckets(query);
  // For this transaction only. These statements take tens of milliseconds; compiling them with JIT,
  // which their cost estimates can trigger, takes hundreds. And no parallel plans: on Postgres 15 a
  // partial hash aggregate under a Gather feeding the final one on the same keys (the callers' distinct
  // pairs) ran for minutes where the serial plan takes a second or two.
  await rows(`select set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`);
  switch (query.metric) {
    case 'customers':
      return customersMetric(rows, query);
    case 'mrr':
      return mrrMetric(rows, query, catalog);
    case 'churn':
      return churnMetric(rows, query, catalog);
    case 'retention':
      return retentionMetric(rows, query, catalog);
    case 'funnel':
      return funnelMetric(rows, query, catalog);
    default:
      throw new Error(`not a subscription metric: ${query.metric}`);
  }
}
