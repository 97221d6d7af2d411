import { TallyError } from '../errors/index.js';
import { formatExactDecimal } from './credits.js';
import { formatDecimal, parseDecimal } from './decimal.js';

/** What customers pay: an ISO 4217 currency and an amount in its minor unit (cents for USD). */
export interface Money {
  readonly currency: string;
  readonly amount: bigint;
}

// Minor-unit exponents that differ from 2, as the card networks and Stripe use them.
const ZERO_DECIMAL = new Set('BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF'.split(' '));
const THREE_DECIMAL = new Set('BHD JOD KWD OMR TND'.split(' '));
const CURRENCY = /^[A-Z]{3}$/;

/** Checks and upper-cases an ISO 4217 code. */
export function normalizeCurrency(currency: string): string {
  const code = typeof currency === 'string' ? currency.toUpperCase() : '';
  if (!CURRENCY.test(code)) {
    throw new TallyError('VALIDATION', `"${String(currency)}" is not an ISO 4217 currency code`);
  }
  return code;
}

/** Decimal places of a currency's minor unit: USD 2, JPY 0, KWD 3. */
export function currencyExponent(currency: string): number {
  const code = normalizeCurrency(currency);
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

export function money(currency: string, amount: bigint): Money {
  if (typeof amount !== 'bigint') throw new TallyError('VALIDATION', 'Money amount must be a bigint in minor units');
  return Object.freeze({ currency: normalizeCurrency(currency), amount });
}

/** `parseMoney("19.99", "usd")` → `{ currency: "USD", amount: 1999n }`. More decimals than the currency has is an error. */
export function parseMoney(input: string, currency: string): Money {
  const code = normalizeCurrency(currency);
  return money(code, parseDecimal(input, currencyExponent(code), { allowNegative: true, label: `${code} amount` }));
}

function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new TallyError('CURRENCY_MISMATCH', `Cannot combine ${a.currency} with ${b.currency}`, {
      details: { left: a.currency, right: b.currency },
    });
  }
}

export function addMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.currency, a.amount + b.amount);
}

export function sumMoney(currency: string, items: Iterable<Money>): Money {
  let total = money(currency, 0n);
  for (const item of items) total = addMoney(total, item);
  return total;
}

export function negateMoney(a: Money): Money {
  return money(a.currency, -a.amount);
}

/** Plain decimal in major units, locale-free: `{USD, 1999n}` → `"19.99"`. */
export function moneyToDecimal(value: Money): string {
  const exponent = currencyExponent(value.currency);
  return formatDecimal(value.amount, exponent, { minFractionDigits: exponent });
}

/** For people: `formatMoney({currency:"USD", amount: 1999n})` → `"$19.99"`. */
export function formatMoney(value: Money, locale = 'en-US'): string {
  const exponent = currencyExponent(value.currency);
  return formatExactDecimal(moneyToDecimal(value), locale, exponent, exponent, {
    style: 'currency',
    currency: value.currency,
  });
}
