import { parseCredits, parseDecimal, TallyError } from '@tally/core';
import type { WireCouponInput } from '@tally/core/http';

/** The create-coupon form's fields, as typed. */
export interface CouponDraft {
  code: string;
  kind: 'credits' | 'percent_off';
  credits: string;
  expiresInDays: string;
  percent: string;
  durationPeriods: string;
  maxRedemptions: string;
  /** `YYYY-MM-DD` (UTC), or empty. The coupon works through the end of that day. */
  expiresOn: string;
  tiers: string;
}

export const EMPTY_COUPON: CouponDraft = {
  code: '',
  kind: 'credits',
  credits: '',
  expiresInDays: '',
  percent: '',
  durationPeriods: '1',
  maxRedemptions: '',
  expiresOn: '',
  tiers: '',
};

const invalid = (field: keyof CouponDraft, message: string) =>
  new TallyError('VALIDATION', message, { issues: [{ path: [field], message }] });

function wholeNumber(field: keyof CouponDraft, text: string, label: string, min: number): number | null {
  const value = text.trim();
  if (value === '') return null;
  if (!/^\d{1,7}$/.test(value) || Number(value) < min) throw invalid(field, `${label}: a whole number of at least ${min}.`);
  return Number(value);
}

/**
 * The form → the API's `WireCouponInput`, exactly: credits as micros, a percentage as basis points
 * (two decimals at most), counts as whole numbers. A bad field is a `VALIDATION` error naming it.
 */
export function couponInput(draft: CouponDraft, today = new Date()): WireCouponInput {
  const code = draft.code.trim().toUpperCase();
  if (!/^[A-Z0-9][A-Z0-9_-]{0,63}$/.test(code)) {
    throw invalid('code', 'Code: up to 64 letters, digits, - or _, starting with a letter or digit.');
  }
  let benefit: WireCouponInput['benefit'];
  if (draft.kind === 'credits') {
    let micros: bigint;
    try {
      micros = parseCredits(draft.credits.trim());
    } catch {
      throw invalid('credits', 'Credits: a plain number like 10 or 2.5.');
    }
    if (micros <= 0n) throw invalid('credits', 'Credits: more than 0.');
    benefit = {
      kind: 'credits',
      amountMicros: micros.toString(),
      expiresInDays: wholeNumber('expiresInDays', draft.expiresInDays, 'Credits expire after', 1),
    };
  } else {
    let bps: bigint;
    try {
      bps = parseDecimal(draft.percent.trim(), 2, { label: 'percent off' });
    } catch {
      throw invalid('percent', 'Percent off: a number like 20 or 12.5.');
    }
    if (bps <= 0n || bps > 10_000n) throw invalid('percent', 'Percent off: more than 0 and at most 100.');
    const periods = wholeNumber('durationPeriods', draft.durationPeriods, 'For how many periods', 1);
    if (periods === null) throw invalid('durationPeriods', 'For how many periods: a whole number of at least 1.');
    benefit = { kind: 'percent_off', percentOffBps: Number(bps), durationPeriods: periods };
  }
  let expiresAt: string | null = null;
  if (draft.expiresOn.trim()) {
    const day = draft.expiresOn.trim();
    const start = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00.000Z`) : new Date(Number.NaN);
    if (Number.isNaN(start.getTime())) throw invalid('expiresOn', 'Expires on: a date.');
    const end = new Date(start.getTime() + 86_400_000);
    if (end.getTime() <= today.getTime()) throw invalid('expiresOn', 'Expires on: a day that has not passed yet.');
    expiresAt = end.toISOString();
  }
  const tiers = draft.tiers
    .split(',')
    .map((tier) => tier.trim().toLowerCase())
    .filter(Boolean);
  if (tiers.some((tier) => !/^[a-z0-9_-]{1,40}$/.test(tier)))
    throw invalid('tiers', 'Tiers: plan ids separated by commas, like starter, professional.');
  return {
    code,
    benefit,
    maxRedemptions: wholeNumber('maxRedemptions', draft.maxRedemptions, 'Redemptions at most', 1),
    expiresAt,
    tiers,
  };
}
