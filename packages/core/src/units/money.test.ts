import { describe, expect, it } from 'vitest';
import { formatCredits, parseCredits } from './credits.js';
import { addMoney, currencyExponent, formatMoney, money, parseMoney, sumMoney } from './money.js';
import { femtoToNanoUsd, formatUsdPrice, parseUsdCost, parseUsdPrice } from './provider-price.js';

describe('money', () => {
  it('parses in the currency minor unit', () => {
    expect(parseMoney('19.99', 'usd')).toEqual({ currency: 'USD', amount: 1999n });
    expect(parseMoney('1999', 'JPY')).toEqual({ currency: 'JPY', amount: 1999n });
    expect(parseMoney('1.234', 'KWD')).toEqual({ currency: 'KWD', amount: 1234n });
    expect(currencyExponent('eur')).toBe(2);
  });

  it('refuses more decimals than the currency has, and bad codes', () => {
    expect(() => parseMoney('19.999', 'USD')).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    expect(() => parseMoney('1.5', 'JPY')).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    expect(() => money('US', 1n)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => money('USD', 1 as unknown as bigint)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('adds only the same currency', () => {
    expect(addMoney(money('USD', 1n), money('USD', 2n)).amount).toBe(3n);
    expect(sumMoney('USD', [money('USD', 5n), money('USD', -2n)]).amount).toBe(3n);
    expect(() => addMoney(money('USD', 1n), money('EUR', 2n))).toThrowError(expect.objectContaining({ code: 'CURRENCY_MISMATCH' }));
  });

  it('formats for people without floats', () => {
    expect(formatMoney(money('USD', 1999n))).toBe('$19.99');
    expect(formatMoney(money('USD', -500n))).toBe('-$5.00');
    expect(formatMoney(money('EUR', 123456789n), 'de-DE')).toBe('1.234.567,89\u00a0€');
    // 2^53 + 1 cents survives formatting: a float would print …992 instead of …993.
    expect(formatMoney(money('USD', 9_007_199_254_740_993n))).toBe('$90,071,992,547,409.93');
  });
});

describe('credits', () => {
  it('parses and formats micros', () => {
    expect(parseCredits('1.5')).toBe(1_500_000n);
    expect(parseCredits('0.000001')).toBe(1n);
    expect(() => parseCredits('0.0000001')).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    expect(formatCredits(1_234_567_890n)).toBe('1,234.57');
    expect(formatCredits(1_234_565n, { maxFractionDigits: 5 })).toBe('1.23457');
    expect(formatCredits(5n, { maxFractionDigits: 6, minFractionDigits: 0 })).toBe('0.000005');
    expect(formatCredits(-2_500_000n, { locale: 'fr-FR' })).toBe('-2,50');
  });
});

describe('provider prices', () => {
  it('keeps OpenRouter price strings exactly as femto-USD per token', () => {
    expect(parseUsdPrice('0.000000150')).toBe(150_000_000n);
    expect(parseUsdPrice('0.00000001875')).toBe(18_750_000n);
    expect(formatUsdPrice(18_750_000n)).toBe('0.00000001875');
    expect(() => parseUsdPrice('1.5e-7')).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    expect(() => parseUsdPrice('-1')).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    expect(() => parseUsdPrice('0.0000000000000001')).toThrowError(/more than 15 decimal places/);
  });

  it('rounds femto to nano once, half-up', () => {
    expect(femtoToNanoUsd(1_499_999n)).toBe(1n);
    expect(femtoToNanoUsd(1_500_000n)).toBe(2n);
    expect(parseUsdCost('0.0012345')).toBe(1_234_500n);
  });
});
