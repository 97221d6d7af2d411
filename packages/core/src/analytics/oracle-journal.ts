/**
 * The oracle for `usage`, `margin`, `utilization` and `top-customers` (docs/analytics.md): every
 * number straight from the definitions, over the raw journal and call log. Slow on purpose; the SQL,
 * which reads rollups, is held to it.
 */
import type { SubscriptionRecord } from '../billing/types.js';
import type { CustomerRecord, Entry } from '../ledger/types.js';
import { SYSTEM_ACCOUNTS } from '../ledger/types.js';
import {
  type AnalyticsCatalog,
  type CallCounts,
  type CheckedMetricQuery,
  compareIds,
  creditsToNanoUsd,
  type MarginLine,
  type MarginResult,
  type MetricBucket,
  type MetricResult,
  metricBuckets,
  ratioBps,
  type TopCustomer,
  type UsageByModel,
  type UsageResult,
  type UtilizationLine,
} from './metrics.js';
import type { AnalyticsSnapshot } from './oracle.js';

/** Entry kinds that charge a customer; with usage details they are calls. */
const CHARGE_KINDS: ReadonlySet<string> = new Set(['usage', 'spend', 'capture']);
/** How many customers `margin.byCustomer` lists. */
const MARGIN_CUSTOMERS = 100;

/** One metered call, charged (an operation's entries) or logged (a row of the call log). */
interface Call {
  customerId: string;
  at: Date;
  model: string;
  /** Input plus output tokens. */
  tokens: bigint;
  providerCostNanoUsd: bigint;
  byok: boolean;
  free: boolean;
  /** What the call charged: the sum of all its operation's entries (0 for a logged call). */
  creditsMicros: bigint;
}

/** Every call in the snapshot: one per operation that carries usage, one per call-log row. */
function callsOf(snapshot: AnalyticsSnapshot): Call[] {
  const operations = new Map<string, Entry[]>();
  for (const entry of snapshot.entries) {
    const entries = operations.get(entry.operationId);
    if (entries) entries.push(entry);
    else operations.set(entry.operationId, [entry]);
  }
  const calls: Call[] = [];
  for (const entries of operations.values()) {
    const metered = entries.find((entry) => CHARGE_KINDS.has(entry.kind) && entry.usage !== null);
    if (!metered?.usage) continue;
    const usage = metered.usage;
    calls.push({
      customerId: metered.customerId,
      at: metered.createdAt,
      model: usage.model,
      tokens: usage.inputTokens + usage.outputTokens,
      providerCostNanoUsd: usage.providerCostNanoUsd,
      byok: usage.keySource === 'byok',
      free: false,
      creditsMicros: entries.reduce((sum, entry) => sum + entry.amountMicros, 0n),
    });
  }
  for (const logged of snapshot.uncharged) {
    calls.push({
      customerId: logged.customerId,
      at: logged.at,
      model: logged.model,
      tokens: BigInt(logged.inputTokens) + BigInt(logged.outputTokens),
      providerCostNanoUsd: logged.providerCostNanoUsd,
      byok: logged.keySource === 'byok',
      free: logged.free,
      creditsMicros: 0n,
    });
  }
  return calls;
}

const inRange = (at: Date, query: CheckedMetricQuery) => at.getTime() >= query.from.getTime() && at.getTime() < query.to.getTime();

/** Newer means a later `updatedAt`, then a higher version. */
const newer = (a: SubscriptionRecord, b: SubscriptionRecord) =>
  a.updatedAt.getTime() > b.updatedAt.getTime() || (a.updatedAt.getTime() === b.updatedAt.getTime() && a.version > b.version);

function customerOf(snapshot: AnalyticsSnapshot, customerId: string): CustomerRecord {
  const customer = snapshot.customers.find((c) => c.id === customerId);
  if (!customer) throw new Error(`the snapshot has no customer "${customerId}"`);
  return customer;
}

/** The customer's tier at `at`: the newest record saved at or before it, else the customer record's tier. */
function tierAt(snapshot: AnalyticsSnapshot, customerId: string, at: Date): string {
  let state: SubscriptionRecord | null = null;
  for (const record of snapshot.subscriptions.get(customerId) ?? []) {
    if (record.updatedAt.getTime() <= at.getTime() && (state === null || newer(record, state))) state = record;
  }
  return state ? state.tier : customerOf(snapshot, customerId).tier;
}

/** The customer's tier now: the newest record of its history, else the customer record's tier. */
function tierNow(snapshot: AnalyticsSnapshot, customerId: string): string {
  let state: SubscriptionRecord | null = null;
  for (const record of snapshot.subscriptions.get(customerId) ?? []) if (state === null || newer(record, state)) state = record;
  return state ? state.tier : customerOf(snapshot, customerId).tier;
}

function head(query: CheckedMetricQuery) {
  return { from: query.from, to: query.to, granularity: query.granularity };
}

// ---- usage

/** The index of the bucket holding `at`, or -1 outside them (buckets are contiguous and in order). */
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

function usage(calls: Call[], query: CheckedMetricQuery): UsageResult {
  const counts = (): CallCounts => ({ calls: 0, tokens: 0n });
  const add = (target: CallCounts, call: Call) => {
    target.calls++;
    target.tokens += call.tokens;
  };
  const heatmap = Array.from({ length: 7 }, () => Array.from({ length: 24 }, counts));
  const models = new Map<string, UsageByModel>();
  const split = { free: counts(), paid: counts(), byok: counts(), managed: counts() };
  const buckets = metricBuckets(query);
  const series = buckets.map((bucket) => ({ ...bucket, ...counts() }));
  for (const call of calls) {
    const weekday = (call.at.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
    add(heatmap[weekday]?.[call.at.getUTCHours()] as CallCounts, call);
    let model = models.get(call.model);
    if (!model) {
      model = { model: call.model, calls: 0, tokens: 0n, providerCostNanoUsd: 0n, creditsMicros: 0n };
      models.set(call.model, model);
    }
    add(model, call);
    model.providerCostNanoUsd += call.providerCostNanoUsd;
    model.creditsMicros += call.creditsMicros;
    add(call.free ? split.free : split.paid, call);
    add(call.byok ? split.byok : split.managed, call);
    const bucket = series[bucketOf(buckets, call.at)];
    if (bucket) add(bucket, call);
  }
  const byModel = [...models.values()].sort((a, b) => b.calls - a.calls || compareIds(a.model, b.model));
  return { heatmap, byModel, split, series };
}

// ---- margin

interface MarginSum {
  calls: number;
  creditsMicros: bigint;
  costNanoUsd: bigint;
}

/** A line from its sums: revenue converted once, after summing. */
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

function margin(snapshot: AnalyticsSnapshot, calls: Call[], catalog: AnalyticsCatalog): MarginResult {
  const total: MarginSum = { calls: 0, creditsMicros: 0n, costNanoUsd: 0n };
  const byModel = new Map<string, MarginSum>();
  const byTier = new Map<string, MarginSum>();
  const byCustomer = new Map<string, MarginSum>();
  const into = (lines: Map<string, MarginSum>, key: string): MarginSum => {
    let sum = lines.get(key);
    if (!sum) {
      sum = { calls: 0, creditsMicros: 0n, costNanoUsd: 0n };
      lines.set(key, sum);
    }
    return sum;
  };
  for (const call of calls) {
    // The platform pays the provider for managed calls; a BYOK call ran on the customer's own key.
    const cost = call.byok ? 0n : call.providerCostNanoUsd;
    for (const sum of [
      total,
      into(byModel, call.model),
      into(byTier, tierAt(snapshot, call.customerId, call.at)),
      into(byCustomer, call.customerId),
    ]) {
      sum.calls++;
      sum.creditsMicros += call.creditsMicros;
      sum.costNanoUsd += cost;
    }
  }
  const lines = (sums: Map<string, MarginSum>) =>
    [...sums]
      .map(([key, sum]) => ({ key, line: marginLine(sum, catalog) }))
      .sort((a, b) => {
        const byRevenue = b.line.revenueNanoUsd - a.line.revenueNanoUsd;
        return byRevenue > 0n ? 1 : byRevenue < 0n ? -1 : compareIds(a.key, b.key);
      });
  return {
    total: marginLine(total, catalog),
    byModel: lines(byModel).map(({ key, line }) => ({ model: key, ...line })),
    byTier: lines(byTier).map(({ key, line }) => ({ tier: key, ...line })),
    byCustomer: lines(byCustomer)
      .slice(0, MARGIN_CUSTOMERS)
      .map(({ key, line }) => ({ customerId: key, ...line })),
  };
}

// ---- utilization

function utilization(snapshot: AnalyticsSnapshot, query: CheckedMetricQuery, catalog: AnalyticsCatalog): UtilizationLine[] {
  const lines = new Map<string, UtilizationLine>();
  const line = (tier: string): UtilizationLine => {
    let found = lines.get(tier);
    if (!found) {
      found = { tier, grantedMicros: 0n, consumedMicros: 0n, expiredMicros: 0n, utilizationBps: null };
      lines.set(tier, found);
    }
    return found;
  };
  for (const tier of catalog.tiers) line(tier.id);
  // Allowance grants in the range, each bucket with the tier its customer was on at the grant.
  const allowances = new Map<string, UtilizationLine>();
  for (const entry of snapshot.entries) {
    if (entry.kind !== 'grant' || entry.fromAccount !== SYSTEM_ACCOUNTS.grants || !inRange(entry.createdAt, query)) continue;
    const target = line(tierAt(snapshot, entry.customerId, entry.createdAt));
    target.grantedMicros += entry.amountMicros;
    if (entry.bucketId !== null) allowances.set(entry.bucketId, target);
  }
  // What charges and expiries took from those buckets before `to`.
  for (const entry of snapshot.entries) {
    if (entry.bucketId === null || entry.bucketDeltaMicros >= 0n || entry.createdAt.getTime() >= query.to.getTime()) continue;
    const target = allowances.get(entry.bucketId);
    if (!target) continue;
    if (CHARGE_KINDS.has(entry.kind)) target.consumedMicros -= entry.bucketDeltaMicros;
    else if (entry.kind === 'expire') target.expiredMicros -= entry.bucketDeltaMicros;
  }
  const known = new Set(catalog.tiers.map((tier) => tier.id));
  const others = [...lines.keys()].filter((tier) => !known.has(tier)).sort(compareIds);
  return [...catalog.tiers.map((tier) => tier.id), ...others].map((tier) => {
    const found = lines.get(tier) as UtilizationLine;
    return { ...found, utilizationBps: ratioBps(found.consumedMicros, found.grantedMicros) };
  });
}

// ---- top customers

function topCustomers(snapshot: AnalyticsSnapshot, calls: Call[], query: CheckedMetricQuery): TopCustomer[] {
  const customers = new Map<string, TopCustomer>();
  const customer = (customerId: string): TopCustomer => {
    let found = customers.get(customerId);
    if (!found) {
      found = { customerId, tier: '', creditsMicros: 0n, calls: 0, providerCostNanoUsd: 0n };
      customers.set(customerId, found);
    }
    return found;
  };
  for (const entry of snapshot.entries) {
    if (CHARGE_KINDS.has(entry.kind) && inRange(entry.createdAt, query)) customer(entry.customerId).creditsMicros += entry.amountMicros;
  }
  for (const call of calls) {
    const found = customer(call.customerId);
    found.calls++;
    found.providerCostNanoUsd += call.providerCostNanoUsd;
  }
  return [...customers.values()]
    .sort((a, b) => {
      const byCredits = b.creditsMicros - a.creditsMicros;
      return byCredits > 0n ? 1 : byCredits < 0n ? -1 : b.calls - a.calls || compareIds(a.customerId, b.customerId);
    })
    .slice(0, query.limit)
    .map((found) => ({ ...found, tier: tierNow(snapshot, found.customerId) }));
}

/** `usage`, `margin`, `utilization` or `top-customers` of a snapshot. */
export function journalMetric(snapshot: AnalyticsSnapshot, query: CheckedMetricQuery, catalog: AnalyticsCatalog): MetricResult {
  const calls = () => callsOf(snapshot).filter((call) => inRange(call.at, query));
  switch (query.metric) {
    case 'usage':
      return { metric: 'usage', ...head(query), ...usage(calls(), query) };
    case 'margin':
      return { metric: 'margin', ...head(query), ...margin(snapshot, calls(), catalog) };
    case 'utilization':
      return { metric: 'utilization', ...head(query), tiers: utilization(snapshot, query, catalog) };
    case 'top-customers':
      return { metric: 'top-customers', ...head(query), customers: topCustomers(snapshot, calls(), query) };
    default:
      throw new Error(`not a journal metric: ${query.metric}`);
  }
}
