import {
  type CheckoutSession,
  type CreditPackCheckoutInput,
  type DiscountInput,
  type ImmediateUpgradeInput,
  type ImmediateUpgradeResult,
  type OffSessionChargeInput,
  type OffSessionChargeResult,
  type PaymentEvent,
  type PaymentProvider,
  type ProviderCustomerInput,
  type SubscriptionCheckoutInput,
  TallyError,
} from '@tally/core';
import type Stripe from 'stripe';
import { isStripeError, stripeCall, toTallyError } from './errors.js';
import { CUSTOMER_KEY, idOf, normalizeStripeEvent, PACK_KEY, tierItem } from './webhooks.js';

export interface StripePackPrice {
  /** A one-time Stripe price: what the pack costs and in which currency. */
  priceId: string;
}

export interface StripeProviderOptions {
  /** A client the app creates (`new Stripe(secretKey)`); tests point it at a fake. */
  stripe: Stripe;
  /** The webhook endpoint's signing secret (`whsec_…`). */
  webhookSecret: string;
  /** Tier id → recurring Stripe price id. */
  prices: Record<string, string>;
  /** Credit pack id → its one-time Stripe price. */
  packs?: Record<string, StripePackPrice>;
  /** Webhook timestamp tolerance in seconds. Default 300, Stripe's. */
  tolerance?: number;
}

export interface StripeProvider extends PaymentProvider {
  readonly id: 'stripe';
  /** The Tally tier a Stripe price stands for, or null. */
  tierForPrice(priceId: string): string | null;
}

function unixSeconds(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new TallyError('VALIDATION', 'Invalid date');
  return Math.floor(ms / 1000);
}

function reversePrices(prices: Record<string, string>): Map<string, string> {
  const byPrice = new Map<string, string>();
  for (const [tier, priceId] of Object.entries(prices)) {
    if (typeof priceId !== 'string' || priceId.length === 0) {
      throw new TallyError('VALIDATION', `The Stripe price of tier "${tier}" must be a price id`, { details: { tier } });
    }
    const other = byPrice.get(priceId);
    if (other !== undefined) {
      throw new TallyError('VALIDATION', `Tiers "${other}" and "${tier}" share the Stripe price ${priceId}`, { details: { priceId } });
    }
    byPrice.set(priceId, tier);
  }
  return byPrice;
}

/**
 * Stripe's `percent_off` for basis points: a number with up to 2 decimals. bps / 100 is such a
 * number, so it is written from its integer parts and parsed once, with no float arithmetic.
 */
export function percentOffOf(bps: number): number {
  const cents = bps % 100;
  return Number(`${(bps - cents) / 100}.${String(cents).padStart(2, '0')}`);
}

/** The existing discounts of a subscription, to send back (by id) wherever its discounts are replaced. */
function reuseDiscounts(discounts: Stripe.Subscription['discounts']): { discount: string }[] {
  return discounts.map((discount) => ({ discount: typeof discount === 'string' ? discount : discount.id }));
}

/** What happened to an upgrade's invoice: paid, waiting for the customer, or failed. */
function upgradeStatus(invoice: Stripe.Invoice, intent: Stripe.PaymentIntent | null): ImmediateUpgradeResult['status'] {
  if (invoice.status === 'paid') return 'paid';
  if (invoice.status === 'void' || invoice.status === 'uncollectible') return 'failed';
  if (intent === null) return 'open';
  if (intent.status === 'requires_action') return 'requires_action';
  if (intent.status === 'canceled' || (intent.status === 'requires_payment_method' && intent.last_payment_error)) return 'failed';
  return 'open';
}

/**
 * Tally's payment provider on Stripe: Checkout for first subscriptions and credit packs, immediate
 * prorated upgrades (`always_invoice`, applied only once paid), downgrades and cancels at period end
 * (subscription schedules, `cancel_at_period_end`), percent-off coupons on subscriptions, off-session
 * charges for auto-recharge, the billing portal, and verified, normalised webhooks. Stripe objects
 * carry `metadata.tallyCustomerId`.
 */
export function createStripeProvider(options: StripeProviderOptions): StripeProvider {
  const { stripe, webhookSecret } = options;
  const tolerance = options.tolerance ?? 300;
  const packs = options.packs ?? {};
  if (typeof webhookSecret !== 'string' || webhookSecret.trim() === '') {
    throw new TallyError('VALIDATION', 'createStripeProvider needs the webhook signing secret');
  }
  if (!Number.isInteger(tolerance) || tolerance < 0) {
    throw new TallyError('VALIDATION', 'tolerance must be a whole number of seconds, 0 or more');
  }
  const tierByPrice = reversePrices(options.prices);
  const packAmounts = new Map<string, { amount: number; currency: string }>();

  const tierForPrice = (priceId: string): string | null => tierByPrice.get(priceId) ?? null;

  function priceFor(tier: string): string {
    const priceId = Object.hasOwn(options.prices, tier) ? options.prices[tier] : undefined;
    if (priceId === undefined)
      throw new TallyError('UNKNOWN_TIER', `No Stripe price is configured for tier "${tier}"`, { details: { tier } });
    return priceId;
  }

  function packPrice(packId: string): string {
    const pack = Object.hasOwn(packs, packId) ? packs[packId] : undefined;
    if (pack === undefined)
      throw new TallyError('VALIDATION', `No Stripe price is configured for credit pack "${packId}"`, { details: { packId } });
    return pack.priceId;
  }

  async function packAmount(packId: string): Promise<{ amount: number; currency: string }> {
    const known = packAmounts.get(packId);
    if (known) return known;
    const priceId = packPrice(packId);
    const price = await stripeCall('prices.retrieve', () => stripe.prices.retrieve(priceId));
    if (price.unit_amount === null || price.type !== 'one_time') {
      throw new TallyError('VALIDATION', `Stripe price ${priceId} of pack "${packId}" must be a one-time price with a unit amount`, {
        details: { packId, priceId },
      });
    }
    const amount = { amount: price.unit_amount, currency: price.currency };
    packAmounts.set(packId, amount);
    return amount;
  }

  /** The card to charge: the customer's default payment method, else the first saved card. */
  async function paymentMethodOf(providerCustomerId: string): Promise<string | null> {
    const customer = await stripeCall('customers.retrieve', () => stripe.customers.retrieve(providerCustomerId));
    if (customer.deleted) return null;
    const preferred = idOf(customer.invoice_settings?.default_payment_method);
    if (preferred !== null) return preferred;
    const cards = await stripeCall('customers.listPaymentMethods', () =>
      stripe.customers.listPaymentMethods(providerCustomerId, { type: 'card', limit: 1 }),
    );
    return cards.data[0]?.id ?? null;
  }

  async function retrieveSubscription(id: string): Promise<Stripe.Subscription> {
    return stripeCall('subscriptions.retrieve', () => stripe.subscriptions.retrieve(id));
  }

  /** The coupon under its id: found with the same terms, or created (a concurrent create counts as found). */
  async function ensureCoupon(params: Stripe.CouponCreateParams & { id: string }): Promise<void> {
    let found: Stripe.Coupon | null = null;
    try {
      found = await stripe.coupons.retrieve(params.id);
    } catch (error) {
      if (!isStripeError(error) || error.statusCode !== 404) throw toTallyError(error, 'coupons.retrieve');
    }
    if (found === null) {
      try {
        await stripe.coupons.create(params);
      } catch (error) {
        if (!isStripeError(error) || error.code !== 'resource_already_exists') throw toTallyError(error, 'coupons.create');
      }
    } else if (
      found.percent_off !== params.percent_off ||
      found.duration !== params.duration ||
      found.duration_in_months !== params.duration_in_months
    ) {
      throw new TallyError('PROVIDER_REJECTED', `Stripe coupon ${params.id} exists with other terms`, {
        details: { provider: 'stripe', couponId: params.id },
      });
    }
  }

  /**
   * Rewrites a schedule's current and later phases as they are, with the subscription's discounts on
   * each: a phase without them drops them when it starts (it inherits the customer's instead).
   */
  async function carryDiscounts(scheduleId: string, discounts: Stripe.Subscription['discounts'], idempotencyKey: string) {
    const schedule = await stripeCall('subscriptionSchedules.retrieve', () => stripe.subscriptionSchedules.retrieve(scheduleId));
    const from = schedule.current_phase?.start_date ?? 0;
    const phases = schedule.phases
      .filter((phase) => phase.start_date >= from)
      .map((phase) => ({
        start_date: phase.start_date,
        end_date: phase.end_date,
        items: phase.items.map((item) => ({ price: idOf(item.price) ?? '', quantity: item.quantity ?? 1 })),
        discounts: reuseDiscounts(discounts),
      }));
    await stripeCall('subscriptionSchedules.update', () =>
      stripe.subscriptionSchedules.update(schedule.id, { proration_behavior: 'none', phases }, { idempotencyKey }),
    );
  }

  function checkoutResult(session: Stripe.Checkout.Session): CheckoutSession {
    if (!session.url)
      throw new TallyError('PROVIDER_REJECTED', `Checkout session ${session.id} has no URL`, { details: { provider: 'stripe' } });
    return { id: session.id, url: session.url };
  }

  return {
    id: 'stripe',
    tierForPrice,

    async ensureCustomer(input: ProviderCustomerInput) {
      const query = `metadata['${CUSTOMER_KEY}']:'${input.customerId.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
      const found = await stripeCall('customers.search', () => stripe.customers.search({ query, limit: 1 }));
      const existing = found.data[0];
      if (existing) return { providerCustomerId: existing.id };
      // Search is eventually consistent; the idempotency key keeps a quick retry from creating a second
      // customer. The create carries only the Tally id, so every retry sends the same parameters.
      const customer = await stripeCall('customers.create', () =>
        stripe.customers.create(
          { metadata: { [CUSTOMER_KEY]: input.customerId } },
          { idempotencyKey: `tally-customer-${input.customerId}` },
        ),
      );
      const details: Stripe.CustomerUpdateParams = {};
      if (input.email) details.email = input.email;
      if (input.name) details.name = input.name;
      if (details.email !== undefined || details.name !== undefined) {
        await stripeCall('customers.update', () => stripe.customers.update(customer.id, details));
      }
      return { providerCustomerId: customer.id };
    },

    async hasPaymentMethod(providerCustomerId: string) {
      return (await paymentMethodOf(providerCustomerId)) !== null;
    },

    async createSubscriptionCheckout(input: SubscriptionCheckoutInput) {
      const price = priceFor(input.tier);
      if (!Number.isInteger(input.trialDays) || input.trialDays < 0)
        throw new TallyError('VALIDATION', 'trialDays must be a whole number, 0 or more');
      const metadata = { [CUSTOMER_KEY]: input.customerId };
      const subscriptionData: Stripe.Checkout.SessionCreateParams.SubscriptionData = { metadata };
      if (input.trialDays > 0) subscriptionData.trial_period_days = input.trialDays;
      const session = await stripeCall('checkout.sessions.create', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            customer: input.providerCustomerId,
            line_items: [{ price, quantity: 1 }],
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            client_reference_id: input.customerId,
            metadata,
            subscription_data: subscriptionData,
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return checkoutResult(session);
    },

    async upgradeNow(input: ImmediateUpgradeInput) {
      const price = priceFor(input.tier);
      const prorationDate = unixSeconds(input.prorationDate);
      const current = await retrieveSubscription(input.providerSubscriptionId);
      const { item } = tierItem(current, tierForPrice);
      // An upgrade replaces a scheduled downgrade: the schedule would otherwise switch the price at period end.
      const scheduleId = idOf(current.schedule);
      if (scheduleId !== null) {
        await stripeCall('subscriptionSchedules.release', () =>
          stripe.subscriptionSchedules.release(scheduleId, {}, { idempotencyKey: `${input.idempotencyKey}:release` }),
        );
      }
      const updated = await stripeCall('subscriptions.update', () =>
        stripe.subscriptions.update(
          input.providerSubscriptionId,
          {
            items: [{ id: item.id, price }],
            proration_behavior: 'always_invoice',
            proration_date: prorationDate,
            // The new price applies only once the proration invoice is paid.
            payment_behavior: 'pending_if_incomplete',
            expand: ['latest_invoice.payments'],
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      const latest = updated.latest_invoice;
      if (latest === null) {
        throw new TallyError('PROVIDER_REJECTED', `Stripe created no invoice for the upgrade of ${input.providerSubscriptionId}`, {
          details: { provider: 'stripe', providerSubscriptionId: input.providerSubscriptionId },
        });
      }
      const invoice =
        typeof latest === 'string'
          ? await stripeCall('invoices.retrieve', () => stripe.invoices.retrieve(latest, { expand: ['payments'] }))
          : latest;
      let intent: Stripe.PaymentIntent | null = null;
      if (invoice.status !== 'paid') {
        const payment = invoice.payments?.data.find((candidate) => candidate.is_default) ?? invoice.payments?.data[0];
        const intentRef = payment?.payment.payment_intent;
        if (typeof intentRef === 'object' && intentRef !== null) intent = intentRef;
        else if (typeof intentRef === 'string') {
          intent = await stripeCall('paymentIntents.retrieve', () => stripe.paymentIntents.retrieve(intentRef));
        }
      }
      return {
        invoiceId: invoice.id ?? null,
        status: upgradeStatus(invoice, intent),
        amountDueCents: BigInt(invoice.amount_due),
        hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
      };
    },

    async scheduleAtPeriodEnd(input) {
      const key = input.idempotencyKey;
      const subscription = await retrieveSubscription(input.providerSubscriptionId);
      const { item } = tierItem(subscription, tierForPrice);
      const scheduleId = idOf(subscription.schedule);
      if (input.tier === null) {
        // A cancel replaces a scheduled downgrade.
        if (scheduleId !== null) {
          await stripeCall('subscriptionSchedules.release', () =>
            stripe.subscriptionSchedules.release(scheduleId, {}, { idempotencyKey: `${key}:release` }),
          );
        }
        await stripeCall('subscriptions.update', () =>
          stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }, { idempotencyKey: `${key}:cancel` }),
        );
        return;
      }
      const price = priceFor(input.tier);
      const recurring = item.price.recurring;
      if (recurring === null) {
        throw new TallyError('PROVIDER_REJECTED', `The price of subscription ${subscription.id} is not recurring`, {
          details: { provider: 'stripe', priceId: item.price.id },
        });
      }
      // A downgrade replaces a scheduled cancel.
      if (subscription.cancel_at_period_end) {
        await stripeCall('subscriptions.update', () =>
          stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false }, { idempotencyKey: `${key}:resume` }),
        );
      }
      // Stripe takes no phases together with `from_subscription`: create, then update.
      const schedule =
        scheduleId === null
          ? await stripeCall('subscriptionSchedules.create', () =>
              stripe.subscriptionSchedules.create({ from_subscription: subscription.id }, { idempotencyKey: `${key}:schedule` }),
            )
          : await stripeCall('subscriptionSchedules.retrieve', () => stripe.subscriptionSchedules.retrieve(scheduleId));
      const quantity = item.quantity ?? 1;
      const start = schedule.current_phase?.start_date ?? schedule.phases[0]?.start_date ?? item.current_period_start;
      // Both phases keep the subscription's discounts (by id, so a repeating one keeps its end).
      const discounts = subscription.discounts.length > 0 ? { discounts: reuseDiscounts(subscription.discounts) } : {};
      await stripeCall('subscriptionSchedules.update', () =>
        stripe.subscriptionSchedules.update(
          schedule.id,
          {
            end_behavior: 'release',
            proration_behavior: 'none',
            phases: [
              { start_date: start, end_date: item.current_period_end, items: [{ price: item.price.id, quantity }], ...discounts },
              {
                start_date: item.current_period_end,
                duration: { interval: recurring.interval, interval_count: recurring.interval_count },
                items: [{ price, quantity }],
                ...discounts,
              },
            ],
          },
          { idempotencyKey: `${key}:phases` },
        ),
      );
    },

    async unschedule(input) {
      const key = input.idempotencyKey;
      const subscription = await retrieveSubscription(input.providerSubscriptionId);
      const scheduleId = idOf(subscription.schedule);
      // Releasing keeps the subscription on its current price: the scheduled downgrade is gone.
      if (scheduleId !== null) {
        await stripeCall('subscriptionSchedules.release', () =>
          stripe.subscriptionSchedules.release(scheduleId, {}, { idempotencyKey: `${key}:release` }),
        );
      }
      if (subscription.cancel_at_period_end || subscription.cancel_at !== null) {
        // Clearing `cancel_at_period_end` clears the `cancel_at` it set; a bare `cancel_at` is unset with ''.
        const params: Stripe.SubscriptionUpdateParams = subscription.cancel_at_period_end
          ? { cancel_at_period_end: false }
          : { cancel_at: '' };
        await stripeCall('subscriptions.update', () =>
          stripe.subscriptions.update(subscription.id, params, { idempotencyKey: `${key}:resume` }),
        );
      }
    },

    async createPortalSession(input) {
      const session = await stripeCall('billingPortal.sessions.create', () =>
        stripe.billingPortal.sessions.create({ customer: input.providerCustomerId, return_url: input.returnUrl }),
      );
      return { url: session.url };
    },

    async createCreditPackCheckout(input: CreditPackCheckoutInput) {
      const price = packPrice(input.packId);
      const metadata = { [CUSTOMER_KEY]: input.customerId, [PACK_KEY]: input.packId };
      const session = await stripeCall('checkout.sessions.create', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'payment',
            customer: input.providerCustomerId,
            line_items: [{ price, quantity: 1 }],
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            client_reference_id: input.customerId,
            metadata,
            payment_intent_data: { metadata },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return checkoutResult(session);
    },

    /**
     * Attaches the Stripe coupon `tally_<CODE>_<bps>bps_<months>mo` (created on first use) to the
     * subscription, next to the discounts it has. Stripe counts a repeating coupon in months from
     * now, so `durationPeriods` becomes months: n for a monthly price, 12 × n for a yearly one; the
     * next n renewal invoices fall inside that window and the one after it does not (attached in
     * the very second a period starts, the window would end on the n-th renewal and leave it out).
     * Prorations are not discountable in Stripe. A subscription that has the coupon already is
     * left alone, so a retry does nothing twice; a scheduled change keeps the discounts.
     */
    async applyDiscount(input: DiscountInput) {
      const code = typeof input.couponCode === 'string' ? input.couponCode.toUpperCase() : '';
      const bps = input.percentOffBps;
      if (!/^[A-Z0-9][A-Z0-9_-]{0,63}$/.test(code))
        throw new TallyError('VALIDATION', 'couponCode must be 1-64 letters, digits, "-" or "_"');
      if (!Number.isInteger(bps) || bps < 1 || bps > 10_000)
        throw new TallyError('VALIDATION', 'percentOffBps must be a whole number from 1 to 10000');
      if (!Number.isSafeInteger(input.durationPeriods) || input.durationPeriods < 1)
        throw new TallyError('VALIDATION', 'durationPeriods must be a whole number, 1 or more');
      const subscription = await stripeCall('subscriptions.retrieve', () =>
        stripe.subscriptions.retrieve(input.providerSubscriptionId, { expand: ['discounts'] }),
      );
      const owner = subscription.metadata?.[CUSTOMER_KEY];
      if (owner !== undefined && owner !== input.customerId) {
        throw new TallyError('VALIDATION', `Subscription ${subscription.id} belongs to another customer`, {
          details: { providerSubscriptionId: subscription.id },
        });
      }
      const { item } = tierItem(subscription, tierForPrice);
      const recurring = item.price.recurring;
      const monthsPerPeriod =
        recurring === null ? 0 : (recurring.interval === 'year' ? 12 : recurring.interval === 'month' ? 1 : 0) * recurring.interval_count;
      if (monthsPerPeriod === 0) {
        const details = { provider: 'stripe', priceId: item.price.id };
        throw new TallyError('PROVIDER_REJECTED', `Stripe coupons last whole months; the price of ${subscription.id} does not`, {
          details,
        });
      }
      const months = input.durationPeriods * monthsPerPeriod;
      const coupon = `tally_${code}_${bps}bps_${months}mo`;
      for (const discount of subscription.discounts) {
        if (typeof discount !== 'string' && idOf(discount.source?.coupon) === coupon) return;
      }
      const kept = reuseDiscounts(subscription.discounts);
      await ensureCoupon({
        id: coupon,
        percent_off: percentOffOf(bps),
        duration: 'repeating',
        duration_in_months: months,
        name: code.slice(0, 40),
        metadata: { tallyCouponCode: code },
      });
      const updated = await stripeCall('subscriptions.update', () =>
        stripe.subscriptions.update(
          subscription.id,
          // A populated list replaces the subscription's discounts; changing them bills nothing now.
          { discounts: [...kept, { coupon }], proration_behavior: 'none' },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      const scheduleId = idOf(updated.schedule);
      if (scheduleId !== null) await carryDiscounts(scheduleId, updated.discounts, `${input.idempotencyKey}:phases`);
    },

    async chargeOffSession(input: OffSessionChargeInput): Promise<OffSessionChargeResult> {
      const { amount, currency } = await packAmount(input.packId);
      const paymentMethod = await paymentMethodOf(input.providerCustomerId);
      if (paymentMethod === null) return { status: 'failed', paymentId: null, failureMessage: 'The customer has no saved card' };
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount,
            currency,
            customer: input.providerCustomerId,
            payment_method: paymentMethod,
            off_session: true,
            confirm: true,
            metadata: { [CUSTOMER_KEY]: input.customerId, [PACK_KEY]: input.packId },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        if (intent.status === 'succeeded') return { status: 'succeeded', paymentId: intent.id, failureMessage: null };
        return { status: 'failed', paymentId: intent.id, failureMessage: `The payment is ${intent.status.replaceAll('_', ' ')}` };
      } catch (error) {
        // A decline (or a card that needs the customer to authenticate) is an outcome, not an outage.
        if (isStripeError(error) && error.type === 'StripeCardError') {
          const intent = (error as { payment_intent?: { id?: string } }).payment_intent;
          return { status: 'failed', paymentId: intent?.id ?? null, failureMessage: error.message };
        }
        throw toTallyError(error, 'paymentIntents.create');
      }
    },

    async parseWebhook(input: { rawBody: string; headers: Headers }): Promise<PaymentEvent> {
      const header = input.headers.get('stripe-signature');
      if (!header) throw new TallyError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe-Signature header is missing');
      let event: Stripe.Event;
      try {
        // The async variant verifies with Web Crypto where Node's crypto is absent (edge runtimes).
        event = await stripe.webhooks.constructEventAsync(input.rawBody, header, webhookSecret, tolerance);
      } catch (error) {
        if (isStripeError(error)) {
          throw new TallyError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe webhook signature does not verify', {
            cause: error,
            details: { reason: error.message },
          });
        }
        throw new TallyError('VALIDATION', 'The Stripe webhook body is not an event', { cause: error });
      }
      return normalizeStripeEvent(event, {
        tierForPrice,
        async paymentIntentMetadata(id) {
          const intent = await stripeCall('paymentIntents.retrieve', () => stripe.paymentIntents.retrieve(id));
          return intent.metadata ?? {};
        },
      });
    },
  };
}
