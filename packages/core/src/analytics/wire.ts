/**
 * Metric results on the wire (the HTTP API's JSON): every bigint as a decimal string, every Date as
 * an ISO 8601 string, numbers and nulls as they are. `decodeMetricResult` turns that back into the
 * exact values, so a client computes with bigints, never with a float that JSON would give it.
 */
import { TallyError } from '../errors/index.js';
import { METRICS, type MetricName, type MetricResult } from './metrics.js';

/** `T` with bigints and Dates as the strings JSON carries. */
export type ToWire<T> = T extends bigint
  ? string
  : T extends Date
    ? string
    : T extends ReadonlyArray<infer U>
      ? ToWire<U>[]
      : T extends object
        ? { [K in keyof T]: ToWire<T[K]> }
        : T;

export type WireMetricResult<M extends MetricName = MetricName> = M extends MetricName ? ToWire<MetricResult<M>> : never;

/** A metric result as JSON-ready values. */
export function metricToWire<M extends MetricName>(result: MetricResult<M>): WireMetricResult<M> {
  return toWire(result) as WireMetricResult<M>;
}

function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toWire(inner)]));
  }
  return value;
}

// The fields that hold bigints and Dates, by name: every metric uses one spelling for each.
const BIGINT_FIELDS = new Set([
  'tokens',
  'mrrAtStart',
  'mrr',
  'arr',
  'new',
  'expansion',
  'contraction',
  'churn',
  'reactivation',
  'net',
  'lostMrr',
  'providerCostNanoUsd',
  'creditsMicros',
  'revenueNanoUsd',
  'costNanoUsd',
  'marginNanoUsd',
  'grantedMicros',
  'consumedMicros',
  'expiredMicros',
]);
const DATE_FIELDS = new Set(['from', 'to', 'start', 'end']);
const INTEGER = /^-?\d{1,40}$/;

function decodeValue(key: string | null, value: unknown, path: string): unknown {
  if (key !== null && BIGINT_FIELDS.has(key) && typeof value === 'string') {
    if (!INTEGER.test(value)) throw bad(path, 'must be a decimal string of an integer');
    return BigInt(value);
  }
  if (key !== null && DATE_FIELDS.has(key) && typeof value === 'string') {
    const time = Date.parse(value);
    if (Number.isNaN(time)) throw bad(path, 'must be an ISO 8601 time');
    return new Date(time);
  }
  if (Array.isArray(value)) return value.map((item, index) => decodeValue(null, item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([inner, v]) => [inner, decodeValue(inner, v, path ? `${path}.${inner}` : inner)]));
  }
  return value;
}

function bad(path: string, message: string): TallyError {
  return new TallyError('VALIDATION', `metric result ${path} ${message}`, { details: { field: path } });
}

/** The exact result from its wire form (what `client.admin.analytics.metric` answers). */
export function decodeMetricResult<M extends MetricName = MetricName>(wire: WireMetricResult<M> | unknown): MetricResult<M> {
  if (typeof wire !== 'object' || wire === null || !(METRICS as readonly unknown[]).includes((wire as { metric?: unknown }).metric)) {
    throw bad('metric', `must be one of ${METRICS.join(', ')}`);
  }
  return decodeValue(null, wire, '') as MetricResult<M>;
}
