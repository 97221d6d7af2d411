/**
 * The oracle for `customers`, `mrr`, `churn`, `retention` and `funnel` (docs/analytics.md): every
 * number straight from the definitions, rescanning the raw records for each instant it needs. Slow on
 * purpose; the SQL is held to it.
 */
import type { SubscriptionRecord } from '../billing/types.js';
import type { CustomerRecord } from '../ledger/types.js';
import {
  type AnalyticsCatalog,
  type CheckedMetricQuery,
  type ChurnPoint,
  type CustomersPoint,
  type FunnelStep,
  type MetricBucket,
  type MetricResult,
  type MrrPoint,
  metricBuckets,
  monthlyPrice,
  type RetentionCohort,
  ratioBps,
} from './metrics.js';
import type { AnalyticsSnapshot } from './oracle.js';

type History = readonly SubscriptionRecord[];

const CALL_KINDS: ReadonlySet<string> = new Set(['usage', 'spend', 'capture']);

/** The MRR one saved record stands for: its tier's monthly price while active or past due. */
function recordMrr(record: SubscriptionRecord, catalog: AnalyticsCatalog): bigint {
  return record.status === 'active' || record.status === 'past_due' ? monthlyPrice(record.tier, catalog) : 0n;
}

/** The newest record saved at or before `at`; of records saved at the same instant, the highest version. */
function stateAt(history: History, at: Date): SubscriptionRecord | null {
  let state: SubscriptionRecord | null = null;
  for (const record of history) {
    const saved = record.updatedAt.getTime();
    if (saved > at.getTime()) continue;
    if (state === null || saved > state.updatedAt.getTime() || (saved === state.updatedAt.getTime() && record.version > state.version)) {
      state = record;
    }
  }
  return state;
}

function mrrAt(history: History, at: Date, catalog: AnalyticsCatalog): bigint {
  const state = stateAt(history, at);
  return state === null ? 0n : recordMrr(state, catalog);
}

/** When the customer first had MRR: the earliest `updatedAt` of a record with MRR above 0 (null: never). */
function firstMrrAt(history: History, catalog: AnalyticsCatalog): number | null {
  let first: number | null = null;
  for (const record of history) {
    if (recordMrr(record, catalog) === 0n) continue;
    const saved = record.updatedAt.getTime();
    if (first === null || saved < first) first = saved;
  }
  return first;
}

const within = (at: Date, bucket: MetricBucket) => at.getTime() >= bucket.start.getTime() && at.getTime() < bucket.end.getTime();

/** The index of the bucket holding `at`, or -1 outside the range (buckets are contiguous and in order). */
function bucketOf(buckets: MetricBucket[], at: Date): number {
  let low = 0;
  let high = buckets.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const bucket = buckets[middle] as MetricBucket;
    if (at.getTime() < bucket.start.getTime()) high = middle - 1;
    else if (at.getTime() >= bucket.end.getTime()) low = middle + 1;
    else return middle;
  }
  return -1;
}

function customersPoints(snapshot: AnalyticsSnapshot, buckets: MetricBucket[]): CustomersPoint[] {
  // One pass over the calls rather than one per bucket: the journal can be long.
  const callers = buckets.map(() => new Set<string>());
  for (const entry of snapshot.entries) {
    if (CALL_KINDS.has(entry.kind) && entry.usage !== null) callers[bucketOf(buckets, entry.createdAt)]?.add(entry.customerId);
  }
  for (const call of snapshot.uncharged) callers[bucketOf(buckets, call.at)]?.add(call.customerId);
  return buckets.map((bucket, index) => ({
    ...bucket,
    signUps: snapshot.customers.filter((customer) => within(customer.createdAt, bucket)).length,
    active: callers[index]?.size ?? 0,
    total: snapshot.customers.filter((customer) => customer.createdAt.getTime() < bucket.end.getTime()).length,
  }));
}

/** Each customer's MRR at the bucket's start (`a`) and end (`b`), and whether it had MRR before the bucket. */
interface Movement {
  a: bigint;
  b: bigint;
  hadMrrBefore: boolean;
}

function movements(snapshot: AnalyticsSnapshot, bucket: MetricBucket, catalog: AnalyticsCatalog): Movement[] {
  const found: Movement[] = [];
  for (const history of snapshot.subscriptions.values()) {
    const first = firstMrrAt(history, catalog);
    found.push({
      a: mrrAt(history, bucket.start, catalog),
      b: mrrAt(history, bucket.end, catalog),
      hadMrrBefore: first !== null && first <= bucket.start.getTime(),
    });
  }
  return found;
}

function mrrPoints(snapshot: AnalyticsSnapshot, buckets: MetricBucket[], catalog: AnalyticsCatalog): MrrPoint[] {
  return buckets.map((bucket) => {
    const point = { mrrAtStart: 0n, mrr: 0n, new: 0n, expansion: 0n, contraction: 0n, churn: 0n, reactivation: 0n };
    for (const { a, b, hadMrrBefore } of movements(snapshot, bucket, catalog)) {
      point.mrrAtStart += a;
      point.mrr += b;
      if (a === 0n && b > 0n) {
        if (hadMrrBefore) point.reactivation += b;
        else point.new += b;
      } else if (a > 0n && b === 0n) point.churn += a;
      else if (a > 0n && b > a) point.expansion += b - a;
      else if (b > 0n && b < a) point.contraction += a - b;
    }
    const net = point.new + point.expansion + point.reactivation - point.contraction - point.churn;
    return { ...bucket, ...point, arr: 12n * point.mrr, net, growthBps: ratioBps(net, point.mrrAtStart) };
  });
}

function churnPoints(snapshot: AnalyticsSnapshot, buckets: MetricBucket[], catalog: AnalyticsCatalog): ChurnPoint[] {
  return buckets.map((bucket) => {
    let payingAtStart = 0;
    let churnedCustomers = 0;
    let mrrAtStart = 0n;
    let lostMrr = 0n;
    for (const { a, b } of movements(snapshot, bucket, catalog)) {
      mrrAtStart += a;
      if (a === 0n) continue;
      payingAtStart += 1;
      if (b === 0n) churnedCustomers += 1;
      // Churned MRR and contracted MRR alike: what is gone of `a` at the end.
      if (b < a) lostMrr += a - b;
    }
    return {
      ...bucket,
      payingAtStart,
      churnedCustomers,
      logoChurnBps: ratioBps(churnedCustomers, payingAtStart),
      mrrAtStart,
      lostMrr,
      revenueChurnBps: ratioBps(lostMrr, mrrAtStart),
    };
  });
}

function retentionCohorts(snapshot: AnalyticsSnapshot, buckets: MetricBucket[], catalog: AnalyticsCatalog): RetentionCohort[] {
  return buckets.map((bucket, index) => {
    const cohort: History[] = [];
    for (const history of snapshot.subscriptions.values()) {
      const first = firstMrrAt(history, catalog);
      if (first !== null && within(new Date(first), bucket)) cohort.push(history);
    }
    const periods = buckets.slice(index).map((later) => {
      const retained = cohort.filter((history) => mrrAt(history, later.end, catalog) > 0n).length;
      return { retained, retainedBps: ratioBps(retained, cohort.length) };
    });
    return { ...bucket, customers: cohort.length, periods };
  });
}

/** The customer's highest tier (index in catalog order) among its records saved before `to` and its record's tier; -1 if none is in the catalog. */
function highestTier(customer: CustomerRecord, history: History, to: Date, catalog: AnalyticsCatalog): number {
  const rank = (tier: string) => catalog.tiers.findIndex((t) => t.id === tier);
  let highest = rank(customer.tier);
  for (const record of history) {
    if (record.updatedAt.getTime() < to.getTime()) highest = Math.max(highest, rank(record.tier));
  }
  return highest;
}

function funnel(
  snapshot: AnalyticsSnapshot,
  query: CheckedMetricQuery,
  catalog: AnalyticsCatalog,
): { created: number; steps: FunnelStep[] } {
  const range = { start: query.from, end: query.to };
  const created = snapshot.customers.filter((customer) => within(customer.createdAt, range));
  const highest = created.map((customer) => highestTier(customer, snapshot.subscriptions.get(customer.id) ?? [], query.to, catalog));
  let previous = created.length;
  const steps = catalog.tiers.map((tier, index) => {
    const customers = highest.filter((rank) => rank >= index).length;
    const step = { tier: tier.id, customers, conversionBps: ratioBps(customers, previous) };
    previous = customers;
    return step;
  });
  return { created: created.length, steps };
}

export function subscriptionMetric(snapshot: AnalyticsSnapshot, query: CheckedMetricQuery, catalog: AnalyticsCatalog): MetricResult {
  const asked = { from: query.from, to: query.to, granularity: query.granularity };
  switch (query.metric) {
    case 'customers':
      return { metric: 'customers', ...asked, points: customersPoints(snapshot, metricBuckets(query)) };
    case 'mrr':
      return { metric: 'mrr', ...asked, points: mrrPoints(snapshot, metricBuckets(query), catalog) };
    case 'churn':
      return { metric: 'churn', ...asked, points: churnPoints(snapshot, metricBuckets(query), catalog) };
    case 'retention':
      return { metric: 'retention', ...asked, cohorts: retentionCohorts(snapshot, metricBuckets(query), catalog) };
    case 'funnel':
      return { metric: 'funnel', ...asked, ...funnel(snapshot, query, catalog) };
    default:
      throw new Error(`not a subscription metric: ${query.metric}`);
  }
}
