import { describe, expect, it } from 'vitest';
import { createSandboxProvider } from '../billing/sandbox.js';
import { createBilling } from '../billing/service.js';
import type { PaymentEvent } from '../billing/types.js';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
import type { OutboxMessage, TallyStore } from '../ledger/types.js';
import { createOutboxWorker } from '../outbox/worker.js';
import { createFakeClock, createMemoryEmailTransport, createSeededRandom, createTextEmailRenderer, drainOutbox } from '../testing/index.js';
import type { EmailDelivery, EmailTemplateId, OutgoingEmail } from './email.js';
import { SAMPLE_EMAIL_BRAND } from './email-samples.js';
import { createNotifier, EMAIL_SEND_TOPIC, type NotifierOptions } from './notifier.js';
import { NOTIFICATION_CATEGORIES } from './preferences.js';
import { createUnsubscribeSigner } from './unsubscribe.js';

const CREDIT = 1_000_000n;
const SECRET = 'notifier-test-secret-0123456789-abcdef';
const UNSUBSCRIBE_URL = 'https://app.example.com/v1/unsubscribe';
const NAMES: Record<string, string> = { ada: 'Ada Lovelace', bob: 'Bob <b>Builder</b>' };
const PAYMENT_REASON = NOTIFICATION_CATEGORIES.find((c) => c.id === 'payment_failed')?.reason as string;

/** Half-up division, written out here so expected numbers don't come from the code under test. */
const halfUp = (numerator: bigint, denominator: bigint) => (2n * numerator + denominator) / (2n * denominator);
const dollars = (cents: bigint) => `$${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;

function setup(start = '2026-02-01T00:00:00Z', overrides: Partial<NotifierOptions> = {}) {
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
  const transport = createMemoryEmailTransport();
  const notifier = createNotifier({
    tally,
    billing,
    render: createTextEmailRenderer(),
    transport,
    from: { address: 'billing@example.com', name: 'Tally' },
    recipients: async (customerId) =>
      customerId === 'nobody' ? null : { address: `${customerId}@example.com`, name: NAMES[customerId] ?? null },
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: SECRET, url: UNSUBSCRIBE_URL },
    clock,
    ...overrides,
  });
  const random = createSeededRandom(7);
  const workers = [1, 2, 3, 4].map(() =>
    createOutboxWorker({
      store,
      clock,
      handlers: notifier.handlers,
      batchSize: 25,
      backoff: { baseMs: 1_000, maxMs: 1_000 },
      random: random.next,
    }),
  );
  return {
    clock,
    store,
    tally,
    billing,
    sandbox,
    transport,
    notifier,
    drain: () => drainOutbox({ store, workers, topics: new Set(Object.keys(notifier.handlers)), clock }),
  };
}

async function log(
  notifier: ReturnType<typeof createNotifier>,
  query: { template?: EmailTemplateId; status?: EmailDelivery['status'] } = {},
) {
  return (await notifier.deliveries({ limit: 500, ...query })).items;
}

/** The mails sent for a template, found through the delivery log's keys. */
async function mailsOf(h: ReturnType<typeof setup>, template: EmailTemplateId): Promise<OutgoingEmail[]> {
  const keys = new Set((await log(h.notifier, { template, status: 'sent' })).map((line) => line.dedupeKey));
  return h.transport.sent.filter((mail) => keys.has(mail.dedupeKey));
}

async function emailRows(store: TallyStore) {
  return (await store.listOutbox({ limit: 100_000 })).filter((m) => m.topic === EMAIL_SEND_TOPIC);
}

/** Runs the notifier's handler again on every message it has one for: a redelivery of everything. */
async function redeliverAll(h: ReturnType<typeof setup>) {
  for (const message of await h.store.listOutbox({ limit: 100_000 })) {
    const handler = h.notifier.handlers[message.topic];
    if (handler) await handler(message);
  }
}

describe('low balance', () => {
  it('1,000 concurrent spends crossing the line: exactly one mail, with the amounts left after them', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    await h.tally.grant({
      customerId: 'ada',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2026-03-01T00:00:00Z',
      idempotencyKey: 'a1',
    });
    // 1,000 × 0.019 credits = 19 credits: 1 credit is left, under the line of 10 % × 20 = 2 credits.
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => h.tally.spend({ customerId: 'ada', amountMicros: 19_000n, idempotencyKey: `s${i}` })),
    );
    await h.drain();
    const low = await mailsOf(h, 'low_balance');
    expect(low).toHaveLength(1);
    expect(low[0]?.text).toContain('You have 1.00 credits left of your 20.00 credit allowance.');
    expect(low[0]?.text).toContain('Your allowance renews on 2026-03-01.');
    expect(low[0]?.to).toEqual({ address: 'ada@example.com', name: 'Ada Lovelace' });
    expect((await emailRows(h.store)).filter((m) => m.dedupeKey.startsWith('email:low_balance:'))).toHaveLength(1);
    expect(await mailsOf(h, 'welcome')).toHaveLength(1);

    // Every event delivered again, the mails' own messages too: nothing new is enqueued or sent.
    const rows = (await emailRows(h.store)).length;
    const sent = h.transport.sent.length;
    await redeliverAll(h);
    await h.drain();
    expect((await emailRows(h.store)).length).toBe(rows);
    expect(h.transport.sent.length).toBe(sent);
  });

  it('measures against the line exactly: 2 credits left of 20 is not low, one micro less is', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    await h.tally.grant({
      customerId: 'ada',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2026-03-01T00:00:00Z',
      idempotencyKey: 'a1',
    });
    await h.tally.spend({ customerId: 'ada', amountMicros: 18n * CREDIT, idempotencyKey: 's1' });
    await h.drain();
    expect(await mailsOf(h, 'low_balance')).toHaveLength(0);
    await h.tally.spend({ customerId: 'ada', amountMicros: 1n, idempotencyKey: 's2' });
    await h.drain();
    const [mail] = await mailsOf(h, 'low_balance');
    expect(mail?.text).toContain('You have 2.00 credits left'); // 1.999999 rounds half-up to 2.00 at two decimals
    expect(await mailsOf(h, 'low_balance')).toHaveLength(1);
  });

  it('once per period: an allowance spent to zero is still found through the subscription period, and mails no second time', async () => {
    const h = setup('2026-05-01T00:00:00Z');
    await h.billing.subscribe({ customerId: 'ada', tier: 'trial' }); // 5 credits until 2026-05-15
    await h.tally.spend({ customerId: 'ada', amountMicros: 4_600_000n, idempotencyKey: 's1' }); // 0.4 left < 0.5
    await h.drain();
    expect((await mailsOf(h, 'low_balance')).map((m) => m.text.split('\n')[2])).toEqual([
      'You have 0.40 credits left of your 5.00 credit allowance.',
    ]);
    // A pack, then the allowance spent to zero: the balance no longer lists it, the period still holds.
    await h.tally.grant({ customerId: 'ada', kind: 'purchased', amountMicros: CREDIT, idempotencyKey: 'p1' });
    await h.tally.spend({ customerId: 'ada', amountMicros: 1_200_000n, idempotencyKey: 's2' });
    expect((await h.tally.balance('ada')).buckets.map((b) => b.kind)).toEqual(['purchased']);
    await h.drain();
    expect(await mailsOf(h, 'low_balance')).toHaveLength(1);

    // Without the first mail, the spent-out allowance alone finds the line (0.2 < 0.5).
    const fresh = setup('2026-05-01T00:00:00Z');
    await fresh.billing.subscribe({ customerId: 'ada', tier: 'trial' });
    await fresh.tally.grant({ customerId: 'ada', kind: 'purchased', amountMicros: CREDIT, idempotencyKey: 'p1' });
    await fresh.tally.spend({ customerId: 'ada', amountMicros: 5_800_000n, idempotencyKey: 's1' });
    await fresh.drain();
    const [mail] = await mailsOf(fresh, 'low_balance');
    expect(mail?.text).toContain('You have 0.20 credits left of your 5.00 credit allowance.');
    expect(mail?.text).toContain('Your allowance renews on 2026-05-15.');
  });

  it('scanLowBalance enqueues for every customer under the line, once', async () => {
    const h = setup();
    for (const [id, spent] of [
      ['c1', 19_000_000n],
      ['c2', 5_000_000n],
      ['c3', 18_000_000n],
      ['c4', 19_999_999n],
    ] as const) {
      await h.tally.customers.upsert({ customerId: id, tier: 'starter' });
      await h.tally.grant({
        customerId: id,
        kind: 'allowance',
        amountMicros: 20n * CREDIT,
        expiresAt: '2026-03-01T00:00:00Z',
        idempotencyKey: `g-${id}`,
      });
      await h.store.spend({
        customerId: id,
        amountMicros: spent,
        description: null,
        usage: null,
        idempotencyKey: `s-${id}`,
        request: `s-${id}`,
        at: h.clock.now(),
      });
    }
    await h.tally.customers.upsert({ customerId: 'vip', tier: 'enterprise' }); // unlimited: never low
    expect(await h.notifier.scanLowBalance()).toBe(2); // c1 (1 left) and c4 (1 micro left); c3 has exactly 2
    expect(await h.notifier.scanLowBalance()).toBe(0);
  });
});

describe('a customer journey: every trigger once, whatever is delivered again', () => {
  it('welcome, upgrade, failed payment, scheduled downgrade, renewal, coupon', async () => {
    const h = setup();
    const { clock, billing, sandbox } = h;
    await billing.subscribe({ customerId: 'ada', tier: 'trial' });
    await h.drain(); // the welcome mail shows the tier the customer is on when it is sent

    // Day 1: starter through checkout: a new period with its own allowance.
    clock.set('2026-02-02T00:00:00Z');
    const checkout = await billing.changeTier({ customerId: 'ada', tier: 'starter' });
    if (checkout.status !== 'checkout') throw new Error('expected a checkout');
    await sandbox.completeCheckout(checkout.checkoutId);

    // Day 8: professional; the first charge is declined, five minutes later it goes through.
    clock.set('2026-02-09T00:00:00Z');
    const providerCustomer = sandbox.subscriptionOf('ada')?.providerCustomerId as string;
    sandbox.declineNextCharges(providerCustomer, 1);
    const declined = await billing.changeTier({ customerId: 'ada', tier: 'professional' });
    expect(declined).toMatchObject({ status: 'charged', paid: false });
    clock.set('2026-02-09T00:05:00Z');
    expect(await billing.changeTier({ customerId: 'ada', tier: 'professional' })).toMatchObject({ status: 'charged', paid: true });

    // Day 19: back to starter at the period's end; at the end the renewal brings the new allowance.
    clock.set('2026-02-20T00:00:00Z');
    await billing.changeTier({ customerId: 'ada', tier: 'starter' });
    clock.set('2026-03-02T00:00:00Z');
    await sandbox.runBilling();
    expect(await billing.runScheduler()).toEqual({ rolledOver: 0, downgraded: 0, canceled: 0 });

    clock.set('2026-03-03T00:00:00Z');
    await billing.createCoupon({
      code: 'WELCOME25',
      benefit: { type: 'credits', amountMicros: 25n * CREDIT, expiresInDays: 30 },
      maxRedemptions: null,
      expiresAt: null,
      tiers: [],
    });
    await billing.redeemCoupon({ customerId: 'ada', code: 'welcome25', idempotencyKey: 'r1' });
    await h.drain();

    // The body's sentences (between the greeting and the footer), in text order: workers send in any order.
    const texts = async (template: EmailTemplateId) =>
      (await mailsOf(h, template)).map((m) => m.text.split('\n').slice(2, -4).join(' ')).sort();
    expect(await texts('welcome')).toEqual(['You are on the Trial tier, with 5.00 credits each period.']);
    expect(await texts('tier_upgraded')).toEqual([
      'Your plan moves from Starter to Professional since 2026-02-09. Professional costs $49.00 per period. It includes 60.00 credits each period.',
      'Your plan moves from Trial to Starter since 2026-02-02. Starter costs $19.00 per period. It includes 20.00 credits each period.',
    ]);
    expect(await texts('tier_downgraded')).toEqual([
      'Your plan moves from Professional to Starter from 2026-03-02. Starter costs $19.00 per period. It includes 20.00 credits each period.',
      'Your plan moves from Professional to Starter since 2026-03-02. Starter costs $19.00 per period. It includes 20.00 credits each period.',
    ]);
    // Not the trial's (the first allowance) nor the professional top-up inside the starter period.
    expect(await texts('monthly_reset')).toEqual([
      '20.00 credits for 2026-02-02 to 2026-03-02.',
      '20.00 credits for 2026-03-02 to 2026-04-02.',
    ]);
    expect(await texts('coupon_redeemed')).toEqual(['Coupon WELCOME25 added 25.00 credits, usable until 2026-04-02.']);
    // Stripe's proration of the declined charge: +remaining professional − unused starter, each half-up.
    const periodSeconds = 28n * 86_400n;
    const leftSeconds = 21n * 86_400n;
    const due = halfUp(4900n * leftSeconds, periodSeconds) - halfUp(1900n * leftSeconds, periodSeconds);
    expect(due).toBe(2250n);
    const failed = await mailsOf(h, 'payment_failed');
    expect(failed.map((m) => m.text.split('\n')[2])).toEqual([`We could not collect ${dollars(due)} (attempt 1).`]);
    expect(await mailsOf(h, 'low_balance')).toEqual([]);
    expect(h.transport.sent).toHaveLength(9);

    // Every event and every mail message delivered again: no new message, no new mail, no new log line.
    const rows = (await emailRows(h.store)).length;
    const lines = (await log(h.notifier)).length;
    await redeliverAll(h);
    await h.drain();
    expect((await emailRows(h.store)).length).toBe(rows);
    expect(h.transport.sent).toHaveLength(9);
    expect((await log(h.notifier)).length).toBe(lines);
  });

  it('writes tier.changed in the save’s transaction: a scheduled downgrade once, again only when scheduled anew', async () => {
    const h = setup();
    await h.billing.subscribe({ customerId: 'ada', tier: 'trial' });
    const checkout = await h.billing.changeTier({ customerId: 'ada', tier: 'professional' });
    if (checkout.status !== 'checkout') throw new Error('expected a checkout');
    await h.sandbox.completeCheckout(checkout.checkoutId);
    await h.billing.changeTier({ customerId: 'ada', tier: 'starter' });
    await h.billing.changeTier({ customerId: 'ada', tier: 'starter' }); // the same schedule again: no event
    await h.billing.undoScheduledChange('ada');
    await h.billing.changeTier({ customerId: 'ada', tier: 'trial' });
    const events = (await h.store.listOutbox({ limit: 1000 }))
      .filter((m) => m.topic === 'tier.changed')
      .map((m) => JSON.parse(m.payload) as Record<string, string>)
      .map((e) => `${e.from}→${e.to} ${e.direction} ${e.timing} ${e.effectiveAt}`);
    expect(events).toEqual([
      'trial→professional upgrade now 2026-02-01T00:00:00.000Z',
      'professional→starter downgrade scheduled 2026-03-01T00:00:00.000Z',
      'professional→trial downgrade scheduled 2026-03-01T00:00:00.000Z',
    ]);
  });
});

describe('email.send', () => {
  it('a transport down for three tries: three failed lines, then sent on attempt 4; nothing lost', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    h.transport.failNext(3);
    await h.drain();
    const lines = (await log(h.notifier, { template: 'welcome' })).reverse();
    expect(lines.map((l) => [l.status, l.attempt, l.error === null])).toEqual([
      ['failed', 1, false],
      ['failed', 2, false],
      ['failed', 3, false],
      ['sent', 4, true],
    ]);
    expect(lines[0]?.error).toContain('told to fail');
    expect(lines[3]).toMatchObject({ to: 'ada@example.com', transport: 'memory', messageId: '<memory-1@tally.test>', customerId: 'ada' });
    expect(h.transport.sent).toHaveLength(1);
    expect(h.transport.failures).toBe(3);
    expect(await h.store.listOutbox({ dead: true, limit: 10 })).toEqual([]);
  });

  it('a category turned off: suppressed by preference, no mail; the other categories still go', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    await h.store.setNotificationPreferences({ customerId: 'ada', changes: { welcome: false }, at: h.clock.now() });
    await h.drain();
    expect(await log(h.notifier)).toMatchObject([
      { template: 'welcome', status: 'suppressed', suppression: 'preference', to: 'ada@example.com', attempt: 1, messageId: null },
    ]);
    expect(h.transport.sent).toEqual([]);
    expect(
      await h.notifier.notify(
        'low_balance',
        { customerId: 'ada', customerName: null, remainingMicros: 0n, allowanceMicros: CREDIT, renewsAt: null },
        'k1',
      ),
    ).toBe(true);
    await h.drain();
    expect(h.transport.sent).toHaveLength(1);
  });

  it('no address: suppressed as no_recipient', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'nobody', tier: 'starter' });
    await h.drain();
    expect(await log(h.notifier)).toMatchObject([{ status: 'suppressed', suppression: 'no_recipient', to: null, customerId: 'nobody' }]);
    expect(h.transport.sent).toEqual([]);
  });

  it('payment failed goes out with every optional category off, says why, and carries no unsubscribe header', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'bob', tier: 'starter' });
    const off = Object.fromEntries(NOTIFICATION_CATEGORIES.filter((c) => !c.required).map((c) => [c.id, false]));
    await h.store.setNotificationPreferences({ customerId: 'bob', changes: off, at: h.clock.now() });
    const event: PaymentEvent = {
      provider: 'sandbox',
      id: 'evt_failed_1',
      created: h.clock.now(),
      type: 'invoice.payment_failed',
      customerId: 'bob',
      invoiceId: 'in_1',
      attemptCount: 2,
      nextAttemptAt: new Date('2026-02-04T09:00:00Z'),
      amountDueCents: 4900n,
    } as PaymentEvent;
    await h.billing.applyEvent(event);
    await h.billing.applyEvent({ ...event, id: 'evt_failed_1_again' }); // the same attempt, redelivered under another id
    await h.drain();
    const [mail, ...rest] = h.transport.sent;
    expect(rest).toEqual([]);
    expect(mail?.headers).toEqual({});
    expect(mail?.subject).toBe('Your Tally payment failed');
    expect(mail?.text).toContain('We could not collect $49.00 (attempt 2).');
    expect(mail?.text).toContain('We will try again on 2026-02-04.');
    expect(mail?.text).toContain(PAYMENT_REASON);
    expect(mail?.text).not.toContain('Unsubscribe');
    expect(mail?.to).toEqual({ address: 'bob@example.com', name: 'Bob <b>Builder</b>' });
    expect(mail?.html).toContain('Hi Bob &lt;b&gt;Builder&lt;/b&gt;,');
    expect(await log(h.notifier, { status: 'suppressed' })).toMatchObject([{ template: 'welcome', suppression: 'preference' }]);
  });

  it('optional mails carry RFC 8058 headers and a working link for their own category', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    await h.drain();
    const [mail] = h.transport.sent;
    const link = mail?.headers['List-Unsubscribe']?.replace(/^<|>$/g, '') as string;
    expect(mail?.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(link.startsWith(`${UNSUBSCRIBE_URL}?token=`)).toBe(true);
    expect(mail?.text).toContain(`Unsubscribe: ${link}`);
    expect(mail?.dedupeKey).toBe('welcome:ada');
    const token = new URL(link).searchParams.get('token') as string;
    expect(await h.notifier.unsubscribe(token)).toEqual({ customerId: 'ada', category: 'welcome' });
    expect((await h.store.getNotificationPreferences('ada')).categories.welcome).toBe(false);
  });
});

describe('unsubscribe tokens', () => {
  async function twoCustomers() {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    await h.tally.customers.upsert({ customerId: 'bob', tier: 'starter' });
    const tokenOf = async (customerId: string, category: 'low_balance' | 'welcome') =>
      new URL((await h.notifier.unsubscribeUrl(customerId, category)) as string).searchParams.get('token') as string;
    const prefs = async () => [await h.store.getNotificationPreferences('ada'), await h.store.getNotificationPreferences('bob')];
    return { h, tokenOf, prefs };
  }

  it('a valid token turns off only that customer’s one category', async () => {
    const { h, tokenOf } = await twoCustomers();
    const token = await tokenOf('ada', 'low_balance');
    h.clock.advance(1_000);
    expect(await h.notifier.unsubscribe(token)).toEqual({ customerId: 'ada', category: 'low_balance' });
    const ada = await h.store.getNotificationPreferences('ada');
    expect(Object.entries(ada.categories).filter(([, on]) => !on)).toEqual([['low_balance', false]]);
    expect(ada.updatedAt).toEqual(h.clock.now());
    expect(await h.store.getNotificationPreferences('bob')).toMatchObject({ updatedAt: null });
    expect(Object.values((await h.store.getNotificationPreferences('bob')).categories).every(Boolean)).toBe(true);
  });

  it('forged, altered, foreign and malformed tokens are FORBIDDEN and change nothing', async () => {
    const { h, tokenOf, prefs } = await twoCustomers();
    const before = await prefs();
    const ada = await tokenOf('ada', 'low_balance');
    const bob = await tokenOf('bob', 'welcome');
    const [adaPayload, adaMac] = ada.split('.') as [string, string];
    const [bobPayload, bobMac] = bob.split('.') as [string, string];
    const base64url = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const encode = (json: string) => base64url(new TextEncoder().encode(json));
    const flip = (text: string, i: number) => text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    const otherSecret = createUnsubscribeSigner('another-deployment-secret-0123456789-xyz');
    const bad = [
      `${bobPayload}.${adaMac}`, // another customer's payload under ada's MAC
      `${adaPayload}.${bobMac}`,
      `${encode(JSON.stringify({ v: 1, c: 'bob', k: 'low_balance' }))}.${adaMac}`,
      `${encode(JSON.stringify({ v: 1, c: 'ada', k: 'welcome' }))}.${adaMac}`, // another category
      `${adaPayload}.${flip(adaMac, 5)}`,
      `${flip(adaPayload, 3)}.${adaMac}`,
      `${adaPayload}.${base64url(new Uint8Array(32))}`,
      `${adaPayload}.${adaMac}A`,
      `${adaPayload}.${adaMac.slice(0, -1)}`,
      `${adaPayload}${adaMac}`,
      `${ada}.${adaMac}`,
      `${adaPayload}.${adaMac}=`,
      ` ${ada}`,
      '',
      '.',
      'x'.repeat(5000),
      await otherSecret.sign({ customerId: 'ada', category: 'low_balance' }),
    ];
    for (const token of bad) {
      const error = await h.notifier.unsubscribe(token).catch((e: unknown) => e);
      expect(TallyError.is(error, 'FORBIDDEN'), `token ${token.slice(0, 80)}`).toBe(true);
    }
    expect(await prefs()).toEqual(before);
  });

  it('a signed token for a required category is refused with the reason; required categories have no link', async () => {
    const { h, prefs } = await twoCustomers();
    expect(await h.notifier.unsubscribeUrl('ada', 'payment_failed')).toBeNull();
    const before = await prefs();
    const token = await createUnsubscribeSigner(SECRET).sign({ customerId: 'ada', category: 'payment_failed' });
    const error = await h.notifier.unsubscribe(token).catch((e: unknown) => e);
    expect(TallyError.is(error, 'VALIDATION')).toBe(true);
    expect((error as TallyError).message).toContain(PAYMENT_REASON);
    expect(await prefs()).toEqual(before);
  });

  it('a valid token for a customer the store does not know is NOT_FOUND', async () => {
    const { h } = await twoCustomers();
    const token = await createUnsubscribeSigner(SECRET).sign({ customerId: 'ghost', category: 'welcome' });
    await expect(h.notifier.unsubscribe(token)).rejects.toSatisfy((e: unknown) => TallyError.is(e, 'NOT_FOUND'));
  });
});

describe('admin', () => {
  it('lists every template with its category and a description', () => {
    const h = setup('2026-02-01T00:00:00Z', { lowBalanceThresholdBps: 1250 });
    const templates = h.notifier.templates();
    expect(templates.map((t) => [t.id, t.category, t.required])).toEqual([
      ['welcome', 'welcome', false],
      ['low_balance', 'low_balance', false],
      ['monthly_reset', 'monthly_reset', false],
      ['coupon_redeemed', 'coupon_redeemed', false],
      ['tier_upgraded', 'tier_changed', false],
      ['tier_downgraded', 'tier_changed', false],
      ['payment_failed', 'payment_failed', true],
      // The admin report: no customer category governs it.
      ['analytics_report', null, false],
    ]);
    expect(templates.find((t) => t.id === 'low_balance')?.description).toContain('12.5 %');
    expect(templates.every((t) => t.description.length > 20)).toBe(true);
  });

  it('previews sample or given data, escaped, with a sample link that unsubscribes nobody', async () => {
    const h = setup();
    const sample = await h.notifier.preview('low_balance');
    expect(sample.text).toContain('You have 74.25 credits left of your 1,000.00 credit allowance.');
    expect(sample.text).toContain(`Unsubscribe: ${UNSUBSCRIBE_URL}?token=preview`);
    const given = await h.notifier.preview('coupon_redeemed', {
      data: {
        customerId: 'x',
        customerName: '<script>',
        code: 'A<B',
        benefit: { type: 'percent_off', percentOffBps: 2550, durationPeriods: 3 },
      },
    });
    expect(given.text).toContain('Coupon A<B takes 25.5 % off your next 3 invoices.');
    expect(given.html).not.toContain('<script>');
    expect(given.html).toContain('A&lt;B');
    const required = await h.notifier.preview('payment_failed');
    expect(required.text).toContain(PAYMENT_REASON);
    await expect(h.notifier.preview('nope' as EmailTemplateId)).rejects.toSatisfy((e: unknown) => TallyError.is(e, 'VALIDATION'));
    await expect(h.notifier.unsubscribe('preview')).rejects.toSatisfy((e: unknown) => TallyError.is(e, 'FORBIDDEN'));
    expect(h.transport.sent).toEqual([]);
  });

  it('sends a test now and logs it as a test; a failing transport is logged, then thrown', async () => {
    const h = setup();
    const delivery = await h.notifier.sendTest('tier_upgraded', { address: 'ops@example.com', name: null });
    expect(delivery).toMatchObject({
      template: 'tier_upgraded',
      customerId: null,
      test: true,
      status: 'sent',
      attempt: 1,
      to: 'ops@example.com',
    });
    expect(h.transport.sent.map((m) => [m.to.address, m.subject])).toEqual([['ops@example.com', 'Your Tally plan is upgraded']]);
    h.transport.failNext(1);
    await expect(h.notifier.sendTest('welcome', { address: 'ops@example.com', name: null })).rejects.toSatisfy((e: unknown) =>
      TallyError.is(e, 'PROVIDER_UNAVAILABLE'),
    );
    expect((await log(h.notifier)).map((l) => [l.template, l.status, l.test])).toEqual([
      ['welcome', 'failed', true],
      ['tier_upgraded', 'sent', true],
    ]);
    await expect(h.notifier.sendTest('welcome', { address: 'not an address', name: null })).rejects.toSatisfy((e: unknown) =>
      TallyError.is(e, 'VALIDATION'),
    );
    expect(h.transport.sent).toHaveLength(1);
  });

  it('notify refuses bad input before anything is enqueued', async () => {
    const h = setup();
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
    const rows = (await h.store.listOutbox({ limit: 100 })).length;
    const data = { customerId: 'ada', customerName: null, tierName: 'Starter', allowanceMicros: 20n * CREDIT };
    const refusals: Array<[Promise<unknown>, string]> = [
      [h.notifier.notify('welcome', data, ''), 'VALIDATION'],
      [h.notifier.notify('welcome', data, 'has space'), 'VALIDATION'],
      [h.notifier.notify('nope' as 'welcome', data, 'k'), 'VALIDATION'],
      [h.notifier.notify('welcome', { ...data, customerId: 'ghost' }, 'k'), 'NOT_FOUND'],
      [h.notifier.notify('welcome', { ...data, allowanceMicros: Number.NaN as unknown as bigint }, 'k'), 'VALIDATION'],
    ];
    for (const [attempt, code] of refusals) await expect(attempt).rejects.toSatisfy((e: unknown) => TallyError.is(e, code as never));
    expect((await h.store.listOutbox({ limit: 100 })).length).toBe(rows);
    expect(await h.notifier.notify('welcome', data, 'k')).toBe(true);
    expect(await h.notifier.notify('welcome', data, 'k')).toBe(false);
  });
});

describe('options', () => {
  it('refuses a short secret, a relative link, a bad threshold, brand or sender with VALIDATION', () => {
    const bad: Array<Partial<NotifierOptions>> = [
      { unsubscribe: { secret: 'too-short', url: UNSUBSCRIBE_URL } },
      { unsubscribe: { secret: new Uint8Array(31), url: UNSUBSCRIBE_URL } },
      { unsubscribe: { secret: SECRET, url: '/v1/unsubscribe' } },
      { unsubscribe: { secret: SECRET, url: 'javascript:alert(1)' } },
      { lowBalanceThresholdBps: 0 },
      { lowBalanceThresholdBps: 10_001 },
      { lowBalanceThresholdBps: 12.5 },
      { brand: { ...SAMPLE_EMAIL_BRAND, primaryColor: 'red' } },
      { from: { address: 'billing@example.com\r\nBcc: x@y.z', name: null } },
      { locale: 'not a locale' },
    ];
    for (const options of bad) {
      expect(() => setup('2026-02-01T00:00:00Z', options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION' }) as unknown as Error,
      );
    }
    expect(() => setup('2026-02-01T00:00:00Z', { unsubscribe: { secret: new Uint8Array(32), url: UNSUBSCRIBE_URL } })).not.toThrow();
  });
});

describe('customer.created', () => {
  it('is written once, by the upsert that created the customer', async () => {
    const h = setup();
    await Promise.all([
      h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' }),
      h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' }),
    ]);
    await h.tally.customers.upsert({ customerId: 'ada', tier: 'professional' });
    const created = (await h.store.listOutbox({ limit: 100 })).filter((m: OutboxMessage) => m.topic === 'customer.created');
    expect(created.map((m) => [m.dedupeKey, JSON.parse(m.payload)])).toEqual([
      ['customer.created:ada', { customerId: 'ada', at: '2026-02-01T00:00:00.000Z' }],
    ]);
  });
});
