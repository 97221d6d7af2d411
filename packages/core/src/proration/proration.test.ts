import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { type CatalogInput, defineCatalog } from '../catalog/schema.js';
import { addInterval } from '../time/index.js';
import { previewTierChange, prorate, remainingShare, type SubscriptionPeriod } from './preview.js';

const at = (iso: string) => new Date(iso);
const period = (tier: string, start: string, end: string, extra: Partial<SubscriptionPeriod> = {}): SubscriptionPeriod => ({
  tier,
  status: 'active',
  currentPeriodStart: at(start),
  currentPeriodEnd: at(end),
  ...extra,
});
/** A catalog of tiers priced in cents, in ascending order. */
function pricedCatalog(prices: Record<string, number>, extra: Partial<CatalogInput> = {}) {
  return defineCatalog({
    tiers: Object.entries(prices).map(([id, price]) => ({ id, name: id, price, allowance: 0 })),
    ...extra,
  });
}
const amounts = (preview: ReturnType<typeof previewTierChange>) => preview.lines.map((line) => line.amount.amount);

// Worked examples. Every expected number is derived by hand in the comment above it:
// share = seconds (or days) left ÷ seconds (or days) in the period, each line rounded half-up (away from zero) to a cent.
describe('worked proration examples', () => {
  it("1. Stripe's docs: 10 → 20 USD/month, changed halfway", () => {
    // November 2026 has 30 days; from 16 Nov 00:00 15 days are left: share 1,296,000 / 2,592,000 = 1/2.
    // Unused time on 10 USD: −1000 × 1/2 = −500. Remaining time on 20 USD: 2000 × 1/2 = +1000. Net +500.
    const preview = previewTierChange({
      catalog: pricedCatalog({ basic: 1000, plus: 2000 }),
      subscription: period('basic', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'plus',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-500n, 1000n]);
    expect(preview.lines.map((line) => line.description)).toEqual([
      'Unused time on basic after 16 Nov 2026',
      'Remaining time on plus after 16 Nov 2026',
    ]);
    expect(preview.amountDue.amount).toBe(500n);
    expect(preview.timing).toBe('immediate');
  });

  it("2. Stripe's support article: 10 → 100 USD/month mid-cycle", () => {
    // Halfway: "$5.00 credit … owe $50.00 … total of $45.00": −1000/2 = −500, +10000/2 = +5000, due 4500.
    const preview = previewTierChange({
      catalog: pricedCatalog({ basic: 1000, max: 10_000 }),
      subscription: period('basic', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'max',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-500n, 5000n]);
    expect(preview.amountDue.amount).toBe(4500n);
  });

  it("3. Stripe's support article reversed: 100 → 10 USD immediately leaves 45 USD of credit", () => {
    // "owed $50.00 … owe $5.00 … $45.00 is now owed to the customer": −10000/2 = −5000, +1000/2 = +500.
    // Total −4500: nothing due now, 4500 kept as credit balance (nothing is refunded).
    const preview = previewTierChange({
      catalog: pricedCatalog({ basic: 1000, max: 10_000 }),
      subscription: period('max', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'basic',
      at: at('2026-11-16T00:00:00Z'),
      timing: 'immediate',
    });
    expect(amounts(preview)).toEqual([-5000n, 500n]);
    expect(preview.direction).toBe('downgrade');
    expect(preview.amountDue.amount).toBe(0n);
    expect(preview.creditBalance.amount).toBe(4500n);
  });

  it("4. Stripe's API reference: 100 → 200 halfway, the next bill is 250", () => {
    // June 2026 has 30 days; from 16 Jun 15 are left (1/2). −10000/2 = −5000, +20000/2 = +10000: +5000 of prorations,
    // invoiced with the 200 renewal on 1 Jul: 20000 + 5000 = 25000.
    const catalog = pricedCatalog({ a: 10_000, b: 20_000 });
    const preview = previewTierChange({
      catalog,
      subscription: period('a', '2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z'),
      toTier: 'b',
      at: at('2026-06-16T00:00:00Z'),
    });
    expect(preview.total.amount + (catalog.tiers[1]?.price ?? 0n)).toBe(25_000n);
  });

  it('5. Starter → Professional with two thirds of April left', () => {
    // April: 30 days; from 11 Apr 20 days are left: share 2/3.
    // −1900 × 2/3 = −1266.67 → −1267; +4900 × 2/3 = 3266.67 → +3267; due 2000.
    // Credits: (60 − 20) × 2/3 = 26.666 666 67 credits → 26,666,667 micros.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('starter', '2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-04-11T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-1267n, 3267n]);
    expect(preview.amountDue.amount).toBe(2000n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 26_666_667n });
  });

  it('6. To the second: 10 Jan 13:37:42 in a 31-day month', () => {
    // January: 2,678,400 s. Left from 10 Jan 13:37:42 to 1 Feb: 21 d 10:22:18 = 1,814,400 + 37,338 = 1,851,738 s.
    // −1900 × 1,851,738 / 2,678,400 = −1313.58 → −1314; +4900 × … = 3387.66 → +3388; due 2074.
    // Credits: 40,000,000 × 1,851,738 / 2,678,400 = 27,654,390.6 → 27,654,391 micros.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('starter', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-01-10T13:37:42Z'),
    });
    expect(preview.lines[0]?.share).toEqual({ numerator: 1_851_738n, denominator: 2_678_400n, unit: 'second' });
    expect(amounts(preview)).toEqual([-1314n, 3388n]);
    expect(preview.amountDue.amount).toBe(2074n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 27_654_391n });
  });

  it('7. At the first second of the period: the whole old price back, the whole new price due', () => {
    // share 1: −1900, +4900, due 3000; credits 60 − 20 = 40.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('starter', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-03-01T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-1900n, 4900n]);
    expect(preview.amountDue.amount).toBe(3000n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 40_000_000n });
  });

  it('8. At the last second of the period: lines round to nothing', () => {
    // February 2026: 2,419,200 s; 1 s left. 1900/2,419,200 = 0.0008 → 0; 4900/2,419,200 = 0.002 → 0; due 0.
    // Credits: 40,000,000 / 2,419,200 = 16.53 → 17 micros.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('starter', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-02-28T23:59:59Z'),
    });
    expect(amounts(preview)).toEqual([-0n, 0n]);
    expect(preview.amountDue.amount).toBe(0n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 17n });
  });

  it('9. Annual plans: 490 → 990 USD/year on 2 July', () => {
    // 2026: 365 days; 2 Jul → 1 Jan 2027 is 183 days. −49000 × 183/365 = −24567.12 → −24567;
    // +99000 × 183/365 = 49635.62 → +49636; due 25069.
    const catalog = defineCatalog({
      tiers: [
        { id: 'pro-annual', name: 'Pro annual', price: 49_000, interval: 'year', allowance: 720_000_000 },
        { id: 'max-annual', name: 'Max annual', price: 99_000, interval: 'year', allowance: 'unlimited' },
      ],
    });
    const preview = previewTierChange({
      catalog,
      subscription: period('pro-annual', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
      toTier: 'max-annual',
      at: at('2026-07-02T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-24_567n, 49_636n]);
    expect(preview.amountDue.amount).toBe(25_069n);
    expect(preview.creditsGranted).toEqual({ kind: 'unlimited' });
  });

  it('10. A leap year: annual change on 1 March 2028', () => {
    // 2028: 366 days; 1 Mar → 1 Jan 2029 is 306 days. −49000 × 306/366 = −40967.21 → −40967;
    // +99000 × 306/366 = 82770.49 → +82770; due 41803.
    const catalog = pricedCatalog({ a: 49_000, b: 99_000 });
    const preview = previewTierChange({
      catalog,
      subscription: period('a', '2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z'),
      toTier: 'b',
      at: at('2028-03-01T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-40_967n, 82_770n]);
    expect(preview.amountDue.amount).toBe(41_803n);
  });

  it('11. A downgrade waits for the period end and costs nothing now', () => {
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('professional', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'starter',
      at: at('2026-11-20T08:00:00Z'),
    });
    expect(preview).toMatchObject({ direction: 'downgrade', timing: 'period_end', lines: [], newPeriod: null });
    expect(preview.effectiveAt).toEqual(at('2026-12-01T00:00:00Z'));
    expect(preview.amountDue.amount).toBe(0n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 0n });
  });

  it('12. A same-price switch nets to zero', () => {
    // Halfway: −1900/2 = −950, +1900/2 = +950, due 0.
    const preview = previewTierChange({
      catalog: pricedCatalog({ starter: 1900, 'starter-team': 1900 }),
      subscription: period('starter', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'starter-team',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-950n, 950n]);
    expect(preview.total.amount).toBe(0n);
    expect(preview.amountDue.amount).toBe(0n);
  });

  it('13. Trial → paid: the trial ends, the full price is due, and a new period starts', () => {
    // Nothing was paid during the trial, so there is no credit line. Stripe bills the new price in full
    // and moves the billing date to the change: period 21 Sep 06:00 → 21 Oct 06:00, allowance 20 credits.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('trial', '2026-09-07T06:00:00Z', '2026-09-21T06:00:00Z', { status: 'trialing' }),
      toTier: 'starter',
      at: at('2026-09-15T10:00:00Z'),
    });
    expect(preview.lines.map((line) => [line.kind, line.amount.amount])).toEqual([['new_period', 1900n]]);
    expect(preview.newPeriod).toEqual({ start: at('2026-09-15T10:00:00Z'), end: at('2026-10-15T10:00:00Z') });
    expect(preview.amountDue.amount).toBe(1900n);
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 20_000_000n });
  });

  it('14. Half a cent rounds away from zero on both lines', () => {
    // Halfway: −1999/2 = −999.5 → −1000; +3999/2 = 1999.5 → +2000; due 1000.
    const preview = previewTierChange({
      catalog: pricedCatalog({ a: 1999, b: 3999 }),
      subscription: period('a', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'b',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-1000n, 2000n]);
  });

  it("15. Lago's day granularity: the change day is billed on the new plan", () => {
    // March: 31 days; changing on 11 Mar (any hour) leaves 11..31 Mar = 21 days.
    // −1900 × 21/31 = −1287.10 → −1287; +4900 × 21/31 = 3319.35 → +3319; due 2032.
    const catalog = defineCatalog({ ...structuredClone(sampleCatalogNoModels()), proration: { granularity: 'day' } });
    const preview = previewTierChange({
      catalog,
      subscription: period('starter', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-03-11T15:00:00Z'),
    });
    expect(preview.lines[0]?.share).toEqual({ numerator: 21n, denominator: 31n, unit: 'day' });
    expect(amounts(preview)).toEqual([-1287n, 3319n]);
    expect(preview.amountDue.amount).toBe(2032n);
  });

  it('16. Monthly → annual: unused month credited, the year billed from today', () => {
    // Interval change resets the period: −1900 × 15/30 = −950, + 49000 for 16 Nov 2026 → 16 Nov 2027; due 48050.
    const catalog = defineCatalog({
      tiers: [
        { id: 'starter', name: 'Starter', price: 1900, allowance: 20_000_000 },
        { id: 'pro-annual', name: 'Pro annual', price: 49_000, interval: 'year', allowance: 720_000_000 },
      ],
    });
    const preview = previewTierChange({
      catalog,
      subscription: period('starter', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'pro-annual',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(preview.lines.map((line) => [line.kind, line.amount.amount])).toEqual([
      ['unused_time', -950n],
      ['new_period', 49_000n],
    ]);
    expect(preview.amountDue.amount).toBe(48_050n);
    expect(preview.newPeriod?.end).toEqual(at('2027-11-16T00:00:00Z'));
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 720_000_000n });
  });

  it('17. A discounted period credits what was paid, not the list price', () => {
    // Starter bought with 20 % off: paid 1520. Halfway: −1520/2 = −760, +4900/2 = +2450, due 1690.
    const preview = previewTierChange({
      catalog: sampleCatalog,
      subscription: period('starter', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', { paidAmount: 1520n }),
      toTier: 'professional',
      at: at('2026-11-16T00:00:00Z'),
    });
    expect(amounts(preview)).toEqual([-760n, 2450n]);
    expect(preview.amountDue.amount).toBe(1690n);
  });

  it('18. The catalog may grant the full allowance difference on upgrade', () => {
    const catalog = defineCatalog({ ...structuredClone(sampleCatalogNoModels()), proration: { upgradeAllowance: 'full' } });
    const preview = previewTierChange({
      catalog,
      subscription: period('starter', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
      toTier: 'professional',
      at: at('2026-11-29T00:00:00Z'),
    });
    expect(preview.creditsGranted).toEqual({ kind: 'micros', micros: 40_000_000n });
  });
});

function sampleCatalogNoModels(): CatalogInput {
  return {
    tiers: sampleCatalog.tiers.map((tier) => ({ ...tier })),
    markup: sampleCatalog.markup.map((rule) => ({ ...rule })),
  };
}

describe('bad input changes nothing and says why', () => {
  const base = { catalog: sampleCatalog, subscription: period('starter', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z') };
  it.each([
    ['the same tier', { toTier: 'starter', at: at('2026-11-10T00:00:00Z') }, 'VALIDATION'],
    ['an unknown tier', { toTier: 'gold', at: at('2026-11-10T00:00:00Z') }, 'UNKNOWN_TIER'],
    ['a time before the period', { toTier: 'professional', at: at('2026-10-31T23:59:59Z') }, 'VALIDATION'],
    ['a time at the period end', { toTier: 'professional', at: at('2026-12-01T00:00:00Z') }, 'VALIDATION'],
    ['an invalid date', { toTier: 'professional', at: new Date('nope') }, 'VALIDATION'],
  ])('refuses %s', (_, change, code) => {
    const before = structuredClone(base.subscription);
    expect(() => previewTierChange({ ...base, ...change })).toThrowError(expect.objectContaining({ code }));
    expect(base.subscription).toEqual(before);
  });

  it('refuses a negative paid amount and an empty period', () => {
    expect(() =>
      previewTierChange({
        ...base,
        subscription: { ...base.subscription, paidAmount: -1n },
        toTier: 'professional',
        at: at('2026-11-10T00:00:00Z'),
      }),
    ).toThrowError(/paidAmount/);
    expect(() =>
      previewTierChange({
        ...base,
        subscription: period('starter', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
        toTier: 'professional',
        at: at('2026-11-01T00:00:00Z'),
      }),
    ).toThrowError(/end after it starts/);
  });
});

describe('billing periods', () => {
  it('keep the anchor day and clamp to the month end', () => {
    expect(addInterval(at('2026-01-31T12:00:00Z'), 'month')).toEqual(at('2026-02-28T12:00:00Z'));
    expect(addInterval(at('2028-01-31T00:00:00Z'), 'month')).toEqual(at('2028-02-29T00:00:00Z'));
    expect(addInterval(at('2028-02-29T00:00:00Z'), 'year')).toEqual(at('2029-02-28T00:00:00Z'));
    expect(addInterval(at('2026-12-15T00:00:00Z'), 'month')).toEqual(at('2027-01-15T00:00:00Z'));
  });
});

// Property tests: random periods (month or year, any start second), random prices, random change points.
const periodArb = fc
  .record({
    start: fc.integer({ min: Date.UTC(2020, 0, 1) / 1000, max: Date.UTC(2035, 0, 1) / 1000 }),
    interval: fc.constantFrom('month' as const, 'year' as const),
  })
  .map(({ start, interval }) => {
    const from = new Date(start * 1000);
    return { start: from, end: addInterval(from, interval) };
  });
const priceArb = fc.integer({ min: 0, max: 10_000_000 });
/** Paid tiers only: free → paid starts a new billing period (as in Stripe), so it is no share of this one. */
const paidPriceArb = fc.integer({ min: 1, max: 10_000_000 });
const absolute = (value: bigint) => (value < 0n ? -value : value);

describe('proration properties', () => {
  it('lines for a period split at random points sum to the full price within 1 cent per line', () => {
    fc.assert(
      fc.property(
        periodArb,
        priceArb,
        fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        ({ start, end }, price, cuts) => {
          const startS = start.getTime() / 1000;
          const length = end.getTime() / 1000 - startS;
          const points = [...new Set(cuts.map((cut) => startS + Math.floor(cut * length)))].sort((a, b) => a - b);
          const bounds = [startS, ...points.filter((p) => p > startS), end.getTime() / 1000];
          let sum = 0n;
          let lines = 0n;
          for (let i = 0; i + 1 < bounds.length; i++) {
            const segment = {
              numerator: BigInt((bounds[i + 1] ?? 0) - (bounds[i] ?? 0)),
              denominator: BigInt(length),
              unit: 'second' as const,
            };
            sum += prorate(BigInt(price), segment);
            lines++;
          }
          expect(absolute(sum - BigInt(price)) <= lines).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a chain of tier changes pays each price for its share of the period, within 1 cent per line', () => {
    fc.assert(
      fc.property(
        periodArb,
        fc.array(paidPriceArb, { minLength: 2, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
        ({ start, end }, prices, cuts, picks) => {
          const catalog = pricedCatalog(Object.fromEntries(prices.map((price, i) => [`t${i}`, price])));
          const startS = start.getTime() / 1000;
          const length = end.getTime() / 1000 - startS;
          const times = [...new Set(cuts.map((cut) => Math.min(startS + Math.floor(cut * length), startS + length - 1)))].sort(
            (a, b) => a - b,
          );
          let tier = 0;
          let paid = BigInt(prices[0] ?? 0); // the first period was invoiced in full
          let exactTimesLength = 0n; // Σ price × seconds, compared against paid × length
          let lineCount = 0n;
          let since = startS;
          times.forEach((time, i) => {
            const next = (((picks[i] ?? 0) % (prices.length - 1)) + tier + 1) % prices.length;
            const preview = previewTierChange({
              catalog,
              subscription: period(`t${tier}`, start.toISOString(), end.toISOString()),
              toTier: `t${next}`,
              at: new Date(time * 1000),
              timing: 'immediate',
            });
            paid += preview.total.amount;
            lineCount += BigInt(preview.lines.length);
            exactTimesLength += BigInt(prices[tier] ?? 0) * BigInt(time - since);
            since = time;
            tier = next;
          });
          exactTimesLength += BigInt(prices[tier] ?? 0) * BigInt(startS + length - since);
          // |paid − exact| ≤ lines  ⇔  |paid × length − Σ price × seconds| ≤ lines × length
          expect(absolute(paid * BigInt(length) - exactTimesLength) <= lineCount * BigInt(length)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('upgrade then immediate downgrade nets to zero within 1 cent per line', () => {
    // Paid tiers only: going from a free tier to a paid one starts a new billing period (as in Stripe),
    // which is a different bargain from a proration and is covered by example 13.
    const paidPrice = fc.integer({ min: 1, max: 10_000_000 });
    fc.assert(
      fc.property(
        periodArb,
        paidPrice,
        paidPrice,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('second' as const, 'day' as const),
        ({ start, end }, low, high, cut, granularity) => {
          const catalog = pricedCatalog({ low, high }, { proration: { granularity } });
          const startS = start.getTime() / 1000;
          const length = end.getTime() / 1000 - startS;
          const when = new Date((startS + Math.min(Math.floor(cut * length), length - 1)) * 1000);
          const subscription = (tier: string) => period(tier, start.toISOString(), end.toISOString());
          const up = previewTierChange({ catalog, subscription: subscription('low'), toTier: 'high', at: when });
          const down = previewTierChange({ catalog, subscription: subscription('high'), toTier: 'low', at: when, timing: 'immediate' });
          const lines = BigInt(up.lines.length + down.lines.length);
          expect(absolute(up.total.amount + down.total.amount) <= lines).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the remaining share is always within [0, 1] and the day share counts the change day', () => {
    fc.assert(
      fc.property(periodArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ start, end }, cut) => {
        const t = new Date(start.getTime() + Math.floor(cut * (end.getTime() - start.getTime() - 1000)));
        for (const unit of ['second', 'day'] as const) {
          const share = remainingShare(start, end, t, unit);
          expect(share.numerator >= 0n && share.numerator <= share.denominator).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
