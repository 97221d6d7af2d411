import { formatCredits, formatMoney } from '@tally/core';
import { describe, expect, it } from 'vitest';
import {
  formatBps,
  formatCents,
  formatCreditMicros,
  formatCreditsNumber,
  formatCreditsText,
  formatMinorUnits,
  formatNanoUsdText,
  integer,
  percentOf,
} from './amounts.js';
import { formatDate } from './dates.js';

describe('amount formatting', () => {
  it('formats cents and credits exactly from integer strings', () => {
    expect(formatCents('1999', 'USD')).toBe('$19.99');
    expect(formatCents('-944', 'USD')).toBe('-$9.44');
    expect(formatCents('900719925474099301', 'USD')).toBe('$9,007,199,254,740,993.01');
    expect(formatCents('1234', 'EUR', 'de-DE')).toBe('12,34\u00a0€');
    expect(formatCreditsText('20000000')).toBe('20 credits');
    expect(formatCreditsText('1000000')).toBe('1 credit');
    expect(formatCreditsText('19866667')).toBe('19.87 credits');
    expect(formatCreditsNumber(-2_500_000n, 'de-DE')).toBe('-2,50');
  });

  it('rounds nano-USD half-up to the cent', () => {
    expect(formatNanoUsdText('17550000000')).toBe('$17.55');
    expect(formatNanoUsdText('12345000000')).toBe('$12.35');
    expect(formatNanoUsdText('12344999999')).toBe('$12.34');
  });

  it('formats basis points as an exact percentage', () => {
    expect(formatBps(1000)).toBe('10%');
    expect(formatBps(1250)).toBe('12.5%');
    expect(formatBps(5)).toBe('0.05%');
    expect(formatBps(2000, 'de-DE')).toBe('20\u00a0%');
  });

  it('refuses a malformed amount with VALIDATION rather than guessing', () => {
    expect(() => integer('1.5')).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => integer('')).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => formatCents('1e3', 'USD')).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('computes a clamped whole percentage for meters', () => {
    expect(percentOf(4_500_000n, 20_000_000n)).toBe(22);
    expect(percentOf(25_000_000n, 20_000_000n)).toBe(100);
    expect(percentOf(-1n, 20n)).toBe(0);
    expect(percentOf(1n, 0n)).toBe(100);
    expect(percentOf(0n, 0n)).toBe(0);
    // Far beyond 2^53: still exact, still a small number.
    expect(percentOf(2n ** 70n, 2n ** 71n)).toBe(50);
  });

  it('formats dates in the given zone', () => {
    expect(formatDate('2026-12-05T09:00:00.000Z', 'en-US', 'UTC')).toBe('Dec 5, 2026');
    expect(formatDate('2026-12-05T01:00:00.000Z', 'en-US', 'America/New_York')).toBe('Dec 4, 2026');
  });

  // The widgets' own formatters must give exactly core's text: ties at every digit, signs, values
  // far beyond 2^53, each option combination, locales with other separators.
  const samples = [0n, 1n, -1n, 4_999n, 5_000n, -5_000n, 994_999n, 995_000n, -995_000n, 1_000_000n, 1_234_567_890n];
  const values = [...samples, ...samples.map((v) => v + 2n ** 70n), ...samples.map((v) => v - 2n ** 70n)];

  it('formats credit micros exactly as core formatCredits does', () => {
    const digits = [undefined, 0, 1, 2, 3, 6, 8];
    for (const micros of values) {
      for (const locale of [undefined, 'en-US', 'de-DE', 'hi-IN']) {
        for (const maxFractionDigits of digits) {
          for (const minFractionDigits of digits) {
            const options = { locale, maxFractionDigits, minFractionDigits };
            expect(formatCreditMicros(micros, options), JSON.stringify({ micros: `${micros}`, options })).toBe(
              formatCredits(micros, options),
            );
          }
        }
      }
    }
    expect(formatCreditMicros(-4_999n)).toBe('0.00');
    expect(formatCreditMicros(-5_000n)).toBe('-0.01');
  });

  it('formats minor units exactly as core formatMoney does, and refuses a bad currency', () => {
    for (const amount of values) {
      for (const currency of ['USD', 'usd', 'JPY', 'KWD', 'EUR']) {
        for (const locale of [undefined, 'en-US', 'de-DE', 'ja-JP']) {
          expect(formatMinorUnits(amount, currency, locale)).toBe(formatMoney({ currency, amount }, locale));
        }
      }
    }
    expect(() => formatMinorUnits(100n, 'US')).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });
});
