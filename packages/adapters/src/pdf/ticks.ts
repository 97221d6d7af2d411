/**
 * Y-axis ticks in exact integer arithmetic: the values are bigint micros or minor units, and a step
 * of 0.1 credits must be exactly 100,000 micros, not a float that prints as 0.30000000000000004.
 */

export interface AxisTicks {
  /** The axis's lowest value: a multiple of `step`, at or below 0 and the data's minimum. */
  min: bigint;
  /** The axis's highest value: a multiple of `step`, at or above 0 and the data's maximum. */
  max: bigint;
  /** 1, 2 or 5 × 10^k, and never below `minStep`. */
  step: bigint;
  /** `min`, `min + step`, … `max`. */
  ticks: bigint[];
}

export interface NiceTicksOptions {
  /** About how many intervals the axis should have. Default 5. */
  target?: number;
  /** The finest step shown, a power of ten (e.g. 10,000 micros = 0.01 credits, the precision labels show). Default 1. */
  minStep?: bigint;
}

const MULTIPLES = [1n, 2n, 5n];

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b < 0n ? quotient - 1n : quotient;
}

const ceilDiv = (a: bigint, b: bigint): bigint => -floorDiv(-a, b);

/** The smallest 1, 2 or 5 × 10^k that is at least `at least`. */
function niceStep(atLeast: bigint): bigint {
  for (let power = 1n; ; power *= 10n) {
    for (const multiple of MULTIPLES) {
      if (multiple * power >= atLeast) return multiple * power;
    }
  }
}

/**
 * Round ticks covering `low`…`high` and zero (bars grow from zero, so the axis always shows it).
 * An axis of only zeros gets `target` steps of `minStep` so it still has a scale.
 */
export function niceTicks(low: bigint, high: bigint, options: NiceTicksOptions = {}): AxisTicks {
  const target = BigInt(options.target ?? 5);
  const minStep = options.minStep ?? 1n;
  const from = low < 0n ? low : 0n;
  const to = high > 0n ? high : 0n;
  const span = to - from;
  const step = span === 0n ? minStep : niceStep(ceilDiv(span, target) > minStep ? ceilDiv(span, target) : minStep);
  const min = floorDiv(from, step) * step;
  const max = span === 0n ? min + step * target : ceilDiv(to, step) * step;
  const ticks: bigint[] = [];
  for (let value = min; value <= max; value += step) ticks.push(value);
  return { min, max, step, ticks };
}
