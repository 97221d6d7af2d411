import { type Catalog, type CatalogPack, findTier, type Tier, tierRank } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { canonicalJson } from '../ledger/canonical.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { GrantResult, TallyStore } from '../ledger/types.js';
import { identifier } from '../ledger/validate.js';
import { tierChangeMessage } from '../notifications/triggers.js';
import { previewTierChange, type TierChangePreview } from '../proration/preview.js';
import { addInterval, type Clock, systemClock } from '../time/index.js';
import type { CouponDefinition, InvoiceLine, PaymentEvent, PaymentProvider, SubscriptionRecord, SubscriptionStatus } from './types.js';

export interface CreateBillingOptions {
  catalog: Catalog;
  store: TallyStore;
  provider: PaymentProvider;
  clock?: Clock;
  /** Where hosted checkout pages send the customer back to. */
  checkoutUrls?: { successUrl: string; cancelUrl: string };
}

export type SubscribeResult =
  | { status: 'started'; subscription: SubscriptionRecord }
  | { status: 'checkout'; checkoutId: string; url: string };

export type ChangeTierResult =
  | { status: 'checkout'; checkoutId: string; url: string }
  | {
      status: 'charged';
      invoiceId: string | null;
      paid: boolean;
      amountDueCents: bigint;
      hostedInvoiceUrl: string | null;
      preview: TierChangePreview;
    }
  | { status: 'payment_method_required'; url: string }
  | { status: 'scheduled'; subscription: SubscriptionRecord; effectiveAt: Date };

export interface ApplyEventResult {
  /** False when the event id was seen before: nothing was done. */
  applied: boolean;
  /** True when the event describes an older state than the one kept (its grants still count). */
  stale: boolean;
}

export interface SchedulerRound {
  rolledOver: number;
  downgraded: number;
  canceled: number;
}

const DEFAULT_URLS = { successUrl: 'about:blank#tally-checkout-done', cancelUrl: 'about:blank#tally-checkout-canceled' };
const DAY_MS = 86_400_000;

/** The JSON payload of a `subscription.updated` outbox message. `version` orders states (newest wins). */
export function subscriptionPayload(state: SubscriptionState, version: number, at: Date): string {
  return JSON.stringify({
    customerId: state.customerId,
    tier: state.tier,
    status: state.status,
    interval: state.interval,
    currentPeriodStart: state.currentPeriodStart.toISOString(),
    currentPeriodEnd: state.currentPeriodEnd.toISOString(),
    trialEnd: state.trialEnd?.toISOString() ?? null,
    scheduledChange: state.scheduledChange ? { tier: state.scheduledChange.tier, at: state.scheduledChange.at.toISOString() } : null,
    version,
    at: at.toISOString(),
  });
}

type SubscriptionState = Pick<
  SubscriptionRecord,
  'customerId' | 'tier' | 'status' | 'interval' | 'currentPeriodStart' | 'currentPeriodEnd' | 'trialEnd' | 'scheduledChange'
>;

function providerStatus(status: Extract<PaymentEvent, { type: 'subscription.updated' }>['status']): SubscriptionStatus {
  switch (status) {
    case 'trialing':
    case 'active':
    case 'past_due':
    case 'canceled':
      return status;
    // Stripe's `incomplete` (first payment pending), `unpaid` (retries exhausted) and `paused` all
    // mean: not paid for now. Tally treats them as past due, so the grace clock runs.
    default:
      return 'past_due';
  }
}

const STATUS_RANK: Record<SubscriptionStatus, number> = { past_due: 0, trialing: 1, active: 2, canceled: 3 };

const later = (a: Date | null, b: Date | null) => (a && b ? (a.getTime() >= b.getTime() ? a : b) : (a ?? b));
const earlier = (a: Date | null, b: Date | null) => (a && b ? (a.getTime() <= b.getTime() ? a : b) : (a ?? b));

/**
 * Subscriptions, tier changes, payments and coupons on top of the ledger. Provider events are applied
 * idempotently and independently of their order: each event id is stored and applied once, the newest
 * provider state (by the provider's `created`) wins, and every grant an event causes has a key derived
 * from what it pays for (customer and period, or the invoice), so a replay or a reordering grants
 * nothing twice. See docs/billing.md.
 */
export function createBilling(options: CreateBillingOptions) {
  const { catalog, store, provider } = options;
  const clock = options.clock ?? systemClock;
  const urls = options.checkoutUrls ?? DEFAULT_URLS;
  const fallbackTier = findTier(catalog, catalog.dunning.downgradeTo ?? (catalog.tiers[0] as Tier).id);
  const now = () => clock.now();

  /** The customer at the payment provider: the one the subscription knows, or created (idempotently) now. */
  async function providerCustomerOf(customerId: string, record: SubscriptionRecord | null): Promise<string> {
    return record?.providerCustomerId ?? (await provider.ensureCustomer({ customerId })).providerCustomerId;
  }

  function findPack(packId: string): CatalogPack {
    const pack = catalog.packs.find((p) => p.id === packId);
    if (!pack) throw new TallyError('NOT_FOUND', `Unknown credit pack "${packId}"`, { details: { packId } });
    return pack;
  }

  /** A paid pack's credits, once per payment id, whether the checkout event or an off-session charge reports it. */
  async function creditPack(target: TallyStore, customerId: string, packId: string, paymentId: string, at: Date) {
    const pack = findPack(packId);
    return target.purchaseCredits({
      paymentId,
      customerId,
      packId: pack.id,
      priceCents: pack.price,
      creditsMicros: pack.credits,
      at,
      idempotencyKey: `pack:${paymentId}`,
      request: canonicalJson({ operation: 'purchase', customerId, packId: pack.id, paymentId }),
    });
  }

  /** Runs `fn` in one store transaction, with a ledger bound to it. */
  function atomically<T>(fn: (tx: TallyStore, ledger: Tally) => Promise<T>): Promise<T> {
    return store.transaction((tx) => fn(tx, createTally({ catalog, store: tx, clock })));
  }

  async function requireSubscription(customerId: string): Promise<SubscriptionRecord> {
    const record = await store.getSubscription(identifier(customerId, 'customerId'));
    if (!record) throw new TallyError('NOT_FOUND', `Customer "${customerId}" has no subscription`, { details: { customerId } });
    return record;
  }

  /** Saves a record; a changed tier, or a newly scheduled downgrade, writes `tier.changed` in the same transaction. */
  async function save(tx: TallyStore, next: SubscriptionRecord, previous: SubscriptionRecord | null): Promise<SubscriptionRecord> {
    const saved = await tx.saveSubscription(next, previous ? previous.version : null);
    const change = tierChangeMessage(catalog, previous, saved);
    if (change) await tx.enqueueOutbox(change);
    return saved;
  }

  /** Announces a state that Tally itself decided (not a provider event). */
  async function announceLocal(tx: TallyStore, record: SubscriptionRecord, at: Date): Promise<void> {
    await tx.enqueueOutbox({
      topic: 'subscription.updated',
      payload: subscriptionPayload(record, record.updatedAt.getTime(), at),
      dedupeKey: `subscription.updated:${record.customerId}:local:${record.version}`,
      at,
    });
  }

  /**
   * Grants a tier's allowance for one period, once per (customer, period), whichever path gets
   * there first: the provider's paid invoice or the scheduler. If the other path already granted the
   * period for a different tier, the period counts as granted (the key answers IDEMPOTENCY_CONFLICT).
   */
  async function grantPeriodAllowance(ledger: Tally, customerId: string, tier: Tier, start: Date, end: Date, at: Date) {
    if (tier.allowance === 'unlimited' || tier.allowance === 0n || end.getTime() <= at.getTime()) return null;
    try {
      return await ledger.grant({
        customerId,
        kind: 'allowance',
        amountMicros: tier.allowance,
        expiresAt: end,
        description: `${tier.name} allowance`,
        idempotencyKey: `allowance:${customerId}:${start.toISOString()}/${end.toISOString()}`,
      });
    } catch (error) {
      if (TallyError.is(error, 'IDEMPOTENCY_CONFLICT')) return null;
      throw error;
    }
  }

  async function ensureLedgerCustomer(tx: TallyStore, ledger: Tally, customerId: string, tier: string) {
    if (!(await tx.getCustomer(customerId))) await ledger.customers.upsert({ customerId, tier });
  }

  /** The grants a paid invoice pays for: whole periods, and the allowance difference of an upgrade. */
  async function grantForInvoice(
    tx: TallyStore,
    ledger: Tally,
    event: Extract<PaymentEvent, { type: 'invoice.paid' }>,
    at: Date,
  ): Promise<GrantResult[]> {
    const grants: GrantResult[] = [];
    const record = await tx.getSubscription(event.customerId);
    const first = event.lines[0];
    if (first) await ensureLedgerCustomer(tx, ledger, event.customerId, first.tier);
    for (const line of event.lines.filter((l) => !l.proration)) {
      const grant = await grantPeriodAllowance(
        ledger,
        event.customerId,
        findTier(catalog, line.tier),
        line.periodStart,
        line.periodEnd,
        at,
      );
      if (grant) grants.push(grant);
    }
    const debit = event.lines.find((l) => l.proration && l.amountCents > 0n);
    const credit = event.lines.find((l) => l.proration && l.amountCents < 0n);
    if (debit && credit && tierRank(catalog, debit.tier) > tierRank(catalog, credit.tier)) {
      const grant = await grantUpgrade(ledger, event, credit, debit, record, at);
      if (grant) grants.push(grant);
    }
    return grants;
  }

  async function grantUpgrade(
    ledger: Tally,
    event: Extract<PaymentEvent, { type: 'invoice.paid' }>,
    from: InvoiceLine,
    to: InvoiceLine,
    record: SubscriptionRecord | null,
    at: Date,
  ): Promise<GrantResult | null> {
    const end = to.periodEnd;
    if (end.getTime() <= at.getTime()) return null;
    const fromTier = findTier(catalog, from.tier);
    // The period the proration is a share of: the kept subscription's when it is the same period,
    // otherwise one interval back from its end (the invoice carries only the change time and the end).
    const start =
      record && record.currentPeriodEnd.getTime() === end.getTime() ? record.currentPeriodStart : addInterval(end, fromTier.interval, -1);
    const preview = previewTierChange({
      catalog,
      subscription: { tier: fromTier.id, status: 'active', currentPeriodStart: start, currentPeriodEnd: end },
      toTier: to.tier,
      at: to.periodStart,
      timing: 'immediate',
    });
    if (preview.creditsGranted.kind !== 'micros' || preview.creditsGranted.micros === 0n) return null;
    return ledger.grant({
      customerId: event.customerId,
      kind: 'allowance',
      amountMicros: preview.creditsGranted.micros,
      expiresAt: end,
      description: `Upgrade from ${fromTier.name} to ${findTier(catalog, to.tier).name}`,
      idempotencyKey: `upgrade:${event.customerId}:${event.invoiceId}`,
    });
  }

  /**
   * Whether an event describes an older state than the kept one. Newer `created` wins; within the same
   * second (Stripe's resolution) the more advanced state wins — later period end, then status, then
   * tier — so the outcome never depends on arrival order.
   */
  function isOlder(
    event: Extract<PaymentEvent, { type: 'subscription.updated' | 'subscription.deleted' }>,
    status: SubscriptionStatus,
    record: SubscriptionRecord,
  ): boolean {
    if (!record.providerStateAt) return false;
    const byTime = event.created.getTime() - record.providerStateAt.getTime();
    if (byTime !== 0) return byTime < 0;
    const periodEnd = event.type === 'subscription.deleted' ? record.currentPeriodEnd : event.currentPeriodEnd;
    const tier = event.type === 'subscription.deleted' ? record.tier : event.tier;
    const ours = [periodEnd.getTime(), STATUS_RANK[status], tierRank(catalog, tier)];
    const kept = [record.currentPeriodEnd.getTime(), STATUS_RANK[record.status], tierRank(catalog, record.tier)];
    for (let i = 0; i < ours.length; i++) {
      if ((ours[i] as number) !== (kept[i] as number)) return (ours[i] as number) < (kept[i] as number);
    }
    return true; // the same state again
  }

  async function applySubscriptionState(
    tx: TallyStore,
    ledger: Tally,
    event: Extract<PaymentEvent, { type: 'subscription.updated' | 'subscription.deleted' }>,
    at: Date,
  ): Promise<boolean> {
    const record = await tx.getSubscription(event.customerId);
    const deleted = event.type === 'subscription.deleted';
    const status = deleted ? 'canceled' : providerStatus(event.status);
    const stale = !!record && isOlder(event, status, record);
    if (!deleted) {
      // Every event's own state is announced (newest wins at the sinks), so the set of messages does
      // not depend on the order the events arrived in.
      const interval = findTier(catalog, event.tier).interval;
      await tx.enqueueOutbox({
        topic: 'subscription.updated',
        payload: subscriptionPayload(
          {
            customerId: event.customerId,
            tier: status === 'canceled' ? fallbackTier.id : event.tier,
            status,
            interval,
            currentPeriodStart: event.currentPeriodStart,
            currentPeriodEnd: event.currentPeriodEnd,
            trialEnd: event.trialEnd,
            scheduledChange: event.cancelAtPeriodEnd ? { tier: null, at: event.currentPeriodEnd } : null,
          },
          event.created.getTime(),
          event.created,
        ),
        dedupeKey: `subscription.updated:${event.provider}:${event.id}`,
        at,
      });
    }
    if (stale) {
      // An older state: only the start of a run of failed payments can still be learned from it.
      if (record && status === 'past_due' && record.status === 'past_due') {
        const since = earlier(record.pastDueSince, event.created);
        if (since?.getTime() !== record.pastDueSince?.getTime()) {
          await save(tx, { ...record, pastDueSince: since, version: record.version + 1, updatedAt: at }, record);
        }
      }
      return true;
    }
    if (deleted) {
      if (!record) return false;
      const next: SubscriptionRecord = {
        ...record,
        tier: fallbackTier.id,
        status: 'canceled',
        scheduledChange: null,
        pastDueSince: null,
        providerStateAt: event.created,
        version: record.version + 1,
        updatedAt: at,
      };
      await save(tx, next, record);
      await ledger.customers.upsert({ customerId: event.customerId, tier: fallbackTier.id });
      await tx.enqueueOutbox({
        topic: 'subscription.updated',
        payload: subscriptionPayload(next, event.created.getTime(), event.created),
        dedupeKey: `subscription.updated:${event.provider}:${event.id}`,
        at,
      });
      return false;
    }
    const tier = findTier(catalog, event.tier);
    const keptDowngrade =
      record?.scheduledChange?.tier && record.scheduledChange.at.getTime() === event.currentPeriodEnd.getTime()
        ? record.scheduledChange
        : null;
    const next: SubscriptionRecord = {
      customerId: event.customerId,
      tier: status === 'canceled' ? fallbackTier.id : tier.id,
      status,
      interval: tier.interval,
      currentPeriodStart: event.currentPeriodStart,
      currentPeriodEnd: event.currentPeriodEnd,
      trialEnd: event.trialEnd,
      scheduledChange: event.cancelAtPeriodEnd ? { tier: null, at: event.currentPeriodEnd } : keptDowngrade,
      pastDueSince: status === 'past_due' ? earlier(record?.status === 'past_due' ? record.pastDueSince : null, event.created) : null,
      provider: event.provider,
      providerCustomerId: event.providerCustomerId,
      providerSubscriptionId: event.providerSubscriptionId,
      providerStateAt: later(record?.providerStateAt ?? null, event.created),
      version: (record?.version ?? 0) + 1,
      createdAt: record?.createdAt ?? at,
      updatedAt: at,
    };
    await ledger.customers.upsert({ customerId: event.customerId, tier: next.tier });
    await save(tx, next, record);
    return false;
  }

  async function applyEvent(event: PaymentEvent): Promise<ApplyEventResult> {
    const at = now();
    return atomically(async (tx, ledger) => {
      const first = await tx.recordProviderEvent({ provider: event.provider, eventId: event.id, type: event.type, at });
      if (!first) return { applied: false, stale: false };
      let stale = false;
      switch (event.type) {
        case 'subscription.updated':
        case 'subscription.deleted':
          stale = await applySubscriptionState(tx, ledger, event, at);
          break;
        case 'invoice.paid':
          await grantForInvoice(tx, ledger, event, at);
          break;
        case 'invoice.payment_failed':
          await tx.enqueueOutbox({
            topic: 'payment.failed',
            payload: JSON.stringify({
              customerId: event.customerId,
              invoiceId: event.invoiceId,
              attemptCount: event.attemptCount,
              nextAttemptAt: event.nextAttemptAt?.toISOString() ?? null,
              amountDueCents: event.amountDueCents.toString(),
              at: event.created.toISOString(),
            }),
            dedupeKey: `payment.failed:${event.invoiceId}:${event.attemptCount}`,
            at,
          });
          break;
        case 'checkout.completed':
          if (event.mode === 'payment') {
            await creditPack(tx, event.customerId, event.packId, event.paymentId, at);
          }
          // A subscription checkout changes nothing by itself: the subscription and invoice events that
          // come with it (in any order) carry the state and the payment.
          break;
        case 'charge.refunded':
          await tx.refundPurchase({
            paymentId: event.paymentId,
            refundedCents: event.amountRefundedCents,
            at,
            idempotencyKey: `refund:${event.paymentId}:${event.amountRefundedCents}`,
            request: canonicalJson({ operation: 'refund', paymentId: event.paymentId, refundedCents: event.amountRefundedCents }),
          });
          break;
        case 'ignored':
          break;
      }
      return { applied: true, stale };
    });
  }

  function preview(record: SubscriptionRecord, toTier: string, at: Date, timing?: 'immediate' | 'period_end'): TierChangePreview {
    if (record.status === 'canceled') {
      throw new TallyError('CONFLICT', `The subscription of "${record.customerId}" is canceled; subscribe again instead`);
    }
    return previewTierChange({
      catalog,
      subscription: {
        tier: record.tier,
        status: record.status,
        currentPeriodStart: record.currentPeriodStart,
        currentPeriodEnd: record.currentPeriodEnd,
      },
      toTier,
      at,
      ...(timing ? { timing } : {}),
    });
  }

  async function schedule(customerId: string, tier: string | null): Promise<ChangeTierResult> {
    const record = await requireSubscription(customerId);
    if (record.status === 'canceled') throw new TallyError('CONFLICT', `The subscription of "${customerId}" is already canceled`);
    const at = now();
    if (record.providerSubscriptionId) {
      await provider.scheduleAtPeriodEnd({
        providerSubscriptionId: record.providerSubscriptionId,
        tier,
        idempotencyKey: `schedule:${customerId}:${record.currentPeriodEnd.toISOString()}:${tier ?? 'cancel'}`,
      });
    }
    const saved = await atomically(async (tx) => {
      // The provider may have delivered its own event for this change while it was called (a webhook
      // handled in the same process): build on what is stored now, not on what was read before.
      const current = (await tx.getSubscription(customerId)) ?? record;
      if (current.status === 'canceled') throw new TallyError('CONFLICT', `The subscription of "${customerId}" is already canceled`);
      const wanted = { tier, at: current.currentPeriodEnd };
      const already = current.scheduledChange;
      if (already && already.tier === tier && already.at.getTime() === wanted.at.getTime()) return current;
      const stored = await save(tx, { ...current, scheduledChange: wanted, version: current.version + 1, updatedAt: at }, current);
      await announceLocal(tx, stored, at);
      return stored;
    });
    return { status: 'scheduled', subscription: saved, effectiveAt: saved.currentPeriodEnd };
  }

  /** Moves a subscription whose period is over into the next one (or ends it), at most once per period. */
  async function rollOver(record: SubscriptionRecord, at: Date): Promise<'rolledOver' | 'canceled'> {
    const change = record.scheduledChange;
    return atomically(async (tx, ledger) => {
      const current = await tx.getSubscription(record.customerId);
      if (!current || current.currentPeriodEnd.getTime() !== record.currentPeriodEnd.getTime() || current.status === 'canceled') {
        return 'rolledOver'; // someone (a provider event, another instance) got there first
      }
      if (change && change.tier === null) {
        await cancelOnto(tx, ledger, current, fallbackTier.id, at);
        return 'canceled';
      }
      const tier = findTier(catalog, change?.tier ?? current.tier);
      let start = current.currentPeriodEnd;
      let end = addInterval(start, tier.interval);
      // After downtime, skip whole periods that are already over: only the current one is granted.
      while (end.getTime() <= at.getTime()) {
        start = end;
        end = addInterval(start, tier.interval);
      }
      // Tally charges nobody by itself: a paid tier without a provider subscription (a trial that ran
      // out) is unpaid until the customer checks out. A provider-billed one stays active; the provider's
      // invoice events say otherwise if its renewal fails.
      const unpaid = !current.providerSubscriptionId && tier.price > 0n;
      const status: SubscriptionStatus = current.status === 'past_due' || unpaid ? 'past_due' : 'active';
      const next: SubscriptionRecord = {
        ...current,
        tier: tier.id,
        status,
        interval: tier.interval,
        currentPeriodStart: start,
        currentPeriodEnd: end,
        trialEnd: current.status === 'trialing' ? current.trialEnd : null,
        scheduledChange: null,
        pastDueSince: status === 'past_due' ? (current.pastDueSince ?? current.currentPeriodEnd) : null,
        version: current.version + 1,
        updatedAt: at,
      };
      await save(tx, next, current);
      if (tier.id !== current.tier) await ledger.customers.upsert({ customerId: current.customerId, tier: tier.id });
      if (status !== 'past_due') await grantPeriodAllowance(ledger, current.customerId, tier, start, end, at);
      await announceLocal(tx, next, at);
      return 'rolledOver';
    });
  }

  /** Ends a subscription Tally decided to end (a scheduled cancel, an unpaid grace period), onto `tier`. */
  async function cancelOnto(tx: TallyStore, ledger: Tally, current: SubscriptionRecord, tier: string, at: Date): Promise<void> {
    const next = { ...current, tier, status: 'canceled' as const, scheduledChange: null, version: current.version + 1, updatedAt: at };
    await save(tx, next, current);
    await ledger.customers.upsert({ customerId: current.customerId, tier });
    await announceLocal(tx, next, at);
  }

  async function endGrace(record: SubscriptionRecord, at: Date): Promise<void> {
    await atomically(async (tx, ledger) => {
      const current = await tx.getSubscription(record.customerId);
      if (current?.status !== 'past_due' || current.version !== record.version) return;
      await cancelOnto(tx, ledger, current, fallbackTier.id, at);
    });
  }

  return {
    catalog,

    getSubscription: (customerId: string) => store.getSubscription(identifier(customerId, 'customerId')),

    /**
     * Starts a subscription. A tier with a free trial, or a free tier, starts at once (allowance granted);
     * a paid tier without a trial needs a payment: the result is a checkout page.
     */
    async subscribe(input: { customerId: string; tier: string; email?: string | null; name?: string | null }): Promise<SubscribeResult> {
      const customerId = identifier(input.customerId, 'customerId');
      const tier = findTier(catalog, input.tier);
      const existing = await store.getSubscription(customerId);
      if (existing && existing.status !== 'canceled') {
        throw new TallyError('CONFLICT', `Customer "${customerId}" already has a subscription; change its tier instead`);
      }
      const { providerCustomerId } = await provider.ensureCustomer({ customerId, email: input.email ?? null, name: input.name ?? null });
      const at = now();
      if (tier.price > 0n && tier.trialDays === 0) {
        const checkout = await provider.createSubscriptionCheckout({
          customerId,
          providerCustomerId,
          tier: tier.id,
          trialDays: 0,
          idempotencyKey: `subscribe:${customerId}:${tier.id}:${existing?.version ?? 0}`,
          ...urls,
        });
        return { status: 'checkout', checkoutId: checkout.id, url: checkout.url };
      }
      const trialing = tier.trialDays > 0;
      const end = trialing ? new Date(at.getTime() + tier.trialDays * DAY_MS) : addInterval(at, tier.interval);
      const subscription = await atomically(async (tx, ledger) => {
        const record: SubscriptionRecord = {
          customerId,
          tier: tier.id,
          status: trialing ? 'trialing' : 'active',
          interval: tier.interval,
          currentPeriodStart: at,
          currentPeriodEnd: end,
          trialEnd: trialing ? end : null,
          scheduledChange: null,
          pastDueSince: null,
          provider: provider.id,
          providerCustomerId,
          providerSubscriptionId: null,
          providerStateAt: null,
          version: (existing?.version ?? 0) + 1,
          createdAt: existing?.createdAt ?? at,
          updatedAt: at,
        };
        await ledger.customers.upsert({ customerId, tier: tier.id });
        const saved = await save(tx, record, existing);
        await grantPeriodAllowance(ledger, customerId, tier, at, end, at);
        await announceLocal(tx, saved, at);
        return saved;
      });
      return { status: 'started', subscription };
    },

    /** What a change to `tier` costs now and grants, exactly as `changeTier` will do it. */
    async previewChange(customerId: string, tier: string): Promise<TierChangePreview> {
      return preview(await requireSubscription(customerId), tier, now());
    },

    /**
     * Upgrades take effect once paid: with a card on file the provider charges the proration at once
     * (the paid invoice's event grants the allowance difference); without one the customer goes through
     * checkout. Downgrades are scheduled for the end of the period.
     */
    async changeTier(input: { customerId: string; tier: string }): Promise<ChangeTierResult> {
      const record = await requireSubscription(input.customerId);
      const at = now();
      const change = preview(record, input.tier, at);
      if (change.from === change.to) throw new TallyError('VALIDATION', `The subscription is already on "${change.to}"`);
      if (change.direction === 'downgrade') return schedule(record.customerId, change.to);
      const providerCustomerId = await providerCustomerOf(record.customerId, record);
      if (!record.providerSubscriptionId) {
        const checkout = await provider.createSubscriptionCheckout({
          customerId: record.customerId,
          providerCustomerId,
          tier: change.to,
          trialDays: 0,
          idempotencyKey: `upgrade-checkout:${record.customerId}:${record.version}:${change.to}`,
          ...urls,
        });
        return { status: 'checkout', checkoutId: checkout.id, url: checkout.url };
      }
      if (!(await provider.hasPaymentMethod(providerCustomerId))) {
        const portal = await provider.createPortalSession({ providerCustomerId, returnUrl: urls.successUrl });
        return { status: 'payment_method_required', url: portal.url };
      }
      const result = await provider.upgradeNow({
        customerId: record.customerId,
        providerSubscriptionId: record.providerSubscriptionId,
        tier: change.to,
        prorationDate: at,
        // A retry after a declined card is a new attempt; a double click within the second is not.
        idempotencyKey: `upgrade:${record.customerId}:${record.version}:${change.to}:${Math.floor(at.getTime() / 1000)}`,
      });
      return {
        status: 'charged',
        invoiceId: result.invoiceId,
        paid: result.status === 'paid',
        amountDueCents: result.amountDueCents,
        hostedInvoiceUrl: result.hostedInvoiceUrl,
        preview: change,
      };
    },

    /** Cancels at the end of the period (nothing refunded); undo with `undoScheduledChange`. */
    cancel: (customerId: string) => schedule(customerId, null),

    async undoScheduledChange(customerId: string): Promise<SubscriptionRecord> {
      const record = await requireSubscription(customerId);
      if (!record.scheduledChange) throw new TallyError('CONFLICT', `Customer "${customerId}" has no scheduled change`);
      if (record.providerSubscriptionId) {
        await provider.unschedule({
          providerSubscriptionId: record.providerSubscriptionId,
          idempotencyKey: `unschedule:${customerId}:${record.version}`,
        });
      }
      const at = now();
      return atomically(async (tx) => {
        // As in `schedule`: the provider's own event may already have cleared it.
        const current = (await tx.getSubscription(customerId)) ?? record;
        if (!current.scheduledChange) return current;
        const saved = await save(tx, { ...current, scheduledChange: null, version: current.version + 1, updatedAt: at }, current);
        await announceLocal(tx, saved, at);
        return saved;
      });
    },

    /** Verifies and applies a provider webhook. A bad signature throws `WEBHOOK_SIGNATURE_INVALID`; nothing changes. */
    async handleWebhook(input: { rawBody: string; headers: Headers }): Promise<ApplyEventResult & { event: PaymentEvent }> {
      const event = await provider.parseWebhook(input);
      return { ...(await applyEvent(event)), event };
    },

    applyEvent,

    /**
     * The webhook route as a Fetch handler (`Request → Response`): 200 when applied or already seen,
     * 400 with a problem+json body when the signature or body is bad (nothing changed), 500 otherwise
     * so the provider retries.
     */
    async webhookResponse(request: Request): Promise<Response> {
      const problem = (status: number, code: string, detail: string) =>
        new Response(JSON.stringify({ type: `https://tally.dev/errors/${code.toLowerCase()}`, title: code, status, code, detail }), {
          status,
          headers: { 'content-type': 'application/problem+json' },
        });
      if (request.method !== 'POST') return problem(405, 'METHOD_NOT_ALLOWED', 'Webhooks are POSTed');
      const rawBody = await request.text();
      try {
        const event = await provider.parseWebhook({ rawBody, headers: request.headers });
        const result = await applyEvent(event);
        return new Response(JSON.stringify({ received: true, applied: result.applied, stale: result.stale }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      } catch (error) {
        if (TallyError.is(error, 'WEBHOOK_SIGNATURE_INVALID') || TallyError.is(error, 'VALIDATION')) {
          return problem(400, error.code, error.message);
        }
        return problem(500, 'INTERNAL', 'The event could not be applied; it will be retried');
      }
    },

    /**
     * Periodic work, safe to run from several instances (each change is checked again inside its
     * transaction): rolls over subscriptions whose period ended (applying a scheduled downgrade or
     * cancel, granting the new allowance once per period) and ends the grace of unpaid ones.
     */
    async runScheduler(options: { limit?: number } = {}): Promise<SchedulerRound> {
      const at = now();
      const round: SchedulerRound = { rolledOver: 0, downgraded: 0, canceled: 0 };
      const due = await store.listDueSubscriptions({
        periodEndBefore: at,
        pastDueBefore: new Date(at.getTime() - catalog.dunning.graceDays * DAY_MS),
        limit: options.limit ?? 500,
      });
      for (const record of due) {
        if (record.status === 'canceled') continue;
        const graceOver =
          record.status === 'past_due' &&
          record.pastDueSince !== null &&
          record.pastDueSince.getTime() + catalog.dunning.graceDays * DAY_MS <= at.getTime();
        if (graceOver) {
          await endGrace(record, at);
          round.downgraded++;
        } else if (record.currentPeriodEnd.getTime() <= at.getTime()) {
          const outcome = await rollOver(record, at);
          round[outcome]++;
        }
      }
      return round;
    },

    /** A hosted checkout for a credit pack; the credits land when the provider confirms the payment. */
    async buyCredits(input: { customerId: string; packId: string }) {
      const customerId = identifier(input.customerId, 'customerId');
      const pack = findPack(input.packId);
      const record = await store.getSubscription(customerId);
      const providerCustomerId = await providerCustomerOf(customerId, record);
      return provider.createCreditPackCheckout({
        customerId,
        providerCustomerId,
        packId: pack.id,
        idempotencyKey: `pack-checkout:${customerId}:${pack.id}:${now().getTime()}`,
        ...urls,
      });
    },

    /** Where the customer manages payment methods. */
    async portal(customerId: string, returnUrl: string) {
      const record = await requireSubscription(customerId);
      const providerCustomerId = await providerCustomerOf(customerId, record);
      return provider.createPortalSession({ providerCustomerId, returnUrl });
    },

    async setAutoRecharge(input: { customerId: string; enabled: boolean; thresholdMicros: bigint; packId: string; maxPerMonth: number }) {
      const customerId = identifier(input.customerId, 'customerId');
      findPack(input.packId);
      if (typeof input.thresholdMicros !== 'bigint' || input.thresholdMicros < 0n) {
        throw new TallyError('VALIDATION', 'thresholdMicros must be a non-negative bigint');
      }
      if (!Number.isSafeInteger(input.maxPerMonth) || input.maxPerMonth < 1 || input.maxPerMonth > 100) {
        throw new TallyError('VALIDATION', 'maxPerMonth must be 1-100');
      }
      return store.saveAutoRecharge({ ...input, customerId, updatedAt: now() });
    },

    /**
     * Buys the configured pack off-session when the customer's available credit is below the
     * threshold, at most `maxPerMonth` times a month. A declined card enqueues an
     * `auto_recharge.failed` notice. Returns what happened.
     */
    async autoRecharge(customerId: string): Promise<'not_needed' | 'disabled' | 'capped' | 'charged' | 'failed'> {
      const settings = await store.getAutoRecharge(identifier(customerId, 'customerId'));
      if (!settings?.enabled) return 'disabled';
      const at = now();
      const balance = await store.balance(customerId, at);
      if (balance.unlimited || balance.availableMicros >= settings.thresholdMicros) return 'not_needed';
      const month = at.toISOString().slice(0, 7);
      const attempt = await store.claimAutoRecharge({ customerId, month, maxPerMonth: settings.maxPerMonth, at });
      if (attempt === null) return 'capped';
      const record = await store.getSubscription(customerId);
      const providerCustomerId = await providerCustomerOf(customerId, record);
      const result = await provider.chargeOffSession({
        customerId,
        providerCustomerId,
        packId: settings.packId,
        idempotencyKey: `auto-recharge:${customerId}:${month}:${attempt}`,
      });
      if (result.status === 'succeeded' && result.paymentId) {
        await creditPack(store, customerId, settings.packId, result.paymentId, now());
        return 'charged';
      }
      await store.enqueueOutbox({
        topic: 'auto_recharge.failed',
        payload: JSON.stringify({ customerId, packId: settings.packId, reason: result.failureMessage, at: at.toISOString() }),
        dedupeKey: `auto_recharge.failed:${customerId}:${month}:${attempt}`,
        at,
      });
      return 'failed';
    },

    createCoupon: async (definition: CouponDefinition) => store.createCoupon(normalizeCoupon(definition, catalog), now()),

    /**
     * Redeems a coupon atomically: a credit coupon grants a `coupon` bucket; a percent-off coupon
     * discounts the next invoices of the customer's provider subscription (so it needs one:
     * `COUPON_NOT_APPLICABLE` otherwise). If the provider call fails, retrying with the same
     * idempotency key replays the redemption and applies the discount again (idempotently).
     */
    async redeemCoupon(input: { customerId: string; code: string; idempotencyKey: string }) {
      const customerId = identifier(input.customerId, 'customerId');
      const code = normalizeCode(input.code);
      const idempotencyKey = identifier(input.idempotencyKey, 'idempotencyKey');
      const customer = await store.getCustomer(customerId);
      if (!customer) throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
      const coupon = await store.getCoupon(code);
      const subscription = await store.getSubscription(customerId);
      const billedBy = subscription && subscription.status !== 'canceled' ? subscription.providerSubscriptionId : null;
      if (coupon?.benefit.type === 'percent_off' && !billedBy) {
        throw new TallyError('COUPON_NOT_APPLICABLE', `Coupon "${code}" takes a percentage off invoices: subscribe to a paid tier first`, {
          details: { code },
        });
      }
      const result = await store.redeemCoupon({
        code,
        customerId,
        tier: customer.tier,
        at: now(),
        idempotencyKey,
        request: canonicalJson({ operation: 'redeem', code, customerId }),
      });
      const benefit = result.redemption.benefit;
      if (benefit.type === 'percent_off' && billedBy) {
        await provider.applyDiscount({
          customerId,
          providerSubscriptionId: billedBy,
          couponCode: result.redemption.code,
          percentOffBps: benefit.percentOffBps,
          durationPeriods: benefit.durationPeriods,
          idempotencyKey: `discount:${result.redemption.id}:${billedBy}`,
        });
      }
      return result;
    },
  };
}

export type Billing = ReturnType<typeof createBilling>;

const CODE = /^[A-Z0-9][A-Z0-9_-]{2,39}$/;

function normalizeCode(code: unknown): string {
  if (typeof code !== 'string' || !CODE.test(code.trim().toUpperCase())) {
    throw new TallyError('VALIDATION', 'A coupon code is 3-40 letters, digits, "-" or "_"');
  }
  return code.trim().toUpperCase();
}

function normalizeCoupon(definition: CouponDefinition, catalog: Catalog): CouponDefinition {
  const code = normalizeCode(definition.code);
  const benefit = definition.benefit;
  if (benefit?.type === 'credits') {
    if (typeof benefit.amountMicros !== 'bigint' || benefit.amountMicros <= 0n) {
      throw new TallyError('VALIDATION', 'A credit coupon grants a positive bigint amountMicros');
    }
    if (benefit.expiresInDays !== null && (!Number.isSafeInteger(benefit.expiresInDays) || benefit.expiresInDays < 1)) {
      throw new TallyError('VALIDATION', 'expiresInDays must be a positive integer or null');
    }
  } else if (benefit?.type === 'percent_off') {
    if (!Number.isSafeInteger(benefit.percentOffBps) || benefit.percentOffBps < 1 || benefit.percentOffBps > 10_000) {
      throw new TallyError('VALIDATION', 'percentOffBps must be 1-10000');
    }
    if (!Number.isSafeInteger(benefit.durationPeriods) || benefit.durationPeriods < 1) {
      throw new TallyError('VALIDATION', 'durationPeriods must be a positive integer');
    }
  } else {
    throw new TallyError('VALIDATION', 'A coupon benefit is { type: "credits" } or { type: "percent_off" }');
  }
  if (definition.maxRedemptions !== null && (!Number.isSafeInteger(definition.maxRedemptions) || definition.maxRedemptions < 1)) {
    throw new TallyError('VALIDATION', 'maxRedemptions must be a positive integer or null');
  }
  if (definition.expiresAt !== null && !(definition.expiresAt instanceof Date && Number.isFinite(definition.expiresAt.getTime()))) {
    throw new TallyError('VALIDATION', 'expiresAt must be a Date or null');
  }
  for (const tier of definition.tiers) findTier(catalog, tier);
  return { ...definition, code, tiers: [...new Set(definition.tiers)] };
}
