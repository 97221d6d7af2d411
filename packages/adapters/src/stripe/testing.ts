/**
 * A stateful fake of the Stripe API for tests and demos, served by msw handlers at
 * `https://api.stripe.com`: customers and cards, prices, Checkout, subscriptions with periods on
 * their items, prorated upgrade invoices (`always_invoice`), invoice previews, subscription
 * schedules, percent-off coupons and subscription discounts, the billing portal, PaymentIntents,
 * refunds, and signed webhook events.
 *
 * Point a stripe-node client at it with `fake.client()`: a client on `Stripe.createFetchHttpClient()`
 * (msw 3 intercepts `fetch` the same way in Node and in the browser worker) and no network retries.
 * The default Node HTTP client is intercepted too (since stripe 23.0.0).
 */
import { addInterval, type BillingInterval } from '@tally/core';
import { type HttpHandler, HttpResponse, http } from 'msw';
import Stripe from 'stripe';
import { type FormObject, type FormValue, parseForm } from './form.js';

export const FAKE_STRIPE_API = 'https://api.stripe.com';
const API_VERSION = '2026-10-28.endive';
const DAY = 86_400;

export interface FakePriceInput {
  /** Minor units (cents). */
  unitAmount: number | bigint;
  /** Lower-case ISO code, like Stripe's. Default `usd`. */
  currency?: string;
  /** Billing interval of a recurring price; `null` for a one-time price. */
  interval: BillingInterval | null;
  product?: string;
  nickname?: string;
}

export interface StripeFakeOptions {
  /** Price id → price. */
  prices: Record<string, FakePriceInput>;
  /** Signing secret for `signEvent`. Default `whsec_tally_fake`. */
  webhookSecret?: string;
  /** The fake's clock at start (object and event times). Default: now. */
  now?: Date;
}

/** A Stripe event envelope as the fake sends it. */
export interface FakeStripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface RecordedRequest {
  method: string;
  /** `/v1/…` */
  path: string;
  /** The decoded form body (POST) or query (GET). */
  params: FormObject;
  idempotencyKey: string | null;
  stripeVersion: string | null;
}

export interface InjectedError {
  status: number;
  type?: string;
  code?: string;
  message?: string;
}

type Outcome = 'decline' | 'requires_action';

interface Metadata {
  [key: string]: string;
}

interface PriceObject {
  id: string;
  object: 'price';
  active: true;
  billing_scheme: 'per_unit';
  created: number;
  currency: string;
  livemode: false;
  lookup_key: null;
  metadata: Metadata;
  nickname: string | null;
  product: string;
  recurring: { interval: BillingInterval; interval_count: number; usage_type: 'licensed'; meter: null; trial_period_days: null } | null;
  tax_behavior: 'unspecified';
  type: 'recurring' | 'one_time';
  unit_amount: number;
  unit_amount_decimal: string;
}

interface CustomerObject {
  id: string;
  object: 'customer';
  balance: number;
  created: number;
  currency: string | null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_settings: { custom_fields: null; default_payment_method: string | null; footer: null; rendering_options: null };
  livemode: false;
  metadata: Metadata;
  name: string | null;
}

interface PaymentMethodObject {
  id: string;
  object: 'payment_method';
  billing_details: { address: null; email: null; name: null; phone: null };
  card: { brand: string; country: string; exp_month: number; exp_year: number; funding: string; last4: string };
  created: number;
  customer: string | null;
  livemode: false;
  metadata: Metadata;
  type: 'card';
}

interface SessionObject {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer: string | null;
  customer_details: { email: string | null } | null;
  expires_at: number;
  invoice: string | null;
  livemode: false;
  metadata: Metadata;
  mode: 'payment' | 'subscription';
  payment_intent: string | null;
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  status: 'open' | 'complete' | 'expired';
  subscription: string | null;
  success_url: string | null;
  ui_mode: 'hosted_page';
  url: string | null;
}

interface SessionState {
  session: SessionObject;
  lines: { price: string; quantity: number }[];
  subscriptionMetadata: Metadata;
  trialDays: number;
  paymentIntentMetadata: Metadata;
}

interface ItemObject {
  id: string;
  object: 'subscription_item';
  billing_thresholds: null;
  created: number;
  current_period_end: number;
  current_period_start: number;
  discounts: string[];
  metadata: Metadata;
  price: PriceObject;
  quantity: number;
  subscription: string;
  tax_rates: [];
}

interface SubscriptionObject {
  id: string;
  object: 'subscription';
  billing_cycle_anchor: number;
  billing_mode: { type: 'flexible' };
  cancel_at: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  collection_method: 'charge_automatically';
  created: number;
  currency: string;
  customer: string;
  default_payment_method: string | null;
  discounts: string[];
  ended_at: number | null;
  items: { object: 'list'; data: ItemObject[]; has_more: false; total_count: number; url: string };
  latest_invoice: string | null;
  livemode: false;
  metadata: Metadata;
  pending_update: {
    billing_cycle_anchor: null;
    expires_at: number;
    subscription_items: ItemObject[];
    trial_end: null;
    trial_from_plan: null;
  } | null;
  schedule: string | null;
  start_date: number;
  status: 'trialing' | 'active' | 'past_due' | 'canceled' | 'incomplete' | 'unpaid';
  trial_end: number | null;
  trial_start: number | null;
}

interface CouponObject {
  id: string;
  object: 'coupon';
  amount_off: null;
  created: number;
  currency: null;
  duration: 'once' | 'repeating' | 'forever';
  duration_in_months: number | null;
  livemode: false;
  max_redemptions: null;
  metadata: Metadata;
  name: string | null;
  percent_off: number;
  redeem_by: null;
  times_redeemed: number;
  valid: true;
}

interface DiscountObject {
  id: string;
  object: 'discount';
  checkout_session: null;
  customer: string;
  customer_account: null;
  /** Repeating coupons only: when the discount stops applying. */
  end: number | null;
  invoice: null;
  invoice_item: null;
  promotion_code: null;
  source: { coupon: string; type: 'coupon' };
  start: number;
  subscription: string;
  subscription_item: null;
}

/** A discount's share of a line or an invoice. */
interface DiscountAmount {
  amount: number;
  discount: string;
}

interface LineObject {
  id: string;
  object: 'line_item';
  amount: number;
  currency: string;
  description: string;
  discount_amounts: DiscountAmount[];
  discountable: boolean;
  discounts: [];
  invoice: string | null;
  livemode: false;
  metadata: Metadata;
  parent: {
    type: 'subscription_item_details';
    invoice_item_details: null;
    subscription_item_details: {
      invoice_item: string | null;
      proration: boolean;
      proration_details: { credited_items: null };
      subscription: string;
      subscription_item: string;
    };
  };
  period: { start: number; end: number };
  pricing: { type: 'price_details'; price_details: { price: string; product: string }; unit_amount_decimal: string };
  quantity: number;
  subtotal: number;
  taxes: [];
}

interface InvoiceObject {
  id: string;
  object: 'invoice';
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  billing_reason: string;
  collection_method: 'charge_automatically';
  created: number;
  currency: string;
  customer: string;
  discounts: string[];
  hosted_invoice_url: string | null;
  lines: { object: 'list'; data: LineObject[]; has_more: false; url: string };
  livemode: false;
  metadata: Metadata;
  next_payment_attempt: number | null;
  parent: {
    type: 'subscription_details';
    quote_details: null;
    subscription_details: { metadata: Metadata; subscription: string; subscription_proration_date?: number };
  };
  period_end: number;
  period_start: number;
  starting_balance: number;
  status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  status_transitions: { finalized_at: number | null; paid_at: number | null; voided_at: null; marked_uncollectible_at: null };
  subtotal: number;
  total: number;
  total_discount_amounts: DiscountAmount[];
}

interface InvoicePaymentObject {
  id: string;
  object: 'invoice_payment';
  amount_paid: number | null;
  amount_requested: number;
  created: number;
  currency: string;
  invoice: string;
  is_default: boolean;
  livemode: false;
  payment: { type: 'payment_intent'; payment_intent: string };
  status: 'open' | 'paid' | 'canceled';
  status_transitions: { canceled_at: null; paid_at: number | null };
}

interface PaymentIntentObject {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  capture_method: 'automatic';
  confirmation_method: 'automatic';
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: { code: string; decline_code?: string; message: string; type: 'card_error' } | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Metadata;
  payment_method: string | null;
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'succeeded';
}

interface ChargeObject {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: true;
  created: number;
  currency: string;
  customer: string | null;
  livemode: false;
  metadata: Metadata;
  paid: true;
  payment_intent: string;
  payment_method: string | null;
  refunded: boolean;
  status: 'succeeded';
}

interface PhaseObject {
  add_invoice_items: [];
  billing_cycle_anchor: null;
  currency: string;
  discounts: { coupon: null; discount: string; promotion_code: null }[];
  end_date: number;
  items: { price: string; quantity: number; metadata: Metadata; discounts: []; tax_rates: [] }[];
  metadata: Metadata;
  proration_behavior: string;
  start_date: number;
  trial_end: null;
}

interface ScheduleObject {
  id: string;
  object: 'subscription_schedule';
  billing_mode: { type: 'flexible' };
  canceled_at: number | null;
  completed_at: number | null;
  created: number;
  current_phase: { start_date: number; end_date: number } | null;
  customer: string;
  end_behavior: 'release' | 'cancel' | 'none' | 'renew';
  livemode: false;
  metadata: Metadata;
  phases: PhaseObject[];
  released_at: number | null;
  released_subscription: string | null;
  status: 'not_started' | 'active' | 'completed' | 'released' | 'canceled';
  subscription: string | null;
}

class FakeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function invalid(message: string, param: string | null = null, code: string | null = 'parameter_invalid'): FakeError {
  return new FakeError(400, message, 'invalid_request_error', code, param);
}

function missing(kind: string, id: string): FakeError {
  return new FakeError(404, `No such ${kind}: '${id}'`, 'invalid_request_error', 'resource_missing', 'id');
}

// ---- Param readers

function str(value: FormValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function obj(value: FormValue | undefined): FormObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

function list(value: FormValue | undefined): FormValue[] {
  if (Array.isArray(value)) return value.filter((entry) => entry !== undefined);
  const asObject = obj(value);
  return asObject ? Object.values(asObject) : [];
}

function int(value: FormValue | undefined, param: string): number | undefined {
  const text = str(value);
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw invalid(`Invalid integer: ${text}`, param, 'parameter_invalid_integer');
  return Number(text);
}

function bool(value: FormValue | undefined, param: string): boolean | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (text !== 'true' && text !== 'false') throw invalid(`Invalid boolean: ${text}`, param);
  return text === 'true';
}

function metadata(value: FormValue | undefined): Metadata {
  const result: Metadata = {};
  for (const [key, entry] of Object.entries(obj(value) ?? {})) {
    if (typeof entry === 'string' && entry !== '') result[key] = entry;
  }
  return result;
}

/** `amount × numerator / denominator`, rounded half-up to a whole minor unit, exactly. */
function prorate(amount: number, numerator: number, denominator: number): number {
  const n = BigInt(amount) * BigInt(numerator);
  const d = BigInt(denominator);
  return Number((2n * n + d) / (2n * d));
}

/** `percent_off` in basis points: more than 0 and at most 100, with up to 2 decimals, read exactly. */
function basisPoints(text: string | undefined): number {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text ?? '');
  const bps = match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : 0;
  if (bps < 1 || bps > 10_000) throw invalid('Invalid percent_off', 'percent_off');
  return bps;
}

/** `start` plus `count` intervals, in Unix seconds. */
function later(start: number, interval: BillingInterval, count: number): number {
  return Math.floor(addInterval(new Date(start * 1000), interval, count).getTime() / 1000);
}

function utcDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getUTCMonth()];
  return `${date.getUTCDate()} ${month} ${date.getUTCFullYear()}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The fake Stripe: msw handlers, its state, and test controls. */
export interface StripeFake {
  /** msw handlers for `https://api.stripe.com/v1/*`: `setupServer(...fake.handlers)`. */
  readonly handlers: HttpHandler[];
  readonly webhookSecret: string;
  /** Every request the fake received, oldest first. */
  readonly requests: RecordedRequest[];
  /** Every event the fake emitted, oldest first. */
  readonly events: FakeStripeEvent[];
  /** A stripe-node client wired to the fake. */
  client(): Stripe;
  /** The fake's clock (seconds resolution). */
  now(): Date;
  setNow(at: Date): void;
  advance(seconds: number): void;
  /** Changes a price (e.g. to make it disagree with a catalog). */
  setPrice(id: string, price: FakePriceInput): void;
  /** Saves a test card on a customer; `makeDefault` sets `invoice_settings.default_payment_method`. */
  addCard(customerId: string, options?: { makeDefault?: boolean }): string;
  /** The next charge attempt (off-session PaymentIntent or invoice payment) is declined (`card_declined`). */
  declineNextCharge(): void;
  /** The next charge attempt needs authentication (3-D Secure). */
  requireActionOnNextCharge(): void;
  /** The next API request fails with this error. */
  failNextRequest(error: InjectedError): void;
  /** Completes a Checkout session as the customer would; returns the events Stripe sends. */
  completeCheckout(sessionId: string): FakeStripeEvent[];
  /** The customer pays an open invoice on its hosted page; a pending upgrade applies. */
  payInvoice(invoiceId: string): FakeStripeEvent[];
  /** Moves the clock to the end of the subscription's period and renews, switches phase or cancels. */
  advancePeriod(subscriptionId: string): FakeStripeEvent[];
  /** Refunds (part of) a payment; `charge.refunded` carries the cumulative amount. */
  refund(paymentIntentId: string, amount?: number): FakeStripeEvent[];
  /** Snapshots of the stored objects, Stripe-shaped. */
  customer(id: string): Stripe.Customer;
  subscription(id: string): Stripe.Subscription;
  invoice(id: string): Stripe.Invoice;
  paymentIntent(id: string): Stripe.PaymentIntent;
  schedule(id: string): Stripe.SubscriptionSchedule;
  checkoutSession(id: string): Stripe.Checkout.Session;
  coupon(id: string): Stripe.Coupon;
  /** Event builders: the current state of an object wrapped as an event of `type`, stamped now. */
  checkoutSessionEvent(sessionId: string, type?: string): FakeStripeEvent;
  subscriptionEvent(
    subscriptionId: string,
    type: 'created' | 'updated' | 'deleted',
    previousAttributes?: Record<string, unknown>,
  ): FakeStripeEvent;
  invoiceEvent(invoiceId: string, type: 'paid' | 'payment_failed'): FakeStripeEvent;
  chargeEvent(chargeId: string, type: 'refunded' | 'succeeded'): FakeStripeEvent;
  /** A raw body and `Stripe-Signature` header for an event, as Stripe would deliver it. */
  signEvent(event: FakeStripeEvent, options?: { secret?: string; timestamp?: number }): { rawBody: string; header: string };
  /** The webhook POST Stripe would send for an event. */
  webhookRequest(event: FakeStripeEvent, options?: { secret?: string; timestamp?: number; url?: string }): Request;
}

/** Creates a fake Stripe account with the given prices. */
export function createStripeFake(options: StripeFakeOptions): StripeFake {
  const webhookSecret = options.webhookSecret ?? 'whsec_tally_fake';
  let clock = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const counters = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const events: FakeStripeEvent[] = [];
  const outcomes: Outcome[] = [];
  const injected: InjectedError[] = [];
  const idempotent = new Map<string, { signature: string; status: number; body: unknown }>();

  const prices = new Map<string, PriceObject>();
  const customers = new Map<string, CustomerObject>();
  const paymentMethods = new Map<string, PaymentMethodObject>();
  const sessions = new Map<string, SessionState>();
  const subscriptions = new Map<string, SubscriptionObject>();
  const invoices = new Map<string, InvoiceObject>();
  const invoicePayments = new Map<string, InvoicePaymentObject[]>();
  const intents = new Map<string, PaymentIntentObject>();
  const charges = new Map<string, ChargeObject>();
  const schedules = new Map<string, ScheduleObject>();
  const coupons = new Map<string, CouponObject>();
  const discounts = new Map<string, DiscountObject>();

  function nextId(prefix: string): string {
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    return `${prefix}_Fk${n.toString().padStart(8, '0')}`;
  }

  function setPrice(id: string, input: FakePriceInput): void {
    const amount = typeof input.unitAmount === 'bigint' ? Number(input.unitAmount) : input.unitAmount;
    if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`Fake price ${id}: unitAmount must be a whole number of minor units`);
    prices.set(id, {
      id,
      object: 'price',
      active: true,
      billing_scheme: 'per_unit',
      created: clock,
      currency: (input.currency ?? 'usd').toLowerCase(),
      livemode: false,
      lookup_key: null,
      metadata: {},
      nickname: input.nickname ?? null,
      product: input.product ?? `prod_${id}`,
      recurring:
        input.interval === null
          ? null
          : { interval: input.interval, interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
      tax_behavior: 'unspecified',
      type: input.interval === null ? 'one_time' : 'recurring',
      unit_amount: amount,
      unit_amount_decimal: String(amount),
    });
  }
  for (const [id, price] of Object.entries(options.prices)) setPrice(id, price);

  // ---- Lookups

  function get<T>(map: Map<string, T>, kind: string, id: string): T {
    const found = map.get(id);
    if (found === undefined) throw missing(kind, id);
    return found;
  }

  function priceOf(id: string, param: string): PriceObject {
    const price = prices.get(id);
    if (!price) throw new FakeError(400, `No such price: '${id}'`, 'invalid_request_error', 'resource_missing', param);
    return price;
  }

  function productName(price: PriceObject): string {
    return price.nickname ?? price.product;
  }

  function periodEnd(start: number, price: PriceObject): number {
    if (!price.recurring) throw new Error(`Price ${price.id} is not recurring`);
    return later(start, price.recurring.interval, price.recurring.interval_count);
  }

  function tierItemOf(subscription: SubscriptionObject): ItemObject {
    const item = subscription.items.data[0];
    if (!item) throw new Error(`Subscription ${subscription.id} has no items`);
    return item;
  }

  // ---- Events

  function event(type: string, object: unknown, previousAttributes?: Record<string, unknown>): FakeStripeEvent {
    const data: FakeStripeEvent['data'] = { object: clone(object) as Record<string, unknown> };
    if (previousAttributes) data.previous_attributes = clone(previousAttributes);
    return {
      id: nextId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: clock,
      data,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  function emit(out: FakeStripeEvent[], type: string, object: unknown, previousAttributes?: Record<string, unknown>): void {
    const built = event(type, object, previousAttributes);
    events.push(built);
    out.push(built);
  }

  // ---- Payments

  function defaultCard(customerId: string, preferred: string | null): string | null {
    if (preferred) return preferred;
    const customer = customers.get(customerId);
    if (customer?.invoice_settings.default_payment_method) return customer.invoice_settings.default_payment_method;
    for (const method of paymentMethods.values()) if (method.customer === customerId) return method.id;
    return null;
  }

  function addCard(customerId: string, cardOptions: { makeDefault?: boolean } = {}): string {
    const customer = get(customers, 'customer', customerId);
    const id = nextId('pm');
    paymentMethods.set(id, {
      id,
      object: 'payment_method',
      billing_details: { address: null, email: null, name: null, phone: null },
      card: { brand: 'visa', country: 'US', exp_month: 12, exp_year: 2034, funding: 'credit', last4: '4242' },
      created: clock,
      customer: customerId,
      livemode: false,
      metadata: {},
      type: 'card',
    });
    if (cardOptions.makeDefault) customer.invoice_settings.default_payment_method = id;
    return id;
  }

  /** Creates and confirms a PaymentIntent; the queued outcome, if any, decides how it ends. */
  function charge(input: {
    amount: number;
    currency: string;
    customer: string | null;
    paymentMethod: string | null;
    metadata: Metadata;
    offSession: boolean;
    description: string | null;
    outcome?: Outcome | 'succeed';
  }): PaymentIntentObject {
    const id = nextId('pi');
    const intent: PaymentIntentObject = {
      id,
      object: 'payment_intent',
      amount: input.amount,
      amount_received: 0,
      capture_method: 'automatic',
      confirmation_method: 'automatic',
      created: clock,
      currency: input.currency,
      customer: input.customer,
      description: input.description,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: { ...input.metadata },
      payment_method: input.paymentMethod,
      status: 'requires_payment_method',
    };
    intents.set(id, intent);
    if (input.paymentMethod === null) {
      intent.last_payment_error = { code: 'payment_method_missing', message: 'The customer has no payment method.', type: 'card_error' };
      return intent;
    }
    const outcome = input.outcome ?? outcomes.shift() ?? 'succeed';
    if (outcome === 'decline') {
      intent.last_payment_error = {
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        type: 'card_error',
      };
      return intent;
    }
    if (outcome === 'requires_action') {
      if (input.offSession) {
        intent.last_payment_error = {
          code: 'authentication_required',
          message: 'Your card was declined. This transaction requires authentication.',
          type: 'card_error',
        };
      } else intent.status = 'requires_action';
      return intent;
    }
    const chargeId = nextId('ch');
    charges.set(chargeId, {
      id: chargeId,
      object: 'charge',
      amount: input.amount,
      amount_captured: input.amount,
      amount_refunded: 0,
      captured: true,
      created: clock,
      currency: input.currency,
      customer: input.customer,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: id,
      payment_method: input.paymentMethod,
      refunded: false,
      status: 'succeeded',
    });
    intent.status = 'succeeded';
    intent.amount_received = input.amount;
    intent.latest_charge = chargeId;
    return intent;
  }

  // ---- Invoices

  function line(
    subscription: SubscriptionObject,
    item: ItemObject,
    price: PriceObject,
    amount: number,
    period: { start: number; end: number },
    description: string,
    proration: boolean,
  ): LineObject {
    return {
      id: nextId('il'),
      object: 'line_item',
      amount,
      currency: price.currency,
      description,
      discount_amounts: [],
      discountable: !proration,
      discounts: [],
      invoice: null,
      livemode: false,
      metadata: {},
      parent: {
        type: 'subscription_item_details',
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: proration ? nextId('ii') : null,
          proration,
          proration_details: { credited_items: null },
          subscription: subscription.id,
          subscription_item: item.id,
        },
      },
      period,
      pricing: {
        type: 'price_details',
        price_details: { price: price.id, product: price.product },
        unit_amount_decimal: price.unit_amount_decimal,
      },
      quantity: item.quantity,
      subtotal: amount,
      taxes: [],
    };
  }

  function periodLine(subscription: SubscriptionObject, item: ItemObject, price: PriceObject, start: number, end: number): LineObject {
    const amount = price.unit_amount * item.quantity;
    const text = `${item.quantity} × ${productName(price)} (at ${(price.unit_amount / 100).toFixed(2)} ${price.currency.toUpperCase()} / ${price.recurring?.interval})`;
    return line(subscription, item, price, amount, { start, end }, text, false);
  }

  /** Credit for unused time on the old price, charge for the remaining time on the new one, to the second. */
  function prorationLines(subscription: SubscriptionObject, item: ItemObject, to: PriceObject, at: number): LineObject[] {
    const start = item.current_period_start;
    const end = item.current_period_end;
    const period = { start: at, end };
    const from = item.price;
    const when = utcDate(at);
    return [
      line(
        subscription,
        item,
        from,
        -prorate(from.unit_amount * item.quantity, end - at, end - start),
        period,
        `Unused time on ${productName(from)} after ${when}`,
        true,
      ),
      line(
        subscription,
        item,
        to,
        prorate(to.unit_amount * item.quantity, end - at, end - start),
        period,
        `Remaining time on ${productName(to)} after ${when}`,
        true,
      ),
    ];
  }

  /**
   * Takes the subscription's discounts that are live at `at` off its discountable lines (prorations
   * are not), each percentage rounded half-up to the cent, in order, each on what the ones before
   * left. Returns the invoice's discount amounts, its total after them, and the discounts that stay:
   * a repeating one until its `end`, a `once` one until it applied.
   */
  function applyDiscounts(
    subscription: SubscriptionObject,
    lines: LineObject[],
    at: number,
  ): { amounts: DiscountAmount[]; live: string[]; subtotal: number; total: number } {
    const amounts: DiscountAmount[] = [];
    const live: string[] = [];
    const subtotal = lines.reduce((sum, entry) => sum + entry.amount, 0);
    let total = subtotal;
    for (const id of subscription.discounts) {
      const discount = discounts.get(id);
      const coupon = discount && coupons.get(discount.source.coupon);
      if (!coupon || at >= (discount?.end ?? at + 1)) continue;
      const bps = basisPoints(String(coupon.percent_off));
      let sum = 0;
      for (const entry of lines) {
        const left = entry.amount - entry.discount_amounts.reduce((taken, share) => taken + share.amount, 0);
        const amount = entry.discountable && left > 0 ? prorate(left, bps, 10_000) : 0;
        if (amount > 0) entry.discount_amounts.push({ amount, discount: id });
        sum += amount;
      }
      if (sum > 0) amounts.push({ amount: sum, discount: id });
      if (sum === 0 || coupon.duration !== 'once') live.push(id);
      total -= sum;
    }
    return { amounts, live, subtotal, total };
  }

  function createInvoice(
    subscription: SubscriptionObject,
    reason: string,
    lines: LineObject[],
    period: { start: number; end: number },
  ): InvoiceObject {
    const id = nextId('in');
    const { amounts, live, subtotal, total } = applyDiscounts(subscription, lines, clock);
    subscription.discounts = live;
    for (const entry of lines) entry.invoice = id;
    const invoice: InvoiceObject = {
      id,
      object: 'invoice',
      amount_due: Math.max(total, 0),
      amount_paid: 0,
      amount_remaining: Math.max(total, 0),
      attempt_count: 0,
      attempted: false,
      billing_reason: reason,
      collection_method: 'charge_automatically',
      created: clock,
      currency: subscription.currency,
      customer: subscription.customer,
      discounts: amounts.map((taken) => taken.discount),
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_fake/test_${id}`,
      lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
      livemode: false,
      metadata: {},
      next_payment_attempt: null,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id },
      },
      period_end: period.end,
      period_start: period.start,
      starting_balance: 0,
      status: 'open',
      status_transitions: { finalized_at: clock, paid_at: null, voided_at: null, marked_uncollectible_at: null },
      subtotal,
      total,
      total_discount_amounts: amounts,
    };
    invoices.set(id, invoice);
    invoicePayments.set(id, []);
    subscription.latest_invoice = id;
    return invoice;
  }

  function markPaid(invoice: InvoiceObject, amount: number): void {
    invoice.status = 'paid';
    invoice.amount_paid = amount;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = clock;
  }

  /** Charges an open invoice to the subscription's card; true when it is paid. */
  function collect(invoice: InvoiceObject, subscription: SubscriptionObject, outcome?: Outcome | 'succeed'): boolean {
    if (invoice.amount_due === 0) {
      markPaid(invoice, 0);
      return true;
    }
    const intent = charge({
      amount: invoice.amount_due,
      currency: invoice.currency,
      customer: invoice.customer,
      paymentMethod: defaultCard(invoice.customer, subscription.default_payment_method),
      metadata: {},
      offSession: false,
      description: `Invoice ${invoice.id}`,
      ...(outcome ? { outcome } : {}),
    });
    invoice.attempted = true;
    invoice.attempt_count += 1;
    const payments = invoicePayments.get(invoice.id) ?? [];
    for (const payment of payments) payment.is_default = false;
    payments.push({
      id: nextId('inpay'),
      object: 'invoice_payment',
      amount_paid: intent.status === 'succeeded' ? intent.amount : null,
      amount_requested: invoice.amount_due,
      created: clock,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: intent.status === 'succeeded' ? 'paid' : 'open',
      status_transitions: { canceled_at: null, paid_at: intent.status === 'succeeded' ? clock : null },
    });
    invoicePayments.set(invoice.id, payments);
    if (intent.status === 'succeeded') {
      markPaid(invoice, intent.amount);
      return true;
    }
    invoice.next_payment_attempt = intent.status === 'requires_action' ? null : clock + 3 * DAY;
    return false;
  }

  function emitInvoiceOutcome(out: FakeStripeEvent[], invoice: InvoiceObject): void {
    if (invoice.status === 'paid') {
      emit(out, 'invoice.paid', invoice);
      return;
    }
    const payment = invoicePayments.get(invoice.id)?.find((candidate) => candidate.is_default);
    const intent = payment ? intents.get(payment.payment.payment_intent) : undefined;
    emit(out, intent?.status === 'requires_action' ? 'invoice.payment_action_required' : 'invoice.payment_failed', invoice);
  }

  // ---- Rendering with `expand`

  function lookup(id: string): unknown {
    const maps: [string, Map<string, unknown>][] = [
      ['sub_sched_', schedules],
      ['di_', discounts],
      ['sub_', subscriptions],
      ['cus_', customers],
      ['pm_', paymentMethods],
      ['in_', invoices],
      ['pi_', intents],
      ['ch_', charges],
      ['cs_', new Map([...sessions].map(([key, state]) => [key, state.session]))],
    ];
    for (const [prefix, map] of maps) if (id.startsWith(prefix)) return map.get(id);
    return undefined;
  }

  function expandPath(target: Record<string, unknown>, segments: string[]): void {
    const [head, ...rest] = segments;
    if (head === undefined) return;
    if (target.object === 'list' && head === 'data') {
      for (const entry of (target.data as Record<string, unknown>[]) ?? []) expandPath(entry, rest);
      return;
    }
    let value = target[head];
    if (Array.isArray(value)) {
      // A list of ids, like a subscription's `discounts` (expanded one level).
      value = value.map((entry) => (typeof entry === 'string' ? clone(lookup(entry) ?? entry) : entry));
    } else if (typeof value === 'string') {
      const found = lookup(value);
      if (found !== undefined) value = clone(found);
    } else if (value === undefined && target.object === 'invoice' && head === 'payments') {
      const data = clone(invoicePayments.get(target.id as string) ?? []);
      value = { object: 'list', data, has_more: false, url: `/v1/invoices/${target.id}/payments` };
    }
    target[head] = value;
    if (typeof value === 'object' && value !== null) expandPath(value as Record<string, unknown>, rest);
  }

  function render(object: unknown, params: FormObject): Record<string, unknown> {
    const rendered = clone(object) as Record<string, unknown>;
    for (const path of list(params.expand)) {
      const text = str(path);
      if (text) expandPath(rendered, text.split('.'));
    }
    return rendered;
  }

  // ---- Endpoints

  function createCustomer(params: FormObject): CustomerObject {
    const id = nextId('cus');
    const customer: CustomerObject = {
      id,
      object: 'customer',
      balance: 0,
      created: clock,
      currency: null,
      delinquent: false,
      description: str(params.description) ?? null,
      email: str(params.email) ?? null,
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: metadata(params.metadata),
      name: str(params.name) ?? null,
    };
    customers.set(id, customer);
    return customer;
  }

  function updateCustomer(id: string, params: FormObject): CustomerObject {
    const customer = get(customers, 'customer', id);
    const email = str(params.email);
    const name = str(params.name);
    if (email !== undefined) customer.email = email || null;
    if (name !== undefined) customer.name = name || null;
    if (params.metadata !== undefined) customer.metadata = { ...customer.metadata, ...metadata(params.metadata) };
    const preferred = str(obj(params.invoice_settings)?.default_payment_method);
    if (preferred !== undefined) {
      if (preferred !== '' && paymentMethods.get(preferred)?.customer !== id) {
        throw invalid(`The payment method ${preferred} is not attached to ${id}`, 'invoice_settings[default_payment_method]');
      }
      customer.invoice_settings.default_payment_method = preferred || null;
    }
    return customer;
  }

  function searchCustomers(params: FormObject): Record<string, unknown> {
    const query = str(params.query) ?? '';
    const match = /^metadata\['((?:[^'\\]|\\.)+)'\]:'((?:[^'\\]|\\.)*)'$/.exec(query);
    if (!match) throw invalid(`The fake supports only metadata['key']:'value' queries, got ${query}`, 'query');
    const unquote = (text: string) => text.replace(/\\(.)/g, '$1');
    const key = unquote(match[1] ?? '');
    const value = unquote(match[2] ?? '');
    const data = [...customers.values()].filter((customer) => customer.metadata[key] === value).map((customer) => clone(customer));
    const limit = int(params.limit, 'limit') ?? 10;
    return {
      object: 'search_result',
      data: data.slice(0, limit),
      has_more: data.length > limit,
      next_page: null,
      url: '/v1/customers/search',
    };
  }

  function listPaymentMethods(customerId: string, params: FormObject): Record<string, unknown> {
    get(customers, 'customer', customerId);
    const type = str(params.type);
    const data = [...paymentMethods.values()].filter(
      (method) => method.customer === customerId && (type === undefined || method.type === type),
    );
    const limit = int(params.limit, 'limit') ?? 10;
    return {
      object: 'list',
      data: clone(data.slice(0, limit)),
      has_more: data.length > limit,
      url: `/v1/customers/${customerId}/payment_methods`,
    };
  }

  function createSession(params: FormObject): SessionObject {
    const mode = str(params.mode);
    if (mode !== 'subscription' && mode !== 'payment') throw invalid('The fake models mode=subscription and mode=payment', 'mode');
    const customer = str(params.customer) ?? null;
    if (customer !== null) get(customers, 'customer', customer);
    const lines = list(params.line_items).map((entry, index) => {
      const item = obj(entry) ?? {};
      const priceId = str(item.price);
      if (!priceId) throw invalid('line_items need a price', `line_items[${index}][price]`);
      const price = priceOf(priceId, `line_items[${index}][price]`);
      if (mode === 'subscription' && !price.recurring) throw invalid(`Price ${priceId} is not recurring`, `line_items[${index}][price]`);
      if (mode === 'payment' && price.recurring) {
        throw invalid(`You must use a one-time price in payment mode: ${priceId}`, `line_items[${index}][price]`);
      }
      return { price: priceId, quantity: int(item.quantity, `line_items[${index}][quantity]`) ?? 1 };
    });
    if (lines.length === 0) throw invalid('line_items is required', 'line_items');
    const successUrl = str(params.success_url);
    if (!successUrl) throw invalid('success_url is required in hosted mode', 'success_url');
    const subscriptionData = obj(params.subscription_data) ?? {};
    const trialDays = int(subscriptionData.trial_period_days, 'subscription_data[trial_period_days]') ?? 0;
    if (trialDays < 0 || (mode === 'payment' && params.subscription_data !== undefined)) {
      throw invalid('subscription_data is only allowed in subscription mode', 'subscription_data');
    }
    if (mode === 'subscription' && params.payment_intent_data !== undefined) {
      throw invalid('payment_intent_data is only allowed in payment mode', 'payment_intent_data');
    }
    const first = priceOf(lines[0]?.price ?? '', 'line_items');
    const total = lines.reduce((sum, entry) => sum + priceOf(entry.price, 'line_items').unit_amount * entry.quantity, 0);
    const id = nextId('cs_test');
    const session: SessionObject = {
      id,
      object: 'checkout.session',
      amount_subtotal: total,
      amount_total: total,
      cancel_url: str(params.cancel_url) ?? null,
      client_reference_id: str(params.client_reference_id) ?? null,
      created: clock,
      currency: first.currency,
      customer,
      customer_details: null,
      expires_at: clock + DAY,
      invoice: null,
      livemode: false,
      metadata: metadata(params.metadata),
      mode,
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      subscription: null,
      success_url: successUrl,
      ui_mode: 'hosted_page',
      url: `https://checkout.stripe.com/c/pay/${id}`,
    };
    sessions.set(id, {
      session,
      lines,
      subscriptionMetadata: metadata(subscriptionData.metadata),
      trialDays,
      paymentIntentMetadata: metadata(obj(params.payment_intent_data)?.metadata),
    });
    return session;
  }

  function startSubscription(state: SessionState, customerId: string, card: string, out: FakeStripeEvent[]): SubscriptionObject {
    const id = nextId('sub');
    const trialEnd = state.trialDays > 0 ? clock + state.trialDays * DAY : null;
    const firstPrice = priceOf(state.lines[0]?.price ?? '', 'line_items');
    const subscription: SubscriptionObject = {
      id,
      object: 'subscription',
      billing_cycle_anchor: trialEnd ?? clock,
      billing_mode: { type: 'flexible' },
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: 'charge_automatically',
      created: clock,
      currency: firstPrice.currency,
      customer: customerId,
      default_payment_method: card,
      discounts: [],
      ended_at: null,
      items: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/subscription_items?subscription=${id}` },
      latest_invoice: null,
      livemode: false,
      metadata: { ...state.subscriptionMetadata },
      pending_update: null,
      schedule: null,
      start_date: clock,
      status: trialEnd === null ? 'active' : 'trialing',
      trial_end: trialEnd,
      trial_start: trialEnd === null ? null : clock,
    };
    for (const entry of state.lines) {
      const price = priceOf(entry.price, 'line_items');
      subscription.items.data.push({
        id: nextId('si'),
        object: 'subscription_item',
        billing_thresholds: null,
        created: clock,
        current_period_end: trialEnd ?? periodEnd(clock, price),
        current_period_start: clock,
        discounts: [],
        metadata: {},
        price: clone(price),
        quantity: entry.quantity,
        subscription: id,
        tax_rates: [],
      });
    }
    subscription.items.total_count = subscription.items.data.length;
    subscriptions.set(id, subscription);
    const item = tierItemOf(subscription);
    const lines = subscription.items.data.map((entry) => {
      if (trialEnd === null) return periodLine(subscription, entry, entry.price, entry.current_period_start, entry.current_period_end);
      const trialLine = line(
        subscription,
        entry,
        entry.price,
        0,
        { start: clock, end: trialEnd },
        `Trial period for ${productName(entry.price)}`,
        false,
      );
      return trialLine;
    });
    const invoice = createInvoice(subscription, 'subscription_create', lines, {
      start: item.current_period_start,
      end: item.current_period_start,
    });
    // The card was just entered on the Checkout page: the first payment goes through.
    collect(invoice, subscription, 'succeed');
    emit(out, 'customer.subscription.created', subscription);
    emit(out, 'invoice.paid', invoice);
    return subscription;
  }

  function completeCheckout(sessionId: string): FakeStripeEvent[] {
    const state = get(sessions, 'checkout session', sessionId);
    const { session } = state;
    if (session.status !== 'open') throw new Error(`Checkout session ${sessionId} is ${session.status}`);
    const out: FakeStripeEvent[] = [];
    const customerId = session.customer ?? createCustomer({ metadata: {} }).id;
    session.customer = customerId;
    const card = addCard(customerId);
    session.customer_details = { email: customers.get(customerId)?.email ?? null };
    if (session.mode === 'subscription') {
      const subscription = startSubscription(state, customerId, card, out);
      session.subscription = subscription.id;
      session.invoice = subscription.latest_invoice;
      session.payment_status = subscription.status === 'trialing' ? 'no_payment_required' : 'paid';
    } else {
      const intent = charge({
        amount: session.amount_total,
        currency: session.currency,
        customer: customerId,
        paymentMethod: card,
        metadata: state.paymentIntentMetadata,
        offSession: false,
        description: null,
        outcome: 'succeed',
      });
      session.payment_intent = intent.id;
      session.payment_status = 'paid';
      emit(out, 'payment_intent.succeeded', intent);
    }
    session.status = 'complete';
    session.url = null;
    emit(out, 'checkout.session.completed', session);
    return out;
  }

  function createCoupon(params: FormObject): CouponObject {
    // The fake models percent-off coupons (`percent_off` is required); `duration_in_months` goes with `repeating` only.
    const percent = str(params.percent_off);
    basisPoints(percent);
    const duration = str(params.duration) ?? 'once';
    const months = int(params.duration_in_months, 'duration_in_months') ?? null;
    if ((duration !== 'once' && duration !== 'forever' && duration !== 'repeating') || (duration === 'repeating') !== (months ?? 0) > 0) {
      throw invalid('Invalid duration', 'duration');
    }
    const id = str(params.id) || nextId('coupon');
    if (coupons.has(id)) throw invalid('Coupon already exists.', 'id', 'resource_already_exists');
    const coupon: CouponObject = {
      id,
      object: 'coupon',
      amount_off: null,
      created: clock,
      currency: null,
      duration,
      duration_in_months: months,
      livemode: false,
      max_redemptions: null,
      metadata: metadata(params.metadata),
      name: str(params.name) ?? null,
      percent_off: Number(percent),
      redeem_by: null,
      times_redeemed: 0,
      valid: true,
    };
    coupons.set(id, coupon);
    return coupon;
  }

  /**
   * Checks the `discounts` of a subscription update (existing discounts of the subscription, or
   * coupons, each at most once; '' clears them) and returns what commits them: a populated list
   * replaces the subscription's discounts, as Stripe does.
   */
  function discountsUpdate(subscription: SubscriptionObject, value: FormValue): () => string[] {
    const couponIds = new Set<string>();
    const wanted = list(value).map((raw, index) => {
      const entry = obj(raw) ?? {};
      const param = `discounts[${index}]`;
      const reuse = str(entry.discount);
      const existing = reuse === undefined ? undefined : discounts.get(reuse);
      if (reuse !== undefined && (!existing || !subscription.discounts.includes(reuse))) {
        throw invalid(`No such discount: '${reuse}'`, `${param}[discount]`, 'resource_missing');
      }
      const couponId = existing?.source.coupon ?? str(entry.coupon);
      const coupon = coupons.get(couponId ?? '');
      if (!coupon) throw invalid(`No such coupon: '${couponId}'`, `${param}[coupon]`, 'resource_missing');
      if (couponIds.has(coupon.id)) throw invalid('A coupon can apply once', param);
      couponIds.add(coupon.id);
      return { existing, coupon };
    });
    return () =>
      wanted.map(({ existing, coupon }) => {
        if (existing) return existing.id;
        coupon.times_redeemed += 1;
        const months = coupon.duration_in_months;
        const discount: DiscountObject = {
          id: nextId('di'),
          object: 'discount',
          checkout_session: null,
          customer: subscription.customer,
          customer_account: null,
          end: months === null ? null : later(clock, 'month', months),
          invoice: null,
          invoice_item: null,
          promotion_code: null,
          source: { coupon: coupon.id, type: 'coupon' },
          start: clock,
          subscription: subscription.id,
          subscription_item: null,
        };
        discounts.set(discount.id, discount);
        return discount.id;
      });
  }

  function updateSubscription(id: string, params: FormObject, out: FakeStripeEvent[]): SubscriptionObject {
    const subscription = get(subscriptions, 'subscription', id);
    if (subscription.status === 'canceled') throw invalid(`A canceled subscription can only update its metadata: ${id}`);
    const before = clone(subscription);
    const commitDiscounts = params.discounts === undefined ? null : discountsUpdate(subscription, params.discounts);
    const changes = list(params.items);
    if (changes.length > 0) {
      if (subscription.schedule !== null) {
        throw invalid(`The subscription is managed by the subscription schedule ${subscription.schedule}; release it first`, 'items');
      }
      const change = obj(changes[0]) ?? {};
      if (changes.length > 1) throw invalid('The fake models one item change at a time', 'items');
      const item = subscription.items.data.find((candidate) => candidate.id === str(change.id));
      if (!item) throw invalid(`No such subscription item: '${str(change.id) ?? ''}'`, 'items[0][id]', 'resource_missing');
      const to = priceOf(str(change.price) ?? '', 'items[0][price]');
      if (!to.recurring || to.currency !== item.price.currency || to.recurring.interval !== item.price.recurring?.interval) {
        throw invalid('The fake models price changes within one currency and interval', 'items[0][price]');
      }
      const behavior = str(params.proration_behavior) ?? 'create_prorations';
      const at = int(params.proration_date, 'proration_date') ?? clock;
      if (behavior === 'create_prorations')
        throw invalid('The fake models proration_behavior=always_invoice and none', 'proration_behavior');
      if (at < item.current_period_start || at >= item.current_period_end) {
        throw invalid('proration_date must be within the current period', 'proration_date');
      }
      const swap = () => {
        item.price = clone(to);
        subscription.pending_update = null;
      };
      if (behavior !== 'always_invoice' || subscription.status === 'trialing' || to.id === item.price.id) swap();
      else {
        const invoice = createInvoice(subscription, 'subscription_update', prorationLines(subscription, item, to, at), {
          start: at,
          end: at,
        });
        invoice.parent.subscription_details.subscription_proration_date = at;
        const paid = collect(invoice, subscription);
        if (paid || str(params.payment_behavior) !== 'pending_if_incomplete') {
          swap();
          if (!paid) subscription.status = 'past_due';
        } else {
          subscription.pending_update = {
            billing_cycle_anchor: null,
            expires_at: clock + 23 * 3600,
            subscription_items: [{ ...clone(item), price: clone(to) }],
            trial_end: null,
            trial_from_plan: null,
          };
        }
        emit(out, 'customer.subscription.updated', subscription, {
          items: clone(before.items),
          latest_invoice: before.latest_invoice,
          ...(before.status !== subscription.status ? { status: before.status } : {}),
        });
        emitInvoiceOutcome(out, invoice);
      }
    }
    const cancel = bool(params.cancel_at_period_end, 'cancel_at_period_end');
    if (cancel !== undefined) {
      subscription.cancel_at_period_end = cancel;
      subscription.cancel_at = cancel ? tierItemOf(subscription).current_period_end : null;
    }
    if (str(params.cancel_at) === '') subscription.cancel_at = null;
    if (params.metadata !== undefined) subscription.metadata = { ...subscription.metadata, ...metadata(params.metadata) };
    if (commitDiscounts) subscription.discounts = commitDiscounts();
    if (out.length === 0 && JSON.stringify(before) !== JSON.stringify(subscription)) {
      emit(out, 'customer.subscription.updated', subscription, {
        cancel_at_period_end: before.cancel_at_period_end,
        cancel_at: before.cancel_at,
        discounts: before.discounts,
        items: clone(before.items),
        metadata: before.metadata,
      });
    }
    return subscription;
  }

  function previewInvoice(params: FormObject): Record<string, unknown> {
    const subscriptionId = str(params.subscription);
    if (!subscriptionId) throw invalid('The fake previews changes to an existing subscription only', 'subscription');
    const subscription = get(subscriptions, 'subscription', subscriptionId);
    const details = obj(params.subscription_details) ?? {};
    const behavior = str(details.proration_behavior) ?? 'create_prorations';
    const at = int(details.proration_date, 'subscription_details[proration_date]');
    const item = tierItemOf(subscription);
    if (at !== undefined && behavior === 'none') {
      throw invalid('proration_date cannot be used with proration_behavior=none', 'subscription_details[proration_date]');
    }
    if (at !== undefined && (at < item.current_period_start || at >= item.current_period_end)) {
      throw invalid('proration_date must be within the current period', 'subscription_details[proration_date]');
    }
    const change = obj(list(details.items)[0]) ?? {};
    const changeId = str(change.id);
    if (changeId !== undefined && changeId !== item.id) {
      throw invalid(`No such subscription item: '${changeId}'`, 'subscription_details[items][0][id]', 'resource_missing');
    }
    const priceId = str(change.price);
    const to = priceId === undefined ? item.price : priceOf(priceId, 'subscription_details[items][0][price]');
    const when = at ?? clock;
    const lines: LineObject[] = [];
    if (to.id !== item.price.id && behavior !== 'none' && subscription.status !== 'trialing') {
      lines.push(...prorationLines(subscription, item, to, when));
    }
    const nextEnd = periodEnd(item.current_period_end, to);
    lines.push(periodLine(subscription, item, to, item.current_period_end, nextEnd));
    const { amounts, subtotal, total } = applyDiscounts(subscription, lines, item.current_period_end);
    return {
      id: nextId('upcoming_in'),
      object: 'invoice',
      amount_due: Math.max(total, 0),
      amount_paid: 0,
      amount_remaining: Math.max(total, 0),
      attempt_count: 0,
      attempted: false,
      billing_reason: 'upcoming',
      collection_method: 'charge_automatically',
      created: clock,
      currency: subscription.currency,
      customer: subscription.customer,
      discounts: amounts.map((taken) => taken.discount),
      lines: { object: 'list', data: lines, has_more: false, url: '/v1/invoices/upcoming/lines' },
      livemode: false,
      metadata: {},
      next_payment_attempt: item.current_period_end,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: {
          metadata: { ...subscription.metadata },
          subscription: subscription.id,
          ...(at === undefined ? {} : { subscription_proration_date: at }),
        },
      },
      period_end: item.current_period_end,
      period_start: item.current_period_start,
      starting_balance: 0,
      status: 'draft',
      subtotal,
      subtotal_excluding_tax: subtotal,
      total,
      total_discount_amounts: amounts,
      total_excluding_tax: total,
    };
  }

  function createSchedule(params: FormObject): ScheduleObject {
    const subscriptionId = str(params.from_subscription);
    if (!subscriptionId) throw invalid('The fake creates schedules from_subscription only', 'from_subscription');
    for (const key of Object.keys(params)) {
      if (key !== 'from_subscription' && key !== 'expand' && key !== 'metadata') {
        throw invalid(`You cannot set '${key}' if 'from_subscription' is set.`, key);
      }
    }
    const subscription = get(subscriptions, 'subscription', subscriptionId);
    if (subscription.schedule !== null)
      throw invalid(`The subscription is already attached to the schedule ${subscription.schedule}`, 'from_subscription');
    if (subscription.status === 'canceled') throw invalid('A canceled subscription cannot get a schedule', 'from_subscription');
    const item = tierItemOf(subscription);
    const id = nextId('sub_sched');
    const schedule: ScheduleObject = {
      id,
      object: 'subscription_schedule',
      billing_mode: { type: 'flexible' },
      canceled_at: null,
      completed_at: null,
      created: clock,
      current_phase: { start_date: item.current_period_start, end_date: item.current_period_end },
      customer: subscription.customer,
      end_behavior: 'release',
      livemode: false,
      metadata: metadata(params.metadata),
      phases: [
        phase(
          item.current_period_start,
          item.current_period_end,
          item.price.id,
          item.quantity,
          'create_prorations',
          item.price.currency,
          subscription.discounts,
        ),
      ],
      released_at: null,
      released_subscription: null,
      status: 'active',
      subscription: subscription.id,
    };
    schedules.set(id, schedule);
    subscription.schedule = id;
    return schedule;
  }

  function phase(
    start: number,
    end: number,
    price: string,
    quantity: number,
    proration: string,
    currency: string,
    discountIds: string[],
  ): PhaseObject {
    return {
      add_invoice_items: [],
      billing_cycle_anchor: null,
      currency,
      discounts: discountIds.map((discount) => ({ coupon: null, discount, promotion_code: null })),
      end_date: end,
      items: [{ price, quantity, metadata: {}, discounts: [], tax_rates: [] }],
      metadata: {},
      proration_behavior: proration,
      start_date: start,
      trial_end: null,
    };
  }

  function updateSchedule(id: string, params: FormObject): ScheduleObject {
    const schedule = get(schedules, 'subscription schedule', id);
    if (schedule.status !== 'active' && schedule.status !== 'not_started') {
      throw invalid(`You cannot update a subscription schedule that is ${schedule.status}`);
    }
    const subscription = get(subscriptions, 'subscription', schedule.subscription ?? '');
    const item = tierItemOf(subscription);
    const endBehavior = str(params.end_behavior);
    if (endBehavior !== undefined) {
      if (endBehavior !== 'release' && endBehavior !== 'cancel')
        throw invalid('The fake models end_behavior release and cancel', 'end_behavior');
      schedule.end_behavior = endBehavior;
    }
    const defaultProration = str(params.proration_behavior) ?? 'create_prorations';
    const phases = list(params.phases);
    if (phases.length > 0) {
      const next: PhaseObject[] = [];
      let previousEnd: number | null = null;
      phases.forEach((entry, index) => {
        const input = obj(entry) ?? {};
        const param = `phases[${index}]`;
        const start = str(input.start_date) === 'now' ? clock : (int(input.start_date, `${param}[start_date]`) ?? previousEnd);
        if (start === null || start === undefined) throw invalid('The first phase needs a start_date', `${param}[start_date]`);
        if (index === 0 && start !== schedule.current_phase?.start_date) {
          throw invalid('You can not modify the start date of the current phase.', `${param}[start_date]`);
        }
        if (previousEnd !== null && start !== previousEnd) throw invalid('Phases must be contiguous', `${param}[start_date]`);
        const items = list(input.items).map((raw, itemIndex) => {
          const phaseItem = obj(raw) ?? {};
          const price = priceOf(str(phaseItem.price) ?? '', `${param}[items][${itemIndex}][price]`);
          if (!price.recurring) throw invalid(`Price ${price.id} is not recurring`, `${param}[items][${itemIndex}][price]`);
          return { price, quantity: int(phaseItem.quantity, `${param}[items][${itemIndex}][quantity]`) ?? 1 };
        });
        const first = items[0];
        if (!first || items.length > 1) throw invalid('The fake models phases with one item', `${param}[items]`);
        const duration = obj(input.duration);
        let end = int(input.end_date, `${param}[end_date]`);
        if (end === undefined && duration) {
          const interval = str(duration.interval);
          if (interval !== 'month' && interval !== 'year')
            throw invalid('The fake models month and year durations', `${param}[duration][interval]`);
          const count = int(duration.interval_count, `${param}[duration][interval_count]`) ?? 1;
          end = later(start, interval, count);
        }
        if (end === undefined || end <= start)
          throw invalid('Each phase needs an end_date or a duration after its start', `${param}[end_date]`);
        if (index === 0 && (first.price.id !== item.price.id || first.quantity !== item.quantity)) {
          throw invalid('The fake models schedules whose current phase keeps the subscription as it is', `${param}[items]`);
        }
        const proration = str(input.proration_behavior) ?? defaultProration;
        // A phase without discounts drops the subscription's when it starts (Stripe would inherit the customer's).
        const discountIds = list(input.discounts).map((raw, discountIndex) => {
          const reuse = str(obj(raw)?.discount);
          if (reuse === undefined || !subscription.discounts.includes(reuse)) {
            throw invalid(`No such discount: '${reuse}'`, `${param}[discounts][${discountIndex}][discount]`, 'resource_missing');
          }
          return reuse;
        });
        next.push(phase(start, end, first.price.id, first.quantity, proration, first.price.currency, discountIds));
        previousEnd = end;
      });
      schedule.phases = next;
      const current = next[0];
      if (current) schedule.current_phase = { start_date: current.start_date, end_date: current.end_date };
    }
    if (params.metadata !== undefined) schedule.metadata = { ...schedule.metadata, ...metadata(params.metadata) };
    return schedule;
  }

  function releaseSchedule(id: string): ScheduleObject {
    const schedule = get(schedules, 'subscription schedule', id);
    if (schedule.status !== 'active' && schedule.status !== 'not_started') {
      throw invalid(`You cannot release a subscription schedule that is currently in the \`${schedule.status}\` status.`);
    }
    const subscription = schedule.subscription ? subscriptions.get(schedule.subscription) : undefined;
    if (subscription) subscription.schedule = null;
    schedule.status = 'released';
    schedule.released_at = clock;
    schedule.released_subscription = schedule.subscription;
    schedule.subscription = null;
    schedule.current_phase = null;
    return schedule;
  }

  function createPaymentIntent(params: FormObject): PaymentIntentObject {
    const amount = int(params.amount, 'amount');
    if (amount === undefined || amount < 1) throw invalid('amount must be a positive integer', 'amount');
    const currency = str(params.currency);
    if (!currency) throw invalid('currency is required', 'currency');
    const customer = str(params.customer) ?? null;
    if (customer !== null) get(customers, 'customer', customer);
    const paymentMethod = str(params.payment_method) ?? null;
    if (paymentMethod !== null && paymentMethods.get(paymentMethod)?.customer !== customer) {
      throw invalid(`The payment method ${paymentMethod} does not belong to the customer`, 'payment_method');
    }
    const confirm = bool(params.confirm, 'confirm') ?? false;
    const offSession = bool(params.off_session, 'off_session') ?? false;
    if (!confirm) {
      const id = nextId('pi');
      const intent: PaymentIntentObject = {
        id,
        object: 'payment_intent',
        amount,
        amount_received: 0,
        capture_method: 'automatic',
        confirmation_method: 'automatic',
        created: clock,
        currency: currency.toLowerCase(),
        customer,
        description: str(params.description) ?? null,
        last_payment_error: null,
        latest_charge: null,
        livemode: false,
        metadata: metadata(params.metadata),
        payment_method: paymentMethod,
        status: paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
      };
      intents.set(id, intent);
      return intent;
    }
    if (paymentMethod === null)
      throw invalid('You must provide a payment_method to confirm', 'payment_method', 'payment_intent_unexpected_state');
    const intent = charge({
      amount,
      currency: currency.toLowerCase(),
      customer,
      paymentMethod,
      metadata: metadata(params.metadata),
      offSession,
      description: str(params.description) ?? null,
    });
    const error = intent.last_payment_error;
    if (error) {
      throw new FakeError(402, error.message, 'card_error', error.code, null, {
        ...(error.decline_code ? { decline_code: error.decline_code } : {}),
        payment_intent: clone(intent),
      });
    }
    const out: FakeStripeEvent[] = [];
    emit(out, 'payment_intent.succeeded', intent);
    return intent;
  }

  function portalSession(params: FormObject): Record<string, unknown> {
    const customer = str(params.customer);
    if (!customer) throw invalid('customer is required', 'customer');
    get(customers, 'customer', customer);
    const id = nextId('bps');
    return {
      id,
      object: 'billing_portal.session',
      configuration: 'bpc_fake',
      created: clock,
      customer,
      flow: null,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: str(params.return_url) ?? null,
      url: `https://billing.stripe.com/p/session/test_${id}`,
    };
  }

  // ---- Test controls beyond the API

  function payInvoice(invoiceId: string): FakeStripeEvent[] {
    const invoice = get(invoices, 'invoice', invoiceId);
    if (invoice.status !== 'open') throw new Error(`Invoice ${invoiceId} is ${invoice.status}`);
    const subscription = get(subscriptions, 'subscription', invoice.parent.subscription_details.subscription);
    const before = clone(subscription);
    collect(invoice, subscription, 'succeed');
    const pending = subscription.pending_update?.subscription_items[0];
    if (pending) {
      const item = subscription.items.data.find((candidate) => candidate.id === pending.id);
      if (item) item.price = clone(pending.price);
      subscription.pending_update = null;
    }
    if (subscription.status === 'past_due') subscription.status = 'active';
    const out: FakeStripeEvent[] = [];
    if (JSON.stringify(before) !== JSON.stringify(subscription)) {
      emit(out, 'customer.subscription.updated', subscription, {
        items: before.items,
        pending_update: before.pending_update,
        status: before.status,
      });
    }
    emit(out, 'invoice.paid', invoice);
    return out;
  }

  function advancePeriod(subscriptionId: string): FakeStripeEvent[] {
    const subscription = get(subscriptions, 'subscription', subscriptionId);
    if (subscription.status === 'canceled') throw new Error(`Subscription ${subscriptionId} is canceled`);
    const item = tierItemOf(subscription);
    const end = item.current_period_end;
    clock = Math.max(clock, end);
    const out: FakeStripeEvent[] = [];
    const before = clone(subscription);
    const cancel = () => {
      subscription.status = 'canceled';
      subscription.canceled_at = subscription.canceled_at ?? end;
      subscription.ended_at = end;
      subscription.cancel_at = null;
      emit(out, 'customer.subscription.deleted', subscription);
      return out;
    };
    if (subscription.cancel_at_period_end) return cancel();
    const schedule = subscription.schedule === null ? undefined : schedules.get(subscription.schedule);
    let price = item.price;
    if (schedule) {
      const next = schedule.phases.find((candidate) => candidate.start_date === end);
      const nextPrice = next?.items[0]?.price;
      if (next && nextPrice) {
        price = priceOf(nextPrice, 'phases');
        subscription.discounts = next.discounts.map((entry) => entry.discount);
        schedule.current_phase = { start_date: next.start_date, end_date: next.end_date };
      } else if (schedule.end_behavior === 'cancel') {
        schedule.status = 'canceled';
        schedule.canceled_at = end;
        subscription.schedule = null;
        return cancel();
      } else {
        releaseSchedule(schedule.id);
      }
    }
    item.price = clone(price);
    item.current_period_start = end;
    item.current_period_end = periodEnd(end, price);
    subscription.pending_update = null;
    if (subscription.status === 'trialing') subscription.status = 'active';
    const invoice = createInvoice(
      subscription,
      'subscription_cycle',
      [periodLine(subscription, item, price, end, item.current_period_end)],
      {
        start: before.items.data[0]?.current_period_start ?? end,
        end,
      },
    );
    if (!collect(invoice, subscription)) subscription.status = 'past_due';
    emit(out, 'customer.subscription.updated', subscription, {
      items: before.items,
      latest_invoice: before.latest_invoice,
      status: before.status,
    });
    emitInvoiceOutcome(out, invoice);
    return out;
  }

  function refund(paymentIntentId: string, amount?: number): FakeStripeEvent[] {
    const intent = get(intents, 'payment_intent', paymentIntentId);
    const target = intent.latest_charge === null ? undefined : charges.get(intent.latest_charge);
    if (!target) throw new Error(`PaymentIntent ${paymentIntentId} has no charge to refund`);
    const refundable = target.amount - target.amount_refunded;
    const value = amount ?? refundable;
    if (!Number.isSafeInteger(value) || value < 1 || value > refundable)
      throw new Error(`Refund of ${value} exceeds the ${refundable} left`);
    target.amount_refunded += value;
    target.refunded = target.amount_refunded === target.amount;
    const out: FakeStripeEvent[] = [];
    emit(out, 'charge.refunded', target, { amount_refunded: target.amount_refunded - value, refunded: false });
    return out;
  }

  // ---- Routing

  type Handler = (params: FormObject, match: RegExpExecArray) => unknown;
  const routes: [string, RegExp, Handler][] = [
    ['POST', /^\/v1\/customers$/, (params) => createCustomer(params)],
    ['GET', /^\/v1\/customers\/search$/, (params) => searchCustomers(params)],
    ['GET', /^\/v1\/customers\/([^/]+)\/payment_methods$/, (params, match) => listPaymentMethods(match[1] ?? '', params)],
    ['GET', /^\/v1\/customers\/([^/]+)$/, (params, match) => render(get(customers, 'customer', match[1] ?? ''), params)],
    ['POST', /^\/v1\/customers\/([^/]+)$/, (params, match) => render(updateCustomer(match[1] ?? '', params), params)],
    ['POST', /^\/v1\/coupons$/, (params) => render(createCoupon(params), params)],
    ['GET', /^\/v1\/coupons\/([^/]+)$/, (params, match) => render(get(coupons, 'coupon', match[1] ?? ''), params)],
    ['GET', /^\/v1\/prices\/([^/]+)$/, (params, match) => render(get(prices, 'price', match[1] ?? ''), params)],
    ['POST', /^\/v1\/checkout\/sessions$/, (params) => render(createSession(params), params)],
    [
      'GET',
      /^\/v1\/checkout\/sessions\/([^/]+)$/,
      (params, match) => render(get(sessions, 'checkout session', match[1] ?? '').session, params),
    ],
    ['POST', /^\/v1\/billing_portal\/sessions$/, (params) => portalSession(params)],
    ['GET', /^\/v1\/subscriptions\/([^/]+)$/, (params, match) => render(get(subscriptions, 'subscription', match[1] ?? ''), params)],
    ['POST', /^\/v1\/subscriptions\/([^/]+)$/, (params, match) => render(updateSubscription(match[1] ?? '', params, []), params)],
    ['POST', /^\/v1\/subscription_schedules$/, (params) => render(createSchedule(params), params)],
    [
      'GET',
      /^\/v1\/subscription_schedules\/([^/]+)$/,
      (params, match) => render(get(schedules, 'subscription schedule', match[1] ?? ''), params),
    ],
    ['POST', /^\/v1\/subscription_schedules\/([^/]+)\/release$/, (params, match) => render(releaseSchedule(match[1] ?? ''), params)],
    ['POST', /^\/v1\/subscription_schedules\/([^/]+)$/, (params, match) => render(updateSchedule(match[1] ?? '', params), params)],
    ['POST', /^\/v1\/invoices\/create_preview$/, (params) => render(previewInvoice(params), params)],
    ['GET', /^\/v1\/invoices\/([^/]+)$/, (params, match) => render(get(invoices, 'invoice', match[1] ?? ''), params)],
    ['POST', /^\/v1\/payment_intents$/, (params) => render(createPaymentIntent(params), params)],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (params, match) => render(get(intents, 'payment_intent', match[1] ?? ''), params)],
  ];

  function errorResponse(error: FakeError): Response {
    const body = {
      error: {
        type: error.type,
        message: error.message,
        ...(error.code ? { code: error.code } : {}),
        ...(error.param ? { param: error.param } : {}),
        ...error.extra,
      },
    };
    return HttpResponse.json(body, { status: error.status, headers: { 'request-id': nextId('req') } });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const text = method === 'GET' || method === 'DELETE' ? '' : await request.text();
    const params = parseForm(method === 'GET' || method === 'DELETE' ? url.searchParams : new URLSearchParams(text));
    const idempotencyKey = request.headers.get('idempotency-key');
    requests.push({ method, path: url.pathname, params, idempotencyKey, stripeVersion: request.headers.get('stripe-version') });

    if (!/^Bearer sk_test_\S+$/.test(request.headers.get('authorization') ?? '')) {
      return errorResponse(new FakeError(401, 'Invalid API Key provided', 'invalid_request_error', 'api_key_invalid'));
    }
    const failure = injected.shift();
    if (failure) {
      const type = failure.type ?? (failure.status >= 500 ? 'api_error' : 'invalid_request_error');
      return errorResponse(new FakeError(failure.status, failure.message ?? 'Injected failure', type, failure.code ?? null));
    }
    const signature = `${method} ${url.pathname} ${text}`;
    if (method === 'POST' && idempotencyKey) {
      const stored = idempotent.get(idempotencyKey);
      if (stored) {
        if (stored.signature !== signature) {
          return errorResponse(
            new FakeError(
              400,
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              'idempotency_error',
            ),
          );
        }
        return HttpResponse.json(stored.body as Record<string, unknown>, {
          status: stored.status,
          headers: { 'request-id': nextId('req'), 'idempotent-replayed': 'true' },
        });
      }
    }
    const route = routes.find(([routeMethod, pattern]) => routeMethod === method && pattern.test(url.pathname));
    const match = route ? route[1].exec(url.pathname) : null;
    if (!route || !match) return errorResponse(new FakeError(404, `Unrecognized request URL (${method}: ${url.pathname})`));
    try {
      const body = route[2](params, match);
      if (method === 'POST' && idempotencyKey) idempotent.set(idempotencyKey, { signature, status: 200, body });
      return HttpResponse.json(body as Record<string, unknown>, { headers: { 'request-id': nextId('req') } });
    } catch (error) {
      if (!(error instanceof FakeError)) throw error;
      const response = errorResponse(error);
      // Stripe saves the result of a request that ran, such as a decline, for replays of its key.
      if (method === 'POST' && idempotencyKey && error.status === 402) {
        idempotent.set(idempotencyKey, { signature, status: 402, body: await response.clone().json() });
      }
      return response;
    }
  }

  // ---- Snapshots and events for tests

  function snapshot<T>(value: unknown): T {
    return clone(value) as T;
  }

  function signEvent(
    built: FakeStripeEvent,
    signOptions: { secret?: string; timestamp?: number } = {},
  ): { rawBody: string; header: string } {
    const rawBody = JSON.stringify(built, null, 2);
    const header = Stripe.webhooks.generateTestHeaderString({
      payload: rawBody,
      secret: signOptions.secret ?? webhookSecret,
      timestamp: signOptions.timestamp ?? Math.floor(Date.now() / 1000),
    });
    return { rawBody, header };
  }

  return {
    handlers: [http.all(`${FAKE_STRIPE_API}/v1/*`, ({ request }) => handle(request))],
    webhookSecret,
    requests,
    events,
    client: () => new Stripe('sk_test_tally_fake', { httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 }),
    now: () => new Date(clock * 1000),
    setNow(at) {
      clock = Math.floor(at.getTime() / 1000);
    },
    advance(seconds) {
      clock += seconds;
    },
    setPrice,
    addCard,
    declineNextCharge: () => {
      outcomes.push('decline');
    },
    requireActionOnNextCharge: () => {
      outcomes.push('requires_action');
    },
    failNextRequest: (error) => {
      injected.push(error);
    },
    completeCheckout,
    payInvoice,
    advancePeriod,
    refund,
    customer: (id) => snapshot(get(customers, 'customer', id)),
    subscription: (id) => snapshot(get(subscriptions, 'subscription', id)),
    invoice: (id) => snapshot(get(invoices, 'invoice', id)),
    paymentIntent: (id) => snapshot(get(intents, 'payment_intent', id)),
    schedule: (id) => snapshot(get(schedules, 'subscription schedule', id)),
    checkoutSession: (id) => snapshot(get(sessions, 'checkout session', id).session),
    coupon: (id) => snapshot(get(coupons, 'coupon', id)),
    checkoutSessionEvent: (id, type = 'checkout.session.completed') => event(type, get(sessions, 'checkout session', id).session),
    subscriptionEvent: (id, type, previous) => event(`customer.subscription.${type}`, get(subscriptions, 'subscription', id), previous),
    invoiceEvent: (id, type) => event(`invoice.${type}`, get(invoices, 'invoice', id)),
    chargeEvent: (id, type) => event(`charge.${type}`, get(charges, 'charge', id)),
    signEvent,
    webhookRequest(built, requestOptions = {}) {
      const { rawBody, header } = signEvent(built, requestOptions);
      return new Request(requestOptions.url ?? 'https://app.example/v1/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': header },
        body: rawBody,
      });
    },
  };
}
