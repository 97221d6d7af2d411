import { formatDecimal, parseDecimal } from './decimal.js';

/** Credits are counted in micros: 1 credit = 1,000,000 micros, always a bigint. */
export const MICROS_PER_CREDIT = 1_000_000n;
const CREDIT_SCALE = 6;

/** `"1.5"` → `1_500_000n`. Exact; more than 6 decimals is an error. */
export function parseCredits(input: string): bigint {
  return parseDecimal(input, CREDIT_SCALE, { allowNegative: true, label: 'credits' });
}

/** Whole credits → micros. */
export function creditsToMicros(credits: bigint | number): bigint {
  return BigInt(credits) * MICROS_PER_CREDIT;
}

export interface FormatCreditsOptions {
  /** BCP 47 locale for digit grouping and the decimal sign. Default `en-US`. */
  locale?: string;
  /** Decimals shown, rounded half-up. Default 2. */
  maxFractionDigits?: number;
  /** Decimals always shown. Default: same as `maxFractionDigits`. */
  minFractionDigits?: number;
}

/**
 * Micros as a credit amount for people: `formatCredits(1_234_567_890n) === "1,234.57"`.
 * The number goes to Intl as an exact decimal string, never as a float.
 */
export function formatCredits(micros: bigint, options: FormatCreditsOptions = {}): string {
  const max = options.maxFractionDigits ?? 2;
  const min = Math.min(options.minFractionDigits ?? max, max);
  const exact = formatDecimal(micros, CREDIT_SCALE, { maxFractionDigits: max, minFractionDigits: min });
  return formatExactDecimal(exact, options.locale ?? 'en-US', min, max);
}

/** Intl formats a decimal *string* exactly (ECMA-402 NumberFormat v3); no float is involved. */
export function formatExactDecimal(decimal: string, locale: string, min: number, max: number, extra?: Intl.NumberFormatOptions): string {
  const format = new Intl.NumberFormat(locale, {
    ...extra,
    minimumFractionDigits: min,
    maximumFractionDigits: max,
    roundingMode: 'halfExpand',
  });
  return format.format(decimal as unknown as number);
}
