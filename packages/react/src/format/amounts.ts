import { currencyExponent, divideRoundHalfUp, type FormatCreditsOptions, formatDecimal, toBigInt } from '@tally/core';

/**
 * Display helpers for the wire's amounts. Every amount arrives as a decimal string of an integer
 * and becomes a bigint here; nothing passes through a float. A malformed string is a `VALIDATION`
 * TallyError (the server broke its contract), never a silently wrong number.
 */

/** `"1500000"` → `1_500_000n`. */
export function integer(value: string, label = 'amount'): bigint {
  return toBigInt(value, label);
}

/**
 * `value`, an integer of `scale` decimals, for people: rounded half-up (away from zero) to `max`
 * decimals with one bigint division, then handed to Intl as the exact decimal string, never a float.
 * Core's `formatCredits` and `formatMoney` give the same text; this keeps their general decimal
 * helpers off every widget's path.
 */
function formatScaled(value: bigint, scale: number, locale: string, min: number, max: number, extra?: Intl.NumberFormatOptions): string {
  // Beyond `scale` the digits are zeros for Intl to pad.
  const digits = Math.min(max, scale);
  const step = 10n ** BigInt(scale - digits);
  const magnitude = ((value < 0n ? -value : value) * 2n + step) / (2n * step);
  // A negative amount that rounds to zero shows as 0, not -0.
  const sign = value < 0n && magnitude > 0n ? '-' : '';
  const unit = 10n ** BigInt(digits);
  const fraction = digits > 0 ? `.${(magnitude % unit).toString().padStart(digits, '0')}` : '';
  const format = new Intl.NumberFormat(locale, {
    ...extra,
    minimumFractionDigits: min,
    maximumFractionDigits: max,
    roundingMode: 'halfExpand',
  });
  return format.format(`${sign}${magnitude / unit}${fraction}` as unknown as number);
}

/** Credit micros as core's `formatCredits(micros, options)` formats them. */
export function formatCreditMicros(micros: bigint, options: FormatCreditsOptions = {}): string {
  const max = options.maxFractionDigits ?? 2;
  return formatScaled(micros, 6, options.locale ?? 'en-US', Math.min(options.minFractionDigits ?? max, max), max);
}

/** Minor units as core's `formatMoney({ currency, amount }, locale)` formats them; a bad currency is a `VALIDATION` error. */
export function formatMinorUnits(amount: bigint, currency: string, locale = 'en-US'): string {
  const exponent = currencyExponent(currency);
  return formatScaled(amount, exponent, locale, exponent, exponent, { style: 'currency', currency });
}

/** Minor units of `currency` for people: `formatCents("1999", "USD")` → `"$19.99"`. */
export function formatCents(cents: string | bigint, currency: string, locale = 'en-US'): string {
  const amount = typeof cents === 'bigint' ? cents : integer(cents, 'amount in cents');
  return formatMinorUnits(amount, currency, locale);
}

/** Credit micros as a number for people: `"20"`, `"12.50"` (whole amounts drop the decimals). */
export function formatCreditsNumber(micros: string | bigint, locale = 'en-US'): string {
  const value = typeof micros === 'bigint' ? micros : integer(micros, 'credits in micros');
  const whole = value % 1_000_000n === 0n;
  return formatCreditMicros(value, { locale, maxFractionDigits: 2, minFractionDigits: whole ? 0 : 2 });
}

/** Credit micros with the unit: `"20 credits"`, `"1 credit"`. */
export function formatCreditsText(micros: string | bigint, locale = 'en-US'): string {
  const value = typeof micros === 'bigint' ? micros : integer(micros, 'credits in micros');
  return `${formatCreditsNumber(value, locale)} ${value === 1_000_000n ? 'credit' : 'credits'}`;
}

const NANO_PER_CENT = 10_000_000n;

/** Nano-USD (provider balances) rounded half-up to the cent for display: `"12345670000"` → `"$12.35"`. */
export function formatNanoUsdText(nanoUsd: string | bigint, locale = 'en-US'): string {
  const value = typeof nanoUsd === 'bigint' ? nanoUsd : integer(nanoUsd, 'nano-USD');
  return formatMinorUnits(divideRoundHalfUp(value, NANO_PER_CENT), 'USD', locale);
}

/** Basis points as a percentage: `1250` → `"12.5%"`. Exact: Intl gets a decimal string. */
export function formatBps(bps: number, locale = 'en-US'): string {
  const fraction = formatDecimal(toBigInt(bps, 'basis points'), 4);
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }).format(fraction as unknown as number);
}

/**
 * How much of `total` is `part`, in whole percent rounded down and clamped to 0–100: for a meter's
 * `aria-valuenow` and bar width (a display ratio, not an amount).
 */
export function percentOf(part: bigint, total: bigint): number {
  if (total <= 0n) return part > 0n ? 100 : 0;
  const percent = (part * 100n) / total;
  return Number(percent < 0n ? 0n : percent > 100n ? 100n : percent);
}
