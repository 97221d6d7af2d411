import { createBilling, createMemoryStore, type TallyStore } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catalog, HALFWAY, PERIOD_START, stripeTestBed } from './test-setup.js';
import type { FakeStripeEvent } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** The state that must not depend on delivery order, without generated ids and counters. */
async function snapshot(store: TallyStore, customerId: string) {
  const { version: _v, updatedAt: _u, ...subscription } = (await store.getSubscription(customerId)) ?? {};
  const entries = (await store.listEntries({ customerId, limit: 100 })).items
    .map((e) => `${e.kind} ${e.fromAccount}→${e.toAccount} ${e.amountMicros} ${e.bucketDeltaMicros} ${e.description}`)
    .sort();
  const balance = await store.balance(customerId, HALFWAY);
  const outbox = (await store.listOutbox({ limit: 100 }))
    // A tier-change notice reports a step the record went through; an event that arrives after a newer
    // state skips that step, so the notices are checked apart (tierChanges below).
    .filter((m) => m.topic !== 'tier.changed')
    .map((m) => {
      const payload = JSON.parse(m.payload) as Record<string, unknown>;
      // Generated ids, and the running balance a grant reports, follow the order the grants ran in.
      for (const key of ['operationId', 'bucketId', 'balanceMicros']) delete payload[key];
      return `${m.topic} ${m.dedupeKey.replace(/:\d+$/, ':#')} ${JSON.stringify(payload)}`;
    })
    .sort();
  return { subscription, tier: (await store.getCustomer(customerId))?.tier, entries, balance: balance.balanceMicros, outbox };
}

/** The `tier.changed` notices, as `from→to direction timing`. */
async function tierChanges(store: TallyStore): Promise<string> {
  return (await store.listOutbox({ limit: 100 }))
    .filter((m) => m.topic === 'tier.changed')
    .map((m) => JSON.parse(m.payload) as Record<string, string>)
    .map((p) => `${p.from}→${p.to} ${p.direction} ${p.timing}`)
    .join(', ');
}

describe('Stripe webhooks through the billing service', () => {
  it('a subscribe-then-upgrade sequence of 4 signed events converges in every order, with duplicates of each', async () => {
    // Record the real event sequence from the fake: Checkout on Basic, then an upgrade to Pro halfway.
    const bed = stripeTestBed(server);
    const clock = createFakeClock(PERIOD_START);
    const recorder = createBilling({ catalog, store: createMemoryStore(), provider: bed.provider, clock });
    const started = await recorder.subscribe({ customerId: 'user_42', tier: 'basic' });
    if (started.status !== 'checkout') throw new Error('expected a checkout');
    const signup = bed.fake.completeCheckout(started.checkoutId);
    for (const event of signup) expect((await recorder.webhookResponse(bed.fake.webhookRequest(event))).status).toBe(200);
    clock.set(HALFWAY);
    bed.fake.setNow(HALFWAY);
    const mark = bed.fake.events.length;
    const upgrade = await recorder.changeTier({ customerId: 'user_42', tier: 'pro' });
    expect(upgrade).toMatchObject({ status: 'charged', paid: true, amountDueCents: 500n });
    const events: FakeStripeEvent[] = [...signup.filter((e) => e.type !== 'checkout.session.completed'), ...bed.fake.events.slice(mark)];
    expect(events.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'invoice.paid',
      'customer.subscription.updated',
      'invoice.paid',
    ]);

    let reference: Awaited<ReturnType<typeof snapshot>> | null = null;
    const notices = new Set<string>();
    for (const order of permutations(events)) {
      for (const delivery of [order.flatMap((e) => [e, e]), [...order, ...order]]) {
        const store = createMemoryStore();
        const billing = createBilling({ catalog, store, provider: bed.provider, clock });
        const answers = [];
        for (const event of delivery) {
          const response = await billing.webhookResponse(bed.fake.webhookRequest(event));
          expect(response.status).toBe(200);
          answers.push(((await response.json()) as { applied: boolean }).applied);
        }
        expect(answers.filter(Boolean)).toHaveLength(4);
        expect((await store.audit()).ok).toBe(true);
        const state = await snapshot(store, 'user_42');
        notices.add(await tierChanges(store));
        if (!reference) reference = state;
        else expect(state, order.map((e) => `${e.type}@${e.id}`).join(', ')).toEqual(reference);
      }
    }
    // In order, the upgrade is announced once; an order in which the record never held Basic has none.
    expect([...notices].sort()).toEqual(['', 'basic→pro upgrade now']);
    // Basic's 10 credits for the period, then (25 − 10) × ½ for the upgrade at exactly half the period.
    expect(reference?.balance).toBe(17_500_000n);
    expect(reference?.tier).toBe('pro');
    expect(reference?.subscription).toMatchObject({ tier: 'pro', status: 'active', provider: 'stripe', pastDueSince: null });
  });

  it('a redeemed percent-off coupon discounts the next renewals on Stripe, not the ones after', async () => {
    const bed = stripeTestBed(server);
    const clock = createFakeClock(PERIOD_START);
    const billing = createBilling({ catalog, store: createMemoryStore(), provider: bed.provider, clock });
    const started = await billing.subscribe({ customerId: 'user_42', tier: 'basic' });
    if (started.status !== 'checkout') throw new Error('expected a checkout');
    for (const event of bed.fake.completeCheckout(started.checkoutId)) {
      expect((await billing.webhookResponse(bed.fake.webhookRequest(event))).status).toBe(200);
    }
    await billing.createCoupon({
      code: 'spring25',
      benefit: { type: 'percent_off', percentOffBps: 2500, durationPeriods: 2 },
      maxRedemptions: null,
      expiresAt: null,
      tiers: [],
    });
    clock.set(HALFWAY);
    bed.fake.setNow(HALFWAY);
    await billing.redeemCoupon({ customerId: 'user_42', code: 'spring25', idempotencyKey: 'redeem-1' });
    const subscriptionId = bed.fake.events.find((e) => e.type === 'customer.subscription.created')?.data.object.id as string;
    const due = [1, 2, 3].map(() => {
      bed.fake.advancePeriod(subscriptionId);
      return bed.fake.invoice(bed.fake.subscription(subscriptionId).latest_invoice as string).amount_due;
    });
    expect(due).toEqual([750, 750, 1000]);
    expect(bed.fake.coupon('tally_SPRING25_2500bps_2mo')).toMatchObject({ percent_off: 25, duration_in_months: 2 });
  });

  it('a bad or missing signature is a 400 and changes nothing', async () => {
    const bed = stripeTestBed(server);
    const clock = createFakeClock(PERIOD_START);
    const store = createMemoryStore();
    const billing = createBilling({ catalog, store, provider: bed.provider, clock });
    const started = await billing.subscribe({ customerId: 'user_42', tier: 'basic' });
    if (started.status !== 'checkout') throw new Error('expected a checkout');
    const [created] = bed.fake.completeCheckout(started.checkoutId);
    if (!created) throw new Error('no event');
    const forged = bed.fake.webhookRequest(created, { secret: 'whsec_wrong' });
    expect((await billing.webhookResponse(forged)).status).toBe(400);
    const unsigned = new Request('https://app.example/webhooks/stripe', { method: 'POST', body: JSON.stringify(created) });
    const answer = await billing.webhookResponse(unsigned);
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID', status: 400 });
    expect(await store.getSubscription('user_42')).toBeNull();
    expect(await store.listOutbox({ limit: 10 })).toEqual([]);
  });
});
