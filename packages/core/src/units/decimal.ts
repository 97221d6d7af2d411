import { TallyError } from '../errors/index.js';
import { divideRoundHalfUp, pow10 } from './rounding.js';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
/** Longest decimal string accepted: far beyond any real amount, short enough to refuse junk. */
const MAX_DECIMAL_LENGTH = 80;

export interface ParseDecimalOptions {
  /** Accept a leading minus sign. Off by default: prices and amounts are not negative. */
  allowNegative?: boolean;
  /** Names the value in error messages, e.g. "prompt price". */
  label?: string;
}

/**
 * Parses a plain decimal string exactly into an integer of `scale` decimal places:
 * `parseDecimal("0.00000001875", 15) === 18_750_000n`. Never goes through a float.
 *
 * Refused with `INVALID_DECIMAL`: exponents ("1e-7"), signs other than a leading minus,
 * spaces, thousands separators, empty fractions ("1."), and digits beyond `scale` that are
 * not zeros (they could only be kept by rounding, which would be silent).
 */
export function parseDecimal(input: string, scale: number, options: ParseDecimalOptions = {}): bigint {
  const label = options.label ?? 'decimal';
  if (typeof input !== 'string') {
    throw new TallyError('INVALID_DECIMAL', `${label} must be a decimal string, got ${typeof input}`);
  }
  if (input.length > MAX_DECIMAL_LENGTH) {
    throw new TallyError('INVALID_DECIMAL', `${label} is longer than ${MAX_DECIMAL_LENGTH} characters`);
  }
  const match = DECIMAL.exec(input);
  if (!match) {
    throw new TallyError('INVALID_DECIMAL', `${label} "${input}" is not a plain decimal number`, {
      details: { input },
    });
  }
  const [, minus, whole = '0', rawFraction = ''] = match;
  if (minus && !options.allowNegative) {
    throw new TallyError('INVALID_DECIMAL', `${label} "${input}" must not be negative`, { details: { input } });
  }
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > scale) {
    throw new TallyError('INVALID_DECIMAL', `${label} "${input}" has more than ${scale} decimal places and cannot be represented exactly`, {
      details: { input, scale },
    });
  }
  const magnitude = BigInt(whole) * pow10(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  return minus ? -magnitude : magnitude;
}

export interface FormatDecimalOptions {
  /** Always show at least this many decimals (padded with zeros). Default 0. */
  minFractionDigits?: number;
  /** Round (half-up) to at most this many decimals. Default: `scale`, i.e. exact. */
  maxFractionDigits?: number;
}

/**
 * Formats an integer of `scale` decimal places as a plain decimal string, the inverse of
 * `parseDecimal`: `formatDecimal(18_750_000n, 15) === "0.00000001875"`. Trailing zeros are
 * dropped down to `minFractionDigits`. Locale-free; see `formatCredits`/`formatMoney` for display.
 */
export function formatDecimal(value: bigint, scale: number, options: FormatDecimalOptions = {}): string {
  const minDigits = options.minFractionDigits ?? 0;
  const maxDigits = Math.max(options.maxFractionDigits ?? scale, minDigits);
  let digits = scale;
  let scaled = value;
  if (maxDigits < scale) {
    scaled = divideRoundHalfUp(value, pow10(scale - maxDigits));
    digits = maxDigits;
  }
  const negative = scaled < 0n;
  const magnitude = negative ? -scaled : scaled;
  const unit = pow10(digits);
  const whole = (magnitude / unit).toString();
  let fraction = digits === 0 ? '' : (magnitude % unit).toString().padStart(digits, '0');
  fraction = fraction.replace(/0+$/, '');
  if (fraction.length < minDigits) fraction = fraction.padEnd(minDigits, '0');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
