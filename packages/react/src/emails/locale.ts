import { divideRoundHalfUp, formatCredits, formatDecimal, formatMoney, MICROS_PER_CREDIT } from '@tally/core';
import type { EmailMessages } from './messages.js';

/** Message sets by BCP 47 tag (canonical case, e.g. `de`, `de-AT`); each is complete. */
export type EmailMessageCatalog = ReadonlyMap<string, EmailMessages>;

export interface ResolvedLocale {
  /** The tag Intl formats with: the requested one when its language has messages, else `en`. */
  locale: string;
  messages: EmailMessages;
}

/**
 * Picks the messages for `requested` (already canonical): the exact tag, then its language (`de-AT` →
 * `de`), then English. Numbers and dates follow the choice, so an unknown locale gets English words
 * with English numbers rather than a mix; a regional tag keeps its own formats (`de-CH` groups with ’).
 */
export function resolveLocale(catalog: EmailMessageCatalog, requested: string): ResolvedLocale {
  const exact = catalog.get(requested);
  if (exact) return { locale: requested, messages: exact };
  const language = catalog.get(requested.split('-')[0] ?? '');
  if (language) return { locale: requested, messages: language };
  return { locale: 'en', messages: catalog.get('en') as EmailMessages };
}

/** Everything a template formats, for one locale. Amounts stay bigint to the last step (Intl gets decimal strings). */
export interface EmailFormat {
  locale: string;
  /** Credit micros with the unit: `74.25 credits`; whole amounts without decimals (`1,000 credits`). */
  credits(micros: bigint): string;
  /** Credit micros, or the words for an unlimited allowance when null. */
  allowance(micros: bigint | null): string;
  /** Minor units of `currency`: `$49.00`. */
  money(minor: bigint, currency: string): string;
  /** A calendar date in UTC: `December 1, 2026`, `1. Dezember 2026`. */
  date(date: Date): string;
  /** Two dates in UTC as one range: `November 1 – December 1, 2026`. */
  dateRange(start: Date, end: Date): string;
  /** A month in UTC: `October 2026`, `Oktober 2026`. */
  month(date: Date): string;
  /** Nano-USD to the cent (half away from zero): `$8,412.35`. */
  usd(nanoUsd: bigint): string;
  /** Basis points as a percentage, exactly: 2500 → `25%`, 1250 → `12.5%`. */
  percent(bps: number): string;
  /** A whole number, exactly also beyond 2^53: 1200 → `1,200`. */
  count(value: number | bigint): string;
}

/** Nano-USD per cent. */
const NANO_PER_CENT = 10_000_000n;

export function emailFormat({ locale, messages }: ResolvedLocale): EmailFormat {
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
  const months = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const integers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const percents = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 });
  const credits = (micros: bigint) => {
    const whole = micros % MICROS_PER_CREDIT === 0n;
    const amount = formatCredits(micros, { locale, maxFractionDigits: 2, minFractionDigits: whole ? 0 : 2 });
    return messages.common.credits(amount, micros === MICROS_PER_CREDIT);
  };
  return {
    locale,
    credits,
    allowance: (micros) => (micros === null ? messages.common.unlimitedCredits : credits(micros)),
    money: (amount, currency) => formatMoney({ amount, currency }, locale),
    date: (date) => dates.format(date),
    dateRange: (start, end) => dates.formatRange(start, end),
    month: (date) => months.format(date),
    usd: (nanoUsd) => formatMoney({ amount: divideRoundHalfUp(nanoUsd, NANO_PER_CENT), currency: 'USD' }, locale),
    // 2500 bps is the exact decimal "0.25"; Intl formats decimal strings without a float.
    percent: (bps) => percents.format(formatDecimal(BigInt(bps), 4) as unknown as number),
    count: (value) => integers.format(value),
  };
}
