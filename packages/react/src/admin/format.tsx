import { currencyExponent, formatDecimal, type Granularity } from '@tally/core';
import { formatBps, formatNanoUsdText } from '../format/amounts.js';

/**
 * Display helpers for analytics. Every amount shown is formatted from its bigint; a chart's numbers
 * (`plot`) only place marks on the screen. Times are UTC, as the metrics are cut in UTC.
 */

const UTC = 'UTC';

/** A bigint as a chart coordinate. Geometry only: labels, tooltips and tables format the bigint itself. */
export function plot(value: bigint): number {
  return Number(value);
}

/** A bucket's name: the day, the week (by its Monday) or the month it starts, in UTC. */
export function bucketLabel(start: Date, granularity: Granularity, locale: string, long = false): string {
  if (granularity === 'month') {
    return new Intl.DateTimeFormat(locale, { month: long ? 'long' : 'short', year: 'numeric', timeZone: UTC }).format(start);
  }
  const day = new Intl.DateTimeFormat(locale, {
    month: 'short',
    day: 'numeric',
    ...(long ? { year: 'numeric' } : {}),
    timeZone: UTC,
  }).format(start);
  return granularity === 'week' && long ? `Week of ${day}` : day;
}

/** `[from, to)` as the days it covers, e.g. "Aug 22 – Nov 20, 2026". */
export function rangeLabel(from: Date, to: Date, locale: string): string {
  const last = new Date(Math.max(from.getTime(), to.getTime() - 1));
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: UTC }).formatRange(from, last);
}

/** The heading of a table's bucket column. */
export function periodHeading(granularity: Granularity): string {
  return granularity === 'day' ? 'Day' : granularity === 'week' ? 'Week' : 'Month';
}

export function formatCount(value: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(value);
}

/** A bigint count (tokens), grouped by the locale, exactly. */
export function formatBigCount(value: bigint, locale: string): string {
  return value.toLocaleString(locale);
}

const compact = (locale: string, options: Intl.NumberFormatOptions = {}) =>
  new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1, ...options });

// Axis ticks are values of the scale recharts picked, not amounts of the data: rounded to the unit,
// then handed to Intl as exact decimal strings.
const tickUnits = (tick: number) => BigInt(Math.round(tick));

/** An axis tick in minor units of `currency`, compact ("$1.2K"). */
export function moneyTick(tick: number, currency: string, locale: string): string {
  const decimal = formatDecimal(tickUnits(tick), currencyExponent(currency));
  return compact(locale, { style: 'currency', currency }).format(decimal as unknown as number);
}

/** An axis tick in credit micros, compact ("1.5K"). */
export function creditsTick(tick: number, locale: string): string {
  return compact(locale).format(formatDecimal(tickUnits(tick), 6) as unknown as number);
}

/** An axis tick that counts something, compact ("12K"). */
export function countTick(tick: number, locale: string): string {
  return compact(locale).format(tickUnits(tick) as unknown as number);
}

/** An axis tick in basis points, as a percentage. */
export function bpsTick(tick: number, locale: string): string {
  return formatBps(Math.round(tick), locale);
}

/** A ratio in basis points; a ratio without a denominator (null) reads "none". */
export function Ratio({ bps, locale }: { bps: number | null; locale: string }) {
  if (bps === null) {
    return (
      <>
        <span aria-hidden="true">—</span>
        <span className="tally-visually-hidden">none</span>
      </>
    );
  }
  return <data value={bps}>{formatBps(bps, locale)}</data>;
}

/** Nano-USD (provider cost, revenue, margin) to the cent, with the exact amount in `value`. */
export function NanoUsd({ nanoUsd, locale }: { nanoUsd: bigint; locale: string }) {
  return (
    <data
      className="tally-money-amount"
      data-sign={nanoUsd < 0n ? 'negative' : nanoUsd > 0n ? 'positive' : 'zero'}
      value={nanoUsd.toString()}
    >
      {formatNanoUsdText(nanoUsd, locale)}
    </data>
  );
}

/** The bucket's label for a table row, with the exact start as machine-readable time. */
export function BucketTime({ start, granularity, locale }: { start: Date; granularity: Granularity; locale: string }) {
  return <time dateTime={start.toISOString()}>{bucketLabel(start, granularity, locale, true)}</time>;
}

/** A tier's display name: `tierNames[id]`, else the id with a capital first letter. */
export function tierLabel(id: string, tierNames?: Readonly<Record<string, string>>): string {
  return tierNames?.[id] ?? (id ? id[0]?.toUpperCase() + id.slice(1) : id);
}
