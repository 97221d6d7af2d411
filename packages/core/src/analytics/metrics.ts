/**
 * The analytics contract: the metric queries, their exact results, and the checks and helpers every
 * implementation shares (the brute-force TypeScript oracle in `oracle.ts`, which the memory store
 * uses, and the SQL of `@tally/adapters`). Definitions: docs/analytics.md. No float anywhere:
 * money is bigint minor units, credits bigint micros, provider cost bigint nano-USD, ratios basis
 * points rounded half away from zero (null when the denominator is 0).
 */
import type { Catalog } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { divideRoundHalfUp } from '../units/rounding.js';

export const METRICS = ['customers', 'mrr', 'churn', 'retention', 'funnel', 'usage', 'margin', 'utilization', 'top-customers'] as const;
export type MetricName = (typeof METRICS)[number];

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** A metric over `[from, to)` in UTC. */
export interface MetricRange {
  from: Date;
  to: Date;
  /** How `customers`, `mrr`, `churn`, `retention` and the usage series are cut; default `day`. */
  granularity?: Granularity;
}

export interface MetricQuery<M extends MetricName = MetricName> extends MetricRange {
  metric: M;
  /** `top-customers` only: how many, 1–100, default 10. */
  limit?: number;
}

/** What analytics needs of the catalog: tier prices and order, and the credit exchange rate. */
export interface AnalyticsCatalog {
  currency: string;
  microsPerUsd: bigint;
  /** In catalog order (the funnel's order). */
  tiers: ReadonlyArray<{ id: string; price: bigint; interval: 'month' | 'year' }>;
}

/** The part of a catalog analytics reads. */
export function analyticsCatalog(catalog: Catalog): AnalyticsCatalog {
  return {
    currency: catalog.currency,
    microsPerUsd: catalog.microsPerUsd,
    tiers: catalog.tiers.map((tier) => ({ id: tier.id, price: tier.price, interval: tier.interval })),
  };
}

/** One bucket of a range: `[start, end)`, the first and last clipped to the range. */
export interface MetricBucket {
  start: Date;
  end: Date;
}

export interface CustomersPoint extends MetricBucket {
  /** Customers created in the bucket. */
  signUps: number;
  /** Distinct customers with at least one call (charged or logged) in the bucket. */
  active: number;
  /** Customers created before the bucket's end. */
  total: number;
}

export interface MrrPoint extends MetricBucket {
  /** MRR at the bucket's start and end (minor units). */
  mrrAtStart: bigint;
  mrr: bigint;
  arr: bigint;
  new: bigint;
  expansion: bigint;
  contraction: bigint;
  churn: bigint;
  reactivation: bigint;
  /** `mrr − mrrAtStart`. */
  net: bigint;
  /** `net / mrrAtStart`; null when `mrrAtStart` is 0. */
  growthBps: number | null;
}

export interface ChurnPoint extends MetricBucket {
  /** Customers with MRR > 0 at the bucket's start. */
  payingAtStart: number;
  /** Of those, the ones with MRR 0 at its end. */
  churnedCustomers: number;
  logoChurnBps: number | null;
  mrrAtStart: bigint;
  /** Churned plus contracted MRR. */
  lostMrr: bigint;
  revenueChurnBps: number | null;
}

export interface RetentionCohort extends MetricBucket {
  /** Customers whose first instant with MRR > 0 falls in this bucket. */
  customers: number;
  /**
   * `periods[k]`: the cohort's customers with MRR > 0 at the end of the k-th bucket after the
   * cohort's own (k = 0 is the cohort's bucket itself), for every bucket of the range.
   */
  periods: Array<{ retained: number; retainedBps: number | null }>;
}

export interface FunnelStep {
  tier: string;
  /** Customers created in the range whose highest tier by `to` is this one or a later one in catalog order. */
  customers: number;
  /** `customers` over the previous step's (the first step: over `created`); null when that is 0. */
  conversionBps: number | null;
}

export interface CallCounts {
  calls: number;
  tokens: bigint;
}

export interface UsageByModel extends CallCounts {
  model: string;
  providerCostNanoUsd: bigint;
  creditsMicros: bigint;
}

export interface UsageResult {
  /** 7 rows (Monday … Sunday, UTC) of 24 hours. */
  heatmap: CallCounts[][];
  /** Sorted by calls descending, then model id ascending (binary order). */
  byModel: UsageByModel[];
  split: { free: CallCounts; paid: CallCounts; byok: CallCounts; managed: CallCounts };
  /** Calls and tokens per bucket of the range's granularity. */
  series: Array<MetricBucket & CallCounts>;
}

export interface MarginLine {
  calls: number;
  /** Credits the calls charged, worth `revenueNanoUsd`. */
  creditsMicros: bigint;
  revenueNanoUsd: bigint;
  /** What managed calls cost the platform (BYOK calls cost it nothing). */
  costNanoUsd: bigint;
  marginNanoUsd: bigint;
  /** `margin / revenue`; null when revenue is 0. */
  marginBps: number | null;
}

export interface MarginResult {
  total: MarginLine;
  /** Each list sorted by revenue descending, then key ascending (binary order). */
  byModel: Array<MarginLine & { model: string }>;
  byTier: Array<MarginLine & { tier: string }>;
  byCustomer: Array<MarginLine & { customerId: string }>;
}

export interface UtilizationLine {
  tier: string;
  /** Allowance granted in the range to customers on this tier at the grant. */
  grantedMicros: bigint;
  /** What charges (spend, usage, capture) drew from those grants before `to`. */
  consumedMicros: bigint;
  /** What expired of those grants before `to`. */
  expiredMicros: bigint;
  /** `consumed / granted`; null when nothing was granted. */
  utilizationBps: number | null;
}

export interface TopCustomer {
  customerId: string;
  /** The customer's tier now. */
  tier: string;
  /** Credits charged (spend, usage and capture entries) in the range. */
  creditsMicros: bigint;
  /** Calls, charged and logged. */
  calls: number;
  /** Provider cost of those calls (managed and BYOK). */
  providerCostNanoUsd: bigint;
}

/** Each metric's result. Bucketed metrics list their buckets in time order. */
export interface MetricResults {
  customers: { points: CustomersPoint[] };
  mrr: { points: MrrPoint[] };
  churn: { points: ChurnPoint[] };
  retention: { cohorts: RetentionCohort[] };
  funnel: { created: number; steps: FunnelStep[] };
  usage: UsageResult;
  margin: MarginResult;
  utilization: { tiers: UtilizationLine[] };
  'top-customers': { customers: TopCustomer[] };
}

/** A metric's answer, tagged with what was asked (a union over every metric when `M` is not fixed). */
export type MetricResult<M extends MetricName = MetricName> = M extends MetricName
  ? { metric: M; from: Date; to: Date; granularity: Granularity } & MetricResults[M]
  : never;

/** The analytics part of `TallyStore`. */
export interface AnalyticsStore {
  /**
   * Computes one metric from the store's journal, call log, customers and subscription history.
   * A query `checkMetricQuery` refuses: `VALIDATION`, before anything is read.
   */
  metric<M extends MetricName>(query: MetricQuery<M>, catalog: AnalyticsCatalog): Promise<MetricResult<M>>;
  /**
   * Brings the store's rollups up to date with what was written since the last fold. Metrics are exact
   * either way (what is not folded yet is read raw); folding keeps them fast. SQL stores fold from a job
   * rather than on the request path (docs/analytics.md, "Indexes and rollups"); a store without rollups
   * has nothing to do. Resolves false when another fold was running (it folds the same queue).
   */
  foldAnalytics(): Promise<boolean>;
}

// ---- checks and shared helpers

/** The longest range a query may ask for (about ten years). */
export const MAX_RANGE_DAYS = 3660;
/** The most buckets a bucketed metric returns (ten years of days). */
export const MAX_BUCKETS = 3660;
export const MAX_TOP_CUSTOMERS = 100;
export const DEFAULT_TOP_CUSTOMERS = 10;

const DAY_MS = 86_400_000;
// Years 1970–9999: what both JavaScript and Postgres timestamps hold, on the Unix side of the epoch.
const LATEST = Date.parse('9999-12-31T00:00:00.000Z');

function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

export interface CheckedMetricQuery {
  metric: MetricName;
  from: Date;
  to: Date;
  granularity: Granularity;
  /** For `top-customers`; 0 otherwise. */
  limit: number;
}

/** Checks a query and fills its defaults; `VALIDATION` names the first bad field. */
export function checkMetricQuery(query: unknown): CheckedMetricQuery {
  if (typeof query !== 'object' || query === null) throw invalid('query', 'must be an object');
  const q = query as Record<string, unknown>;
  if (!(METRICS as readonly unknown[]).includes(q.metric)) throw invalid('metric', `must be one of ${METRICS.join(', ')}`);
  const metric = q.metric as MetricName;
  for (const field of ['from', 'to'] as const) {
    const value = q[field];
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(field, 'must be a valid Date');
    if (value.getTime() < 0 || value.getTime() > LATEST) throw invalid(field, 'must be between 1970-01-01 and 9999-12-31');
  }
  const from = new Date((q.from as Date).getTime());
  const to = new Date((q.to as Date).getTime());
  if (from.getTime() >= to.getTime()) throw invalid('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw invalid('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
  const granularity = q.granularity ?? 'day';
  if (!(GRANULARITIES as readonly unknown[]).includes(granularity))
    throw invalid('granularity', `must be one of ${GRANULARITIES.join(', ')}`);
  let limit = 0;
  if (metric === 'top-customers') {
    limit = q.limit === undefined ? DEFAULT_TOP_CUSTOMERS : (q.limit as number);
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TOP_CUSTOMERS) {
      throw invalid('limit', `must be a whole number from 1 to ${MAX_TOP_CUSTOMERS}`);
    }
  } else if (q.limit !== undefined) {
    throw invalid('limit', 'is only for top-customers');
  }
  return { metric, from, to, granularity: granularity as Granularity, limit };
}

/** The start of the granularity period containing `at` (UTC; weeks start on Monday). */
export function periodStart(at: Date, granularity: Granularity): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  if (granularity === 'day') return new Date(day);
  if (granularity === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const weekday = (at.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(day - weekday * DAY_MS);
}

/** The start of the period after the one starting at `start`. */
export function nextPeriodStart(start: Date, granularity: Granularity): Date {
  if (granularity === 'day') return new Date(start.getTime() + DAY_MS);
  if (granularity === 'week') return new Date(start.getTime() + 7 * DAY_MS);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

/**
 * The range cut at granularity boundaries: `[max(period start, from), min(period end, to))` for every
 * period the range touches. `VALIDATION` when that is more than `MAX_BUCKETS`.
 */
export function metricBuckets(range: { from: Date; to: Date; granularity: Granularity }): MetricBucket[] {
  const buckets: MetricBucket[] = [];
  let start = periodStart(range.from, range.granularity);
  while (start.getTime() < range.to.getTime()) {
    const next = nextPeriodStart(start, range.granularity);
    buckets.push({
      start: new Date(Math.max(start.getTime(), range.from.getTime())),
      end: new Date(Math.min(next.getTime(), range.to.getTime())),
    });
    if (buckets.length > MAX_BUCKETS)
      throw invalid('granularity', `gives more than ${MAX_BUCKETS} buckets for this range; choose a coarser one`);
    start = next;
  }
  return buckets;
}

/** `numerator × 10,000 / denominator` rounded half away from zero; null when the denominator is 0. */
export function ratioBps(numerator: bigint | number, denominator: bigint | number): number | null {
  const d = BigInt(denominator);
  if (d === 0n) return null;
  return Number(divideRoundHalfUp(BigInt(numerator) * 10_000n, d));
}

const NANO_PER_USD = 1_000_000_000n;

/** What `micros` of credit are worth in nano-USD at the catalog's rate (once per reported number, after summing). */
export function creditsToNanoUsd(micros: bigint, catalog: AnalyticsCatalog): bigint {
  return divideRoundHalfUp(micros * NANO_PER_USD, catalog.microsPerUsd);
}

/** A tier's price per month: a monthly price as it is, a yearly one divided by 12 (half up); 0 for a tier the catalog lacks. */
export function monthlyPrice(tierId: string, catalog: AnalyticsCatalog): bigint {
  const tier = catalog.tiers.find((t) => t.id === tierId);
  if (!tier) return 0n;
  return tier.interval === 'year' ? divideRoundHalfUp(tier.price, 12n) : tier.price;
}

/** Binary (code unit) order of two ids, as Postgres sorts `collate "C"`. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
