import { type Catalog, defineCatalog } from '@tally/core';
import type { SetupServer } from 'msw/node';
import { createStripeProvider, type StripeProvider } from './provider.js';
import { createStripeFake, type StripeFake } from './testing.js';

/** Period of the test subscriptions: 1 Nov 2026 → 1 Dec 2026 (30 days), as in the reference examples. */
export const PERIOD_START = new Date('2026-11-01T00:00:00Z');
export const PERIOD_END = new Date('2026-12-01T00:00:00Z');
/** Exactly half the period. */
export const HALFWAY = new Date('2026-11-16T00:00:00Z');

export const PRICES = { basic: 'price_basic', pro: 'price_pro', max: 'price_max' };
export const PACKS = { small: { priceId: 'price_pack_small' } };

/** Stripe's worked examples: 10, 20 and 100 USD a month. */
export const catalog: Catalog = defineCatalog({
  currency: 'USD',
  tiers: [
    { id: 'basic', name: 'Basic', price: 1000n, allowance: 10_000_000n },
    { id: 'pro', name: 'Pro', price: 2000n, allowance: 25_000_000n },
    { id: 'max', name: 'Max', price: 10000n, allowance: 'unlimited' },
  ],
});

export interface StripeTestBed {
  fake: StripeFake;
  provider: StripeProvider;
}

/** A fresh fake Stripe account (served by `server`) and a provider talking to it. */
export function stripeTestBed(server: SetupServer): StripeTestBed {
  const fake = createStripeFake({
    now: PERIOD_START,
    prices: {
      price_basic: { unitAmount: 1000, interval: 'month', nickname: 'Basic' },
      price_pro: { unitAmount: 2000, interval: 'month', nickname: 'Pro' },
      price_max: { unitAmount: 10000, interval: 'month', nickname: 'Max' },
      price_pack_small: { unitAmount: 2500, interval: null, nickname: '25 credits' },
    },
  });
  server.use(...fake.handlers);
  const provider = createStripeProvider({ stripe: fake.client(), webhookSecret: fake.webhookSecret, prices: PRICES, packs: PACKS });
  return { fake, provider };
}

/** A customer who subscribed to `tier` through Checkout at the start of the period. */
export async function subscribed(
  bed: StripeTestBed,
  tier: string,
  customerId = 'user_42',
): Promise<{ providerCustomerId: string; subscriptionId: string; sessionId: string }> {
  const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId, email: 'ada@example.com' });
  const session = await bed.provider.createSubscriptionCheckout({
    customerId,
    providerCustomerId,
    tier,
    trialDays: 0,
    successUrl: 'https://app.example/billing/done',
    cancelUrl: 'https://app.example/billing',
    idempotencyKey: `checkout-${customerId}-${tier}`,
  });
  bed.fake.completeCheckout(session.id);
  const subscriptionId = bed.fake.checkoutSession(session.id).subscription;
  if (typeof subscriptionId !== 'string') throw new Error('checkout created no subscription');
  return { providerCustomerId, subscriptionId, sessionId: session.id };
}
