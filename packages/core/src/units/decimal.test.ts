import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { formatDecimal, parseDecimal } from './decimal.js';
import { divideRoundHalfUp } from './rounding.js';

describe('parseDecimal', () => {
  it.each([
    ['0.000000150', 15, 150_000_000n],
    ['0.00000001875', 15, 18_750_000n],
    ['0', 15, 0n],
    ['19.99', 2, 1999n],
    ['19.9', 2, 1990n],
    ['7', 6, 7_000_000n],
    ['0.100000000000000000000', 1, 1n],
    ['-2.5', 6, -2_500_000n],
  ])('parses %s at scale %i exactly', (input, scale, expected) => {
    expect(parseDecimal(input, scale, { allowNegative: true })).toBe(expected);
  });

  it.each([
    ['1e-7', 'exponent'],
    ['0.0000000000000001', 'more than 15 decimals'],
    [' 1', 'leading space'],
    ['1,000', 'thousands separator'],
    ['1.', 'empty fraction'],
    ['.5', 'no whole part'],
    ['+1', 'plus sign'],
    ['0x10', 'hex'],
    ['NaN', 'junk'],
    ['', 'empty'],
    ['1'.repeat(81), 'absurd length'],
  ])('refuses %j (%s) with INVALID_DECIMAL', (input) => {
    expect(() => parseDecimal(input, 15)).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
  });

  it('refuses negatives unless allowed', () => {
    const error = (() => {
      try {
        parseDecimal('-1', 2);
      } catch (caught) {
        return caught;
      }
    })();
    expect(TallyError.is(error, 'INVALID_DECIMAL')).toBe(true);
  });

  it('refuses non-strings', () => {
    expect(() => parseDecimal(0.1 as unknown as string, 2)).toThrowError(/must be a decimal string/);
  });
});

describe('formatDecimal', () => {
  it('formats exactly and trims zeros', () => {
    expect(formatDecimal(18_750_000n, 15)).toBe('0.00000001875');
    expect(formatDecimal(-1_500_000n, 6)).toBe('-1.5');
    expect(formatDecimal(1999n, 2, { minFractionDigits: 2 })).toBe('19.99');
    expect(formatDecimal(1900n, 2, { minFractionDigits: 2 })).toBe('19.00');
    expect(formatDecimal(0n, 6)).toBe('0');
  });

  it('rounds half away from zero when asked for fewer digits', () => {
    expect(formatDecimal(1_234_565n, 6, { maxFractionDigits: 5 })).toBe('1.23457');
    expect(formatDecimal(-1_234_565n, 6, { maxFractionDigits: 5 })).toBe('-1.23457');
    expect(formatDecimal(1_005_000n, 6, { maxFractionDigits: 2, minFractionDigits: 2 })).toBe('1.01');
  });
});

describe('decimal properties', () => {
  it('format → parse returns the same integer at every scale', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (value, scale) => {
        expect(parseDecimal(formatDecimal(value, scale), scale, { allowNegative: true })).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('parse → format returns the canonical spelling of any decimal string', () => {
    const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    fc.assert(
      fc.property(digits(1, 12), digits(0, 15), (whole, fraction) => {
        const input = fraction ? `${whole}.${fraction}` : whole;
        const canonicalWhole = whole.replace(/^0+(?=\d)/, '');
        const canonicalFraction = fraction.replace(/0+$/, '');
        const canonical = canonicalFraction ? `${canonicalWhole}.${canonicalFraction}` : canonicalWhole;
        expect(formatDecimal(parseDecimal(input, 15), 15)).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('half-up division is within half a unit of the exact quotient and symmetric', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const q = divideRoundHalfUp(n, d);
        // |n/d - q| <= 1/2  ⇔  |n - q·d|·2 <= d
        const error = n - q * d;
        expect((error < 0n ? -error : error) * 2n <= d).toBe(true);
        expect(divideRoundHalfUp(-n, d)).toBe(-q);
      }),
      { numRuns: 1000 },
    );
  });
});
