/**
 * Payments without a database: sandbox events reach billing as signed webhook requests, a second
 * sandbox takes over what the first left in the store, and Stripe settings make a Stripe provider.
 */
import { createBilling, createMemoryStore, createTally, type PaymentProvider, SANDBOX_SIGNATURE_HEADER, sampleCatalog } from '@tally/core';
import { describe, expect, it } from 'vitest';
import { createPayments, restoreSandbox } from './payments.ts';

const CREDIT = 1_000_000n;

describe('payments', () => {
  it('delivers every sandbox event as a signed webhook request, and a restarted sandbox carries on', async () => {
    const store = createMemoryStore();
    const tally = createTally({ catalog: sampleCatalog, store });
    const requests: Request[] = [];
    let billing: ReturnType<typeof createBilling> | null = null;
    const service = () => {
      if (!billing) throw new Error('billing is made by boot()');
      return billing;
    };
    const boot = () => {
      const payments = createPayments({
        catalog: sampleCatalog,
        stripe: undefined,
        webhookSecret: 'whsec_test_0123456789abcdef0123456789',
        async deliver(request) {
          requests.push(request.clone());
          const response = await service().webhookResponse(request);
          expect(response.status).toBe(200);
        },
      });
      billing = createBilling({ catalog: sampleCatalog, store, provider: payments.provider as PaymentProvider });
      return payments;
    };

    const first = boot();
    expect(first.sandbox).not.toBeNull();
    const started = await service().subscribe({ customerId: 'ada', tier: 'starter' });
    if (started.status !== 'checkout') throw new Error('expected a checkout');
    expect(started.url).toMatch(/^\/sandbox\/checkout\/cs_sbx_[0-9a-f]{10}_\d+$/);
    await first.sandbox?.completeCheckout(started.checkoutId);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const request of requests) {
      expect(request.method).toBe('POST');
      expect(new URL(request.url).pathname).toBe('/v1/webhooks/stripe');
      expect(request.headers.get(SANDBOX_SIGNATURE_HEADER)).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    }
    expect((await service().getSubscription('ada'))?.tier).toBe('starter');
    expect((await tally.balance('ada')).balanceMicros).toBe(20n * CREDIT);

    // A new process: its own sandbox, told what the store holds.
    const second = boot();
    expect(await restoreSandbox(second.sandbox as NonNullable<typeof second.sandbox>, store)).toBe(1);
    const upgrade = await service().changeTier({ customerId: 'ada', tier: 'professional' });
    expect(upgrade).toMatchObject({ status: 'charged', paid: true });
    expect((await service().getSubscription('ada'))?.tier).toBe('professional');
  });

  it('makes a Stripe provider, and no sandbox, from Stripe settings', () => {
    const payments = createPayments({
      catalog: sampleCatalog,
      stripe: {
        secretKey: 'sk_test_123',
        webhookSecret: 'whsec_123',
        prices: { trial: 'price_t', starter: 'price_s', professional: 'price_p', enterprise: 'price_e' },
        packs: { 'credits-10': 'price_10' },
      },
      webhookSecret: 'unused',
      deliver: async () => {
        throw new Error('Stripe sends its own webhooks');
      },
    });
    expect(payments.provider.id).toBe('stripe');
    expect(payments.sandbox).toBeNull();
  });
});
