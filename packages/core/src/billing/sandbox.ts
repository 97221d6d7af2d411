import { type Catalog, findTier } from '../catalog/schema.js';
import { hmacSha256 } from '../crypto/hmac.js';
import { TallyError } from '../errors/index.js';
import { previewTierChange } from '../proration/preview.js';
import { addInterval, type Clock, systemClock } from '../time/index.js';
import type {
  CheckoutSession,
  CreditPackCheckoutInput,
  ImmediateUpgradeInput,
  ImmediateUpgradeResult,
  InvoiceLine,
  OffSessionChargeInput,
  OffSessionChargeResult,
  PaymentEvent,
  PaymentProvider,
  SubscriptionCheckoutInput,
  SubscriptionRecord,
} from './types.js';

export const SANDBOX_SIGNATURE_HEADER = 'tally-sandbox-signature';
const TOLERANCE_SECONDS = 300;
const ID_TAG = /^[a-z0-9]{1,16}$/;
const RETRY_DAYS = [3, 5, 7];

type Distribute<T> = T extends unknown ? Omit<T, 'id' | 'provider' | 'created'> : never;
type EventBody = Distribute<PaymentEvent>;

interface SandboxCustomer {
  customerId: string;
  providerCustomerId: string;
  paymentMethod: boolean;
  /** The next this many charges are declined. */
  declines: number;
}

interface SandboxSubscription {
  id: string;
  customerId: string;
  providerCustomerId: string;
  tier: string;
  status: 'active' | 'past_due' | 'canceled' | 'incomplete';
  periodStart: Date;
  periodEnd: Date;
  /** A downgrade (tier) or a cancel (null) at period end. */
  scheduled: { tier: string | null } | null;
  /** A percent-off coupon: the next `periods` renewals are discounted. */
  discount: { percentOffBps: number; periods: number } | null;
  /** The open renewal invoice while past due. */
  open: { invoiceId: string; amountCents: bigint; attempts: number; nextAttemptAt: Date | null; lines: InvoiceLine[] } | null;
}

interface SandboxCheckout {
  id: string;
  customerId: string;
  providerCustomerId: string;
  purpose: { mode: 'subscription'; tier: string } | { mode: 'payment'; packId: string };
  status: 'open' | 'complete';
  url: string;
}

interface SandboxPayment {
  id: string;
  customerId: string;
  packId: string | null;
  amountCents: bigint;
  refundedCents: bigint;
}

export interface SandboxProviderOptions {
  catalog: Catalog;
  clock?: Clock;
  /** Signs webhooks like Stripe does (HMAC-SHA256 over `t.body`). Default `whsec_sandbox`. */
  webhookSecret?: string;
  /** Where checkout and portal pages live in your app (the demo serves them). */
  pagesUrl?: string;
  /**
   * Put into every id the sandbox makes (`cs_sbx_<tag>_1`, `evt_sbx_<tag>_1`, …), 1–16 lower-case
   * letters and digits. The sandbox keeps its state in memory and counts ids from 1: one started
   * afresh over a database an earlier one wrote to needs a tag of its own, or its events would be
   * taken for ones already applied and its invoice and payment ids would key grants already made.
   */
  idTag?: string;
  /**
   * Called with every event the sandbox emits, in order, as it happens: hand it to
   * `billing.applyEvent`, or sign it with `webhook()` and POST it to your webhook route.
   */
  onEvent?: (event: PaymentEvent) => unknown;
}

export type SandboxProvider = ReturnType<typeof createSandboxProvider>;

/** JSON with bigints and dates kept: `{"$b":"123"}`, `{"$d":"2026-…Z"}`. */
export function encodeEvent(event: PaymentEvent): string {
  return JSON.stringify(event, function replace(this: Record<string, unknown>, key, value) {
    const raw = this[key];
    if (raw instanceof Date) return { $d: raw.toISOString() };
    if (typeof value === 'bigint') return { $b: value.toString() };
    return value;
  });
}

function decodeEvent(text: string): PaymentEvent {
  return JSON.parse(text, (_key, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (typeof value.$d === 'string') return new Date(value.$d);
      if (typeof value.$b === 'string' && /^-?\d+$/.test(value.$b)) return BigInt(value.$b);
    }
    return value;
  }) as PaymentEvent;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const bytes = await hmacSha256(encoder.encode(secret))(encoder.encode(message));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * A payment provider that runs in memory: checkout pages that succeed when completed, cards that can
 * be told to decline, renewals and retries when `runBilling()` is called, and Stripe-like events (with
 * strictly increasing `created` times) for everything. For the demo and for tests; Stripe is in
 * `@tally/adapters/stripe`.
 */
export function createSandboxProvider(options: SandboxProviderOptions) {
  const { catalog } = options;
  const clock = options.clock ?? systemClock;
  const secret = options.webhookSecret ?? 'whsec_sandbox';
  const pagesUrl = (options.pagesUrl ?? '/sandbox').replace(/\/$/, '');
  if (options.idTag !== undefined && !ID_TAG.test(options.idTag)) {
    throw new TallyError('VALIDATION', 'idTag must be 1-16 lower-case letters and digits', { details: { field: 'idTag' } });
  }
  const tag = options.idTag === undefined ? '' : `${options.idTag}_`;
  const customers = new Map<string, SandboxCustomer>();
  const subscriptions = new Map<string, SandboxSubscription>();
  const checkouts = new Map<string, SandboxCheckout>();
  const payments = new Map<string, SandboxPayment>();
  const byIdempotencyKey = new Map<string, unknown>();
  const log: PaymentEvent[] = [];
  const counters = { event: 0, object: 0, created: 0 };
  const nextId = (prefix: string) => `${prefix}_sbx_${tag}${++counters.object}`;

  async function emit(body: EventBody): Promise<PaymentEvent> {
    // Strictly increasing event times, as the newest-state-wins rule needs distinct `created`s.
    const created = new Date(Math.max(clock.now().getTime(), counters.created + 1));
    counters.created = created.getTime();
    const event = { ...body, id: `evt_sbx_${tag}${++counters.event}`, provider: 'sandbox', created } as PaymentEvent;
    log.push(event);
    await options.onEvent?.(event);
    return event;
  }

  function customerRecord(providerCustomerId: string): SandboxCustomer {
    const record = customers.get(providerCustomerId);
    if (!record) throw new TallyError('NOT_FOUND', `Unknown sandbox customer "${providerCustomerId}"`);
    return record;
  }

  function subscriptionRecord(id: string): SandboxSubscription {
    const record = subscriptions.get(id);
    if (!record) throw new TallyError('NOT_FOUND', `Unknown sandbox subscription "${id}"`);
    return record;
  }

  /** A charge on the saved card: declined while the customer has declines queued or no card. */
  function charge(customer: SandboxCustomer): boolean {
    if (!customer.paymentMethod) return false;
    if (customer.declines > 0) {
      customer.declines--;
      return false;
    }
    return true;
  }

  function subscriptionState(sub: SandboxSubscription): EventBody {
    return {
      type: 'subscription.updated',
      customerId: sub.customerId,
      providerCustomerId: sub.providerCustomerId,
      providerSubscriptionId: sub.id,
      tier: sub.tier,
      status: sub.status,
      currentPeriodStart: sub.periodStart,
      currentPeriodEnd: sub.periodEnd,
      trialEnd: null,
      cancelAtPeriodEnd: sub.scheduled !== null && sub.scheduled.tier === null,
    };
  }

  const paidInvoice = (
    sub: SandboxSubscription,
    invoiceId: string,
    billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update',
    lines: InvoiceLine[],
    amountPaidCents: bigint,
  ): EventBody => ({
    type: 'invoice.paid',
    customerId: sub.customerId,
    providerSubscriptionId: sub.id,
    invoiceId,
    billingReason,
    lines,
    amountPaidCents,
  });

  const failedInvoice = (
    sub: SandboxSubscription,
    invoiceId: string,
    attemptCount: number,
    nextAttemptAt: Date | null,
    amountDueCents: bigint,
  ): EventBody => ({
    type: 'invoice.payment_failed',
    customerId: sub.customerId,
    providerSubscriptionId: sub.id,
    invoiceId,
    attemptCount,
    nextAttemptAt,
    amountDueCents,
  });

  const periodLine = (sub: SandboxSubscription): InvoiceLine => ({
    tier: sub.tier,
    proration: false,
    amountCents: findTier(catalog, sub.tier).price,
    periodStart: sub.periodStart,
    periodEnd: sub.periodEnd,
  });

  /** Renews one subscription whose period is over, or retries its open invoice. */
  async function bill(sub: SandboxSubscription, at: Date): Promise<void> {
    const customer = customerRecord(sub.providerCustomerId);
    if (sub.status !== 'past_due' && sub.periodEnd.getTime() <= at.getTime()) {
      if (sub.scheduled?.tier === null) {
        sub.status = 'canceled';
        await emit({ type: 'subscription.deleted', customerId: sub.customerId, providerSubscriptionId: sub.id, endedAt: sub.periodEnd });
        return;
      }
      if (sub.scheduled?.tier) sub.tier = sub.scheduled.tier;
      sub.scheduled = null;
      const tier = findTier(catalog, sub.tier);
      sub.periodStart = sub.periodEnd;
      sub.periodEnd = addInterval(sub.periodStart, tier.interval);
      const lines = [periodLine(sub)];
      const invoiceId = nextId('in');
      const amountCents = renewalAmount(sub, tier.price);
      if (charge(customer)) {
        await emit(subscriptionState(sub));
        await emit(paidInvoice(sub, invoiceId, 'subscription_cycle', lines, amountCents));
        return;
      }
      sub.status = 'past_due';
      sub.open = {
        invoiceId,
        amountCents,
        attempts: 1,
        nextAttemptAt: new Date(at.getTime() + (RETRY_DAYS[0] as number) * 86_400_000),
        lines,
      };
      await emit(subscriptionState(sub));
      await emit(failedInvoice(sub, invoiceId, 1, sub.open.nextAttemptAt, amountCents));
      return;
    }
    const open = sub.open;
    if (sub.status !== 'past_due' || !open || !open.nextAttemptAt || open.nextAttemptAt.getTime() > at.getTime()) return;
    await retryOpenInvoice(sub, open, at);
  }

  /** A renewal's price after a percent-off discount (rounded half-up to the cent), counting the period used. */
  function renewalAmount(sub: SandboxSubscription, price: bigint): bigint {
    const discount = sub.discount;
    if (!discount || discount.periods <= 0) return price;
    discount.periods--;
    const off = (2n * price * BigInt(discount.percentOffBps) + 10_000n) / 20_000n;
    return price - off;
  }

  async function retryOpenInvoice(sub: SandboxSubscription, open: NonNullable<SandboxSubscription['open']>, at: Date): Promise<boolean> {
    const customer = customerRecord(sub.providerCustomerId);
    open.attempts++;
    if (charge(customer)) {
      sub.status = 'active';
      sub.open = null;
      await emit(paidInvoice(sub, open.invoiceId, 'subscription_cycle', open.lines, open.amountCents));
      await emit(subscriptionState(sub));
      return true;
    }
    const wait = RETRY_DAYS[open.attempts - 1];
    open.nextAttemptAt = wait === undefined ? null : new Date(at.getTime() + wait * 86_400_000);
    await emit(failedInvoice(sub, open.invoiceId, open.attempts, open.nextAttemptAt, open.amountCents));
    return false;
  }

  /** A hosted checkout page, once per idempotency key. */
  function openCheckout(
    input: { customerId: string; providerCustomerId: string; idempotencyKey: string },
    purpose: SandboxCheckout['purpose'],
  ): CheckoutSession {
    customerRecord(input.providerCustomerId);
    return once(input.idempotencyKey, () => {
      const id = nextId('cs');
      const url = `${pagesUrl}/checkout/${id}`;
      checkouts.set(id, { id, customerId: input.customerId, providerCustomerId: input.providerCustomerId, purpose, status: 'open', url });
      return { id, url };
    });
  }

  function once<T>(key: string, make: () => T): T {
    if (byIdempotencyKey.has(key)) return byIdempotencyKey.get(key) as T;
    const value = make();
    byIdempotencyKey.set(key, value);
    return value;
  }

  const provider: PaymentProvider = {
    id: 'sandbox',

    async ensureCustomer(input) {
      const providerCustomerId = `cus_sbx_${input.customerId}`;
      if (!customers.has(providerCustomerId)) {
        customers.set(providerCustomerId, { customerId: input.customerId, providerCustomerId, paymentMethod: false, declines: 0 });
      }
      return { providerCustomerId };
    },

    hasPaymentMethod: async (providerCustomerId) => customerRecord(providerCustomerId).paymentMethod,

    async createSubscriptionCheckout(input: SubscriptionCheckoutInput): Promise<CheckoutSession> {
      findTier(catalog, input.tier);
      return openCheckout(input, { mode: 'subscription', tier: input.tier });
    },

    async upgradeNow(input: ImmediateUpgradeInput): Promise<ImmediateUpgradeResult> {
      const existing = byIdempotencyKey.get(input.idempotencyKey) as ImmediateUpgradeResult | undefined;
      if (existing) return existing;
      const sub = subscriptionRecord(input.providerSubscriptionId);
      const customer = customerRecord(sub.providerCustomerId);
      const change = previewTierChange({
        catalog,
        subscription: { tier: sub.tier, status: 'active', currentPeriodStart: sub.periodStart, currentPeriodEnd: sub.periodEnd },
        toTier: input.tier,
        at: input.prorationDate,
        timing: 'immediate',
      });
      const invoiceId = nextId('in');
      const amountDueCents = change.amountDue.amount;
      if (!charge(customer)) {
        await emit(failedInvoice(sub, invoiceId, 1, null, amountDueCents));
        const failed: ImmediateUpgradeResult = {
          invoiceId,
          status: 'failed',
          amountDueCents,
          hostedInvoiceUrl: `${pagesUrl}/invoice/${invoiceId}`,
        };
        byIdempotencyKey.set(input.idempotencyKey, failed);
        return failed;
      }
      const lines: InvoiceLine[] = change.lines.map((line) => ({
        tier: line.tier,
        proration: line.kind !== 'new_period',
        amountCents: line.amount.amount,
        periodStart: line.start,
        periodEnd: line.end,
      }));
      sub.tier = change.to;
      sub.scheduled = null;
      if (change.newPeriod) {
        sub.periodStart = change.newPeriod.start;
        sub.periodEnd = change.newPeriod.end;
      }
      await emit(subscriptionState(sub));
      await emit(paidInvoice(sub, invoiceId, 'subscription_update', lines, amountDueCents));
      const paid: ImmediateUpgradeResult = { invoiceId, status: 'paid', amountDueCents, hostedInvoiceUrl: null };
      byIdempotencyKey.set(input.idempotencyKey, paid);
      return paid;
    },

    async scheduleAtPeriodEnd(input) {
      const sub = subscriptionRecord(input.providerSubscriptionId);
      if (input.tier !== null) findTier(catalog, input.tier);
      const wasCancel = sub.scheduled?.tier === null;
      sub.scheduled = { tier: input.tier };
      if (input.tier === null && !wasCancel) await emit(subscriptionState(sub));
    },

    async unschedule(input) {
      const sub = subscriptionRecord(input.providerSubscriptionId);
      const wasCancel = sub.scheduled?.tier === null;
      sub.scheduled = null;
      if (wasCancel) await emit(subscriptionState(sub));
    },

    async applyDiscount(input) {
      if (byIdempotencyKey.has(input.idempotencyKey)) return;
      const sub = subscriptionRecord(input.providerSubscriptionId);
      if (!Number.isSafeInteger(input.percentOffBps) || input.percentOffBps < 1 || input.percentOffBps > 10_000) {
        throw new TallyError('VALIDATION', 'percentOffBps must be 1-10000');
      }
      sub.discount = { percentOffBps: input.percentOffBps, periods: input.durationPeriods };
      byIdempotencyKey.set(input.idempotencyKey, true);
    },

    async createPortalSession(input) {
      customerRecord(input.providerCustomerId);
      return { url: `${pagesUrl}/portal/${input.providerCustomerId}?return=${encodeURIComponent(input.returnUrl)}` };
    },

    async createCreditPackCheckout(input: CreditPackCheckoutInput): Promise<CheckoutSession> {
      if (!catalog.packs.some((p) => p.id === input.packId)) throw new TallyError('NOT_FOUND', `Unknown credit pack "${input.packId}"`);
      return openCheckout(input, { mode: 'payment', packId: input.packId });
    },

    async chargeOffSession(input: OffSessionChargeInput): Promise<OffSessionChargeResult> {
      const existing = byIdempotencyKey.get(input.idempotencyKey) as OffSessionChargeResult | undefined;
      if (existing) return existing;
      const pack = catalog.packs.find((p) => p.id === input.packId);
      if (!pack) throw new TallyError('NOT_FOUND', `Unknown credit pack "${input.packId}"`);
      const customer = customerRecord(input.providerCustomerId);
      let result: OffSessionChargeResult;
      if (charge(customer)) {
        const id = nextId('pi');
        payments.set(id, { id, customerId: input.customerId, packId: pack.id, amountCents: pack.price, refundedCents: 0n });
        result = { status: 'succeeded', paymentId: id, failureMessage: null };
      } else {
        result = {
          status: 'failed',
          paymentId: null,
          failureMessage: customer.paymentMethod ? 'Your card was declined.' : 'No saved payment method.',
        };
      }
      byIdempotencyKey.set(input.idempotencyKey, result);
      return result;
    },

    async parseWebhook({ rawBody, headers }) {
      const header = headers.get(SANDBOX_SIGNATURE_HEADER);
      const parts = new Map((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
      const t = Number(parts.get('t'));
      const v1 = parts.get('v1');
      if (!header || !Number.isSafeInteger(t) || !v1) {
        throw new TallyError('WEBHOOK_SIGNATURE_INVALID', `Missing or malformed ${SANDBOX_SIGNATURE_HEADER} header`);
      }
      if (Math.floor(clock.now().getTime() / 1000) - t > TOLERANCE_SECONDS) {
        throw new TallyError('WEBHOOK_SIGNATURE_INVALID', 'Webhook timestamp is outside the tolerance zone');
      }
      if (!constantTimeEqual(await hmacHex(secret, `${t}.${rawBody}`), v1)) {
        throw new TallyError('WEBHOOK_SIGNATURE_INVALID', 'No signature matches the payload');
      }
      try {
        return decodeEvent(rawBody);
      } catch (error) {
        throw new TallyError('VALIDATION', 'Webhook body is not a sandbox event', { cause: error });
      }
    },
  };

  return {
    ...provider,

    /** The hosted page's "Pay" button: saves a card, takes the payment and emits the events. */
    async completeCheckout(checkoutId: string): Promise<void> {
      const checkout = checkouts.get(checkoutId);
      if (!checkout) throw new TallyError('NOT_FOUND', `Unknown sandbox checkout "${checkoutId}"`);
      if (checkout.status === 'complete') throw new TallyError('CONFLICT', `Checkout "${checkoutId}" is already complete`);
      const customer = customerRecord(checkout.providerCustomerId);
      customer.paymentMethod = true;
      const at = clock.now();
      if (checkout.purpose.mode === 'payment') {
        const pack = catalog.packs.find((p) => p.id === (checkout.purpose as { packId: string }).packId);
        if (!pack) throw new TallyError('NOT_FOUND', 'The pack of this checkout is gone');
        if (!charge(customer)) throw new TallyError('PAYMENT_FAILED', 'Your card was declined.');
        checkout.status = 'complete';
        const id = nextId('pi');
        payments.set(id, { id, customerId: checkout.customerId, packId: pack.id, amountCents: pack.price, refundedCents: 0n });
        await emit({
          type: 'checkout.completed',
          mode: 'payment',
          customerId: checkout.customerId,
          providerCustomerId: checkout.providerCustomerId,
          checkoutId,
          packId: pack.id,
          paymentId: id,
          amountCents: pack.price,
          currency: catalog.currency,
        });
        return;
      }
      const tier = findTier(catalog, checkout.purpose.tier);
      if (!charge(customer)) throw new TallyError('PAYMENT_FAILED', 'Your card was declined.');
      checkout.status = 'complete';
      // A customer has one sandbox subscription: a new checkout replaces the old one.
      for (const sub of subscriptions.values()) {
        if (sub.customerId === checkout.customerId && sub.status !== 'canceled') sub.status = 'canceled';
      }
      const sub: SandboxSubscription = {
        id: nextId('sub'),
        customerId: checkout.customerId,
        providerCustomerId: checkout.providerCustomerId,
        tier: tier.id,
        status: 'active',
        periodStart: at,
        periodEnd: addInterval(at, tier.interval),
        scheduled: null,
        discount: null,
        open: null,
      };
      subscriptions.set(sub.id, sub);
      await emit({
        type: 'checkout.completed',
        mode: 'subscription',
        customerId: sub.customerId,
        providerCustomerId: sub.providerCustomerId,
        providerSubscriptionId: sub.id,
        checkoutId,
      });
      await emit(subscriptionState(sub));
      await emit(paidInvoice(sub, nextId('in'), 'subscription_create', [periodLine(sub)], tier.price));
    },

    /**
     * Takes over a subscription of this provider that the sandbox did not make: one saved while an
     * earlier process ran (the sandbox's state lives in memory) or written by `applySampleData`. Its
     * customer gets a card on file when the subscription is paid through the provider. A canceled
     * subscription only brings its customer; one the sandbox knows already changes nothing. A record
     * of another provider, or without a provider customer: `VALIDATION`.
     */
    restore(record: SubscriptionRecord): void {
      if (record.provider !== 'sandbox' || record.providerCustomerId === null) {
        throw new TallyError('VALIDATION', `The subscription of "${record.customerId}" is not a sandbox subscription`);
      }
      const tier = findTier(catalog, record.tier);
      const providerCustomerId = record.providerCustomerId;
      const id = record.status === 'canceled' ? null : record.providerSubscriptionId;
      if (!customers.has(providerCustomerId)) {
        customers.set(providerCustomerId, { customerId: record.customerId, providerCustomerId, paymentMethod: id !== null, declines: 0 });
      }
      if (id === null || subscriptions.has(id)) return;
      subscriptions.set(id, {
        id,
        customerId: record.customerId,
        providerCustomerId,
        tier: tier.id,
        status: record.status === 'past_due' ? 'past_due' : 'active',
        periodStart: record.currentPeriodStart,
        periodEnd: record.currentPeriodEnd,
        scheduled: record.scheduledChange ? { tier: record.scheduledChange.tier } : null,
        discount: null,
        open: null,
      });
    },

    /** Renews subscriptions whose period is over and retries open invoices that are due, as a biller's clock would. */
    async runBilling(): Promise<void> {
      const at = clock.now();
      for (const sub of subscriptions.values()) {
        if (sub.status !== 'canceled') await bill(sub, at);
      }
    },

    /** Pays a past-due subscription's open invoice now (the customer updated their card). */
    async payOpenInvoice(providerSubscriptionId: string): Promise<boolean> {
      const sub = subscriptionRecord(providerSubscriptionId);
      if (!sub.open) throw new TallyError('CONFLICT', 'The subscription has no open invoice');
      return retryOpenInvoice(sub, sub.open, clock.now());
    },

    /** The next `count` charges of the customer are declined. */
    declineNextCharges(providerCustomerId: string, count = 1): void {
      customerRecord(providerCustomerId).declines += count;
    },

    /** Saves (or removes) a card, as the portal page does. */
    setPaymentMethod(providerCustomerId: string, present: boolean): void {
      customerRecord(providerCustomerId).paymentMethod = present;
    },

    /** Refunds part or all of a payment; emits `charge.refunded` with the cumulative amount. */
    async refund(paymentId: string, amountCents: bigint): Promise<void> {
      const payment = payments.get(paymentId);
      if (!payment) throw new TallyError('NOT_FOUND', `Unknown sandbox payment "${paymentId}"`);
      if (amountCents <= 0n || payment.refundedCents + amountCents > payment.amountCents) {
        throw new TallyError('VALIDATION', 'A refund is positive and at most what is left of the payment');
      }
      payment.refundedCents += amountCents;
      await emit({
        type: 'charge.refunded',
        customerId: payment.customerId,
        paymentId,
        amountRefundedCents: payment.refundedCents,
        currency: catalog.currency,
      });
    },

    /** Signs an event as a webhook request body and headers. */
    async webhook(event: PaymentEvent): Promise<{ rawBody: string; headers: Headers }> {
      const rawBody = encodeEvent(event);
      const t = Math.floor(clock.now().getTime() / 1000);
      const headers = new Headers({ 'content-type': 'application/json' });
      headers.set(SANDBOX_SIGNATURE_HEADER, `t=${t},v1=${await hmacHex(secret, `${t}.${rawBody}`)}`);
      return { rawBody, headers };
    },

    checkout: (id: string) => checkouts.get(id) ?? null,
    subscriptionOf: (customerId: string) =>
      [...subscriptions.values()].find((s) => s.customerId === customerId && s.status !== 'canceled') ?? null,
    payment: (id: string) => payments.get(id) ?? null,
    /** Every event emitted so far, oldest first. */
    events: (): readonly PaymentEvent[] => log,
  };
}
