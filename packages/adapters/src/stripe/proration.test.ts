import { previewTierChange, TallyError } from '@tally/core';
import fc from 'fast-check';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareProrationPreview } from './proration.js';
import { catalog, HALFWAY, PERIOD_END, PERIOD_START, PRICES, type StripeTestBed, stripeTestBed, subscribed } from './test-setup.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const unix = (date: Date) => date.getTime() / 1000;

function tallyPreview(from: string, to: string, at: Date) {
  return previewTierChange({
    catalog,
    subscription: { tier: from, status: 'active', currentPeriodStart: PERIOD_START, currentPeriodEnd: PERIOD_END },
    toTier: to,
    at,
  });
}

/** Upgrades through the provider and returns the amounts of the proration invoice Stripe (the fake) billed. */
async function billedUpgrade(bed: StripeTestBed, subscriptionId: string, tier: string, at: Date): Promise<number[]> {
  bed.fake.setNow(at);
  const result = await bed.provider.upgradeNow({
    customerId: 'user_42',
    providerSubscriptionId: subscriptionId,
    tier,
    prorationDate: at,
    idempotencyKey: `up-${tier}`,
  });
  return bed.fake.invoice(String(result.invoiceId)).lines.data.map((line) => line.amount);
}

describe("Stripe's worked examples", () => {
  it('10 → 20 USD at exactly half the period: −5, +10, net +5, on the invoice and in the preview', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const preview = tallyPreview('basic', 'pro', HALFWAY);
    expect(preview.lines.map((line) => [line.kind, line.amount.amount])).toEqual([
      ['unused_time', -500n],
      ['remaining_time', 1000n],
    ]);
    expect(preview.amountDue.amount).toBe(500n);

    const comparison = await compareProrationPreview({
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prices: PRICES,
      prorationDate: HALFWAY,
      preview,
    });
    expect(comparison).toEqual({
      matches: true,
      lines: [
        {
          kind: 'unused_time',
          tallyCents: -500n,
          stripeCents: -500n,
          differenceCents: 0n,
          description: 'Unused time on Basic after 16 Nov 2026',
        },
        {
          kind: 'remaining_time',
          tallyCents: 1000n,
          stripeCents: 1000n,
          differenceCents: 0n,
          description: 'Remaining time on Pro after 16 Nov 2026',
        },
      ],
      tallyTotalCents: 500n,
      stripeTotalCents: 500n,
    });

    expect(await billedUpgrade(bed, subscriptionId, 'pro', HALFWAY)).toEqual([-500, 1000]);
  });

  it('10 → 100 USD at half the period: −5, +50, net 45', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const preview = tallyPreview('basic', 'max', HALFWAY);
    expect(preview.lines.map((line) => line.amount.amount)).toEqual([-500n, 5000n]);
    expect(preview.amountDue.amount).toBe(4500n);
    const comparison = await compareProrationPreview({
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'max',
      prices: PRICES,
      prorationDate: HALFWAY,
      preview,
    });
    expect(comparison.matches).toBe(true);
    expect(comparison.stripeTotalCents).toBe(4500n);
    expect(await billedUpgrade(bed, subscriptionId, 'max', HALFWAY)).toEqual([-500, 5000]);
  });
});

describe('compareProrationPreview', () => {
  it('sends the preview request of the reference and reads only the proration lines', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const itemId = bed.fake.subscription(subscriptionId).items.data[0]?.id;
    await compareProrationPreview({
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prices: PRICES,
      prorationDate: HALFWAY,
      preview: tallyPreview('basic', 'pro', HALFWAY),
    });
    const request = bed.fake.requests.find((candidate) => candidate.path === '/v1/invoices/create_preview');
    expect(request?.params).toEqual({
      subscription: subscriptionId,
      subscription_details: {
        items: [{ id: itemId, price: 'price_pro' }],
        proration_behavior: 'always_invoice',
        proration_date: String(unix(HALFWAY)),
      },
    });

    // The preview carries the 2026 line shape and the next period's line, which the comparison leaves out.
    const preview = await bed.fake.client().invoices.createPreview({
      subscription: subscriptionId,
      subscription_details: {
        items: [{ id: itemId ?? '', price: 'price_pro' }],
        proration_behavior: 'always_invoice',
        proration_date: unix(HALFWAY),
      },
    });
    expect(preview).toMatchObject({
      billing_reason: 'upcoming',
      amount_due: 2500,
      parent: { subscription_details: { subscription_proration_date: unix(HALFWAY) } },
    });
    expect(preview.id).toMatch(/^upcoming_in_/);
    expect(
      preview.lines.data.map((line) => [
        line.amount,
        line.parent?.subscription_item_details?.proration,
        line.pricing?.price_details?.price,
        line.period,
      ]),
    ).toEqual([
      [-500, true, 'price_basic', { start: unix(HALFWAY), end: unix(PERIOD_END) }],
      [1000, true, 'price_pro', { start: unix(HALFWAY), end: unix(PERIOD_END) }],
      [2000, false, 'price_pro', { start: unix(PERIOD_END), end: unix(new Date('2027-01-01T00:00:00Z')) }],
    ]);
  });

  it('reports a wrong Stripe price line by line', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    bed.fake.setPrice('price_pro', { unitAmount: 2100, interval: 'month', nickname: 'Pro' });
    const comparison = await compareProrationPreview({
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prices: PRICES,
      prorationDate: HALFWAY,
      preview: tallyPreview('basic', 'pro', HALFWAY),
    });
    expect(comparison.matches).toBe(false);
    expect(comparison.lines.map((line) => [line.kind, line.tallyCents, line.stripeCents, line.differenceCents])).toEqual([
      ['unused_time', -500n, -500n, 0n],
      ['remaining_time', 1000n, 1050n, 50n],
    ]);
    expect([comparison.tallyTotalCents, comparison.stripeTotalCents]).toEqual([500n, 550n]);
  });

  it('allows one cent per line by default, as the design says', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    // 20.01 instead of 20.00: the remaining time differs by half a cent, rounded up to one.
    bed.fake.setPrice('price_pro', { unitAmount: 2001, interval: 'month', nickname: 'Pro' });
    const input = {
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prices: PRICES,
      prorationDate: HALFWAY,
    };
    const lenient = await compareProrationPreview({ ...input, preview: tallyPreview('basic', 'pro', HALFWAY) });
    expect(lenient.lines[1]?.differenceCents).toBe(1n);
    expect(lenient.matches).toBe(true);
    const strict = await compareProrationPreview({ ...input, preview: tallyPreview('basic', 'pro', HALFWAY), toleranceCents: 0n });
    expect(strict.matches).toBe(false);
  });

  it('rounds half a cent up like Tally does', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    // 1296 s of a 2,592,000 s period is 1/2000: 10 USD × 1/2000 = 0.5 cent → 1 cent; 20 USD → exactly 1 cent.
    const at = new Date(PERIOD_END.getTime() - 1296_000);
    const preview = tallyPreview('basic', 'pro', at);
    expect(preview.lines.map((line) => line.amount.amount)).toEqual([-1n, 1n]);
    const comparison = await compareProrationPreview({
      stripe: bed.fake.client(),
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prices: PRICES,
      prorationDate: at,
      preview,
    });
    expect(comparison.lines.map((line) => line.differenceCents)).toEqual([0n, 0n]);
    expect(await billedUpgrade(bed, subscriptionId, 'pro', at)).toEqual([-1, 1]);
  });

  it('matches Tally to the cent at any second of the period, in the preview and on the real invoice', async () => {
    const period = unix(PERIOD_END) - unix(PERIOD_START);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: period - 1 }),
        fc.constantFrom(['basic', 'pro'], ['basic', 'max'], ['pro', 'max']),
        async (offset, [from = 'basic', to = 'pro']) => {
          server.resetHandlers();
          const bed = stripeTestBed(server);
          const { subscriptionId } = await subscribed(bed, from);
          const at = new Date(PERIOD_START.getTime() + offset * 1000);
          const preview = tallyPreview(from, to, at);
          const comparison = await compareProrationPreview({
            stripe: bed.fake.client(),
            providerSubscriptionId: subscriptionId,
            tier: to,
            prices: PRICES,
            prorationDate: at,
            preview,
          });
          expect(comparison.lines.map((line) => line.differenceCents)).toEqual([0n, 0n]);
          const billed = await billedUpgrade(bed, subscriptionId, to, at);
          expect(billed.map(BigInt)).toEqual(preview.lines.map((line) => line.amount.amount));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses a preview of another change', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const base = { stripe: bed.fake.client(), providerSubscriptionId: subscriptionId, prices: PRICES, prorationDate: HALFWAY };
    const codeOf = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        if (TallyError.is(error)) return error.code;
        throw error;
      }
      return 'resolved';
    };
    expect(await codeOf(compareProrationPreview({ ...base, tier: 'max', preview: tallyPreview('basic', 'pro', HALFWAY) }))).toBe(
      'VALIDATION',
    );
    const earlier = new Date(HALFWAY.getTime() - 60_000);
    expect(await codeOf(compareProrationPreview({ ...base, tier: 'pro', preview: tallyPreview('basic', 'pro', earlier) }))).toBe(
      'VALIDATION',
    );
    expect(
      await codeOf(
        compareProrationPreview({ ...base, tier: 'pro', prices: { basic: 'price_basic' }, preview: tallyPreview('basic', 'pro', HALFWAY) }),
      ),
    ).toBe('UNKNOWN_TIER');
  });
});
