import { type DiscountInput, TallyError } from '@tally/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeProvider, percentOffOf } from './provider.js';
import { HALFWAY, PERIOD_START, type StripeTestBed, stripeTestBed, subscribed } from './test-setup.js';
import { createStripeFake, FAKE_STRIPE_API } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function requestsTo(bed: StripeTestBed, method: string, path: string) {
  return bed.fake.requests.filter((request) => request.method === method && request.path === path);
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

async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected a Stripe error');
}

/** A subscriber of `tier` since the period start, with the clock at half the period. */
async function subscriber(bed: StripeTestBed, tier: string, customerId = 'user_42') {
  const started = await subscribed(bed, tier, customerId);
  bed.fake.setNow(HALFWAY);
  const discount = (input: Partial<DiscountInput> = {}): DiscountInput => ({
    customerId,
    providerSubscriptionId: started.subscriptionId,
    couponCode: 'SPRING',
    percentOffBps: 1250,
    durationPeriods: 2,
    idempotencyKey: `discount-${customerId}`,
    ...input,
  });
  return { ...started, discount };
}

/** Renews `count` times; the renewal invoices, oldest first. */
function renewals(bed: StripeTestBed, subscriptionId: string, count: number): Stripe.Invoice[] {
  const invoices: Stripe.Invoice[] = [];
  for (let index = 0; index < count; index++) {
    bed.fake.advancePeriod(subscriptionId);
    const latest = bed.fake.subscription(subscriptionId).latest_invoice;
    if (typeof latest !== 'string') throw new Error('no renewal invoice');
    invoices.push(bed.fake.invoice(latest));
  }
  return invoices;
}

function onlyDiscount(bed: StripeTestBed, subscriptionId: string): string {
  const [discount, ...others] = bed.fake.subscription(subscriptionId).discounts;
  if (typeof discount !== 'string' || others.length > 0) throw new Error('expected exactly one discount id');
  return discount;
}

describe('percentOffOf', () => {
  it('writes every basis-point value as its exact decimal, the number stripe-node sends', () => {
    for (let bps = 1; bps <= 10_000; bps++) {
      const whole = Math.floor(bps / 100);
      const cents = bps % 100;
      const exact = cents === 0 ? `${whole}` : `${whole}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
      expect(String(percentOffOf(bps))).toBe(exact);
    }
  });
});

describe('createStripeProvider: applyDiscount', () => {
  it('creates the coupon under its deterministic id and attaches it with the idempotency key, billing nothing now', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    const invoiceBefore = bed.fake.subscription(subscriptionId).latest_invoice;
    await bed.provider.applyDiscount(discount({ idempotencyKey: 'discount:red_1:sub' }));

    const couponId = 'tally_SPRING_1250bps_2mo';
    expect(requestsTo(bed, 'GET', `/v1/subscriptions/${subscriptionId}`).at(-1)?.params).toEqual({ expand: ['discounts'] });
    expect(requestsTo(bed, 'GET', `/v1/coupons/${couponId}`)).toHaveLength(1);
    const create = requestsTo(bed, 'POST', '/v1/coupons');
    expect(create).toHaveLength(1);
    expect(create[0]?.params).toEqual({
      id: couponId,
      percent_off: '12.5',
      duration: 'repeating',
      duration_in_months: '2',
      name: 'SPRING',
      metadata: { tallyCouponCode: 'SPRING' },
    });
    const update = requestsTo(bed, 'POST', `/v1/subscriptions/${subscriptionId}`);
    expect(update).toHaveLength(1);
    expect(update[0]?.params).toEqual({ discounts: [{ coupon: couponId }], proration_behavior: 'none' });
    expect(update[0]?.idempotencyKey).toBe('discount:red_1:sub');

    expect(bed.fake.coupon(couponId)).toEqual({
      id: couponId,
      object: 'coupon',
      amount_off: null,
      created: HALFWAY.getTime() / 1000,
      currency: null,
      duration: 'repeating',
      duration_in_months: 2,
      livemode: false,
      max_redemptions: null,
      metadata: { tallyCouponCode: 'SPRING' },
      name: 'SPRING',
      percent_off: 12.5,
      redeem_by: null,
      times_redeemed: 1,
      valid: true,
    });
    const expanded = await bed.fake.client().subscriptions.retrieve(subscriptionId, { expand: ['discounts'] });
    expect(expanded.discounts).toEqual([
      expect.objectContaining({
        id: onlyDiscount(bed, subscriptionId),
        object: 'discount',
        source: { coupon: couponId, type: 'coupon' },
        start: HALFWAY.getTime() / 1000,
        end: new Date('2027-01-16T00:00:00Z').getTime() / 1000,
        subscription: subscriptionId,
      }),
    ]);
    expect(bed.fake.subscription(subscriptionId).latest_invoice).toBe(invoiceBefore);
  });

  it('discounts the next N renewals, each with the discount on its line, then bills the full price', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    await bed.provider.applyDiscount(discount());
    const discountId = onlyDiscount(bed, subscriptionId);
    const [first, second, third] = renewals(bed, subscriptionId, 3);

    for (const invoice of [first, second]) {
      expect(invoice).toMatchObject({
        billing_reason: 'subscription_cycle',
        status: 'paid',
        subtotal: 1000,
        total: 875,
        amount_due: 875,
        amount_paid: 875,
        discounts: [discountId],
        total_discount_amounts: [{ amount: 125, discount: discountId }],
      });
      expect(invoice?.lines.data[0]).toMatchObject({
        amount: 1000,
        discountable: true,
        discount_amounts: [{ amount: 125, discount: discountId }],
      });
    }
    expect(third).toMatchObject({ subtotal: 1000, total: 1000, amount_paid: 1000, discounts: [], total_discount_amounts: [] });
    expect(third?.lines.data[0]?.discount_amounts).toEqual([]);
    expect(bed.fake.subscription(subscriptionId).discounts).toEqual([]);
  });

  it('rounds each percentage half-up to the cent; 100 % off bills nothing', async () => {
    const cases = [
      { bps: 5, due: 999 }, // 0.5 cent off → 1
      { bps: 4, due: 1000 }, // 0.4 cent off → 0
      { bps: 3333, due: 667 }, // 333.3 off → 333
      { bps: 2550, due: 745 }, // 255 off
      { bps: 10_000, due: 0 },
    ];
    for (const { bps, due } of cases) {
      const bed = stripeTestBed(server);
      const { subscriptionId, discount } = await subscriber(bed, 'basic');
      await bed.provider.applyDiscount(discount({ percentOffBps: bps, durationPeriods: 1 }));
      expect(requestsTo(bed, 'POST', '/v1/coupons')[0]?.params.percent_off).toBe(String(percentOffOf(bps)));
      const [invoice] = renewals(bed, subscriptionId, 1);
      expect(invoice, `${bps} bps`).toMatchObject({ subtotal: 1000, amount_due: due, status: 'paid' });
    }
  });

  it('does not discount prorations: an upgrade is charged in full, the renewal after it is discounted', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    await bed.provider.applyDiscount(discount({ percentOffBps: 5000, durationPeriods: 3 }));
    const upgrade = await bed.provider.upgradeNow({
      customerId: 'user_42',
      providerSubscriptionId: subscriptionId,
      tier: 'pro',
      prorationDate: HALFWAY,
      idempotencyKey: 'upgrade-1',
    });
    // Stripe's example: −5 USD unused Basic, +10 USD remaining Pro; not halved.
    expect(upgrade).toMatchObject({ status: 'paid', amountDueCents: 500n });
    const prorated = bed.fake.invoice(upgrade.invoiceId ?? '');
    expect(prorated.lines.data.map((line) => [line.amount, line.discountable, line.discount_amounts])).toEqual([
      [-500, false, []],
      [1000, false, []],
    ]);
    expect(prorated).toMatchObject({ total: 500, total_discount_amounts: [], discounts: [] });
    const [renewal] = renewals(bed, subscriptionId, 1);
    expect(renewal).toMatchObject({ subtotal: 2000, amount_due: 1000 });
  });

  it('reuses the coupon for the next customer: looked up, not created again', async () => {
    const bed = stripeTestBed(server);
    const ada = await subscriber(bed, 'basic', 'user_42');
    const bob = await subscriber(bed, 'pro', 'user_43');
    await bed.provider.applyDiscount(ada.discount());
    await bed.provider.applyDiscount(bob.discount());
    const couponId = 'tally_SPRING_1250bps_2mo';
    expect(requestsTo(bed, 'POST', '/v1/coupons')).toHaveLength(1);
    expect(requestsTo(bed, 'GET', `/v1/coupons/${couponId}`)).toHaveLength(2);
    expect(bed.fake.coupon(couponId).times_redeemed).toBe(2);
    const [renewal] = renewals(bed, bob.subscriptionId, 1);
    expect(renewal).toMatchObject({ subtotal: 2000, amount_due: 1750 });
  });

  it('is idempotent: a retry after success changes nothing, a retry after a failed attach attaches once', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    await bed.provider.applyDiscount(discount());
    await bed.provider.applyDiscount(discount());
    expect(requestsTo(bed, 'POST', `/v1/subscriptions/${subscriptionId}`)).toHaveLength(1);
    onlyDiscount(bed, subscriptionId);

    const other = await subscriber(bed, 'basic', 'user_43');
    server.use(
      http.post(
        `${FAKE_STRIPE_API}/v1/subscriptions/${other.subscriptionId}`,
        () => HttpResponse.json({ error: { type: 'api_error', message: 'Try again' } }, { status: 500 }),
        { once: true },
      ),
    );
    const outage = await tallyError(bed.provider.applyDiscount(other.discount({ couponCode: 'AUTUMN' })));
    expect(outage).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { operation: 'subscriptions.update' } });
    expect(bed.fake.subscription(other.subscriptionId).discounts).toEqual([]);
    await bed.provider.applyDiscount(other.discount({ couponCode: 'AUTUMN' }));
    onlyDiscount(bed, other.subscriptionId);
    expect(requestsTo(bed, 'POST', '/v1/coupons').filter((request) => request.params.id === 'tally_AUTUMN_1250bps_2mo')).toHaveLength(1);
  });

  it('keeps the discounts the subscription has: both apply to the renewal', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    await bed.provider.applyDiscount(discount({ couponCode: 'HALF', percentOffBps: 5000, idempotencyKey: 'k1' }));
    const half = onlyDiscount(bed, subscriptionId);
    await bed.provider.applyDiscount(discount({ couponCode: 'TEN', percentOffBps: 1000, idempotencyKey: 'k2' }));
    expect(requestsTo(bed, 'POST', `/v1/subscriptions/${subscriptionId}`).at(-1)?.params.discounts).toEqual([
      { discount: half },
      { coupon: 'tally_TEN_1000bps_2mo' },
    ]);
    const ids = bed.fake.subscription(subscriptionId).discounts;
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(half);
    const [renewal] = renewals(bed, subscriptionId, 1);
    const taken = renewal?.total_discount_amounts ?? [];
    expect(taken.map((entry) => entry.discount)).toEqual(ids);
    expect(renewal?.amount_due).toBe(1000 - taken.reduce((sum, entry) => sum + entry.amount, 0));
    expect(renewal?.amount_due).toBeLessThan(500);
  });

  it('maps a yearly price to 12 months a period: the next N yearly renewals are discounted', async () => {
    const fake = createStripeFake({ now: PERIOD_START, prices: { price_year: { unitAmount: 12_000, interval: 'year' } } });
    server.use(...fake.handlers);
    const provider = createStripeProvider({ stripe: fake.client(), webhookSecret: fake.webhookSecret, prices: { pro: 'price_year' } });
    const bed: StripeTestBed = { fake, provider };
    const { subscriptionId, discount } = await subscriber(bed, 'pro');
    await provider.applyDiscount(discount({ percentOffBps: 2000, durationPeriods: 2 }));
    expect(requestsTo(bed, 'POST', '/v1/coupons')[0]?.params).toMatchObject({
      id: 'tally_SPRING_2000bps_24mo',
      duration: 'repeating',
      duration_in_months: '24',
    });
    const invoices = renewals(bed, subscriptionId, 3);
    expect(invoices.map((invoice) => [new Date(invoice.created * 1000).toISOString().slice(0, 10), invoice.amount_due])).toEqual([
      ['2027-11-01', 9600],
      ['2028-11-01', 9600],
      ['2029-11-01', 12_000],
    ]);
  });

  it('keeps the discount through a scheduled downgrade, applied before or after the schedule', async () => {
    for (const order of ['discount first', 'schedule first'] as const) {
      const bed = stripeTestBed(server);
      const { subscriptionId, discount } = await subscriber(bed, 'pro');
      const schedule = () =>
        bed.provider.scheduleAtPeriodEnd({ providerSubscriptionId: subscriptionId, tier: 'basic', idempotencyKey: 'downgrade' });
      if (order === 'discount first') {
        await bed.provider.applyDiscount(discount({ percentOffBps: 5000 }));
        await schedule();
      } else {
        await schedule();
        await bed.provider.applyDiscount(discount({ percentOffBps: 5000 }));
      }
      const discountId = onlyDiscount(bed, subscriptionId);
      const phasesUpdate = bed.fake.requests
        .filter((request) => request.method === 'POST' && /^\/v1\/subscription_schedules\/[^/]+$/.test(request.path))
        .at(-1);
      expect(phasesUpdate?.params.phases, order).toMatchObject([
        { items: [{ price: 'price_pro' }], discounts: [{ discount: discountId }] },
        { items: [{ price: 'price_basic' }], discounts: [{ discount: discountId }] },
      ]);
      if (order === 'schedule first') expect(phasesUpdate?.idempotencyKey).toBe('discount-user_42:phases');
      const [renewal] = renewals(bed, subscriptionId, 1);
      expect(renewal, order).toMatchObject({ subtotal: 1000, amount_due: 500 });
    }
  });

  it('refuses bad input and another customer’s subscription without changing anything', async () => {
    const bed = stripeTestBed(server);
    const { discount } = await subscriber(bed, 'basic');
    const before = bed.fake.requests.length;
    for (const input of [
      discount({ couponCode: 'NO SPACES' }),
      discount({ couponCode: '' }),
      discount({ percentOffBps: 0 }),
      discount({ percentOffBps: 10_001 }),
      discount({ percentOffBps: 12.5 }),
      discount({ durationPeriods: 0 }),
      discount({ durationPeriods: 1.5 }),
    ]) {
      expect((await tallyError(bed.provider.applyDiscount(input))).code).toBe('VALIDATION');
    }
    expect(bed.fake.requests).toHaveLength(before);
    expect((await tallyError(bed.provider.applyDiscount(discount({ customerId: 'user_99' })))).code).toBe('VALIDATION');
    expect(bed.fake.requests.filter((request) => request.method === 'POST')).toHaveLength(
      bed.fake.requests.slice(0, before).filter((request) => request.method === 'POST').length,
    );
  });

  it('rejects a coupon that exists under the id with other terms, and takes a concurrent create as found', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    const stripe = bed.fake.client();
    await stripe.coupons.create({ id: 'tally_SPRING_1250bps_2mo', percent_off: 10, duration: 'repeating', duration_in_months: 2 });
    const clash = await tallyError(bed.provider.applyDiscount(discount()));
    expect(clash).toMatchObject({ code: 'PROVIDER_REJECTED', details: { couponId: 'tally_SPRING_1250bps_2mo' } });
    expect(bed.fake.subscription(subscriptionId).discounts).toEqual([]);

    await stripe.coupons.create({ id: 'tally_RACE_1250bps_2mo', percent_off: 12.5, duration: 'repeating', duration_in_months: 2 });
    server.use(
      http.get(
        `${FAKE_STRIPE_API}/v1/coupons/tally_RACE_1250bps_2mo`,
        () =>
          HttpResponse.json(
            { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such coupon' } },
            { status: 404 },
          ),
        { once: true },
      ),
    );
    await bed.provider.applyDiscount(discount({ couponCode: 'race' }));
    expect(bed.fake.subscription(subscriptionId).discounts).toHaveLength(1);
    expect(bed.fake.coupon('tally_RACE_1250bps_2mo').times_redeemed).toBe(1);
  });

  it('maps a failed coupon lookup to a TallyError', async () => {
    const bed = stripeTestBed(server);
    const { subscriptionId, discount } = await subscriber(bed, 'basic');
    server.use(
      http.get(
        `${FAKE_STRIPE_API}/v1/coupons/:id`,
        () => HttpResponse.json({ error: { type: 'api_error', message: 'down' } }, { status: 503 }),
        {
          once: true,
        },
      ),
    );
    expect(await tallyError(bed.provider.applyDiscount(discount()))).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      details: { operation: 'coupons.retrieve' },
    });
    expect(bed.fake.subscription(subscriptionId).discounts).toEqual([]);
  });
});

describe('createStripeFake: coupons and discounts', () => {
  it('answers coupon requests like Stripe', async () => {
    const bed = stripeTestBed(server);
    const stripe = bed.fake.client();
    const coupon = await stripe.coupons.create({ id: 'C1', percent_off: 33.33, duration: 'forever' });
    expect(coupon).toMatchObject({ id: 'C1', percent_off: 33.33, duration: 'forever', duration_in_months: null, name: null });
    expect(await stripe.coupons.retrieve('C1')).toEqual(coupon);
    expect(await stripeError(stripe.coupons.create({ id: 'C1', percent_off: 5 }))).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'resource_already_exists',
      param: 'id',
    });
    expect(await stripeError(stripe.coupons.retrieve('C2'))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    for (const params of [
      { percent_off: 12.345 },
      { percent_off: 0 },
      { percent_off: 100.01 },
      { percent_off: 10, duration: 'repeating' },
      { percent_off: 10, duration: 'once', duration_in_months: 3 },
      { amount_off: 500, currency: 'usd' },
    ] as Stripe.CouponCreateParams[]) {
      expect((await stripeError(stripe.coupons.create(params))).statusCode, JSON.stringify(params)).toBe(400);
    }
    expect((await stripe.coupons.create({ percent_off: 1 })).duration).toBe('once');
  });

  it('replaces, clears and refuses subscription discounts; a `once` coupon applies to one renewal; previews show discounts', async () => {
    const bed = stripeTestBed(server);
    const stripe = bed.fake.client();
    const { subscriptionId } = await subscriber(bed, 'basic');
    await stripe.coupons.create({ id: 'ONCE', percent_off: 10, duration: 'once' });
    await stripe.coupons.create({ id: 'ALWAYS', percent_off: 20, duration: 'forever' });
    const missing = await stripeError(stripe.subscriptions.update(subscriptionId, { discounts: [{ coupon: 'NOPE' }] }));
    expect(missing).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'discounts[0][coupon]' });
    const twice = await stripeError(stripe.subscriptions.update(subscriptionId, { discounts: [{ coupon: 'ONCE' }, { coupon: 'ONCE' }] }));
    expect(twice.statusCode).toBe(400);
    expect(bed.fake.subscription(subscriptionId).discounts).toEqual([]);

    const updated = await stripe.subscriptions.update(subscriptionId, { discounts: [{ coupon: 'ONCE' }] });
    expect(updated.discounts).toHaveLength(1);
    expect(typeof updated.discounts[0]).toBe('string');
    expect(bed.fake.events.at(-1)).toMatchObject({
      type: 'customer.subscription.updated',
      data: { previous_attributes: { discounts: [] } },
    });
    const preview = await stripe.invoices.createPreview({ customer: updated.customer as string, subscription: subscriptionId });
    expect(preview).toMatchObject({ subtotal: 1000, total: 900, amount_due: 900 });

    const [once, after] = renewals(bed, subscriptionId, 2);
    expect([once?.amount_due, after?.amount_due]).toEqual([900, 1000]);

    const replaced = await stripe.subscriptions.update(subscriptionId, { discounts: [{ coupon: 'ALWAYS' }] });
    const always = replaced.discounts[0];
    const reused = await stripe.subscriptions.update(subscriptionId, { discounts: [{ discount: always as string }] });
    expect(reused.discounts).toEqual([always]);
    const foreign = await stripeError(stripe.subscriptions.update(subscriptionId, { discounts: [{ discount: 'di_other' }] }));
    expect(foreign.code).toBe('resource_missing');
    expect(renewals(bed, subscriptionId, 2).map((invoice) => invoice.amount_due)).toEqual([800, 800]);
    const cleared = await stripe.subscriptions.update(subscriptionId, { discounts: '' });
    expect(cleared.discounts).toEqual([]);
  });

  it('drops the discounts at a schedule phase that does not list them, as Stripe does', async () => {
    const bed = stripeTestBed(server);
    const stripe = bed.fake.client();
    const { subscriptionId } = await subscriber(bed, 'pro');
    await stripe.coupons.create({ id: 'HALF', percent_off: 50, duration: 'forever' });
    await stripe.subscriptions.update(subscriptionId, { discounts: [{ coupon: 'HALF' }] });
    const created = await stripe.subscriptionSchedules.create({ from_subscription: subscriptionId });
    const discountId = onlyDiscount(bed, subscriptionId);
    expect(created.phases[0]?.discounts).toEqual([{ coupon: null, discount: discountId, promotion_code: null }]);
    const start = created.phases[0]?.start_date ?? 0;
    const end = created.phases[0]?.end_date ?? 0;
    await stripe.subscriptionSchedules.update(created.id, {
      phases: [
        { start_date: start, end_date: end, items: [{ price: 'price_pro' }], discounts: [{ discount: discountId }] },
        { start_date: end, duration: { interval: 'month' }, items: [{ price: 'price_pro' }] },
      ],
    });
    const [renewal] = renewals(bed, subscriptionId, 1);
    expect(renewal?.amount_due).toBe(2000);
    expect(bed.fake.subscription(subscriptionId).discounts).toEqual([]);
  });
});
