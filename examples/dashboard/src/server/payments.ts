/**
 * Payments: the sandbox provider from `@tally/core` by default (its checkout and portal pages are
 * served by sandbox-pages.ts), Stripe when `STRIPE_SECRET_KEY` is set. Sandbox events go through the
 * same signed webhook route Stripe's do (`POST /v1/webhooks/stripe`), so the demo exercises the real
 * path and every delivery is logged for the health score.
 */
import { randomBytes } from 'node:crypto';
import { createStripeProvider, type StripeProviderOptions } from '@tally/adapters/stripe';
import {
  type Catalog,
  createSandboxProvider,
  type PaymentEvent,
  type PaymentProvider,
  type SandboxProvider,
  type TallyStore,
} from '@tally/core';
import Stripe from 'stripe';

export interface StripeSettings {
  secretKey: string;
  /** The webhook endpoint's signing secret (`whsec_…`) for `POST /v1/webhooks/stripe`. */
  webhookSecret: string;
  /** Tier id → recurring Stripe price id, for every tier Stripe bills. */
  prices: Record<string, string>;
  /** Credit pack id → one-time Stripe price id. */
  packs?: Record<string, string>;
}

export interface Payments {
  provider: PaymentProvider;
  /** The sandbox (its pages are served), or null with Stripe. */
  sandbox: SandboxProvider | null;
  description: string;
}

/**
 * The sandbox, or Stripe. `deliver` hands a sandbox event to the webhook route as a signed request;
 * it is called while the sandbox acts (a checkout's Pay button waits for its events to be applied).
 */
export function createPayments(options: {
  catalog: Catalog;
  stripe: StripeSettings | undefined;
  webhookSecret: string;
  deliver: (request: Request) => Promise<void>;
}): Payments {
  if (options.stripe) {
    const settings = options.stripe;
    const stripeOptions: StripeProviderOptions = {
      stripe: new Stripe(settings.secretKey),
      webhookSecret: settings.webhookSecret,
      prices: settings.prices,
      ...(settings.packs
        ? { packs: Object.fromEntries(Object.entries(settings.packs).map(([pack, priceId]) => [pack, { priceId }])) }
        : {}),
    };
    return { provider: createStripeProvider(stripeOptions), sandbox: null, description: 'Stripe (STRIPE_SECRET_KEY)' };
  }
  let sandbox: SandboxProvider | null = null;
  const deliver = async (event: PaymentEvent) => {
    const signed = await (sandbox as SandboxProvider).webhook(event);
    await options.deliver(
      new Request('http://localhost/v1/webhooks/stripe', { method: 'POST', headers: signed.headers, body: signed.rawBody }),
    );
  };
  sandbox = createSandboxProvider({
    catalog: options.catalog,
    pagesUrl: '/sandbox',
    webhookSecret: options.webhookSecret,
    // The sandbox lives in memory and counts ids from 1 in each process; the database outlives it.
    idTag: randomBytes(5).toString('hex'),
    onEvent: deliver,
  });
  return { provider: sandbox, sandbox, description: 'sandbox payments (set STRIPE_SECRET_KEY for Stripe)' };
}

/**
 * Hands the sandbox every sandbox subscription in the store (the sample's and those of earlier runs),
 * so tier changes, cancels and coupons of existing customers work after a restart. Returns how many.
 */
export async function restoreSandbox(sandbox: SandboxProvider, store: TallyStore): Promise<number> {
  let restored = 0;
  let cursor: string | null = null;
  do {
    const page = await store.listCustomers({ limit: 500, ...(cursor ? { cursor } : {}) });
    for (const customer of page.items) {
      const subscription = await store.getSubscription(customer.id);
      if (subscription?.provider === 'sandbox' && subscription.providerCustomerId !== null) {
        sandbox.restore(subscription);
        restored++;
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return restored;
}
