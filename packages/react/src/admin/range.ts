import type { Granularity, MetricName } from '@tally/core';
import type { MetricRequest } from '../provider/client.js';

/** What every analytics widget shows: `[from, to)` in UTC, cut into buckets of `granularity`. */
export interface AnalyticsRange {
  from: Date;
  to: Date;
  granularity: Granularity;
}

export const DAY_MS = 86_400_000;

/** The ranges the picker offers, ending with today (UTC). */
export const RANGE_PRESETS = [
  { id: '7d', days: 7, label: 'Last 7 days' },
  { id: '30d', days: 30, label: 'Last 30 days' },
  { id: '90d', days: 90, label: 'Last 90 days' },
  { id: '365d', days: 365, label: 'Last 12 months' },
] as const;

export type RangePresetId = (typeof RANGE_PRESETS)[number]['id'];

/**
 * The start of the UTC day after `now`. A range ending there includes today, and is the same all
 * day long, so the widgets' cache keys don't change from one render to the next.
 */
export function endOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY_MS);
}

/** The last `days` whole UTC days up to and including today. */
export function lastDays(days: number, now: Date = new Date(), granularity: Granularity = 'day'): AnalyticsRange {
  const to = endOfUtcDay(now);
  return { from: new Date(to.getTime() - days * DAY_MS), to, granularity };
}

/** The request for `metric` over `range` (the wire takes ISO times). */
export function metricRequest<M extends MetricName>(metric: M, range: AnalyticsRange, limit?: number): MetricRequest<M> {
  return {
    metric,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    granularity: range.granularity,
    ...(limit === undefined ? {} : { limit }),
  };
}

/** A Date from an `<input type="date">` value (`YYYY-MM-DD`, read as a UTC day); null when it is not one. */
export function parseDay(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const time = Date.parse(`${value}T00:00:00.000Z`);
  return Number.isNaN(time) ? null : new Date(time);
}

/** The `<input type="date">` value of the UTC day `date` falls on. */
export function dayValue(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Which preset `range` is (ending today, `days` long), or null for a range of its own. */
export function matchPreset(range: AnalyticsRange, now: Date): RangePresetId | null {
  const to = endOfUtcDay(now).getTime();
  if (range.to.getTime() !== to) return null;
  return RANGE_PRESETS.find((preset) => to - preset.days * DAY_MS === range.from.getTime())?.id ?? null;
}
