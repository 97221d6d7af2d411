import type { SubscriptionStatus } from '../billing/types.js';
import { type Catalog, findTier, type Tier, tierRank } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { addInterval, formatUtcDate, toUnixSeconds, utcDayIndex } from '../time/index.js';
import { type Money, money } from '../units/money.js';
import { scaleRoundHalfUp } from '../units/rounding.js';

export type ProrationGranularity = 'second' | 'day';

/** The part of a subscription the proration math needs. */
export interface SubscriptionPeriod {
  tier: string;
  status: Exclude<SubscriptionStatus, 'canceled'>;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  /**
   * What the customer was actually charged for this period, in minor units (after discounts).
   * The unused-time credit is a share of it (Stripe's `flexible` billing mode). Default: the tier's price.
   */
  paidAmount?: bigint;
}

export interface PreviewTierChangeInput {
  catalog: Catalog;
  subscription: SubscriptionPeriod;
  toTier: string;
  at: Date;
  /**
   * When the change takes effect. Default: an upgrade (a later tier in the catalog) at once,
   * a downgrade at the end of the period, with nothing refunded.
   */
  timing?: 'immediate' | 'period_end';
}

/** The share of a period a line covers: `numerator / denominator` seconds (or days). */
export interface ProrationShare {
  numerator: bigint;
  denominator: bigint;
  unit: ProrationGranularity;
}

export interface ProrationLine {
  /** `unused_time` credits the old tier, `remaining_time` charges the new one, `new_period` bills a fresh period. */
  kind: 'unused_time' | 'remaining_time' | 'new_period';
  tier: string;
  description: string;
  amount: Money;
  /** The span of time the line pays for. */
  start: Date;
  end: Date;
  share: ProrationShare;
}

export type CreditsGranted = { kind: 'micros'; micros: bigint } | { kind: 'unlimited' };

export interface TierChangePreview {
  from: string;
  to: string;
  direction: 'upgrade' | 'downgrade';
  timing: 'immediate' | 'period_end';
  effectiveAt: Date;
  granularity: ProrationGranularity;
  lines: ProrationLine[];
  /** Sum of the lines. */
  total: Money;
  /** Charged now: the total when positive. */
  amountDue: Money;
  /** Kept as customer credit for later invoices when the total is negative (nothing is refunded). */
  creditBalance: Money;
  /** Credits the change grants at once: the allowance difference, prorated or in full per the catalog. */
  creditsGranted: CreditsGranted;
  /** Set when the change starts a new billing period (trial ends, interval changes, free → paid). */
  newPeriod: { start: Date; end: Date } | null;
}

/** `amount × numerator / denominator`, one half-up rounding to the minor unit. */
export function prorate(amount: bigint, share: ProrationShare): bigint {
  return scaleRoundHalfUp(amount, share.numerator, share.denominator);
}

/** Time left in the period at `at`: seconds (Stripe) or whole calendar days counting the change day (Lago). */
export function remainingShare(start: Date, end: Date, at: Date, unit: ProrationGranularity): ProrationShare {
  if (unit === 'day') {
    const total = utcDayIndex(end) - utcDayIndex(start);
    const left = Math.max(0, utcDayIndex(end) - utcDayIndex(at));
    return { numerator: BigInt(Math.min(left, total)), denominator: BigInt(total), unit };
  }
  const total = toUnixSeconds(end) - toUnixSeconds(start);
  return { numerator: BigInt(toUnixSeconds(end) - toUnixSeconds(at)), denominator: BigInt(total), unit };
}

function validate(input: PreviewTierChangeInput): { from: Tier; to: Tier } {
  const { catalog, subscription, toTier, at } = input;
  const from = findTier(catalog, subscription.tier);
  const to = findTier(catalog, toTier);
  if (from.id === to.id) {
    throw new TallyError('VALIDATION', `The subscription is already on tier "${to.id}"`, { details: { tier: to.id } });
  }
  const start = toUnixSeconds(subscription.currentPeriodStart);
  const end = toUnixSeconds(subscription.currentPeriodEnd);
  const t = toUnixSeconds(at);
  if (end <= start) throw new TallyError('VALIDATION', 'The current period must end after it starts');
  if (t < start || t >= end) {
    throw new TallyError('VALIDATION', 'A tier change must happen inside the current period', {
      details: {
        at: at.toISOString(),
        periodStart: subscription.currentPeriodStart.toISOString(),
        periodEnd: subscription.currentPeriodEnd.toISOString(),
      },
    });
  }
  if (subscription.paidAmount !== undefined && subscription.paidAmount < 0n) {
    throw new TallyError('VALIDATION', 'paidAmount must not be negative');
  }
  if (
    catalog.proration.granularity === 'day' &&
    utcDayIndex(subscription.currentPeriodEnd) === utcDayIndex(subscription.currentPeriodStart)
  ) {
    throw new TallyError('VALIDATION', 'Day proration needs a period of at least one calendar day');
  }
  return { from, to };
}

function allowanceDifference(from: Tier, to: Tier, share: ProrationShare, catalog: Catalog): CreditsGranted {
  if (to.allowance === 'unlimited') return { kind: 'unlimited' };
  if (from.allowance === 'unlimited') return { kind: 'micros', micros: 0n };
  const difference = to.allowance - from.allowance;
  if (difference <= 0n) return { kind: 'micros', micros: 0n };
  if (catalog.proration.upgradeAllowance === 'full') return { kind: 'micros', micros: difference };
  return { kind: 'micros', micros: scaleRoundHalfUp(difference, share.numerator, share.denominator) };
}

/**
 * What a tier change costs now, line by line, like Stripe's `create_prorations`: a credit for the
 * unused time on the old price and a charge for the remaining time on the new one, each rounded
 * half-up to the minor unit. The same result drives the upgrade modal and the real charge.
 */
export function previewTierChange(input: PreviewTierChangeInput): TierChangePreview {
  const { from, to } = validate(input);
  const { catalog, subscription, at } = input;
  const currency = catalog.currency;
  const granularity = catalog.proration.granularity;
  const direction = tierRank(catalog, to.id) > tierRank(catalog, from.id) ? 'upgrade' : 'downgrade';
  const timing = input.timing ?? (direction === 'upgrade' ? 'immediate' : 'period_end');
  const zero = money(currency, 0n);

  if (timing === 'period_end') {
    return {
      from: from.id,
      to: to.id,
      direction,
      timing,
      effectiveAt: subscription.currentPeriodEnd,
      granularity,
      lines: [],
      total: zero,
      amountDue: zero,
      creditBalance: zero,
      creditsGranted: { kind: 'micros', micros: 0n },
      newPeriod: null,
    };
  }

  const start = subscription.currentPeriodStart;
  const end = subscription.currentPeriodEnd;
  const share = remainingShare(start, end, at, granularity);
  const paid = subscription.status === 'trialing' ? 0n : (subscription.paidAmount ?? from.price);
  const lines: ProrationLine[] = [];
  const when = formatUtcDate(at);
  if (paid > 0n) {
    lines.push({
      kind: 'unused_time',
      tier: from.id,
      description: `Unused time on ${from.name} after ${when}`,
      amount: money(currency, -prorate(paid, share)),
      start: at,
      end,
      share,
    });
  }

  // Stripe bills a fresh period at once, and moves the billing date, when a trial ends,
  // the interval changes, or a free subscription becomes paid.
  const resets = subscription.status === 'trialing' || from.interval !== to.interval || (from.price === 0n && to.price > 0n);
  let newPeriod: TierChangePreview['newPeriod'] = null;
  if (resets) {
    newPeriod = { start: at, end: addInterval(at, to.interval) };
    lines.push({
      kind: 'new_period',
      tier: to.id,
      description: `${to.name} from ${when}`,
      amount: money(currency, to.price),
      start: newPeriod.start,
      end: newPeriod.end,
      share: { numerator: 1n, denominator: 1n, unit: granularity },
    });
  } else {
    lines.push({
      kind: 'remaining_time',
      tier: to.id,
      description: `Remaining time on ${to.name} after ${when}`,
      amount: money(currency, prorate(to.price, share)),
      start: at,
      end,
      share,
    });
  }

  const total = lines.reduce((sum, line) => sum + line.amount.amount, 0n);
  return {
    from: from.id,
    to: to.id,
    direction,
    timing,
    effectiveAt: at,
    granularity,
    lines,
    total: money(currency, total),
    amountDue: money(currency, total > 0n ? total : 0n),
    creditBalance: money(currency, total < 0n ? -total : 0n),
    creditsGranted: resets
      ? to.allowance === 'unlimited'
        ? { kind: 'unlimited' }
        : { kind: 'micros', micros: to.allowance }
      : allowanceDifference(from, to, share, catalog),
    newPeriod,
  };
}
