import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { niceTicks } from './ticks.js';

const isNice = (step: bigint) => {
  let mantissa = step;
  while (mantissa % 10n === 0n) mantissa /= 10n;
  return mantissa === 1n || mantissa === 2n || mantissa === 5n;
};

describe('niceTicks', () => {
  it.each([
    [0n, 73n, 1n, { min: 0n, max: 80n, step: 20n }],
    [-4_900n, 231_450n, 1n, { min: -50_000n, max: 250_000n, step: 50_000n }],
    [0n, 72_750_000n, 10_000n, { min: 0n, max: 80_000_000n, step: 20_000_000n }],
    [-30n, -10n, 1n, { min: -30n, max: 0n, step: 10n }],
    [3n, 3n, 1n, { min: 0n, max: 3n, step: 1n }],
    // Credits of a few micros still get 0.01-credit steps: the precision the labels show.
    [0n, 7n, 10_000n, { min: 0n, max: 10_000n, step: 10_000n }],
    // Nothing to scale: five steps of the finest unit.
    [0n, 0n, 10_000n, { min: 0n, max: 50_000n, step: 10_000n }],
    [0n, 10n ** 30n, 1n, { min: 0n, max: 10n ** 30n, step: 2n * 10n ** 29n }],
  ])('niceTicks(%s, %s, minStep %s)', (low, high, minStep, expected) => {
    const { ticks, ...axis } = niceTicks(low, high, { minStep });
    expect(axis).toEqual(expected);
    expect(ticks[0]).toBe(expected.min);
    expect(ticks.at(-1)).toBe(expected.max);
  });

  it('covers the data and zero with round, evenly spaced, tight ticks', () => {
    const value = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
    fc.assert(
      fc.property(value, value, fc.constantFrom(1n, 10_000n), fc.integer({ min: 2, max: 10 }), (a, b, minStep, target) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        const { min, max, step, ticks } = niceTicks(low, high, { minStep, target });
        expect(isNice(step)).toBe(true);
        expect(step >= minStep && step % minStep === 0n).toBe(true);
        expect(min <= low && min <= 0n && max >= high && max >= 0n).toBe(true);
        expect(min % step).toBe(0n);
        expect(ticks).toContain(0n);
        ticks.forEach((tick, index) => {
          expect(tick).toBe(min + BigInt(index) * step);
        });
        expect(ticks.at(-1)).toBe(max);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(target + 3);
        if (low !== 0n || high !== 0n) {
          // No whole step to spare at either end.
          expect(max - step < (high > 0n ? high : 0n)).toBe(true);
          expect(min + step > (low < 0n ? low : 0n)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
