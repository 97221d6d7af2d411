import { createMemoryStore, createOutboxWorker, type OutboxMessage, TallyError, type TallyStore } from '@tally/core';
import { createFakeClock, tallyRejection } from '@tally/core/testing';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLagoClient, type LagoClientOptions, type LagoEventInput } from './client.js';
import { createLagoSink, lagoTimestamp } from './sink.js';
import { createFakeLago, type FakeLagoOptions } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(options: FakeLagoOptions = {}, client: Partial<LagoClientOptions> = {}) {
  const fake = createFakeLago(options);
  server.use(...fake.handlers);
  const lago = createLagoClient({
    apiKey: fake.apiKey,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    retry: { limit: 0 },
    ...client,
  });
  return { fake, lago };
}

function event(n: number, subscription = 'tally_sub_c1'): LagoEventInput {
  return { transaction_id: `tally_op_${n}`, external_subscription_id: subscription, code: 'tally_credits', properties: { credits: '1' } };
}

/** The events of the n-th logged request (a batch body). */
function batchOf(fake: { requests: Array<{ body: unknown }> }, n: number): LagoEventInput[] {
  const request = fake.requests[n];
  if (!request) throw new Error(`no request #${n}`);
  return (request.body as { events: LagoEventInput[] }).events;
}

function charged(customerId: string, operationId: string, amountMicros: string, at = '2026-11-16T00:00:00.123Z') {
  return { customerId, operationId, amountMicros, balanceMicros: '0', at };
}

function subscriptionUpdated(customerId: string, tier: string, status: string, version: number) {
  return {
    customerId,
    tier,
    status,
    interval: 'month',
    currentPeriodStart: '2026-11-01T00:00:00.000Z',
    currentPeriodEnd: '2026-12-01T00:00:00.000Z',
    trialEnd: null,
    scheduledChange: null,
    version,
    at: '2026-11-16T00:00:00.000Z',
  };
}

async function enqueue(store: TallyStore, topic: string, key: string, payload: object, at: Date) {
  await store.enqueueOutbox({ topic, payload: JSON.stringify(payload), dedupeKey: `${topic}:${key}`, at });
}

function message(topic: string, payload: object, id = '1'): OutboxMessage {
  const at = new Date('2026-11-16T00:00:00Z');
  return {
    id,
    topic,
    payload: JSON.stringify(payload),
    dedupeKey: `${topic}:${id}`,
    attempts: 1,
    createdAt: at,
    availableAt: at,
    deliveredAt: null,
    lastError: null,
    dead: false,
  };
}

describe('Lago client', () => {
  it('sends the request shapes of the Lago API with the bearer key', async () => {
    const { fake, lago } = setup({ baseUrl: 'https://lago.example/api/v1' });
    const customer = await lago.upsertCustomer({ external_id: 'c1', name: 'Ada' });
    expect(customer).toMatchObject({ external_id: 'c1', name: 'Ada' });
    expect(customer.lago_id).toMatch(/^cus_/);
    const subscription = await lago.createOrUpdateSubscription({
      external_customer_id: 'c1',
      external_id: 'tally_sub_c1',
      plan_code: 'starter',
      billing_time: 'anniversary',
    });
    expect(subscription).toMatchObject({
      external_id: 'tally_sub_c1',
      plan_code: 'starter',
      status: 'active',
      billing_time: 'anniversary',
    });
    await lago.sendEvents([{ ...event(1), timestamp: '1794787200.123' }]);
    await lago.sendEvent(event(2));
    expect((await lago.terminateSubscription('tally_sub_c1'))?.status).toBe('terminated');
    expect(fake.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/api/v1/customers', 200],
      ['POST', '/api/v1/subscriptions', 200],
      ['POST', '/api/v1/events/batch', 200],
      ['POST', '/api/v1/events', 200],
      ['DELETE', '/api/v1/subscriptions/tally_sub_c1', 200],
    ]);
    expect(fake.requests.map((r) => r.body)).toEqual([
      { customer: { external_id: 'c1', name: 'Ada' } },
      { subscription: { external_customer_id: 'c1', external_id: 'tally_sub_c1', plan_code: 'starter', billing_time: 'anniversary' } },
      { events: [{ ...event(1), timestamp: '1794787200.123' }] },
      { event: event(2) },
      null,
    ]);
    expect(fake.events.get('tally_sub_c1\u0000tally_op_1')?.timestamp).toBe('2026-11-16T00:00:00.123Z');
  });

  it('changes the plan of a subscription through the same external_id', async () => {
    const { fake, lago } = setup({ plans: { starter: 19_00 * 12, professional: 49_00 * 12 } });
    const first = await lago.createOrUpdateSubscription({ external_customer_id: 'c1', external_id: 's', plan_code: 'starter' });
    const upgraded = await lago.createOrUpdateSubscription({ external_customer_id: 'c1', external_id: 's', plan_code: 'professional' });
    expect(upgraded).toMatchObject({ lago_id: first.lago_id, plan_code: 'professional', next_plan_code: null });
    const downgraded = await lago.createOrUpdateSubscription({ external_customer_id: 'c1', external_id: 's', plan_code: 'starter' });
    expect(downgraded).toMatchObject({ plan_code: 'professional', next_plan_code: 'starter' });
    expect(fake.subscriptions).toHaveLength(1);
    expect(
      (await tallyRejection(lago.createOrUpdateSubscription({ external_customer_id: 'c1', external_id: 's', plan_code: 'gold' }))).details,
    ).toMatchObject({
      status: 404,
      code: 'plan_not_found',
    });
  });

  it('counts a duplicate single event as delivered, and stores it once', async () => {
    const { fake, lago } = setup();
    expect(await lago.sendEvent(event(1))).toEqual({ duplicate: false });
    expect(await lago.sendEvent(event(1))).toEqual({ duplicate: true });
    expect(fake.requests.map((r) => r.status)).toEqual([200, 422]);
    expect(fake.events.size).toBe(1);
    // The same transaction id on another subscription is another event.
    expect(await lago.sendEvent(event(1, 'tally_sub_c2'))).toEqual({ duplicate: false });
    expect(fake.events.size).toBe(2);
  });

  it('sends a batch of 100 and refuses 101 before any request', async () => {
    const { fake, lago } = setup();
    const hundred = Array.from({ length: 100 }, (_, n) => event(n));
    expect(await lago.sendEvents(hundred)).toEqual({ sent: 100, duplicates: [] });
    expect(fake.events.size).toBe(100);
    const error = await tallyRejection(lago.sendEvents(Array.from({ length: 101 }, (_, n) => event(1000 + n))));
    expect(error.code).toBe('VALIDATION');
    expect(error.details).toEqual({ count: 101, max: 100 });
    expect(fake.requests).toHaveLength(1);
    expect(await lago.sendEvents([])).toEqual({ sent: 0, duplicates: [] });
    expect(fake.requests).toHaveLength(1);
  });

  it('resends a batch without the events Lago already has, so the rest arrive once', async () => {
    const { fake, lago } = setup();
    await lago.sendEvents([event(2), event(4)]);
    const result = await lago.sendEvents([event(1), event(2), event(3), event(4), event(5), event(3)]);
    expect(result).toEqual({ sent: 3, duplicates: ['tally_op_3', 'tally_op_2', 'tally_op_4'] });
    expect([...fake.events.values()].map((e) => e.transaction_id).sort()).toEqual([
      'tally_op_1',
      'tally_op_2',
      'tally_op_3',
      'tally_op_4',
      'tally_op_5',
    ]);
    expect(fake.requests.map((r) => [r.status, (r.body as { events: unknown[] }).events.length])).toEqual([
      [200, 2],
      [422, 5],
      [200, 3],
    ]);
    // Everything already there: one refused call, nothing stored twice.
    expect(await lago.sendEvents([event(1), event(5)])).toEqual({ sent: 0, duplicates: ['tally_op_1', 'tally_op_5'] });
    expect(fake.events.size).toBe(5);
  });

  it('fails the whole batch on any other refusal', async () => {
    const { fake, lago } = setup();
    await lago.sendEvents([event(1)]);
    const error = await tallyRejection(lago.sendEvents([event(1), { ...event(2), timestamp: 'yesterday' }, event(3)]));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({
      status: 422,
      code: 'validation_errors',
      error_details: { '0': { transaction_id: ['value_already_exist'] }, '1': { timestamp: ['invalid_format'] } },
    });
    expect(fake.events.size).toBe(1);
  });

  it('maps errors to typed TallyErrors carrying Lago code and status', async () => {
    const { fake } = setup();
    const wrongKey = createLagoClient({ apiKey: 'nope', retry: { limit: 0 } });
    const unauthorized = await tallyRejection(wrongKey.upsertCustomer({ external_id: 'c1' }));
    expect(unauthorized.code).toBe('PROVIDER_REJECTED');
    expect(unauthorized.details).toMatchObject({ status: 401, error: 'Unauthorized' });
    const lago = createLagoClient({ apiKey: fake.apiKey, retry: { limit: 0 } });
    fake.down(1);
    const down = await tallyRejection(lago.sendEvents([event(1)]));
    expect(down.code).toBe('PROVIDER_UNAVAILABLE');
    expect(down.details).toMatchObject({ status: 503 });
    expect(await lago.terminateSubscription('missing')).toBeNull();
    expect((await tallyRejection(lago.upsertCustomer({ external_id: '' }))).code).toBe('VALIDATION');
    expect(() => createLagoClient({ apiKey: '' })).toThrow(TallyError);
  });

  it('retries 429/5xx a few times inside the client, then gives up to the outbox', async () => {
    const { fake, lago } = setup({}, { retry: { limit: 2, baseMs: 1, maxMs: 5 } });
    fake.down(2);
    expect(await lago.sendEvents([event(1)])).toEqual({ sent: 1, duplicates: [] });
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 200]);
    fake.down(3);
    expect((await tallyRejection(lago.sendEvents([event(2)]))).code).toBe('PROVIDER_UNAVAILABLE');
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 200, 503, 503, 503]);
    let limited = 0;
    server.use(
      http.post(`${fake.baseUrl}/customers`, () => {
        if (limited++ > 0) return undefined;
        return HttpResponse.json({ status: 429, error: 'Too Many Requests' }, { status: 429, headers: { 'x-ratelimit-reset': '0' } });
      }),
    );
    expect((await lago.upsertCustomer({ external_id: 'c1' })).external_id).toBe('c1');
    expect(limited).toBe(2);
  });
});

describe('Lago sink', () => {
  it('turns charges into usage events with exact credit decimals and Unix-second timestamps', async () => {
    const { fake, lago } = setup();
    const sink = createLagoSink({ client: lago });
    await sink.batchHandlers['credits.charged']([
      message('credits.charged', charged('c1', 'op1', '1500000'), '1'),
      message('credits.charged', charged('c1', 'op2', '1', '2026-11-16T00:00:01.000Z'), '2'),
      message('credits.charged', charged('c2', 'op3', '123456789012345678', '2026-11-16T00:00:00.007Z'), '3'),
    ]);
    expect(batchOf(fake, 0)).toEqual([
      {
        transaction_id: 'tally_op_op1',
        external_subscription_id: 'tally_sub_c1',
        code: 'tally_credits',
        timestamp: '1794787200.123',
        properties: { credits: '1.5' },
      },
      {
        transaction_id: 'tally_op_op2',
        external_subscription_id: 'tally_sub_c1',
        code: 'tally_credits',
        timestamp: '1794787201.000',
        properties: { credits: '0.000001' },
      },
      {
        transaction_id: 'tally_op_op3',
        external_subscription_id: 'tally_sub_c2',
        code: 'tally_credits',
        timestamp: '1794787200.007',
        properties: { credits: '123456789012.345678' },
      },
    ]);
  });

  it('formats timestamps exactly, before 1970 too', () => {
    expect(lagoTimestamp('2026-11-16T00:00:00Z')).toBe('1794787200.000');
    expect(lagoTimestamp('1969-12-31T23:59:59.999Z')).toBe('-1.999');
  });

  it('takes the event code and subscription ids from its options', async () => {
    const { fake, lago } = setup();
    const sink = createLagoSink({ client: lago, eventCode: 'ai_credits', externalSubscriptionIdFor: (id) => `sub-${id}` });
    await sink.batchHandlers['credits.charged']([message('credits.charged', charged('c1', 'op1', '2000000'))]);
    expect(batchOf(fake, 0)[0]).toMatchObject({
      code: 'ai_credits',
      external_subscription_id: 'sub-c1',
      properties: { credits: '2' },
    });
  });

  it('refuses malformed payloads with VALIDATION and sends nothing', async () => {
    const { fake, lago } = setup();
    const sink = createLagoSink({ client: lago });
    for (const payload of [
      charged('c1', 'op1', '1.5'),
      charged('c1', 'op1', '-1'),
      charged('c1', '', '1'),
      charged('c1', 'op1', '1', 'not a date'),
      { ...charged('c1', 'op1', '1'), amountMicros: 1 },
    ]) {
      const error = await tallyRejection(sink.batchHandlers['credits.charged']([message('credits.charged', payload)]));
      expect(error.code).toBe('VALIDATION');
    }
    await expect(
      sink.handlers['subscription.updated'](message('subscription.updated', subscriptionUpdated('c1', 'pro', 'paused', 1))),
    ).rejects.toThrow(/status must be one of/);
    expect(fake.requests).toEqual([]);
  });

  it('mirrors subscription updates: customer upsert + plan, termination on cancel', async () => {
    const { fake, lago } = setup();
    const sink = createLagoSink({ client: lago, planCodeFor: (tier) => `plan_${tier}` });
    const update = sink.handlers['subscription.updated'];
    await update(message('subscription.updated', subscriptionUpdated('c1', 'starter', 'trialing', 1)));
    await update(message('subscription.updated', subscriptionUpdated('c1', 'professional', 'active', 2)));
    expect(fake.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/api/v1/customers', { customer: { external_id: 'c1' } }],
      [
        'POST',
        '/api/v1/subscriptions',
        {
          subscription: { external_customer_id: 'c1', external_id: 'tally_sub_c1', plan_code: 'plan_starter', billing_time: 'anniversary' },
        },
      ],
      ['POST', '/api/v1/customers', { customer: { external_id: 'c1' } }],
      [
        'POST',
        '/api/v1/subscriptions',
        {
          subscription: {
            external_customer_id: 'c1',
            external_id: 'tally_sub_c1',
            plan_code: 'plan_professional',
            billing_time: 'anniversary',
          },
        },
      ],
    ]);
    expect(fake.subscriptions.map((s) => [s.external_id, s.plan_code, s.status])).toEqual([
      ['tally_sub_c1', 'plan_professional', 'active'],
    ]);
    await update(message('subscription.updated', subscriptionUpdated('c1', 'professional', 'canceled', 3)));
    // Delivered twice (at least once): the second termination finds nothing and still succeeds.
    await update(message('subscription.updated', subscriptionUpdated('c1', 'professional', 'canceled', 3)));
    expect(fake.subscriptions.map((s) => s.status)).toEqual(['terminated']);
    expect(fake.requests.slice(4).map((r) => [r.method, r.path, r.status])).toEqual([
      ['DELETE', '/api/v1/subscriptions/tally_sub_c1', 200],
      ['DELETE', '/api/v1/subscriptions/tally_sub_c1', 404],
    ]);
  });

  it('skips a subscription update older than the version Tally has now', async () => {
    const { fake, lago } = setup();
    const versions = new Map([['c1', 3]]);
    const sink = createLagoSink({ client: lago, currentVersion: async (id) => versions.get(id) ?? null });
    await sink.handlers['subscription.updated'](message('subscription.updated', subscriptionUpdated('c1', 'starter', 'active', 2)));
    expect(fake.requests).toEqual([]);
    await sink.handlers['subscription.updated'](message('subscription.updated', subscriptionUpdated('c1', 'starter', 'active', 3)));
    await sink.handlers['subscription.updated'](message('subscription.updated', subscriptionUpdated('c2', 'starter', 'active', 1)));
    expect(fake.subscriptions.map((s) => s.external_customer_id)).toEqual(['c1', 'c2']);
  });
});

describe('Lago sink on the outbox worker', () => {
  async function outbox(count: number) {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-11-16T00:00:00Z');
    for (let n = 0; n < count; n++) {
      await enqueue(store, 'credits.charged', `op${n}`, charged(`c${n % 7}`, `op${n}`, String(1_000 + n)), clock.now());
    }
    return { store, clock };
  }

  it('delivers charges later, exactly once, after Lago was down for several attempts', async () => {
    const { fake, lago } = setup({}, { retry: { limit: 1, baseMs: 1, maxMs: 2 } });
    const { store, clock } = await outbox(5);
    await enqueue(store, 'subscription.updated', 'c0:1', subscriptionUpdated('c0', 'starter', 'active', 1), clock.now());
    const sink = createLagoSink({ client: lago });
    const worker = createOutboxWorker({ store, clock, ...sink, backoff: { baseMs: 1_000, maxMs: 1_000 } });
    // Two client attempts per delivery: the first round's batch and subscription update both fail.
    fake.down(4);
    expect(await worker.runOnce()).toEqual({ claimed: 6, delivered: 0, retried: 6, dead: 0 });
    expect((await worker.runOnce()).claimed).toBe(0);
    clock.advance(1_000);
    expect(await worker.runOnce()).toEqual({ claimed: 6, delivered: 6, retried: 0, dead: 0 });
    clock.advance(60_000);
    expect((await worker.runOnce()).claimed).toBe(0);
    expect(fake.events.size).toBe(5);
    expect(fake.requests.filter((r) => r.path.endsWith('/events/batch')).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(fake.requests.filter((r) => r.path.endsWith('/customers')).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(fake.subscriptions.map((s) => [s.external_customer_id, s.plan_code])).toEqual([['c0', 'starter']]);
    const delivered = await store.listOutbox({ delivered: true, limit: 10 });
    expect(delivered.map((m) => m.attempts)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('splits a round larger than 100 into Lago batches of at most 100', async () => {
    const { fake, lago } = setup();
    const { store, clock } = await outbox(250);
    const worker = createOutboxWorker({ store, clock, batchSize: 250, ...createLagoSink({ client: lago }) });
    expect(await worker.runOnce()).toMatchObject({ claimed: 250, delivered: 250 });
    expect(fake.requests.map((r) => (r.body as { events: unknown[] }).events.length)).toEqual([100, 100, 50]);
    expect(fake.events.size).toBe(250);
  });

  it('two workers on one store deliver every event exactly once', async () => {
    const { fake, lago } = setup();
    const { store, clock } = await outbox(300);
    const sink = createLagoSink({ client: lago });
    const workers = [1, 2].map(() => createOutboxWorker({ store, clock, batchSize: 25, ...sink }));
    const drain = async (worker: (typeof workers)[number]) => {
      let rounds = 0;
      while ((await worker.runOnce()).claimed > 0) rounds++;
      return rounds;
    };
    const rounds = await Promise.all(workers.map(drain));
    expect(rounds.every((n) => n > 0)).toBe(true);
    expect(fake.events.size).toBe(300);
    // Every request went through: no event was sent twice.
    const posted = fake.requests.flatMap((r) => (r.body as { events: LagoEventInput[] }).events.map((e) => e.transaction_id));
    expect(new Set(posted).size).toBe(300);
    expect(posted).toHaveLength(300);
    expect(await store.listOutbox({ delivered: false, limit: 10 })).toEqual([]);
  });

  it('keeps one copy when a slow delivery outlives its lease and a second worker sends it again', async () => {
    const { fake, lago } = setup();
    const { store, clock } = await outbox(3);
    const sink = createLagoSink({ client: lago });
    const slow = createOutboxWorker({ store, clock, leaseMs: 1_000, ...sink });
    const fast = createOutboxWorker({ store, clock, leaseMs: 1_000, ...sink });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let first = true;
    server.use(
      http.post(`${fake.baseUrl}/events/batch`, async () => {
        if (!first) return undefined;
        first = false;
        arrived();
        await gate;
        return undefined;
      }),
    );
    const slowRound = slow.runOnce();
    await held;
    clock.advance(2_000);
    expect(await fast.runOnce()).toMatchObject({ claimed: 3, delivered: 3 });
    release();
    expect(await slowRound).toMatchObject({ claimed: 3, delivered: 3 });
    expect(fake.events.size).toBe(3);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 422]);
    expect(await store.listOutbox({ delivered: false, limit: 10 })).toEqual([]);
  });
});
