import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
import type { TallyStore } from '../ledger/types.js';
import { createFakeClock } from '../testing/index.js';
import { addInterval } from '../time/index.js';
import { createSandboxProvider } from './sandbox.js';
import { createBilling } from './service.js';
import type { PaymentEvent } from './types.js';

const CREDIT = 1_000_000n;
const at = (iso: string) => new Date(iso);

/** Half-up division of positive bigints, written out here so the expected numbers don't come from the code under test. */
const halfUp = (numerator: bigint, denominator: bigint) => (2n * numerator + denominator) / (2n * denominator);

function setup(start = '2026-02-01T00:00:00Z') {
  const clock = createFakeClock(start);
  const store = createMemoryStore();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  let billing: ReturnType<typeof createBilling> | null = null;
  const sandbox = createSandboxProvider({
    catalog: sampleCatalog,
    clock,
    onEvent: async (event) => {
      await billing?.applyEvent(event);
    },
  });
  billing = createBilling({ catalog: sampleCatalog, store, provider: sandbox, clock });
  return { clock, store, tally, sandbox, billing };
}

async function balanceOf(tally: ReturnType<typeof createTally>, customerId: string) {
  return (await tally.balance(customerId)).balanceMicros;
}

describe('a customer journey over 30 days (fake clock, sandbox payments)', () => {
  it('trial → starter → professional → failed payment → recovered → downgrade at period end → rollover', async () => {
    const { clock, store, tally, sandbox, billing } = setup();
    const ada = 'ada';

    // Day 0: a 14-day trial with its allowance.
    const started = await billing.subscribe({ customerId: ada, tier: 'trial', email: 'ada@example.com' });
    expect(started.status).toBe('started');
    const trial = await billing.getSubscription(ada);
    expect(trial).toMatchObject({ tier: 'trial', status: 'trialing', trialEnd: at('2026-02-15T00:00:00Z') });
    expect(await balanceOf(tally, ada)).toBe(5n * CREDIT);
    clock.set('2026-02-01T12:00:00Z');
    await tally.spend({ customerId: ada, amountMicros: CREDIT, idempotencyKey: 'spend-1' });
    expect(await balanceOf(tally, ada)).toBe(4n * CREDIT);

    // Day 1: starter through checkout (no card on file yet).
    clock.set('2026-02-02T00:00:00Z');
    const toStarter = await billing.changeTier({ customerId: ada, tier: 'starter' });
    expect(toStarter.status).toBe('checkout');
    if (toStarter.status !== 'checkout') throw new Error('unreachable');
    await sandbox.completeCheckout(toStarter.checkoutId);
    expect(await billing.getSubscription(ada)).toMatchObject({
      tier: 'starter',
      status: 'active',
      currentPeriodStart: at('2026-02-02T00:00:00Z'),
      currentPeriodEnd: at('2026-03-02T00:00:00Z'),
    });
    expect((await tally.customers.get(ada)).tier).toBe('starter');
    expect(await balanceOf(tally, ada)).toBe(24n * CREDIT); // 4 trial credits left + 20 starter

    // Day 8: professional. The first charge is declined: nothing changes, a notice is queued.
    clock.set('2026-02-09T00:00:00Z');
    const customer = sandbox.subscriptionOf(ada)?.providerCustomerId as string;
    sandbox.declineNextCharges(customer, 1);
    const declined = await billing.changeTier({ customerId: ada, tier: 'professional' });
    expect(declined).toMatchObject({ status: 'charged', paid: false });
    expect((await billing.getSubscription(ada))?.tier).toBe('starter');
    expect(await balanceOf(tally, ada)).toBe(24n * CREDIT);
    expect((await store.listOutbox({ limit: 100 })).filter((m) => m.topic === 'payment.failed')).toHaveLength(1);

    // Five minutes later the card works: the proration is charged and the allowance difference granted.
    clock.set('2026-02-09T00:05:00Z');
    const upgraded = await billing.changeTier({ customerId: ada, tier: 'professional' });
    expect(upgraded).toMatchObject({ status: 'charged', paid: true });
    const periodSeconds = 28n * 86_400n;
    const leftSeconds = 21n * 86_400n - 300n;
    const upgradeGrant = halfUp(40n * CREDIT * leftSeconds, periodSeconds);
    // Stripe's proration of the charge: +remaining professional − unused starter, each rounded half-up.
    if (upgraded.status === 'charged') {
      expect(upgraded.amountDueCents).toBe(halfUp(4900n * leftSeconds, periodSeconds) - halfUp(1900n * leftSeconds, periodSeconds));
    }
    expect(await billing.getSubscription(ada)).toMatchObject({ tier: 'professional', status: 'active' });
    expect((await tally.customers.get(ada)).tier).toBe('professional');
    expect(await balanceOf(tally, ada)).toBe(24n * CREDIT + upgradeGrant);

    // Day 14: the trial's credits expire.
    clock.set('2026-02-15T00:00:01Z');
    expect(await balanceOf(tally, ada)).toBe(20n * CREDIT + upgradeGrant);

    // Day 19: downgrade back to starter, scheduled for the end of the period (and undoable until then).
    clock.set('2026-02-20T00:00:00Z');
    const scheduled = await billing.changeTier({ customerId: ada, tier: 'starter' });
    expect(scheduled).toMatchObject({ status: 'scheduled', effectiveAt: at('2026-03-02T00:00:00Z') });
    await billing.undoScheduledChange(ada);
    expect((await billing.getSubscription(ada))?.scheduledChange).toBeNull();
    await billing.changeTier({ customerId: ada, tier: 'starter' });
    expect((await billing.getSubscription(ada))?.scheduledChange).toEqual({ tier: 'starter', at: at('2026-03-02T00:00:00Z') });
    expect((await billing.getSubscription(ada))?.tier).toBe('professional');

    // Day 29: the period ends. The downgrade takes effect; the renewal charge fails: past due.
    clock.set('2026-03-02T00:00:00Z');
    sandbox.declineNextCharges(customer, 1);
    await sandbox.runBilling();
    expect(await billing.runScheduler()).toEqual({ rolledOver: 0, downgraded: 0, canceled: 0 });
    expect(await billing.getSubscription(ada)).toMatchObject({
      tier: 'starter',
      status: 'past_due',
      pastDueSince: expect.any(Date),
      currentPeriodStart: at('2026-03-02T00:00:00Z'),
      currentPeriodEnd: at('2026-04-02T00:00:00Z'),
      scheduledChange: null,
    });
    expect((await tally.customers.get(ada)).tier).toBe('starter');
    expect(await balanceOf(tally, ada)).toBe(0n); // last period's allowances expired; the new one is unpaid
    expect((await store.listOutbox({ limit: 100 })).filter((m) => m.topic === 'payment.failed')).toHaveLength(2);

    // Day 30: the customer fixes the card; the open invoice is paid: the new period's allowance arrives.
    clock.set('2026-03-03T00:00:00Z');
    const sub = sandbox.subscriptionOf(ada);
    expect(await sandbox.payOpenInvoice(sub?.id as string)).toBe(true);
    expect(await billing.getSubscription(ada)).toMatchObject({ tier: 'starter', status: 'active', pastDueSince: null });
    expect(await balanceOf(tally, ada)).toBe(20n * CREDIT);

    // The scheduler finds nothing left to do; running it again changes nothing.
    expect(await billing.runScheduler()).toEqual({ rolledOver: 0, downgraded: 0, canceled: 0 });
    const report = await store.audit();
    expect(report.issues).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('the scheduler', () => {
  it('rolls a free-running subscription over once per period, and ends an unpaid trial after the grace period', async () => {
    const { clock, store, tally, billing } = setup('2026-05-01T00:00:00Z');
    await billing.subscribe({ customerId: 'bo', tier: 'trial' });
    expect(await balanceOf(tally, 'bo')).toBe(5n * CREDIT);

    // The trial ends without a card: past due, no new allowance.
    clock.set('2026-05-15T00:00:00Z');
    const [first, second] = await Promise.all([billing.runScheduler(), billing.runScheduler()]);
    expect((first?.rolledOver ?? 0) + (second?.rolledOver ?? 0)).toBeGreaterThanOrEqual(1);
    const pastDue = await billing.getSubscription('bo');
    expect(pastDue).toMatchObject({ status: 'past_due', currentPeriodStart: at('2026-05-15T00:00:00Z') });
    expect(await balanceOf(tally, 'bo')).toBe(0n);
    const versions = pastDue?.version;
    await billing.runScheduler();
    expect((await billing.getSubscription('bo'))?.version).toBe(versions);

    // Seven days of grace, then the catalog's downgrade: canceled on the fallback tier.
    clock.set('2026-05-21T23:59:59Z');
    expect((await billing.runScheduler()).downgraded).toBe(0);
    clock.set('2026-05-22T00:00:00Z');
    expect((await billing.runScheduler()).downgraded).toBe(1);
    expect(await billing.getSubscription('bo')).toMatchObject({ status: 'canceled', tier: 'trial' });
    expect((await store.audit()).ok).toBe(true);
  });

  it('grants a period once whether the scheduler or the paid invoice gets there first', async () => {
    const { clock, store, tally, sandbox, billing } = setup('2026-06-01T00:00:00Z');
    await billing.subscribe({ customerId: 'cy', tier: 'trial' });
    const checkout = await billing.changeTier({ customerId: 'cy', tier: 'starter' });
    if (checkout.status !== 'checkout') throw new Error('expected a checkout');
    await sandbox.completeCheckout(checkout.checkoutId);
    expect(await balanceOf(tally, 'cy')).toBe(25n * CREDIT);

    // The period ends: the scheduler rolls over first, then the provider's renewal invoice arrives.
    clock.set('2026-07-01T00:00:00Z');
    expect((await billing.runScheduler()).rolledOver).toBe(1);
    expect(await balanceOf(tally, 'cy')).toBe(20n * CREDIT);
    await sandbox.runBilling();
    expect(await balanceOf(tally, 'cy')).toBe(20n * CREDIT);
    const grants = (await store.listEntries({ customerId: 'cy', kinds: ['grant'], limit: 100 })).items;
    expect(grants.map((g) => g.amountMicros).sort((a, b) => Number(a - b))).toEqual([5n * CREDIT, 20n * CREDIT, 20n * CREDIT]);
    expect((await store.audit()).ok).toBe(true);
  });
});

// ---- Order independence: the four events of an upgrade through checkout, in every order, with duplicates.

function upgradeEvents(start: Date): PaymentEvent[] {
  const t = (s: number) => new Date(start.getTime() + s * 1000);
  const periodStart = t(10);
  const periodEnd = addInterval(periodStart, 'month');
  const base = { provider: 'stripe', customerId: 'dee' } as const;
  const state = {
    ...base,
    type: 'subscription.updated',
    providerCustomerId: 'cus_dee',
    providerSubscriptionId: 'sub_dee',
    tier: 'professional',
    currentPeriodStart: periodStart,
    currentPeriodEnd: periodEnd,
    trialEnd: null,
    cancelAtPeriodEnd: false,
  } as const;
  return [
    {
      ...base,
      id: 'evt_checkout',
      created: t(12),
      type: 'checkout.completed',
      mode: 'subscription',
      providerCustomerId: 'cus_dee',
      providerSubscriptionId: 'sub_dee',
      checkoutId: 'cs_dee',
    },
    { ...state, id: 'evt_sub_created', created: t(10), status: 'incomplete' },
    {
      ...base,
      id: 'evt_invoice_paid',
      created: t(11),
      type: 'invoice.paid',
      providerSubscriptionId: 'sub_dee',
      invoiceId: 'in_dee',
      billingReason: 'subscription_create',
      lines: [{ tier: 'professional', proration: false, amountCents: 4900n, periodStart, periodEnd }],
      amountPaidCents: 4900n,
    },
    { ...state, id: 'evt_sub_updated', created: t(13), status: 'active' },
  ];
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** What must not depend on the order: the subscription, the ledger and the outbox, without generated ids and counters. */
async function snapshot(store: TallyStore, customerId: string) {
  const subscription = await store.getSubscription(customerId);
  const { version: _version, updatedAt: _updatedAt, ...kept } = subscription ?? ({} as Record<string, unknown>);
  const entries = (await store.listEntries({ customerId, limit: 1000 })).items
    .map((e) => [e.kind, e.fromAccount, e.toAccount, e.amountMicros.toString(), e.bucketDeltaMicros.toString(), e.description].join('|'))
    .sort();
  const balance = await store.balance(customerId, new Date('2026-08-10T00:00:00Z'));
  const outbox = (await store.listOutbox({ limit: 1000 }))
    .map((m) => {
      const payload = JSON.parse(m.payload) as Record<string, unknown>;
      // Generated ids, and the running balance a grant reports, follow the order the grants ran in.
      for (const key of ['operationId', 'bucketId', 'balanceMicros']) delete payload[key];
      return `${m.topic} ${m.dedupeKey.replace(/:\d+$/, ':#')} ${JSON.stringify(payload)}`;
    })
    .sort();
  return {
    subscription: kept,
    ledgerTier: (await store.getCustomer(customerId))?.tier,
    entries,
    balance: [balance.balanceMicros, balance.heldMicros, balance.debtMicros, balance.buckets.map((b) => `${b.kind}:${b.remainingMicros}`)],
    outbox,
  };
}

describe('provider events are applied independently of their order', () => {
  it('every ordering of a 4-event upgrade, with duplicates of each, converges on one state', async () => {
    const start = new Date('2026-08-01T00:00:00Z');
    const events = upgradeEvents(start);
    let reference: Awaited<ReturnType<typeof snapshot>> | null = null;
    const orders = permutations(events);
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      for (const duplicates of ['after-each', 'at-the-end'] as const) {
        const { store, billing, clock } = setup(start.toISOString());
        await billing.subscribe({ customerId: 'dee', tier: 'trial' });
        clock.set(new Date(start.getTime() + 60_000));
        const delivery = duplicates === 'after-each' ? order.flatMap((e) => [e, e]) : [...order, ...order];
        const applied: boolean[] = [];
        for (const event of delivery) applied.push((await billing.applyEvent(event)).applied);
        expect(applied.filter(Boolean)).toHaveLength(4);
        const state = await snapshot(store, 'dee');
        expect((await store.audit()).ok).toBe(true);
        if (!reference) reference = state;
        else expect(state, `order ${order.map((e) => e.id).join(', ')} (${duplicates})`).toEqual(reference);
      }
    }
    expect(reference?.subscription).toMatchObject({
      tier: 'professional',
      status: 'active',
      providerSubscriptionId: 'sub_dee',
      pastDueSince: null,
    });
    expect(reference?.ledgerTier).toBe('professional');
    expect(reference?.balance[0]).toBe(65n * CREDIT);
  });
});

describe('webhooks', () => {
  it('applies a signed sandbox event once; a bad or missing signature is refused and changes nothing', async () => {
    const { store, billing, sandbox } = setup('2026-09-01T00:00:00Z');
    await billing.subscribe({ customerId: 'eve', tier: 'trial' });
    const [event] = upgradeEvents(new Date('2026-09-01T00:00:00Z')).filter((e) => e.type === 'invoice.paid');
    const signed = await sandbox.webhook({ ...(event as PaymentEvent), customerId: 'eve' } as PaymentEvent);
    const before = await snapshot(store, 'eve');

    const tampered = signed.rawBody.replace('4900', '4901');
    await expect(billing.handleWebhook({ rawBody: tampered, headers: signed.headers })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'WEBHOOK_SIGNATURE_INVALID'),
    );
    await expect(billing.handleWebhook({ rawBody: signed.rawBody, headers: new Headers() })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'WEBHOOK_SIGNATURE_INVALID'),
    );
    const forged = new Headers({ 'tally-sandbox-signature': `t=${Math.floor(Date.parse('2026-09-01') / 1000)},v1=${'0'.repeat(64)}` });
    await expect(billing.handleWebhook({ rawBody: signed.rawBody, headers: forged })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'WEBHOOK_SIGNATURE_INVALID'),
    );
    expect(await snapshot(store, 'eve')).toEqual(before);

    expect((await billing.handleWebhook(signed)).applied).toBe(true);
    expect((await billing.handleWebhook(signed)).applied).toBe(false);
    expect((await store.balance('eve', new Date('2026-09-02'))).balanceMicros).toBe(65n * CREDIT);
  });

  it('answers over Fetch: 400 problem+json for a bad signature (nothing changed), 200 once applied', async () => {
    const { store, billing, sandbox } = setup('2026-09-01T00:00:00Z');
    await billing.subscribe({ customerId: 'eve', tier: 'trial' });
    const [event] = upgradeEvents(new Date('2026-09-01T00:00:00Z')).filter((e) => e.type === 'invoice.paid');
    const signed = await sandbox.webhook({ ...(event as PaymentEvent), customerId: 'eve' } as PaymentEvent);
    const before = await snapshot(store, 'eve');
    const post = (body: string, headers: Headers) =>
      billing.webhookResponse(new Request('http://app.test/webhooks', { method: 'POST', body, headers }));
    const bad = await post(signed.rawBody.replace('4900', '4901'), signed.headers);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(await bad.json()).toMatchObject({ status: 400, code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect((await post(signed.rawBody, new Headers())).status).toBe(400);
    expect(await snapshot(store, 'eve')).toEqual(before);
    const ok = await post(signed.rawBody, signed.headers);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ received: true, applied: true, stale: false });
    expect(await (await post(signed.rawBody, signed.headers)).json()).toEqual({ received: true, applied: false, stale: false });
  });

  it('refuses a webhook signed more than 300 seconds ago', async () => {
    const { billing, sandbox, clock } = setup('2026-09-01T00:00:00Z');
    const [event] = upgradeEvents(new Date('2026-09-01T00:00:00Z'));
    const signed = await sandbox.webhook(event as PaymentEvent);
    clock.advance(301_000);
    await expect(billing.handleWebhook(signed)).rejects.toSatisfy((e) => TallyError.is(e, 'WEBHOOK_SIGNATURE_INVALID'));
  });
});

describe('credit packs', () => {
  it('a paid checkout lands in the purchased bucket once; a refund claws back only what is unspent', async () => {
    const { store, tally, sandbox, billing } = setup('2026-10-01T00:00:00Z');
    await billing.subscribe({ customerId: 'fay', tier: 'trial' });
    const checkout = await billing.buyCredits({ customerId: 'fay', packId: 'credits-10' });
    await sandbox.completeCheckout(checkout.id);
    const paid = sandbox.events().find((e) => e.type === 'checkout.completed');
    await billing.applyEvent(paid as PaymentEvent); // a redelivery
    expect(await balanceOf(tally, 'fay')).toBe(15n * CREDIT);
    const paymentId = (paid as Extract<PaymentEvent, { mode: 'payment' }>).paymentId;

    // 12 credits spent: the trial allowance (5, soonest to expire) first, then 7 of the pack.
    await tally.spend({ customerId: 'fay', amountMicros: 12n * CREDIT, idempotencyKey: 'spend-12' });
    await sandbox.refund(paymentId, 1000n);
    expect(await balanceOf(tally, 'fay')).toBe(0n);
    const clawback = (await store.listEntries({ customerId: 'fay', kinds: ['clawback'], limit: 10 })).items;
    expect(clawback.map((e) => e.amountMicros)).toEqual([3n * CREDIT]);
    expect((await store.audit()).ok).toBe(true);
  });

  it('auto-recharge buys the pack below the threshold, at most maxPerMonth times, and reports a declined card', async () => {
    const { store, tally, sandbox, billing } = setup('2026-10-01T00:00:00Z');
    await billing.subscribe({ customerId: 'gus', tier: 'trial' });
    const checkout = await billing.buyCredits({ customerId: 'gus', packId: 'credits-10' });
    await sandbox.completeCheckout(checkout.id); // saves a card
    await billing.setAutoRecharge({ customerId: 'gus', enabled: true, thresholdMicros: 3n * CREDIT, packId: 'credits-10', maxPerMonth: 2 });
    expect(await billing.autoRecharge('gus')).toBe('not_needed');
    await tally.spend({ customerId: 'gus', amountMicros: 13n * CREDIT, idempotencyKey: 's1' });
    expect(await billing.autoRecharge('gus')).toBe('charged');
    expect(await balanceOf(tally, 'gus')).toBe(12n * CREDIT);
    await tally.spend({ customerId: 'gus', amountMicros: 10n * CREDIT, idempotencyKey: 's2' });
    sandbox.declineNextCharges('cus_sbx_gus', 1);
    expect(await billing.autoRecharge('gus')).toBe('failed');
    expect((await store.listOutbox({ limit: 100 })).some((m) => m.topic === 'auto_recharge.failed')).toBe(true);
    expect(await billing.autoRecharge('gus')).toBe('capped');
    expect(await balanceOf(tally, 'gus')).toBe(2n * CREDIT);
    expect((await store.audit()).ok).toBe(true);
  });
});

describe('bad input changes nothing', () => {
  it('refuses unknown tiers, packs, coupons and duplicate subscriptions with typed errors', async () => {
    const { store, billing } = setup();
    await expect(billing.subscribe({ customerId: 'hal', tier: 'platinum' })).rejects.toSatisfy((e) => TallyError.is(e, 'UNKNOWN_TIER'));
    await billing.subscribe({ customerId: 'hal', tier: 'trial' });
    const before = await snapshot(store, 'hal');
    await expect(billing.subscribe({ customerId: 'hal', tier: 'trial' })).rejects.toSatisfy((e) => TallyError.is(e, 'CONFLICT'));
    await expect(billing.changeTier({ customerId: 'hal', tier: 'trial' })).rejects.toSatisfy((e) => TallyError.is(e, 'VALIDATION'));
    await expect(billing.buyCredits({ customerId: 'hal', packId: 'credits-9' })).rejects.toSatisfy((e) => TallyError.is(e, 'NOT_FOUND'));
    await expect(billing.redeemCoupon({ customerId: 'hal', code: 'x', idempotencyKey: 'k' })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'VALIDATION'),
    );
    await expect(
      billing.createCoupon({
        code: 'HALF',
        benefit: { type: 'percent_off', percentOffBps: 20_000, durationPeriods: 1 },
        maxRedemptions: 5,
        expiresAt: null,
        tiers: [],
      }),
    ).rejects.toSatisfy((e) => TallyError.is(e, 'VALIDATION'));
    await expect(billing.undoScheduledChange('hal')).rejects.toSatisfy((e) => TallyError.is(e, 'CONFLICT'));
    expect(await snapshot(store, 'hal')).toEqual(before);
  });

  it('a percent-off coupon discounts the next renewals of the provider subscription, then ends', async () => {
    const { clock, tally, sandbox, billing } = setup('2026-04-01T00:00:00Z');
    await billing.subscribe({ customerId: 'jo', tier: 'trial' });
    await billing.createCoupon({
      code: 'HALF2',
      benefit: { type: 'percent_off', percentOffBps: 5_000, durationPeriods: 2 },
      maxRedemptions: 10,
      expiresAt: null,
      tiers: [],
    });
    await expect(billing.redeemCoupon({ customerId: 'jo', code: 'HALF2', idempotencyKey: 'c1' })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'COUPON_NOT_APPLICABLE'),
    );
    const checkout = await billing.changeTier({ customerId: 'jo', tier: 'starter' });
    if (checkout.status !== 'checkout') throw new Error('expected a checkout');
    await sandbox.completeCheckout(checkout.checkoutId);
    const redeemed = await billing.redeemCoupon({ customerId: 'jo', code: 'half2', idempotencyKey: 'c2' });
    expect(redeemed.grant).toBeNull();
    expect(await balanceOf(tally, 'jo')).toBe(25n * CREDIT); // a percent-off coupon grants no credits
    const renewals: bigint[] = [];
    for (const month of ['2026-05-01', '2026-06-01', '2026-07-01']) {
      clock.set(`${month}T00:00:00Z`);
      await sandbox.runBilling();
      const paid = sandbox.events().filter((e) => e.type === 'invoice.paid' && e.billingReason === 'subscription_cycle');
      renewals.push((paid.at(-1) as Extract<PaymentEvent, { type: 'invoice.paid' }>).amountPaidCents);
    }
    expect(renewals).toEqual([950n, 950n, 1900n]);
    expect(await balanceOf(tally, 'jo')).toBe(20n * CREDIT); // each paid renewal still grants the full allowance
  });

  it('redeems a credit coupon once per customer', async () => {
    const { tally, billing } = setup();
    await billing.subscribe({ customerId: 'ivy', tier: 'trial' });
    await billing.createCoupon({
      code: 'welcome5',
      benefit: { type: 'credits', amountMicros: 5n * CREDIT, expiresInDays: 30 },
      maxRedemptions: 100,
      expiresAt: null,
      tiers: [],
    });
    const redeemed = await billing.redeemCoupon({ customerId: 'ivy', code: 'Welcome5', idempotencyKey: 'r1' });
    expect(redeemed.redemption.code).toBe('WELCOME5');
    expect(await balanceOf(tally, 'ivy')).toBe(10n * CREDIT);
    await expect(billing.redeemCoupon({ customerId: 'ivy', code: 'WELCOME5', idempotencyKey: 'r2' })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'COUPON_ALREADY_REDEEMED'),
    );
    expect((await billing.redeemCoupon({ customerId: 'ivy', code: 'WELCOME5', idempotencyKey: 'r1' })).replayed).toBe(true);
  });
});

describe('scheduling while the provider answers with its own events', () => {
  it('cancels and resumes when the provider delivers its event during the call', async () => {
    const { sandbox, billing } = setup();
    const started = await billing.subscribe({ customerId: 'cy', tier: 'starter' });
    if (started.status !== 'checkout') throw new Error('a paid tier goes through checkout');
    await sandbox.completeCheckout(started.checkoutId);
    const active = await billing.getSubscription('cy');
    expect(active?.status).toBe('active');

    const canceled = await billing.cancel('cy');
    expect(canceled).toMatchObject({ status: 'scheduled', effectiveAt: active?.currentPeriodEnd });
    expect((await billing.getSubscription('cy'))?.scheduledChange).toEqual({ tier: null, at: active?.currentPeriodEnd });
    // Asking twice changes nothing more.
    const version = (await billing.getSubscription('cy'))?.version;
    await billing.cancel('cy');
    expect((await billing.getSubscription('cy'))?.version).toBe(version);

    const resumed = await billing.undoScheduledChange('cy');
    expect(resumed.scheduledChange).toBeNull();
    expect((await billing.getSubscription('cy'))?.scheduledChange).toBeNull();
  });
});
