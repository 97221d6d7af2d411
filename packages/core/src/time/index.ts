import { TallyError } from '../errors/index.js';

export type BillingInterval = 'month' | 'year';

const SECONDS_PER_DAY = 86_400;

/** Whole Unix seconds of a date (prorations are computed to the second, like Stripe's). */
export function toUnixSeconds(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new TallyError('VALIDATION', 'Invalid date');
  return Math.floor(ms / 1000);
}

/** UTC calendar-day index of a date: days since 1970-01-01. */
export function utcDayIndex(date: Date): number {
  return Math.floor(toUnixSeconds(date) / SECONDS_PER_DAY);
}

function daysInUtcMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * Adds billing intervals in UTC, keeping the anchor day and clamping to the month's end
 * (Jan 31 + 1 month = Feb 28 or 29), as subscription billers do.
 */
export function addInterval(date: Date, interval: BillingInterval, count = 1): Date {
  const months = interval === 'year' ? 12 * count : count;
  const year = date.getUTCFullYear();
  const monthIndex = date.getUTCMonth() + months;
  const targetYear = year + Math.floor(monthIndex / 12);
  const targetMonth = ((monthIndex % 12) + 12) % 12;
  const day = Math.min(date.getUTCDate(), daysInUtcMonth(targetYear, targetMonth));
  return new Date(
    Date.UTC(targetYear, targetMonth, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()),
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `16 Nov 2026` in UTC: locale-free text for line descriptions. */
export function formatUtcDate(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** Where Tally reads the time. Inject a fake one in tests and simulations. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
