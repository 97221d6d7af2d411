import { type InvoiceLine, type PaymentEvent, TallyError } from '@tally/core';
import type Stripe from 'stripe';

/** The metadata key that ties Stripe objects to a Tally customer. */
export const CUSTOMER_KEY = 'tallyCustomerId';
/** The metadata key that names the credit pack of a one-time payment. */
export const PACK_KEY = 'tallyPackId';

type PaymentEventBody = PaymentEvent extends infer E ? (E extends unknown ? Omit<E, 'id' | 'provider' | 'created'> : never) : never;
type SubscriptionStatus = Extract<PaymentEvent, { type: 'subscription.updated' }>['status'];

export interface NormalizeContext {
  /** The Tally tier a Stripe price id stands for, or null. */
  tierForPrice(priceId: string): string | null;
  /** Metadata of a PaymentIntent (for refunds whose charge carries none). */
  paymentIntentMetadata(id: string): Promise<Record<string, string>>;
}

export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

function date(seconds: number): Date {
  return new Date(seconds * 1000);
}

function rejected(message: string, details: Record<string, unknown>): TallyError {
  return new TallyError('PROVIDER_REJECTED', message, { details: { provider: 'stripe', ...details } });
}

const STATUSES: Record<string, SubscriptionStatus> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  canceled: 'canceled',
  incomplete: 'incomplete',
  // An incomplete subscription whose first payment never happened is over.
  incomplete_expired: 'canceled',
  unpaid: 'unpaid',
  paused: 'paused',
};

/**
 * The subscription item that carries a Tally tier: the first item whose price is one of the
 * configured prices. None → `PROVIDER_REJECTED` (the subscription uses a price Tally does not know).
 */
export function tierItem(
  subscription: Stripe.Subscription,
  tierForPrice: (priceId: string) => string | null,
): { item: Stripe.SubscriptionItem; tier: string } {
  for (const item of subscription.items.data) {
    const tier = tierForPrice(item.price.id);
    if (tier !== null) return { item, tier };
  }
  throw rejected(`Subscription ${subscription.id} has no item with a price configured for a Tally tier`, {
    providerSubscriptionId: subscription.id,
    priceIds: subscription.items.data.map((item) => item.price.id),
  });
}

function linePriceId(line: Stripe.InvoiceLineItem): string | null {
  const fromPricing = idOf(line.pricing?.price_details?.price);
  if (fromPricing !== null) return fromPricing;
  // Older API versions put the price on the line itself.
  const legacy = (line as { price?: string | { id: string } | null }).price;
  return idOf(legacy);
}

function lineProration(line: Stripe.InvoiceLineItem): boolean | null {
  const parent = line.parent;
  if (!parent) return null;
  if (parent.subscription_item_details) return parent.subscription_item_details.proration;
  if (parent.invoice_item_details?.subscription) return parent.invoice_item_details.proration;
  return null;
}

/**
 * The subscription lines an invoice pays for, on prices of Tally tiers: whole periods
 * (`proration: false`) and prorations (credit for unused time, charge for remaining time). Lines on
 * other prices (add-ons, one-off items) are left out.
 */
export function invoiceLines(invoice: Stripe.Invoice, tierForPrice: (priceId: string) => string | null): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  for (const line of invoice.lines?.data ?? []) {
    const proration = lineProration(line);
    const priceId = linePriceId(line);
    if (proration === null || priceId === null) continue;
    const tier = tierForPrice(priceId);
    if (tier === null) continue;
    lines.push({
      tier,
      proration,
      amountCents: BigInt(line.amount),
      periodStart: date(line.period.start),
      periodEnd: date(line.period.end),
    });
  }
  return lines;
}

function billingReason(reason: Stripe.Invoice.BillingReason | null): Extract<PaymentEvent, { type: 'invoice.paid' }>['billingReason'] {
  switch (reason) {
    case 'subscription_create':
      return 'subscription_create';
    case 'subscription_cycle':
      return 'subscription_cycle';
    case 'subscription_update':
      return 'subscription_update';
    default:
      return 'other';
  }
}

function currency(code: string): string {
  return code.toUpperCase();
}

function checkoutEvent(session: Stripe.Checkout.Session, type: string): PaymentEventBody {
  const customerId = session.metadata?.[CUSTOMER_KEY];
  if (!customerId) return { type: 'ignored', providerType: type };
  const providerCustomerId = idOf(session.customer);
  if (session.mode === 'subscription') {
    const providerSubscriptionId = idOf(session.subscription);
    if (providerCustomerId === null || providerSubscriptionId === null) {
      throw rejected(`Checkout session ${session.id} completed without a customer or subscription`, { checkoutId: session.id });
    }
    return {
      type: 'checkout.completed',
      mode: 'subscription',
      customerId,
      providerCustomerId,
      providerSubscriptionId,
      checkoutId: session.id,
    };
  }
  if (session.mode !== 'payment') return { type: 'ignored', providerType: type };
  // Delayed payment methods complete the session unpaid; `checkout.session.async_payment_succeeded` follows.
  if (session.payment_status !== 'paid') return { type: 'ignored', providerType: type };
  const packId = session.metadata?.[PACK_KEY];
  const paymentId = idOf(session.payment_intent);
  if (!packId || paymentId === null || session.amount_total === null || session.currency === null) {
    throw rejected(`Checkout session ${session.id} is a Tally payment without a pack, payment or amount`, { checkoutId: session.id });
  }
  return {
    type: 'checkout.completed',
    mode: 'payment',
    customerId,
    providerCustomerId,
    checkoutId: session.id,
    packId,
    paymentId,
    amountCents: BigInt(session.amount_total),
    currency: currency(session.currency),
  };
}

function subscriptionEvent(subscription: Stripe.Subscription, type: string, context: NormalizeContext): PaymentEventBody {
  const customerId = subscription.metadata?.[CUSTOMER_KEY];
  if (!customerId) return { type: 'ignored', providerType: type };
  const status = STATUSES[subscription.status];
  if (status === undefined) {
    throw rejected(`Subscription ${subscription.id} has an unknown status "${subscription.status}"`, {
      providerSubscriptionId: subscription.id,
    });
  }
  const { item, tier } = tierItem(subscription, (priceId) => context.tierForPrice(priceId));
  const providerCustomerId = idOf(subscription.customer);
  if (providerCustomerId === null)
    throw rejected(`Subscription ${subscription.id} has no customer`, { providerSubscriptionId: subscription.id });
  return {
    type: 'subscription.updated',
    customerId,
    providerCustomerId,
    providerSubscriptionId: subscription.id,
    tier,
    status,
    currentPeriodStart: date(item.current_period_start),
    currentPeriodEnd: date(item.current_period_end),
    trialEnd: subscription.trial_end === null ? null : date(subscription.trial_end),
    cancelAtPeriodEnd:
      subscription.cancel_at_period_end || (subscription.cancel_at !== null && subscription.cancel_at === item.current_period_end),
  };
}

function invoiceEvent(
  invoice: Stripe.Invoice,
  type: 'invoice.paid' | 'invoice.payment_failed',
  context: NormalizeContext,
): PaymentEventBody {
  const details = invoice.parent?.subscription_details ?? null;
  const customerId = details?.metadata?.[CUSTOMER_KEY] ?? invoice.metadata?.[CUSTOMER_KEY];
  if (!customerId || !invoice.id) return { type: 'ignored', providerType: type };
  const providerSubscriptionId = details ? idOf(details.subscription) : null;
  if (type === 'invoice.payment_failed') {
    return {
      type,
      customerId,
      providerSubscriptionId,
      invoiceId: invoice.id,
      attemptCount: invoice.attempt_count,
      nextAttemptAt: invoice.next_payment_attempt === null ? null : date(invoice.next_payment_attempt),
      amountDueCents: BigInt(invoice.amount_due),
    };
  }
  return {
    type,
    customerId,
    providerSubscriptionId,
    invoiceId: invoice.id,
    billingReason: billingReason(invoice.billing_reason),
    lines: invoiceLines(invoice, (priceId) => context.tierForPrice(priceId)),
    amountPaidCents: BigInt(invoice.amount_paid),
  };
}

async function refundEvent(charge: Stripe.Charge, type: string, context: NormalizeContext): Promise<PaymentEventBody> {
  const paymentId = idOf(charge.payment_intent);
  if (paymentId === null) return { type: 'ignored', providerType: type };
  let customerId = charge.metadata?.[CUSTOMER_KEY];
  if (!customerId) {
    const intent = typeof charge.payment_intent === 'object' && charge.payment_intent !== null ? charge.payment_intent.metadata : null;
    customerId = (intent ?? (await context.paymentIntentMetadata(paymentId)))[CUSTOMER_KEY];
  }
  if (!customerId) return { type: 'ignored', providerType: type };
  return {
    type: 'charge.refunded',
    customerId,
    paymentId,
    amountRefundedCents: BigInt(charge.amount_refunded),
    currency: currency(charge.currency),
  };
}

async function body(event: Stripe.Event, context: NormalizeContext): Promise<PaymentEventBody> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return checkoutEvent(event.data.object, event.type);
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
      return subscriptionEvent(event.data.object, event.type, context);
    case 'customer.subscription.deleted': {
      const subscription = event.data.object;
      const customerId = subscription.metadata?.[CUSTOMER_KEY];
      if (!customerId) return { type: 'ignored', providerType: event.type };
      const ended = subscription.ended_at ?? subscription.canceled_at ?? event.created;
      return { type: 'subscription.deleted', customerId, providerSubscriptionId: subscription.id, endedAt: date(ended) };
    }
    case 'invoice.paid':
    case 'invoice.payment_failed':
      return invoiceEvent(event.data.object, event.type, context);
    case 'charge.refunded':
      return refundEvent(event.data.object, event.type, context);
    default:
      return { type: 'ignored', providerType: event.type };
  }
}

/** A verified Stripe event as a Tally `PaymentEvent`. Events that are not Tally's are `ignored`. */
export async function normalizeStripeEvent(event: Stripe.Event, context: NormalizeContext): Promise<PaymentEvent> {
  const normalized = await body(event, context);
  return { id: event.id, provider: 'stripe', created: date(event.created), ...normalized } as PaymentEvent;
}
