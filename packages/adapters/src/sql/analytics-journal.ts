/**
 * `usage`, `margin`, `utilization` and `top-customers` (docs/analytics.md) in SQL, over the rollups of
 * schema version 8 (see schema-v8.ts): a range's whole hours (and, for utilization, whole days) come
 * from the rollups plus the rows queued for them and not folded yet, its partial hours at the edges
 * from the raw journal and call log, all through the SQL definition of a call the folding uses. Every
 * sum is numeric in SQL and arrives as text.
 */
import {
  type AnalyticsCatalog,
  type CallCounts,
  type CheckedMetricQuery,
  compareIds,
  creditsToNanoUsd,
  type MarginLine,
  type MetricResult,
  metricBuckets,
  ratioBps,
  type UsageByModel,
  type UtilizationLine,
} from '@tally/core';
import type { AnalyticsRows } from './analytics.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** How many customers `margin.byCustomer` lists. */
const MARGIN_CUSTOMERS = 100;

/** A range cut into whole hours, read from the rollups, and the partial hours at its edges, read raw. */
interface HourSplit {
  /** Whole hours `[firstHour, endHour)` since 1970; empty when equal. */
  firstHour: number;
  endHour: number;
  /** The raw edges `[edges[0], edges[1])` and `[edges[2], edges[3])`: the whole range when it has no whole hour. */
  edges: [Date, Date, Date, Date];
}

function splitHours(from: Date, to: Date): HourSplit {
  const firstHour = Math.ceil(from.getTime() / HOUR);
  const endHour = Math.floor(to.getTime() / HOUR);
  if (firstHour >= endHour) return { firstHour: 0, endHour: 0, edges: [from, to, to, to] };
  return { firstHour, endHour, edges: [from, new Date(firstHour * HOUR), new Date(endHour * HOUR), to] };
}

// The calls and charges in the partial hours at the range's edges (parameters $1 to $4), and those of
// the whole hours ($5, $6) still queued for the rollups.
const RAW = `raw as (
  select * from tally__activity_between(null, $1::timestamptz, $2::timestamptz)
  union all
  select * from tally__activity_between(null, $3::timestamptz, $4::timestamptz)
), queued as materialized (
  select * from tally__pending_activity() a where tally__hour(a.at) >= $5::integer and tally__hour(a.at) < $6::integer
)`;

// Every customer's running totals at the end of hour `at` (an SQL integer expression): its row of
// tally_customer_activity whose [hour, next_hour) holds it, found by one index range scan per span class
// (schema v12: a row of class b is shorter than 2^b hours, so it starts after at - 2^b), or its latest row
// when that began at or before it.
function totalsAt(at: string, list: string): string {
  return `select a.customer_id, ${list}
  from generate_series(1, 31) k
  cross join lateral (select * from tally_customer_activity a
                      where a.span_class = k and a.hour > ${at}::bigint - (1::bigint << k) and a.hour <= ${at} and a.next_hour > ${at}
                      -- Keeps the subquery from being pulled up into a join, which the planner answered with a
                      -- sequential scan of the whole table (56 ms on the bench's data, against 3 ms).
                      offset 0) a
  where $5::integer < $6::integer
  union all
  select customer_id, ${list} from tally_customer_activity_latest where $5::integer < $6::integer and hour <= ${at}`;
}

// Each customer's totals over the range: its running totals at the end of the whole hours ($5, $6)
// minus those at their start, plus the raw edges and the queue. Only the columns a metric needs: each
// costs a numeric subtraction and addition per customer.
function perCustomer(columns: ReadonlyArray<'calls' | 'call_credits' | 'managed_cost' | 'cost' | 'charge_credits'>): string {
  const list = columns.join(', ');
  return `ends as materialized (
  ${totalsAt('($6::integer - 1)', list)}
), starts as materialized (
  ${totalsAt('($5::integer - 1)', list)}
), extra as (
  select customer_id, ${columns.map((c) => `sum(${c}) as ${c}`).join(', ')}
  from (select * from raw union all select * from queued) x
  group by customer_id
), per_customer as (
  select coalesce(b.customer_id, x.customer_id) as customer_id,
         ${columns.map((c) => `coalesce(b.${c} - coalesce(a.${c}, 0), 0) + coalesce(x.${c}, 0) as ${c}`).join(',\n         ')}
  from ends b
  left join starts a on a.customer_id = b.customer_id
  full join extra x on x.customer_id = b.customer_id
)`;
}

const hourParams = (split: HourSplit) => [...split.edges, split.firstHour, split.endHour];

function head(query: CheckedMetricQuery) {
  return { from: query.from, to: query.to, granularity: query.granularity };
}

// ---- usage

interface UsageRow {
  part: 'heatmap' | 'series' | 'model' | 'split';
  x: number | null;
  y: number | null;
  key: string | null;
  free: boolean | null;
  calls: string;
  tokens: string;
  cost: string | null;
  credits: string | null;
}

const USAGE = `with ${RAW}, base as materialized (
  select r.hour, r.model, r.key_source, r.free, r.calls, r.tokens, r.credits, r.cost
  from tally_usage_hours r
  where r.hour >= $5 and r.hour < $6
  union all
  select tally__hour(a.at), a.model, a.key_source, a.free, a.calls, a.tokens, a.call_credits, a.cost
  from (select * from raw union all select * from queued) a
  where a.model is not null
), hourly as (
  select hour, sum(calls) as calls, sum(tokens) as tokens from base group by hour
)
select 'heatmap' as part, (hour / 24 + 3) % 7 as x, hour % 24 as y, null::text as key, null::boolean as free,
       sum(calls)::text as calls, sum(tokens)::text as tokens, null::text as cost, null::text as credits
from hourly group by 2, 3
union all
select 'series', width_bucket(hour, $7::integer[]), null, null, null, sum(calls)::text, sum(tokens)::text, null, null
from hourly group by 2
union all
select 'model', null, null, model, null, sum(calls)::text, sum(tokens)::text, sum(cost)::text, sum(credits)::text
from base group by model having sum(calls) > 0
union all
select 'split', null, null, key_source, free, sum(calls)::text, sum(tokens)::text, null, null
from base group by key_source, free`;

async function usage(rows: AnalyticsRows, query: CheckedMetricQuery): Promise<MetricResult<'usage'>> {
  const split = splitHours(query.from, query.to);
  const buckets = metricBuckets(query);
  const starts = buckets.map((bucket) => Math.floor(bucket.start.getTime() / HOUR));
  const found = await rows<UsageRow>(USAGE, [...hourParams(split), `{${starts.join(',')}}`]);
  const counts = (): CallCounts => ({ calls: 0, tokens: 0n });
  const heatmap = Array.from({ length: 7 }, () => Array.from({ length: 24 }, counts));
  const series = buckets.map((bucket) => ({ ...bucket, ...counts() }));
  const byModel: UsageByModel[] = [];
  const result = { free: counts(), paid: counts(), byok: counts(), managed: counts() };
  const add = (target: CallCounts, row: UsageRow) => {
    target.calls += Number(row.calls);
    target.tokens += BigInt(row.tokens);
  };
  for (const row of found) {
    if (row.part === 'heatmap') add(heatmap[Number(row.x)]?.[Number(row.y)] as CallCounts, row);
    else if (row.part === 'series') add(series[Number(row.x) - 1] as CallCounts, row);
    else if (row.part === 'model') {
      byModel.push({
        model: row.key as string,
        calls: Number(row.calls),
        tokens: BigInt(row.tokens),
        providerCostNanoUsd: BigInt(row.cost as string),
        creditsMicros: BigInt(row.credits as string),
      });
    } else {
      add(row.free ? result.free : result.paid, row);
      add(row.key === 'byok' ? result.byok : result.managed, row);
    }
  }
  byModel.sort((a, b) => b.calls - a.calls || compareIds(a.model, b.model));
  return { metric: 'usage', ...head(query), heatmap, byModel, split: result, series };
}

// ---- margin

interface MarginRow {
  part: 'model' | 'tier' | 'customer';
  key: string;
  calls: string;
  credits: string;
  cost: string;
}

// Whole days [$8, $9) from the day rollups, the other whole hours ([$10, $11) and [$12, $13)) from the
// hour rollups.
const MARGIN = `with ${RAW}, ${perCustomer(['calls', 'call_credits', 'managed_cost'])}, models as (
  select model, sum(calls) as calls, sum(credits) as credits, coalesce(sum(cost) filter (where key_source = 'managed'), 0) as cost
  from (select r.model, r.key_source, r.calls, r.credits, r.cost from tally_usage_days r where r.day >= $8 and r.day < $9
        union all
        select r.model, r.key_source, r.calls, r.credits, r.cost from tally_usage_hours r
        where (r.hour >= $10 and r.hour < $11) or (r.hour >= $12 and r.hour < $13)
        union all
        select a.model, a.key_source, a.calls, a.call_credits, a.cost from raw a where a.model is not null
        union all
        select a.model, a.key_source, a.calls, a.call_credits, a.cost from queued a where a.model is not null) m
  group by model
  having sum(calls) > 0
), tiers as (
  select tier, sum(calls) as calls, sum(credits) as credits, sum(managed_cost) as cost
  from (select r.tier, r.calls, r.credits, r.managed_cost from tally_tier_days r where r.day >= $8 and r.day < $9
        union all
        select r.tier, r.calls, r.credits, r.managed_cost from tally_tier_hours r
        where (r.hour >= $10 and r.hour < $11) or (r.hour >= $12 and r.hour < $13)
        union all
        select a.tier, a.calls, a.call_credits, a.managed_cost
        from tally__tiered(array(select row(a.*)::tally__activity from raw a where a.model is not null
                                 union all
                                 select row(a.*)::tally__activity from queued a where a.model is not null)) a) t
  group by tier
  having sum(calls) > 0
), customers as (
  select customer_id, calls, call_credits as credits, managed_cost as cost
  from per_customer
  where calls > 0
  order by div(2 * call_credits * 1000000000 + $7::numeric, 2 * $7::numeric) desc, customer_id collate "C"
  limit ${MARGIN_CUSTOMERS}
)
select 'model' as part, model as key, calls::text as calls, credits::text as credits, cost::text as cost from models
union all
select 'tier', tier, calls::text, credits::text, cost::text from tiers
union all
select 'customer', customer_id, calls::text, credits::text, cost::text from customers`;

interface MarginSum {
  calls: number;
  creditsMicros: bigint;
  costNanoUsd: bigint;
}

function marginLine(sum: MarginSum, catalog: AnalyticsCatalog): MarginLine {
  const revenueNanoUsd = creditsToNanoUsd(sum.creditsMicros, catalog);
  const marginNanoUsd = revenueNanoUsd - sum.costNanoUsd;
  return {
    calls: sum.calls,
    creditsMicros: sum.creditsMicros,
    revenueNanoUsd,
    costNanoUsd: sum.costNanoUsd,
    marginNanoUsd,
    marginBps: ratioBps(marginNanoUsd, revenueNanoUsd),
  };
}

/** By revenue, highest first, then by key in binary order (SQL picked the customers in the same order). */
function byRevenue<T extends MarginLine>(lines: Array<{ key: string; line: T }>): Array<{ key: string; line: T }> {
  return lines.sort((a, b) => {
    const difference = b.line.revenueNanoUsd - a.line.revenueNanoUsd;
    return difference > 0n ? 1 : difference < 0n ? -1 : compareIds(a.key, b.key);
  });
}

async function margin(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MetricResult<'margin'>> {
  const split = splitHours(query.from, query.to);
  const firstDay = Math.ceil(split.firstHour / 24);
  const endDay = Math.floor(split.endHour / 24);
  const days = firstDay < endDay ? [firstDay, endDay] : [0, 0];
  const hours = firstDay < endDay ? [split.firstHour, firstDay * 24, endDay * 24, split.endHour] : [split.firstHour, split.endHour, 0, 0];
  const found = await rows<MarginRow>(MARGIN, [...hourParams(split), catalog.microsPerUsd, ...days, ...hours]);
  const total: MarginSum = { calls: 0, creditsMicros: 0n, costNanoUsd: 0n };
  const parts = { model: [], tier: [], customer: [] } as Record<MarginRow['part'], Array<{ key: string; line: MarginLine }>>;
  for (const row of found) {
    const sum = { calls: Number(row.calls), creditsMicros: BigInt(row.credits), costNanoUsd: BigInt(row.cost) };
    parts[row.part].push({ key: row.key, line: marginLine(sum, catalog) });
    if (row.part === 'model') {
      total.calls += sum.calls;
      total.creditsMicros += sum.creditsMicros;
      total.costNanoUsd += sum.costNanoUsd;
    }
  }
  return {
    metric: 'margin',
    ...head(query),
    total: marginLine(total, catalog),
    byModel: byRevenue(parts.model).map(({ key, line }) => ({ model: key, ...line })),
    byTier: byRevenue(parts.tier).map(({ key, line }) => ({ tier: key, ...line })),
    byCustomer: byRevenue(parts.customer).map(({ key, line }) => ({ customerId: key, ...line })),
  };
}

// ---- top customers

interface TopRow {
  customer_id: string;
  tier: string;
  credits: string;
  calls: string;
  cost: string;
}

const TOP_CUSTOMERS = `with ${RAW}, ${perCustomer(['calls', 'cost', 'charge_credits'])}, top as (
  select customer_id, charge_credits, calls, cost
  from per_customer
  where charge_credits > 0 or calls > 0
  order by charge_credits desc, calls desc, customer_id collate "C"
  limit $7
)
select t.customer_id,
       coalesce((select h.tier from tally_subscription_history h where h.customer_id = t.customer_id
                 order by h.updated_at desc, h.version desc limit 1), c.tier) as tier,
       t.charge_credits::text as credits, t.calls::text as calls, t.cost::text as cost
from top t join tally_customers c on c.id = t.customer_id
order by t.charge_credits desc, t.calls desc, t.customer_id collate "C"`;

async function topCustomers(rows: AnalyticsRows, query: CheckedMetricQuery): Promise<MetricResult<'top-customers'>> {
  const split = splitHours(query.from, query.to);
  const found = await rows<TopRow>(TOP_CUSTOMERS, [...hourParams(split), query.limit]);
  return {
    metric: 'top-customers',
    ...head(query),
    customers: found.map((row) => ({
      customerId: row.customer_id,
      tier: row.tier,
      creditsMicros: BigInt(row.credits),
      calls: Number(row.calls),
      providerCostNanoUsd: BigInt(row.cost),
    })),
  };
}

// ---- utilization

interface UtilizationRow {
  tier: string;
  granted: string;
  consumed: string;
  expired: string;
}

// Grants in whole days [$1, $2) (the times [$10, $11)) from the day rollup, and what they lost: in
// whole days before $2 from the same rows, in whole hours [24 × $2, $3) from the hour rollup (each
// with what is queued for it), and raw in [$4, $5). Grants in the partial days at the edges ([$6, $7)
// and [$8, $9)) bucket by bucket, with everything they lost before $5, the range's end.
const UTILIZATION = `with queued as materialized (
  select u.*, tally__day(u.granted_at) as grant_day from tally__pending_use() u
), queued_grants as materialized (
  select * from tally__entry_grants(tally__pending_entries())
), whole as (
  select tier, granted, consumed, expired
  from tally_allowance_days
  where grant_day >= $1 and grant_day < $2 and day < $2
  union all
  select tier, granted, consumed, expired
  from queued
  where grant_day >= $1 and grant_day < $2 and tally__day(at) < $2
  union all
  select tier, 0, consumed, expired
  from tally_allowance_hours
  where hour >= $2::integer * 24 and hour < $3 and grant_day >= $1 and grant_day < $2
  union all
  select tier, 0, consumed, expired
  from queued
  where grant_day >= $1 and grant_day < $2 and tally__hour(at) >= $2::integer * 24 and tally__hour(at) < $3
  union all
  select a.tier, 0, case when e.kind = 'expire' then 0 else -e.bucket_delta end, case when e.kind = 'expire' then -e.bucket_delta else 0 end
  from tally_entries e
  cross join lateral (
    select b.tier, b.granted_at from tally_allowances b where b.bucket_id = e.bucket_id
    union all
    select g.tier, g.granted_at from queued_grants g where g.bucket_id = e.bucket_id
  ) a
  where e.created_at >= $4 and e.created_at < $5 and e.bucket_delta < 0 and e.kind in ('spend', 'usage', 'capture', 'expire')
    and a.granted_at >= $10 and a.granted_at < $11
), edge as (
  select a.tier, a.granted, coalesce(d.consumed, 0) as consumed, coalesce(d.expired, 0) as expired
  from (select b.bucket_id, b.tier, b.granted, b.granted_at from tally_allowances b
        where (b.granted_at >= $6 and b.granted_at < $7) or (b.granted_at >= $8 and b.granted_at < $9)
        union all
        select g.bucket_id, g.tier, g.granted, g.granted_at from queued_grants g
        where (g.granted_at >= $6 and g.granted_at < $7) or (g.granted_at >= $8 and g.granted_at < $9)) a
  left join lateral (
    select sum(case when e.kind = 'expire' then 0 else -e.bucket_delta end) as consumed,
           sum(case when e.kind = 'expire' then -e.bucket_delta else 0 end) as expired
    from tally_entries e
    where e.bucket_id = a.bucket_id and e.bucket_delta < 0 and e.created_at < $5 and e.kind in ('spend', 'usage', 'capture', 'expire')
  ) d on true
)
select tier, sum(granted)::text as granted, sum(consumed)::text as consumed, sum(expired)::text as expired
from (select * from whole union all select * from edge) u
group by tier`;

async function utilization(
  rows: AnalyticsRows,
  query: CheckedMetricQuery,
  catalog: AnalyticsCatalog,
): Promise<MetricResult<'utilization'>> {
  const from = query.from.getTime();
  const to = query.to.getTime();
  const firstDay = Math.ceil(from / DAY);
  const endDay = Math.floor(to / DAY);
  const whole = firstDay < endDay;
  const endHour = Math.floor(to / HOUR);
  const wholeFrom = new Date(firstDay * DAY);
  const wholeTo = new Date(endDay * DAY);
  const params = whole
    ? [firstDay, endDay, endHour, new Date(endHour * HOUR), query.to, query.from, wholeFrom, wholeTo, query.to, wholeFrom, wholeTo]
    : [0, 0, 0, query.to, query.to, query.from, query.to, query.to, query.to, query.to, query.to];
  const found = await rows<UtilizationRow>(UTILIZATION, params);
  const lines = new Map(
    found.map((row) => [row.tier, { granted: BigInt(row.granted), consumed: BigInt(row.consumed), expired: BigInt(row.expired) }]),
  );
  const known = new Set(catalog.tiers.map((tier) => tier.id));
  const others = [...lines].filter(([tier, sums]) => !known.has(tier) && sums.granted !== 0n).map(([tier]) => tier);
  const tiers: UtilizationLine[] = [...catalog.tiers.map((tier) => tier.id), ...others.sort(compareIds)].map((tier) => {
    const sums = lines.get(tier) ?? { granted: 0n, consumed: 0n, expired: 0n };
    return {
      tier,
      grantedMicros: sums.granted,
      consumedMicros: sums.consumed,
      expiredMicros: sums.expired,
      utilizationBps: ratioBps(sums.consumed, sums.granted),
    };
  });
  return { metric: 'utilization', ...head(query), tiers };
}

/** `usage`, `margin`, `utilization` or `top-customers`, in the metric's read-only transaction. */
export async function journalMetricSql(rows: AnalyticsRows, query: CheckedMetricQuery, catalog: AnalyticsCatalog): Promise<MetricResult> {
  // Each query reads some thousands of rows: compiling it (JIT, when its estimated cost is high)
  // would take longer than running it, and a merge join would sort them by customer id first.
  await rows('set local jit = off');
  await rows('set local enable_mergejoin = off');
  switch (query.metric) {
    case 'usage':
      return usage(rows, query);
    case 'margin':
      return margin(rows, query, catalog);
    case 'utilization':
      return utilization(rows, query, catalog);
    case 'top-customers':
      return topCustomers(rows, query);
    default:
      throw new Error(`not a journal metric: ${query.metric}`);
  }
}
