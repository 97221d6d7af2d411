import { TallyError } from '../errors/index.js';

/**
 * `numerator / denominator`, rounded half away from zero (commercial "half-up"),
 * so a credit line is always the exact negative of the matching charge line.
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new TallyError('VALIDATION', 'Division by zero in an amount computation');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (n * 2n + d) / (d * 2n);
  return negative ? -quotient : quotient;
}

/** `value * numerator / denominator` with a single half-up rounding at the end. */
export function scaleRoundHalfUp(value: bigint, numerator: bigint, denominator: bigint): bigint {
  return divideRoundHalfUp(value * numerator, denominator);
}

export const pow10 = (exponent: number): bigint => 10n ** BigInt(exponent);
