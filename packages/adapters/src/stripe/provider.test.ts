import { TallyError } from '@tally/core';
import { setupServer } from 'msw/node';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeProvider } from './provider.js';
import { HALFWAY, PACKS, PERIOD_END, PERIOD_START, PRICES, type StripeTestBed, stripeTestBed, subscribed } from './test-setup.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const seconds = (date: Date) => String(date.getTime() / 1000);

function requestsTo(bed: StripeTestBed, method: string, path: string | RegExp) {
  return bed.fake.requests.filter(
    (request) => request.method === method && (typeof path === 'string' ? request.path === path : path.test(request.path)),
  );
}

function lastRequest(bed: StripeTestBed, method: string, path: string | RegExp) {
  const found = requestsTo(bed, method, path).at(-1);
  if (!found) throw new Error(`no ${method} ${path}`);
  return found;
}

async function tallyError(promise: Promise<unknown>): Promise<TallyError> {
  try {
    await promise;
  } catch (error) {
    if (TallyError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a TallyError');
}

describe('createStripeProvider: customers', () => {
  it('creates a customer tagged with the Tally id, and finds it again', async () => {
    const bed = stripeTestBed(server);
    const first = await bed.provider.ensureCustomer({ customerId: 'user_42', email: 'ada@example.com', name: 'Ada' });
    const create = lastRequest(bed, 'POST', '/v1/customers');
    expect(create.params).toEqual({ metadata: { tallyCustomerId: 'user_42' } });
    expect(create.idempotencyKey).toBe('tally-customer-user_42');
    expect(create.stripeVersion).toBe('2026-10-28.endive');
    expect(lastRequest(bed, 'POST', `/v1/customers/${first.providerCustomerId}`).params).toEqual({ email: 'ada@example.com', name: 'Ada' });
    expect(bed.fake.customer(first.providerCustomerId)).toMatchObject({
      metadata: { tallyCustomerId: 'user_42' },
      email: 'ada@example.com',
      name: 'Ada',
    });

    const again = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    expect(again).toEqual(first);
    expect(requestsTo(bed, 'POST', '/v1/customers')).toHaveLength(1);
    expect(lastRequest(bed, 'GET', '/v1/customers/search').params.query).toBe("metadata['tallyCustomerId']:'user_42'");
  });

  it('escapes quotes in the search query', async () => {
    const bed = stripeTestBed(server);
    const created = await bed.provider.ensureCustomer({ customerId: "o'brien" });
    expect(lastRequest(bed, 'GET', '/v1/customers/search').params.query).toBe("metadata['tallyCustomerId']:'o\\'brien'");
    expect(await bed.provider.ensureCustomer({ customerId: "o'brien" })).toEqual(created);
  });

  it('knows whether a customer has a card: default payment method or a saved card', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_1' });
    expect(await bed.provider.hasPaymentMethod(providerCustomerId)).toBe(false);
    bed.fake.addCard(providerCustomerId);
    expect(await bed.provider.hasPaymentMethod(providerCustomerId)).toBe(true);
    expect(lastRequest(bed, 'GET', /\/payment_methods$/).params).toEqual({ type: 'card', limit: '1' });

    const other = await bed.provider.ensureCustomer({ customerId: 'user_2' });
    bed.fake.addCard(other.providerCustomerId, { makeDefault: true });
    const listed = requestsTo(bed, 'GET', /\/payment_methods$/).length;
    expect(await bed.provider.hasPaymentMethod(other.providerCustomerId)).toBe(true);
    expect(requestsTo(bed, 'GET', /\/payment_methods$/)).toHaveLength(listed);
  });
});

describe('createStripeProvider: checkout', () => {
  it('opens a subscription Checkout with the tier price, the Tally id and the idempotency key', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const session = await bed.provider.createSubscriptionCheckout({
      customerId: 'user_42',
      providerCustomerId,
      tier: 'pro',
      trialDays: 14,
      successUrl: 'https://app.example/done?session_id={CHECKOUT_SESSION_ID}',
      cancelUrl: 'https://app.example/billing',
      idempotencyKey: 'checkout-key-1',
    });
    expect(session.url).toBe(`https://checkout.stripe.com/c/pay/${session.id}`);
    const request = lastRequest(bed, 'POST', '/v1/checkout/sessions');
    expect(request.idempotencyKey).toBe('checkout-key-1');
    expect(request.params).toEqual({
      mode: 'subscription',
      customer: providerCustomerId,
      line_items: [{ price: 'price_pro', quantity: '1' }],
      success_url: 'https://app.example/done?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example/billing',
      client_reference_id: 'user_42',
      metadata: { tallyCustomerId: 'user_42' },
      subscription_data: { metadata: { tallyCustomerId: 'user_42' }, trial_period_days: '14' },
    });

    // The fake honours the trial: no charge, periods on the item up to the trial end.
    bed.fake.completeCheckout(session.id);
    const subscription = bed.fake.subscription(String(bed.fake.checkoutSession(session.id).subscription));
    expect(subscription.status).toBe('trialing');
    expect(subscription.items.data[0]?.current_period_end).toBe(PERIOD_START.getTime() / 1000 + 14 * 86_400);
  });

  it('sends no trial when there is none, and replays a retried request', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const input = {
      customerId: 'user_42',
      providerCustomerId,
      tier: 'basic',
      trialDays: 0,
      successUrl: 'https://app.example/done',
      cancelUrl: 'https://app.example/billing',
      idempotencyKey: 'checkout-key-2',
    };
    const first = await bed.provider.createSubscriptionCheckout(input);
    expect(lastRequest(bed, 'POST', '/v1/checkout/sessions').params.subscription_data).toEqual({
      metadata: { tallyCustomerId: 'user_42' },
    });
    expect(await bed.provider.createSubscriptionCheckout(input)).toEqual(first);

    const conflict = await tallyError(bed.provider.createSubscriptionCheckout({ ...input, tier: 'pro' }));
    expect(conflict.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('opens a credit-pack Checkout with the pack on the session and on its payment', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const session = await bed.provider.createCreditPackCheckout({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      successUrl: 'https://app.example/credits/done',
      cancelUrl: 'https://app.example/credits',
      idempotencyKey: 'pack-key-1',
    });
    const request = lastRequest(bed, 'POST', '/v1/checkout/sessions');
    expect(request.idempotencyKey).toBe('pack-key-1');
    expect(request.params).toEqual({
      mode: 'payment',
      customer: providerCustomerId,
      line_items: [{ price: 'price_pack_small', quantity: '1' }],
      success_url: 'https://app.example/credits/done',
      cancel_url: 'https://app.example/credits',
      client_reference_id: 'user_42',
      metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' },
      payment_intent_data: { metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' } },
    });
    bed.fake.completeCheckout(session.id);
    const intent = bed.fake.paymentIntent(String(bed.fake.checkoutSession(session.id).payment_intent));
    expect(intent).toMatchObject({ status: 'succeeded', amount: 2500, metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' } });
  });

  it('refuses unknown tiers and packs without calling Stripe', async () => {
    const bed = stripeTestBed(server);
    const base = { customerId: 'u', providerCustomerId: 'cus_x', successUrl: 'https://a/s', cancelUrl: 'https://a/c', idempotencyKey: 'k' };
    expect((await tallyError(bed.provider.createSubscriptionCheckout({ ...base, tier: 'gold', trialDays: 0 }))).code).toBe('UNKNOWN_TIER');
    expect((await tallyError(bed.provider.createSubscriptionCheckout({ ...base, tier: 'pro', trialDays: -1 }))).code).toBe('VALIDATION');
    expect((await tallyError(bed.provider.createCreditPackCheckout({ ...base, packId: 'huge' }))).code).toBe('VALIDATION');
    expect((await tallyError(bed.provider.createCreditPackCheckout({ ...base, packId: 'toString' }))).code).toBe('VALIDATION');
    expect(bed.fake.requests).toHaveLength(0);
  });

  it('opens the billing portal', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const portal = await bed.provider.createPortalSession({ providerCustomerId, returnUrl: 'https://app.example/billing' });
    expect(portal.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\/test_bps_/);
    expect(lastRequest(bed, 'POST', '/v1/billing_portal/sessions').params).toEqual({
      customer: providerCustomerId,
      return_url: 'https://app.example/billing',
    });
  });
});

describe('createStripeProvider: upgrade now', () => {
  it('changes the price with an always_invoice proration at the given time and reports the paid invoice', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const itemId = bed.fake.subscription(subscriptionId).items.data[0]?.id;
    bed.fake.setNow(HALFWAY);
    const result = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prorationDate: HALFWAY,
      idempotencyKey: 'upgrade-1',
    });
    const update = lastRequest(bed, 'POST', `/v1/subscriptions/${subscriptionId}`);
    expect(update.idempotencyKey).toBe('upgrade-1');
    expect(update.params).toEqual({
      items: [{ id: itemId, price: 'price_pro' }],
      proration_behavior: 'always_invoice',
      proration_date: seconds(HALFWAY),
      payment_behavior: 'pending_if_incomplete',
      expand: ['latest_invoice.payments'],
    });
    expect(result).toEqual({
      invoiceId: expect.stringMatching(/^in_/),
      status: 'paid',
      amountDueCents: 500n,
      hostedInvoiceUrl: expect.stringContaining('https://invoice.stripe.com/'),
    });
    const subscription = bed.fake.subscription(subscriptionId);
    expect(subscription.items.data[0]?.price.id).toBe('price_pro');
    expect(subscription.items.data[0]?.current_period_end).toBe(PERIOD_END.getTime() / 1000);
  });

  it('leaves the price alone and reports a failed payment when the card is declined', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    bed.fake.setNow(HALFWAY);
    bed.fake.declineNextCharge();
    const result = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prorationDate: HALFWAY,
      idempotencyKey: 'upgrade-declined',
    });
    expect(result.status).toBe('failed');
    expect(result.amountDueCents).toBe(500n);
    expect(result.hostedInvoiceUrl).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    const pending = bed.fake.subscription(subscriptionId);
    expect(pending.items.data[0]?.price.id).toBe('price_basic');
    expect(pending.pending_update?.subscription_items?.[0]?.price.id).toBe('price_pro');

    // Paying the hosted invoice applies the upgrade.
    bed.fake.payInvoice(String(result.invoiceId));
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_pro');
  });

  it('reports requires_action when the card needs authentication', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    bed.fake.setNow(HALFWAY);
    bed.fake.requireActionOnNextCharge();
    const result = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'max',
      prorationDate: HALFWAY,
      idempotencyKey: 'upgrade-3ds',
    });
    expect(result).toMatchObject({ status: 'requires_action', amountDueCents: 4500n });
    // The invoice's payment names its PaymentIntent, read once to see why the invoice is open.
    expect(requestsTo(bed, 'GET', /^\/v1\/payment_intents\//)).toHaveLength(1);
  });

  it('replaces a scheduled downgrade', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-1' });
    const scheduleId = String(bed.fake.subscription(subscriptionId).schedule);
    bed.fake.setNow(HALFWAY);
    const result = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'max',
      prorationDate: HALFWAY,
      idempotencyKey: 'up-after-down',
    });
    expect(result.status).toBe('paid');
    expect(bed.fake.schedule(scheduleId).status).toBe('released');
    expect(lastRequest(bed, 'POST', `/v1/subscription_schedules/${scheduleId}/release`).idempotencyKey).toBe('up-after-down:release');
    bed.fake.advancePeriod(subscriptionId);
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_max');
  });
});

describe('createStripeProvider: changes at period end', () => {
  it('schedules a downgrade with a subscription schedule: this period as it is, then the lower price', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-1' });
    const create = lastRequest(bed, 'POST', '/v1/subscription_schedules');
    expect(create.params).toEqual({ from_subscription: subscriptionId });
    expect(create.idempotencyKey).toBe('down-1:schedule');
    const scheduleId = String(bed.fake.subscription(subscriptionId).schedule);
    const update = lastRequest(bed, 'POST', `/v1/subscription_schedules/${scheduleId}`);
    expect(update.idempotencyKey).toBe('down-1:phases');
    expect(update.params).toEqual({
      end_behavior: 'release',
      proration_behavior: 'none',
      phases: [
        { start_date: seconds(PERIOD_START), end_date: seconds(PERIOD_END), items: [{ price: 'price_pro', quantity: '1' }] },
        {
          start_date: seconds(PERIOD_END),
          duration: { interval: 'month', interval_count: '1' },
          items: [{ price: 'price_basic', quantity: '1' }],
        },
      ],
    });

    // Nothing changes before the period ends; then the subscription renews on the lower price.
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_pro');
    bed.fake.advancePeriod(subscriptionId);
    const renewed = bed.fake.subscription(subscriptionId);
    expect(renewed.items.data[0]?.price.id).toBe('price_basic');
    expect(renewed.items.data[0]?.current_period_start).toBe(PERIOD_END.getTime() / 1000);
    expect(bed.fake.invoice(String(renewed.latest_invoice))).toMatchObject({ billing_reason: 'subscription_cycle', amount_paid: 1000 });
  });

  it('changes a scheduled downgrade by updating the existing schedule', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'max');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'pro', idempotencyKey: 'down-a' });
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-b' });
    expect(requestsTo(bed, 'POST', '/v1/subscription_schedules')).toHaveLength(1);
    bed.fake.advancePeriod(subscriptionId);
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_basic');
  });

  it('undoes a scheduled downgrade by releasing the schedule', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-1' });
    const scheduleId = String(bed.fake.subscription(subscriptionId).schedule);
    await bed.provider.unschedule({ providerSubscriptionId: subscriptionId, idempotencyKey: 'undo-1' });
    expect(lastRequest(bed, 'POST', `/v1/subscription_schedules/${scheduleId}/release`).idempotencyKey).toBe('undo-1:release');
    expect(bed.fake.subscription(subscriptionId).schedule).toBeNull();
    bed.fake.advancePeriod(subscriptionId);
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_pro');
  });

  it('cancels at period end, replacing a scheduled downgrade, and resumes', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-1' });
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: null, idempotencyKey: 'cancel-1' });
    const cancel = lastRequest(bed, 'POST', `/v1/subscriptions/${subscriptionId}`);
    expect(cancel.params).toEqual({ cancel_at_period_end: 'true' });
    expect(cancel.idempotencyKey).toBe('cancel-1:cancel');
    const canceling = bed.fake.subscription(subscriptionId);
    expect(canceling).toMatchObject({ cancel_at_period_end: true, cancel_at: PERIOD_END.getTime() / 1000, schedule: null });

    await bed.provider.unschedule({ providerSubscriptionId: subscriptionId, idempotencyKey: 'resume-1' });
    expect(lastRequest(bed, 'POST', `/v1/subscriptions/${subscriptionId}`).params).toEqual({ cancel_at_period_end: 'false' });
    expect(bed.fake.subscription(subscriptionId)).toMatchObject({ cancel_at_period_end: false, cancel_at: null });

    // Unscheduling again is a no-op; a cancel left in place ends the subscription at period end.
    const before = bed.fake.requests.length;
    await bed.provider.unschedule({ providerSubscriptionId: subscriptionId, idempotencyKey: 'resume-2' });
    expect(bed.fake.requests.slice(before).map((request) => request.method)).toEqual(['GET']);
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: null, idempotencyKey: 'cancel-2' });
    const events = bed.fake.advancePeriod(subscriptionId);
    expect(events.map((event) => event.type)).toEqual(['customer.subscription.deleted']);
    expect(bed.fake.subscription(subscriptionId)).toMatchObject({ status: 'canceled', ended_at: PERIOD_END.getTime() / 1000 });
  });

  it('a downgrade after a scheduled cancel clears the cancel', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'pro');
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: null, idempotencyKey: 'cancel-1' });
    await bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'down-1' });
    expect(bed.fake.subscription(subscriptionId).cancel_at_period_end).toBe(false);
    bed.fake.advancePeriod(subscriptionId);
    expect(bed.fake.subscription(subscriptionId)).toMatchObject({ status: 'active' });
    expect(bed.fake.subscription(subscriptionId).items.data[0]?.price.id).toBe('price_basic');
  });
});

describe('createStripeProvider: off-session charges', () => {
  it('charges the saved card for a pack, with the Tally ids and the idempotency key', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await subscribed(bed, 'basic');
    const result = await bed.provider.chargeOffSession({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      idempotencyKey: 'recharge-1',
    });
    expect(result).toEqual({ status: 'succeeded', paymentId: expect.stringMatching(/^pi_/), failureMessage: null });
    const request = lastRequest(bed, 'POST', '/v1/payment_intents');
    expect(request.idempotencyKey).toBe('recharge-1');
    expect(request.params).toEqual({
      amount: '2500',
      currency: 'usd',
      customer: providerCustomerId,
      payment_method: expect.stringMatching(/^pm_/),
      off_session: 'true',
      confirm: 'true',
      metadata: { tallyCustomerId: 'user_42', tallyPackId: 'small' },
    });

    // The pack's price is read once.
    await bed.provider.chargeOffSession({ customerId: 'user_42', providerCustomerId, packId: 'small', idempotencyKey: 'recharge-2' });
    expect(requestsTo(bed, 'GET', '/v1/prices/price_pack_small')).toHaveLength(1);
  });

  it('returns a decline as a failed result, not a throw', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await subscribed(bed, 'basic');
    bed.fake.declineNextCharge();
    const result = await bed.provider.chargeOffSession({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      idempotencyKey: 'r-1',
    });
    expect(result).toEqual({ status: 'failed', paymentId: expect.stringMatching(/^pi_/), failureMessage: 'Your card was declined.' });
    expect(bed.fake.paymentIntent(String(result.paymentId)).status).toBe('requires_payment_method');

    bed.fake.requireActionOnNextCharge();
    const authentication = await bed.provider.chargeOffSession({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      idempotencyKey: 'r-2',
    });
    expect(authentication.status).toBe('failed');
    expect(authentication.failureMessage).toMatch(/requires authentication/);
  });

  it('fails without a saved card and without charging', async () => {
    const bed = stripeTestBed(server);
    const { providerCustomerId } = await bed.provider.ensureCustomer({ customerId: 'user_42' });
    const result = await bed.provider.chargeOffSession({
      customerId: 'user_42',
      providerCustomerId,
      packId: 'small',
      idempotencyKey: 'r-1',
    });
    expect(result).toEqual({ status: 'failed', paymentId: null, failureMessage: 'The customer has no saved card' });
    expect(requestsTo(bed, 'POST', '/v1/payment_intents')).toHaveLength(0);
  });
});

describe('createStripeProvider: errors', () => {
  it('maps outages to PROVIDER_UNAVAILABLE, keeping the request id', async () => {
    const bed = stripeTestBed(server);
    bed.fake.failNextRequest({ status: 500, message: 'Something went wrong on our end.' });
    const outage = await tallyError(bed.provider.ensureCustomer({ customerId: 'user_42' }));
    expect(outage.code).toBe('PROVIDER_UNAVAILABLE');
    expect(outage.details).toMatchObject({
      provider: 'stripe',
      stripeType: 'api_error',
      statusCode: 500,
      requestId: expect.stringMatching(/^req_/),
    });

    bed.fake.failNextRequest({ status: 429, type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' });
    const limited = await tallyError(bed.provider.ensureCustomer({ customerId: 'user_42' }));
    expect(limited.code).toBe('PROVIDER_UNAVAILABLE');
    expect(limited.details).toMatchObject({ stripeCode: 'rate_limit', statusCode: 429 });
  });

  it('maps invalid requests, bad keys and missing permissions to PROVIDER_REJECTED', async () => {
    const bed = stripeTestBed(server);
    const missing = await tallyError(bed.provider.hasPaymentMethod('cus_missing'));
    expect(missing.code).toBe('PROVIDER_REJECTED');
    expect(missing.details).toMatchObject({ stripeCode: 'resource_missing', statusCode: 404, param: 'id' });

    bed.fake.failNextRequest({ status: 403, type: 'invalid_request_error', message: 'The provided key does not have access' });
    expect((await tallyError(bed.provider.ensureCustomer({ customerId: 'user_42' }))).code).toBe('PROVIDER_REJECTED');

    const badKey = createStripeProvider({
      stripe: new Stripe('rk_live_wrong', { httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 }),
      webhookSecret: 'whsec_x',
      prices: PRICES,
      packs: PACKS,
    });
    const unauthorized = await tallyError(badKey.ensureCustomer({ customerId: 'user_42' }));
    expect(unauthorized.code).toBe('PROVIDER_REJECTED');
    expect(unauthorized.details).toMatchObject({ statusCode: 401, stripeCode: 'api_key_invalid' });
  });

  it('rejects a subscription on a price Tally does not know', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId } = await subscribed(bed, 'basic');
    const provider = createStripeProvider({ stripe: bed.fake.client(), webhookSecret: 'whsec_x', prices: { pro: 'price_pro' } });
    const error = await tallyError(
      provider.upgradeNow({
        customerId: 'user_42',
        providerSubscriptionId: subscriptionId,
        tier: 'pro',
        prorationDate: HALFWAY,
        idempotencyKey: 'k',
      }),
    );
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ priceIds: ['price_basic'] });
  });

  it('validates its options', () => {
    const stripe = new Stripe('sk_test_x');
    expect(() => createStripeProvider({ stripe, webhookSecret: ' ', prices: PRICES })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(() => createStripeProvider({ stripe, webhookSecret: 'whsec_x', prices: { a: 'price_1', b: 'price_1' } })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(() => createStripeProvider({ stripe, webhookSecret: 'whsec_x', prices: PRICES, tolerance: -1 })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
  });
});
