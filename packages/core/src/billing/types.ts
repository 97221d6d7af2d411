/**
 * Subscriptions, payments and coupons: the records core keeps and the ports that adapters implement.
 * Semantics: docs/billing.md. Amounts of money are bigint minor units (cents); credits are micros.
 */
import type { GrantResult } from '../ledger/types.js';
import type { BillingInterval } from '../time/index.js';

export const SUBSCRIPTION_STATUSES = ['trialing', 'active', 'past_due', 'canceled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A change that takes effect at the end of the current period (downgrade or cancel); undoable until then. */
export interface ScheduledChange {
  /** The tier the customer moves to at period end, or `null` to cancel. */
  tier: string | null;
  at: Date;
}

export interface SubscriptionRecord {
  customerId: string;
  tier: string;
  status: SubscriptionStatus;
  interval: BillingInterval;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  trialEnd: Date | null;
  scheduledChange: ScheduledChange | null;
  /** When the first failed payment of the current run of failures happened; grace runs from here. */
  pastDueSince: Date | null;
  /** `sandbox`, `stripe`, … */
  provider: string;
  providerCustomerId: string | null;
  providerSubscriptionId: string | null;
  /**
   * The provider's `created` time of the newest event applied to this record. Events older than this
   * for the same object are stale and are ignored, which makes webhook handling order-independent.
   */
  providerStateAt: Date | null;
  /** Optimistic-concurrency version: 1 on create, +1 on every save. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

// ---- Coupons

export type CouponBenefit =
  | { type: 'credits'; amountMicros: bigint /** Days the coupon bucket lasts; null = no expiry. */; expiresInDays: number | null }
  | {
      type: 'percent_off' /** 1–10000 basis points of the next invoices. */;
      percentOffBps: number /** Billing periods it applies to. */;
      durationPeriods: number;
    };

export interface CouponDefinition {
  /** Case-insensitive code, stored upper-case: `WELCOME10`. */
  code: string;
  benefit: CouponBenefit;
  /** Total redemptions allowed; null = unlimited. */
  maxRedemptions: number | null;
  /** Redeemable before this time; null = no end. */
  expiresAt: Date | null;
  /** Tiers that may redeem it; empty = every tier. */
  tiers: string[];
}

export interface Coupon extends CouponDefinition {
  redemptions: number;
  active: boolean;
  createdAt: Date;
}

export interface CouponRedemption {
  id: string;
  code: string;
  customerId: string;
  benefit: CouponBenefit;
  /** The coupon bucket's grant, for credit coupons. */
  bucketId: string | null;
  createdAt: Date;
}

// ---- Payment provider port (sandbox in core, Stripe in @tally/adapters/stripe)

export interface ProviderCustomerInput {
  customerId: string;
  email?: string | null;
  name?: string | null;
}

export interface CheckoutUrls {
  successUrl: string;
  cancelUrl: string;
}

export interface SubscriptionCheckoutInput extends CheckoutUrls {
  customerId: string;
  providerCustomerId: string;
  tier: string;
  /** Trial days for a first subscription; 0 for none. */
  trialDays: number;
  idempotencyKey: string;
}

export interface CreditPackCheckoutInput extends CheckoutUrls {
  customerId: string;
  providerCustomerId: string;
  packId: string;
  idempotencyKey: string;
}

export interface CheckoutSession {
  id: string;
  url: string;
}

export interface ImmediateUpgradeInput {
  customerId: string;
  providerSubscriptionId: string;
  tier: string;
  /** Prorations are computed as of this time (Stripe's `proration_date`), the same time Tally's preview used. */
  prorationDate: Date;
  idempotencyKey: string;
}

export interface ImmediateUpgradeResult {
  invoiceId: string | null;
  /** `paid`: the upgrade is done (the `invoice.paid` webhook confirms it); otherwise the customer must act. */
  status: 'paid' | 'open' | 'requires_action' | 'failed';
  amountDueCents: bigint;
  /** Where the customer can pay when the charge did not go through at once. */
  hostedInvoiceUrl: string | null;
}

export interface DiscountInput {
  customerId: string;
  providerSubscriptionId: string;
  /** The Tally coupon code, upper-case; providers may name their own coupon object after it. */
  couponCode: string;
  /** 1–10000 basis points. */
  percentOffBps: number;
  /** Billing periods (invoices) the discount applies to. */
  durationPeriods: number;
  idempotencyKey: string;
}

export interface OffSessionChargeInput {
  customerId: string;
  providerCustomerId: string;
  packId: string;
  idempotencyKey: string;
}

export interface OffSessionChargeResult {
  status: 'succeeded' | 'failed';
  paymentId: string | null;
  failureMessage: string | null;
}

/**
 * One subscription line of a paid invoice. A whole period has `proration: false` and covers
 * [periodStart, periodEnd); a proration (Stripe's `create_prorations`) covers [change time, period end)
 * and is negative for the old tier (unused time) and positive for the new one (remaining time).
 */
export interface InvoiceLine {
  tier: string;
  proration: boolean;
  amountCents: bigint;
  periodStart: Date;
  periodEnd: Date;
}

/** Normalised provider events. `created` is the provider's event time; `id` its event id. */
export type PaymentEvent = { id: string; provider: string; created: Date } & (
  | {
      type: 'checkout.completed';
      mode: 'subscription';
      customerId: string;
      providerCustomerId: string;
      providerSubscriptionId: string;
      checkoutId: string;
    }
  | {
      type: 'checkout.completed';
      mode: 'payment';
      customerId: string;
      providerCustomerId: string | null;
      checkoutId: string;
      packId: string;
      /** The payment (Stripe: PaymentIntent) a refund will name. */
      paymentId: string;
      amountCents: bigint;
      currency: string;
    }
  | {
      /** `customer.subscription.created|updated`: the object's whole current state. */
      type: 'subscription.updated';
      customerId: string;
      providerCustomerId: string;
      providerSubscriptionId: string;
      tier: string;
      status: 'trialing' | 'active' | 'past_due' | 'canceled' | 'incomplete' | 'unpaid' | 'paused';
      currentPeriodStart: Date;
      currentPeriodEnd: Date;
      trialEnd: Date | null;
      cancelAtPeriodEnd: boolean;
    }
  | { type: 'subscription.deleted'; customerId: string; providerSubscriptionId: string; endedAt: Date }
  | {
      type: 'invoice.paid';
      customerId: string;
      providerSubscriptionId: string | null;
      invoiceId: string;
      billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'other';
      /** The subscription lines the invoice pays for: a period of a tier, or a proration of one. */
      lines: InvoiceLine[];
      amountPaidCents: bigint;
    }
  | {
      type: 'invoice.payment_failed';
      customerId: string;
      providerSubscriptionId: string | null;
      invoiceId: string;
      attemptCount: number;
      nextAttemptAt: Date | null;
      amountDueCents: bigint;
    }
  | {
      type: 'charge.refunded';
      customerId: string;
      paymentId: string /** Cumulative: all refunds of the payment so far. */;
      amountRefundedCents: bigint;
      currency: string;
    }
  | { type: 'ignored'; providerType: string }
);

export interface PaymentProvider {
  /** `sandbox`, `stripe`, … stored on subscriptions. */
  readonly id: string;
  ensureCustomer(input: ProviderCustomerInput): Promise<{ providerCustomerId: string }>;
  hasPaymentMethod(providerCustomerId: string): Promise<boolean>;
  /** A hosted page where the customer enters a card and subscribes (no card on file). */
  createSubscriptionCheckout(input: SubscriptionCheckoutInput): Promise<CheckoutSession>;
  /** Changes the price now and charges the proration at once (card on file). */
  upgradeNow(input: ImmediateUpgradeInput): Promise<ImmediateUpgradeResult>;
  /** Puts a downgrade (`tier`) or a cancel (`tier: null`) at the end of the current period. */
  scheduleAtPeriodEnd(input: { providerSubscriptionId: string; tier: string | null; idempotencyKey: string }): Promise<void>;
  /** Undoes a scheduled downgrade or cancel. */
  unschedule(input: { providerSubscriptionId: string; idempotencyKey: string }): Promise<void>;
  /** A page where the customer manages payment methods. */
  createPortalSession(input: { providerCustomerId: string; returnUrl: string }): Promise<{ url: string }>;
  createCreditPackCheckout(input: CreditPackCheckoutInput): Promise<CheckoutSession>;
  /**
   * Takes `percentOffBps` off the subscription's next `durationPeriods` invoices (a percent-off coupon).
   * Prorations are not discounted (Stripe marks them `discountable: false`). Idempotent by key.
   */
  applyDiscount(input: DiscountInput): Promise<void>;
  /** Charges the saved card without the customer present (auto-recharge). */
  chargeOffSession(input: OffSessionChargeInput): Promise<OffSessionChargeResult>;
  /**
   * Verifies a webhook's signature and normalises the event. A bad or missing signature throws
   * `TallyError('WEBHOOK_SIGNATURE_INVALID')`; nothing is applied.
   */
  parseWebhook(input: { rawBody: string; headers: Headers }): Promise<PaymentEvent>;
}

// ---- What the billing service needs from storage (part of `TallyStore`; semantics in docs/billing.md)

export interface AutoRechargeSettings {
  customerId: string;
  enabled: boolean;
  /** Recharge when the available balance falls below this. */
  thresholdMicros: bigint;
  packId: string;
  /** At most this many recharges per calendar month (UTC). */
  maxPerMonth: number;
  updatedAt: Date;
}

export interface PackPurchase {
  paymentId: string;
  customerId: string;
  packId: string;
  priceCents: bigint;
  creditsMicros: bigint;
  bucketId: string;
  /** Cumulative refunds seen for the payment. */
  refundedCents: bigint;
  /** Credits taken back so far because of refunds. */
  clawedBackMicros: bigint;
  createdAt: Date;
}

export interface RedeemCouponCommand {
  code: string;
  customerId: string;
  /** The customer's tier now (checked against the coupon's tier restriction). */
  tier: string;
  at: Date;
  idempotencyKey: string;
  request: string;
}

export interface PurchaseCreditsCommand {
  paymentId: string;
  customerId: string;
  packId: string;
  priceCents: bigint;
  creditsMicros: bigint;
  at: Date;
  idempotencyKey: string;
  request: string;
}

export interface RefundPurchaseCommand {
  paymentId: string;
  /** Cumulative refunded amount of the payment (Stripe's `amount_refunded`). */
  refundedCents: bigint;
  at: Date;
  idempotencyKey: string;
  request: string;
}

export interface BillingStore {
  getSubscription(customerId: string): Promise<SubscriptionRecord | null>;
  /**
   * Inserts (`expectedVersion` null; `record.version` must be 1) or replaces the subscription when the
   * stored version equals `expectedVersion` (`record.version` must be expectedVersion + 1); otherwise
   * `CONFLICT`. Appends the saved state to the subscription history and, in the same transaction,
   * enqueues a `subscription.updated` outbox message (dedupe key `subscription.updated:<customer>:<version>`).
   */
  saveSubscription(record: SubscriptionRecord, expectedVersion: number | null): Promise<SubscriptionRecord>;
  /** Subscriptions whose period ended at or before `at`, or past-due ones whose grace started at or before `pastDueBefore`. */
  listDueSubscriptions(query: { periodEndBefore: Date; pastDueBefore: Date; limit: number }): Promise<SubscriptionRecord[]>;
  /** Every saved version of a customer's subscription, oldest first. */
  subscriptionHistory(customerId: string): Promise<SubscriptionRecord[]>;
  /** Remembers a provider webhook event id. True the first time, false when it was seen before. */
  recordProviderEvent(event: { provider: string; eventId: string; type: string; at: Date }): Promise<boolean>;
  /** `CONFLICT` when the code exists. */
  createCoupon(definition: CouponDefinition, at: Date): Promise<Coupon>;
  getCoupon(code: string): Promise<Coupon | null>;
  listCoupons(query: { limit: number }): Promise<Coupon[]>;
  setCouponActive(code: string, active: boolean): Promise<Coupon>;
  /**
   * Atomic: checks the coupon exists and is active (`COUPON_NOT_FOUND`), not expired
   * (`COUPON_EXPIRED`), allowed for the tier (`COUPON_NOT_APPLICABLE`), not redeemed by this customer
   * before (`COUPON_ALREADY_REDEEMED`) and has redemptions left (`COUPON_EXHAUSTED`); counts the
   * redemption and, for a credit coupon, grants a `coupon` bucket in the same transaction. Idempotent
   * by key like every ledger mutation. Enqueues `coupon.redeemed`.
   */
  redeemCoupon(command: RedeemCouponCommand): Promise<{ redemption: CouponRedemption; grant: GrantResult | null; replayed: boolean }>;
  listRedemptions(query: { customerId?: string; code?: string; limit: number }): Promise<CouponRedemption[]>;
  /** Grants a pack's credits into a `purchased` bucket once per payment id (a replay returns the first result). */
  purchaseCredits(command: PurchaseCreditsCommand): Promise<{ purchase: PackPurchase; grant: GrantResult; replayed: boolean }>;
  getPurchase(paymentId: string): Promise<PackPurchase | null>;
  /**
   * Takes back the credits a refund pays for: credits × refundedCents ÷ priceCents (rounded down), less
   * what earlier refunds took, but never more than what is left unspent in the pack's bucket. Writes a
   * `clawback` entry from the customer to `system:purchases`. Enqueues `credits.clawed_back`.
   */
  refundPurchase(command: RefundPurchaseCommand): Promise<{ purchase: PackPurchase; clawedBackMicros: bigint; replayed: boolean }>;
  getAutoRecharge(customerId: string): Promise<AutoRechargeSettings | null>;
  saveAutoRecharge(settings: AutoRechargeSettings): Promise<AutoRechargeSettings>;
  /** Atomically counts one recharge attempt for the month; null when `maxPerMonth` is reached. */
  claimAutoRecharge(query: { customerId: string; month: string; maxPerMonth: number; at: Date }): Promise<number | null>;
  /** Puts a dead letter back in the queue (attempts reset, available at `at`). `NOT_FOUND` if there is no dead message with that id. */
  retryOutbox(id: string, at: Date): Promise<void>;
}
