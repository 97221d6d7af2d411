import { setupServer } from 'msw/node';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HALFWAY, stripeTestBed, subscribed } from './test-setup.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected a Stripe error');
}

describe('createStripeFake', () => {
  it('replays a request with the same idempotency key and refuses other params under it', async () => {
    const bed = stripeTestBed(server);
    const stripe = bed.fake.client();
    const first = await stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'same' });
    const replay = await stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'same' });
    expect(replay.id).toBe(first.id);
    expect(bed.fake.requests.filter((request) => request.path === '/v1/customers')).toHaveLength(2);
    const conflict = await stripeError(stripe.customers.create({ email: 'b@example.com' }, { idempotencyKey: 'same' }));
    expect(conflict.type).toBe('StripeIdempotencyError');
  });

  it('answers like Stripe for things it does not have or allow', async () => {
    const bed = stripeTestBed(server);
    const stripe = bed.fake.client();
    const missing = await stripeError(stripe.subscriptions.retrieve('sub_nope'));
    expect(missing).toMatchObject({ type: 'StripeInvalidRequestError', code: 'resource_missing', statusCode: 404 });
    const { subscriptionId } = await subscribed(bed, 'basic');
    const mixed = await stripeError(
      stripe.subscriptionSchedules.create({
        from_subscription: subscriptionId,
        phases: [{ items: [{ price: 'price_pro' }] }],
      } as Stripe.SubscriptionScheduleCreateParams),
    );
    expect(mixed.message).toMatch(/from_subscription/);
    const itemId = bed.fake.subscription(subscriptionId).items.data[0]?.id ?? '';
    const outside = await stripeError(
      stripe.subscriptions.update(subscriptionId, {
        items: [{ id: itemId, price: 'price_pro' }],
        proration_behavior: 'always_invoice',
        proration_date: Math.floor(HALFWAY.getTime() / 1000) + 40 * 86_400,
      }),
    );
    expect(outside.param).toBe('proration_date');
    const oneTime = await stripeError(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_pack_small', quantity: 1 }],
        success_url: 'https://a/s',
      }),
    );
    expect(oneTime.param).toBe('line_items[0][price]');
  });

  it('keeps a declined off-session charge with its error, as Stripe does', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await subscribed(bed, 'basic');
    const stripe = bed.fake.client();
    const card = bed.fake.addCard(providerCustomerId);
    bed.fake.declineNextCharge();
    const declined = await stripeError(
      stripe.paymentIntents.create({
        amount: 500,
        currency: 'usd',
        customer: providerCustomerId,
        payment_method: card,
        off_session: true,
        confirm: true,
      }),
    );
    expect(declined).toMatchObject({ type: 'StripeCardError', statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
    expect(declined.payment_intent?.status).toBe('requires_payment_method');
    const next = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      customer: providerCustomerId,
      payment_method: card,
      off_session: true,
      confirm: true,
    });
    expect(next.status).toBe('succeeded');
  });

  it('signs events the way Stripe verifies them', async () => {
    const bed = stripeTestBed(server);
    const { sessionId } = await subscribed(bed, 'basic');
    const event = bed.fake.checkoutSessionEvent(sessionId);
    const { rawBody, header } = bed.fake.signEvent(event, { timestamp: 1_700_000_000 });
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    const verified = Stripe.webhooks.constructEvent(rawBody, header, bed.fake.webhookSecret, 0);
    expect(verified.id).toBe(event.id);
  });
});
