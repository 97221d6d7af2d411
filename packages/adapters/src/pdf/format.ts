/**
 * Values as people read them in the PDF, through core's exact formatters (en-US): credits rounded to
 * two decimals like everywhere else in Tally, money in its currency, dates in UTC. Nothing passes
 * through a float: Intl gets bigints or decimal strings.
 */
import { formatCredits, formatDecimal, formatMoney, money, type ReportCell, type ReportColumnKind } from '@tally/core';

const LOCALE = 'en-US';
const integerFormat = new Intl.NumberFormat(LOCALE);
const percentFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const EMPTY = '—';

export function formatInteger(value: bigint | number): string {
  return integerFormat.format(BigInt(value));
}

/** 1250 bps → "12.5%". */
/** Nano-USD as dollars with every digit that matters (at least cents): `$0.000123`, `-$1.50`. */
export function formatUsdNano(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  return `${sign}$${formatDecimal(value < 0n ? -value : value, 9, { minFractionDigits: 2 })}`;
}

export function formatBps(value: bigint | number): string {
  // Intl reads a decimal string exactly (ECMA-402 NumberFormat v3).
  return `${percentFormat.format(formatDecimal(BigInt(value), 2) as `${number}`)}%`;
}

/** A UTC day as "2026-03-01", any other instant as "2026-03-01 14:05 UTC". */
export function formatUtc(date: Date): string {
  const iso = date.toISOString();
  const day = iso.slice(0, 10);
  return iso.slice(11) === '00:00:00.000Z' ? day : `${day} ${iso.slice(11, 16)} UTC`;
}

export function formatCell(kind: ReportColumnKind, value: ReportCell, currency: string): string {
  if (value === null) return EMPTY;
  switch (kind) {
    case 'text':
      return value as string;
    case 'integer':
      return formatInteger(value as bigint | number);
    case 'credits':
      return `${formatCredits(value as bigint)} credits`;
    case 'money':
      return formatMoney(money(currency, value as bigint), LOCALE);
    case 'usd_nano':
      return formatUsdNano(value as bigint);
    case 'percent_bps':
      return formatBps(value as bigint | number);
    case 'date':
      return formatUtc(value as Date);
  }
}

/** Number columns are right-aligned so digits line up. */
export const isNumeric = (kind: ReportColumnKind): boolean => kind !== 'text' && kind !== 'date';
