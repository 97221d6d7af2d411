import { defineCatalog, previewTierChange } from '@tally/core';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { compareProrationPreview } from './proration.js';

/**
 * Compares Tally's proration preview with a real Stripe test-mode account. Runs only when
 * `STRIPE_TEST_SECRET_KEY` holds a test-mode key (`sk_test_…`); creates two prices, a customer with
 * Stripe's test card and a subscription, and cancels the subscription at the end.
 */
const key = process.env.STRIPE_TEST_SECRET_KEY ?? '';

// Skipped without a test-mode key: Stripe can't be reached from CI, and only the real API can confirm
// Stripe's rounding, which its docs leave open. The Stripe fake covers the rest (proration.test.ts).
describe.skipIf(!key.startsWith('sk_test_'))('compareProrationPreview against Stripe test mode', () => {
  it('matches Stripe to the cent for an upgrade halfway through the period', async () => {
    const stripe = new Stripe(key);
    const run = `tally-${Date.now()}`;
    const price = (name: string, cents: number) =>
      stripe.prices.create({
        currency: 'usd',
        unit_amount: cents,
        recurring: { interval: 'month' },
        product_data: { name: `${name} (${run})` },
      });
    const [basic, pro] = await Promise.all([price('Basic', 1000), price('Pro', 2000)]);
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
      metadata: { tallyCustomerId: run },
    });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      metadata: { tallyCustomerId: run },
    });
    try {
      const item = subscription.items.data[0];
      if (!item) throw new Error('the subscription has no item');
      const start = item.current_period_start;
      const end = item.current_period_end;
      const at = new Date((start + Math.floor((end - start) / 2)) * 1000);
      const catalog = defineCatalog({
        currency: 'USD',
        tiers: [
          { id: 'basic', name: 'Basic', price: 1000n, allowance: 0n },
          { id: 'pro', name: 'Pro', price: 2000n, allowance: 0n },
        ],
      });
      const preview = previewTierChange({
        catalog,
        subscription: {
          tier: 'basic',
          status: 'active',
          currentPeriodStart: new Date(start * 1000),
          currentPeriodEnd: new Date(end * 1000),
        },
        toTier: 'pro',
        at,
      });
      const comparison = await compareProrationPreview({
        stripe,
        providerSubscriptionId: subscription.id,
        tier: 'pro',
        prices: { basic: basic.id, pro: pro.id },
        prorationDate: at,
        preview,
      });
      expect(comparison.lines.map((line) => line.kind)).toEqual(['unused_time', 'remaining_time']);
      expect(comparison.matches).toBe(true);
    } finally {
      await stripe.subscriptions.cancel(subscription.id);
    }
  });
});
