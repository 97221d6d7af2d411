import type { PaymentEvent } from '@tally/core';
import { tallyRejection } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HALFWAY, PERIOD_END, PERIOD_START, type StripeTestBed, stripeTestBed, subscribed } from './test-setup.js';
import type { FakeStripeEvent } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const unix = (date: Date) => date.getTime() / 1000;

async function parse(
  bed: StripeTestBed,
  event: FakeStripeEvent,
  options: { secret?: string; timestamp?: number } = {},
): Promise<PaymentEvent> {
  const request = bed.fake.webhookRequest(event, options);
  return bed.provider.parseWebhook({ rawBody: await request.text(), headers: request.headers });
}

function only(events: FakeStripeEvent[], type: string): FakeStripeEvent {
  const matching = events.filter((event) => event.type === type);
  if (matching.length !== 1 || !matching[0]) throw new Error(`expected one ${type}, got ${matching.length}`);
  return matching[0];
}

/** A hand-written event envelope (reference §1.4 shape) around `object`. */
function envelope(type: string, object: Record<string, unknown>, created = unix(HALFWAY)): FakeStripeEvent {
  return {
    id: `evt_ref_${type}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

describe('parseWebhook: signatures', () => {
  it('accepts a correctly signed event', async () => {
    const bed = stripeTestBed(server);
    const { sessionId } = await subscribed(bed, 'basic');
    const event = bed.fake.checkoutSessionEvent(sessionId);
    const parsed = await parse(bed, event);
    expect(parsed).toMatchObject({ id: event.id, provider: 'stripe', type: 'checkout.completed' });
  });

  it('refuses a wrong secret, a tampered body, a missing header and an old timestamp', async () => {
    const bed = stripeTestBed(server);
    const { sessionId } = await subscribed(bed, 'basic');
    const event = bed.fake.checkoutSessionEvent(sessionId);
    const now = Math.floor(Date.now() / 1000);

    expect((await tallyRejection(parse(bed, event, { secret: 'whsec_someone_else' }))).code).toBe('WEBHOOK_SIGNATURE_INVALID');

    const { rawBody, header } = bed.fake.signEvent(event);
    const tampered = rawBody.replace('"user_42"', '"user_43"');
    expect(tampered).not.toBe(rawBody);
    const tamperedError = await tallyRejection(
      bed.provider.parseWebhook({ rawBody: tampered, headers: new Headers({ 'stripe-signature': header }) }),
    );
    expect(tamperedError.code).toBe('WEBHOOK_SIGNATURE_INVALID');

    const missing = await tallyRejection(
      bed.provider.parseWebhook({ rawBody, headers: new Headers({ 'content-type': 'application/json' }) }),
    );
    expect(missing.code).toBe('WEBHOOK_SIGNATURE_INVALID');

    const stale = await tallyRejection(parse(bed, event, { timestamp: now - 301 }));
    expect(stale.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(stale.details.reason).toMatch(/tolerance/);
    await expect(parse(bed, event, { timestamp: now - 290 })).resolves.toMatchObject({ type: 'checkout.completed' });
  });

  it('refuses a signed body that is not an event as VALIDATION', async () => {
    const bed = stripeTestBed(server);
    const rawBody = 'not json';
    const header = Stripe.webhooks.generateTestHeaderString({ payload: rawBody, secret: bed.fake.webhookSecret });
    const error = await tallyRejection(bed.provider.parseWebhook({ rawBody, headers: new Headers({ 'stripe-signature': header }) }));
    expect(error.code).toBe('VALIDATION');
  });
});

describe('parseWebhook: subscription lifecycle events from the fake', () => {
  it('normalises a first subscription: checkout, subscription created, first invoice paid', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const session = await bed.provider.createSubscriptionCheckout({
      customerId: 'user_42',
      providerCustomerId,
      tier: 'basic',
      trialDays: 0,
      successUrl: 'https://app.example/done',
      cancelUrl: 'https://app.example/billing',
      idempotencyKey: 'c-1',
    });
    const events = bed.fake.completeCheckout(session.id);
    expect(events.map((event) => event.type)).toEqual(['customer.subscription.created', 'invoice.paid', 'checkout.session.completed']);
    const subscriptionId = String(bed.fake.checkoutSession(session.id).subscription);

    const checkout = only(events, 'checkout.session.completed');
    expect(await parse(bed, checkout)).toEqual({
      id: checkout.id,
      provider: 'stripe',
      created: PERIOD_START,
      type: 'checkout.completed',
      mode: 'subscription',
      customerId: 'user_42',
      providerCustomerId,
      providerSubscriptionId: subscriptionId,
      checkoutId: session.id,
    });

    const created = only(events, 'customer.subscription.created');
    expect(await parse(bed, created)).toEqual({
      id: created.id,
      provider: 'stripe',
      created: PERIOD_START,
      type: 'subscription.updated',
      customerId: 'user_42',
      providerCustomerId,
      providerSubscriptionId: subscriptionId,
      tier: 'basic',
      status: 'active',
      currentPeriodStart: PERIOD_START,
      currentPeriodEnd: PERIOD_END,
      trialEnd: null,
      cancelAtPeriodEnd: false,
    });

    const paid = only(events, 'invoice.paid');
    expect(await parse(bed, paid)).toEqual({
      id: paid.id,
      provider: 'stripe',
      created: PERIOD_START,
      type: 'invoice.paid',
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      invoiceId: expect.stringMatching(/^in_/),
      billingReason: 'subscription_create',
      lines: [{ tier: 'basic', proration: false, amountCents: 1000n, periodStart: PERIOD_START, periodEnd: PERIOD_END }],
      amountPaidCents: 1000n,
    });
  });

  it('normalises a trial', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_7' });
    const session = await bed.provider.createSubscriptionCheckout({
      customerId: 'user_7',
      providerCustomerId,
      tier: 'pro',
      trialDays: 14,
      successUrl: 'https://app.example/done',
      cancelUrl: 'https://app.example/billing',
      idempotencyKey: 'c-trial',
    });
    const events = bed.fake.completeCheckout(session.id);
    const trialEnd = new Date(PERIOD_START.getTime() + 14 * 86_400_000);
    expect(await parse(bed, only(events, 'customer.subscription.created'))).toMatchObject({
      type: 'subscription.updated',
      tier: 'pro',
      status: 'trialing',
      currentPeriodEnd: trialEnd,
      trialEnd,
    });
    expect(await parse(bed, only(events, 'invoice.paid'))).toMatchObject({
      amountPaidCents: 0n,
      lines: [{ tier: 'pro', proration: false, amountCents: 0n, periodStart: PERIOD_START, periodEnd: trialEnd }],
    });
    expect(await parse(bed, only(events, 'checkout.session.completed'))).toMatchObject({
      type: 'checkout.completed',
      mode: 'subscription',
    });
  });

  it('normalises an upgrade: the subscription on the new tier and the proration invoice', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    bed.fake.setNow(HALFWAY);
    const seen = bed.fake.events.length;
    await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prorationDate: HALFWAY,
      idempotencyKey: 'u-1',
    });
    const events = bed.fake.events.slice(seen);
    expect(events.map((event) => event.type)).toEqual(['customer.subscription.updated', 'invoice.paid']);

    const updated = only(events, 'customer.subscription.updated');
    expect(updated.data.previous_attributes).toHaveProperty('items');
    expect(await parse(bed, updated)).toMatchObject({
      type: 'subscription.updated',
      created: HALFWAY,
      tier: 'pro',
      status: 'active',
      currentPeriodStart: PERIOD_START,
      currentPeriodEnd: PERIOD_END,
    });
    expect(await parse(bed, only(events, 'invoice.paid'))).toMatchObject({
      type: 'invoice.paid',
      billingReason: 'subscription_update',
      lines: [
        { tier: 'basic', proration: true, amountCents: -500n, periodStart: HALFWAY, periodEnd: PERIOD_END },
        { tier: 'pro', proration: true, amountCents: 1000n, periodStart: HALFWAY, periodEnd: PERIOD_END },
      ],
      amountPaidCents: 500n,
      providerSubscriptionId: subscriptionId,
    });
  });

  it('normalises a failed payment', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    bed.fake.setNow(HALFWAY);
    bed.fake.declineNextCharge();
    const seen = bed.fake.events.length;
    const result = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'max',
      prorationDate: HALFWAY,
      idempotencyKey: 'u-1',
    });
    const failed = only(bed.fake.events.slice(seen), 'invoice.payment_failed');
    expect(await parse(bed, failed)).toEqual({
      id: failed.id,
      provider: 'stripe',
      created: HALFWAY,
      type: 'invoice.payment_failed',
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      invoiceId: result.invoiceId,
      attemptCount: 1,
      nextAttemptAt: new Date(HALFWAY.getTime() + 3 * 86_400_000),
      amountDueCents: 4500n,
    });
  });

  it('normalises renewal, a scheduled cancel and the end of the subscription', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    const renewal = bed.fake.advancePeriod(subscriptionId);
    const nextEnd = new Date('2027-01-01T00:00:00Z');
    expect(await parse(bed, only(renewal, 'customer.subscription.updated'))).toMatchObject({
      tier: 'pro',
      currentPeriodStart: PERIOD_END,
      currentPeriodEnd: nextEnd,
    });
    expect(await parse(bed, only(renewal, 'invoice.paid'))).toMatchObject({
      billingReason: 'subscription_cycle',
      lines: [{ tier: 'pro', proration: false, amountCents: 2000n, periodStart: PERIOD_END, periodEnd: nextEnd }],
      amountPaidCents: 2000n,
    });

    const seen = bed.fake.events.length;
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: null, idempotencyKey: 'cancel' });
    const canceling = only(bed.fake.events.slice(seen), 'customer.subscription.updated');
    expect(await parse(bed, canceling)).toMatchObject({ type: 'subscription.updated', cancelAtPeriodEnd: true, status: 'active' });

    const deleted = only(bed.fake.advancePeriod(subscriptionId), 'customer.subscription.deleted');
    expect(await parse(bed, deleted)).toEqual({
      id: deleted.id,
      provider: 'stripe',
      created: nextEnd,
      type: 'subscription.deleted',
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      endedAt: nextEnd,
    });
  });
});

describe('parseWebhook: credit packs and refunds from the fake', () => {
  it('normalises a pack purchase and cumulative refunds', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const session = await bed.provider.createCreditPackCheckout({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      successUrl: 'https://app.example/done',
      cancelUrl: 'https://app.example/credits',
      idempotencyKey: 'p-1',
    });
    const completed = only(bed.fake.completeCheckout(session.id), 'checkout.session.completed');
    const paymentId = String(bed.fake.checkoutSession(session.id).payment_intent);
    expect(await parse(bed, completed)).toEqual({
      id: completed.id,
      provider: 'stripe',
      created: PERIOD_START,
      type: 'checkout.completed',
      mode: 'payment',
      customerId: 'user_42',
      providerCustomerId,
      checkoutId: session.id,
      packId: 'small',
      paymentId,
      amountCents: 2500n,
      currency: 'USD',
    });

    // The fake's charges carry no metadata: the provider reads the Tally ids from the PaymentIntent.
    const first = only(bed.fake.refund(paymentId, 1000), 'charge.refunded');
    expect(await parse(bed, first)).toMatchObject({
      type: 'charge.refunded',
      customerId: 'user_42',
      paymentId,
      amountRefundedCents: 1000n,
      currency: 'USD',
    });
    const second = only(bed.fake.refund(paymentId, 500), 'charge.refunded');
    expect(await parse(bed, second)).toMatchObject({ amountRefundedCents: 1500n });
    expect(bed.fake.requests.filter((request) => request.path === `/v1/payment_intents/${paymentId}`)).toHaveLength(2);
  });

  it('normalises an off-session payment only through its refund, and ignores PaymentIntent events', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await subscribed(bed, 'basic');
    const seen = bed.fake.events.length;
    const charged = await bed.provider.chargeOffSession({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      idempotencyKey: 'r-1',
    });
    const succeeded = only(bed.fake.events.slice(seen), 'payment_intent.succeeded');
    expect(await parse(bed, succeeded)).toMatchObject({ type: 'ignored', providerType: 'payment_intent.succeeded' });
    const refunded = only(bed.fake.refund(String(charged.paymentId)), 'charge.refunded');
    expect(await parse(bed, refunded)).toMatchObject({ type: 'charge.refunded', paymentId: charged.paymentId, amountRefundedCents: 2500n });
  });
});

describe('parseWebhook: hand-written payloads in the reference shapes', () => {
  it('reads an invoice.paid with the subscription under parent.subscription_details', async () => {
    const bed = stripeTestBed(server);
    const line = (id: string, amount: number, price: string, proration: boolean, start: number, end: number) => ({
      id,
      object: 'line_item',
      amount,
      currency: 'usd',
      description: null,
      period: { start, end },
      pricing: { type: 'price_details', price_details: { price, product: 'prod_1' }, unit_amount_decimal: null },
      parent: {
        type: 'subscription_item_details',
        invoice_item_details: null,
        subscription_item_details: {
          subscription: 'sub_1',
          subscription_item: 'si_1',
          invoice_item: null,
          proration,
          proration_details: null,
        },
      },
    });
    const invoice = {
      id: 'in_2',
      object: 'invoice',
      status: 'paid',
      billing_reason: 'subscription_update',
      customer: 'cus_1',
      currency: 'usd',
      amount_due: 500,
      amount_paid: 500,
      amount_remaining: 0,
      attempt_count: 1,
      next_payment_attempt: null,
      metadata: {},
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { subscription: 'sub_1', metadata: { tallyCustomerId: 'user_42' } },
      },
      lines: {
        object: 'list',
        has_more: false,
        data: [
          line('il_1', -500, 'price_basic', true, unix(HALFWAY), unix(PERIOD_END)),
          line('il_2', 1000, 'price_pro', true, unix(HALFWAY), unix(PERIOD_END)),
        ],
      },
      period_start: unix(HALFWAY),
      period_end: unix(HALFWAY),
    };
    expect(await parse(bed, envelope('invoice.paid', invoice))).toMatchObject({
      type: 'invoice.paid',
      customerId: 'user_42',
      providerSubscriptionId: 'sub_1',
      invoiceId: 'in_2',
      billingReason: 'subscription_update',
      lines: [
        { tier: 'basic', proration: true, amountCents: -500n, periodStart: HALFWAY, periodEnd: PERIOD_END },
        { tier: 'pro', proration: true, amountCents: 1000n, periodStart: HALFWAY, periodEnd: PERIOD_END },
      ],
      amountPaidCents: 500n,
    });

    // Lines on prices that are not Tally tiers (add-ons) are left out.
    const mixed = {
      ...invoice,
      billing_reason: 'manual',
      lines: { ...invoice.lines, data: [line('il_3', 2000, 'price_pro', false, 1, 2), line('il_4', 700, 'price_addon', false, 1, 2)] },
    };
    expect(await parse(bed, envelope('invoice.paid', mixed))).toMatchObject({
      billingReason: 'other',
      lines: [{ tier: 'pro', proration: false, amountCents: 2000n, periodStart: new Date(1000), periodEnd: new Date(2000) }],
    });
  });

  it('rejects a Tally subscription on an unknown price, and ignores objects that are not Tally’s', async () => {
    const bed = stripeTestBed(server);
    const subscription = {
      id: 'sub_1',
      object: 'subscription',
      customer: 'cus_1',
      status: 'active',
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
      schedule: null,
      metadata: { tallyCustomerId: 'user_42' },
      items: {
        object: 'list',
        has_more: false,
        data: [
          {
            id: 'si_1',
            object: 'subscription_item',
            subscription: 'sub_1',
            quantity: 1,
            current_period_start: unix(PERIOD_START),
            current_period_end: unix(PERIOD_END),
            price: {
              id: 'price_20',
              object: 'price',
              unit_amount: 2000,
              currency: 'usd',
              recurring: { interval: 'month', interval_count: 1 },
            },
          },
        ],
      },
    };
    const error = await tallyRejection(parse(bed, envelope('customer.subscription.updated', subscription)));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ providerSubscriptionId: 'sub_1', priceIds: ['price_20'] });

    expect(await parse(bed, envelope('customer.subscription.updated', { ...subscription, metadata: {} }))).toMatchObject({
      type: 'ignored',
      providerType: 'customer.subscription.updated',
    });
    expect(await parse(bed, envelope('customer.created', { id: 'cus_1', object: 'customer' }))).toEqual({
      id: 'evt_ref_customer.created',
      provider: 'stripe',
      created: HALFWAY,
      type: 'ignored',
      providerType: 'customer.created',
    });

    const expired = {
      ...subscription,
      status: 'incomplete_expired',
      items: {
        ...subscription.items,
        data: [{ ...subscription.items.data[0], price: { ...subscription.items.data[0]?.price, id: 'price_pro' } }],
      },
    };
    expect(await parse(bed, envelope('customer.subscription.updated', expired))).toMatchObject({ status: 'canceled', tier: 'pro' });
  });

  it('reads a refund whose charge carries the Tally ids without asking Stripe', async () => {
    const bed = stripeTestBed(server);
    const charge = {
      id: 'ch_1',
      object: 'charge',
      amount: 2500,
      amount_refunded: 2500,
      refunded: true,
      currency: 'usd',
      payment_intent: 'pi_1',
      metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' },
    };
    expect(await parse(bed, envelope('charge.refunded', charge))).toMatchObject({
      type: 'charge.refunded',
      customerId: 'user_42',
      paymentId: 'pi_1',
      amountRefundedCents: 2500n,
    });
    expect(bed.fake.requests).toHaveLength(0);
    expect(await parse(bed, envelope('charge.refunded', { ...charge, payment_intent: null }))).toMatchObject({ type: 'ignored' });
  });

  it('waits for a delayed payment method before a pack counts as paid', async () => {
    const bed = stripeTestBed(server);
    const session = {
      id: 'cs_test_1',
      object: 'checkout.session',
      mode: 'payment',
      status: 'complete',
      payment_status: 'unpaid',
      customer: 'cus_1',
      payment_intent: 'pi_9',
      amount_total: 2500,
      currency: 'eur',
      metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' },
    };
    expect(await parse(bed, envelope('checkout.session.completed', session))).toMatchObject({ type: 'ignored' });
    expect(await parse(bed, envelope('checkout.session.async_payment_succeeded', { ...session, payment_status: 'paid' }))).toMatchObject({
      type: 'checkout.completed',
      mode: 'payment',
      packId: 'small',
      paymentId: 'pi_9',
      amountCents: 2500n,
      currency: 'EUR',
    });
    const broken = { ...session, payment_status: 'paid', metadata: { tallyCustomerId: 'user_42' } };
    expect((await tallyRejection(parse(bed, envelope('checkout.session.completed', broken)))).code).toBe('PROVIDER_REJECTED');
  });
});

describe('event builders', () => {
  it('rebuild the events of an upgrade sequence from the fake state, stamped with the fake clock', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, sessionId } = await subscribed(bed, 'basic');
    const firstInvoice = String(bed.fake.subscription(subscriptionId).latest_invoice);
    bed.fake.setNow(HALFWAY);
    const upgrade = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prorationDate: HALFWAY,
      idempotencyKey: 'u',
    });
    bed.fake.advance(5);
    const sequence = [
      bed.fake.checkoutSessionEvent(sessionId),
      bed.fake.subscriptionEvent(subscriptionId, 'created'),
      bed.fake.subscriptionEvent(subscriptionId, 'updated', { items: { data: [{ price: { id: 'price_basic' } }] } }),
      bed.fake.invoiceEvent(firstInvoice, 'paid'),
      bed.fake.invoiceEvent(String(upgrade.invoiceId), 'paid'),
    ];
    expect(new Set(sequence.map((event) => event.id)).size).toBe(sequence.length);
    const parsed = await Promise.all(sequence.map((event) => parse(bed, event)));
    expect(parsed.map((event) => event.created)).toEqual(Array(5).fill(new Date(HALFWAY.getTime() + 5000)));
    const tiers = (event: PaymentEvent) => {
      if (event.type === 'subscription.updated') return [event.tier];
      if (event.type === 'invoice.paid') return event.lines.map((line) => line.tier);
      return [];
    };
    expect(parsed.map((event) => [event.type, tiers(event)])).toEqual([
      ['checkout.completed', []],
      ['subscription.updated', ['pro']],
      ['subscription.updated', ['pro']],
      ['invoice.paid', ['basic']],
      ['invoice.paid', ['basic', 'pro']],
    ]);
    expect(parsed[3]).toMatchObject({ billingReason: 'subscription_create' });
    expect(parsed[4]).toMatchObject({ billingReason: 'subscription_update', amountPaidCents: 500n });
  });
});
