import { createNotifier, createOutboxWorker, createTally, SAMPLE_EMAIL_BRAND, sampleCatalog } from '@tally/core';
import { createFakeClock, createMemoryEmailTransport, createSeededRandom, createTextEmailRenderer, drainOutbox } from '@tally/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createPostgresStore, type SqlStore } from './index.js';

// The notifier's deduplication against the machine's real Postgres: many connections, many workers.
let db: TestDatabase;
let schemaCount = 0;
let stores: SqlStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase('notifier');
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
});
afterAll(async () => {
  await db.drop();
});

const CREDIT = 1_000_000n;

async function setup() {
  const store = createPostgresStore({ connectionString: db.url, schema: `notifier_${++schemaCount}`, max: 32 });
  stores.push(store);
  await store.migrate();
  const clock = createFakeClock('2026-11-05T00:00:00Z');
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  const transport = createMemoryEmailTransport();
  const notifier = createNotifier({
    tally,
    render: createTextEmailRenderer(),
    transport,
    from: { address: 'billing@example.com', name: 'Tally' },
    recipients: async (customerId) => ({ address: `${customerId}@example.com`, name: null }),
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: 'postgres-notifier-secret-0123456789-abc', url: 'https://app.example.com/v1/unsubscribe' },
    clock,
  });
  const random = createSeededRandom(11);
  const workers = Array.from({ length: 6 }, () =>
    createOutboxWorker({
      store,
      clock,
      handlers: notifier.handlers,
      batchSize: 40,
      backoff: { baseMs: 1_000, maxMs: 1_000 },
      random: random.next,
    }),
  );
  const topics = new Set(Object.keys(notifier.handlers));
  /** Every worker at once until nothing with a handler is left, moving the clock past retry waits. */
  const drain = () => drainOutbox({ store, workers, topics, clock });
  return { store, clock, tally, transport, notifier, drain };
}

describe('the notifier on Postgres', () => {
  it('1,000 concurrent spends crossing the line, six workers: exactly one low-balance mail; redelivery sends nothing', async () => {
    const h = await setup();
    // Two concurrent creations of one customer: one customer.created row, one welcome mail.
    await Promise.all([1, 2].map(() => h.tally.customers.upsert({ customerId: 'ada', tier: 'starter' })));
    await h.tally.grant({
      customerId: 'ada',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2026-12-01T00:00:00Z',
      idempotencyKey: 'a1',
    });
    // 1,000 × 0.019 credits = 19 credits: 1 credit is left, under the line of 10 % × 20 = 2 credits.
    const spends = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => h.tally.spend({ customerId: 'ada', amountMicros: 19_000n, idempotencyKey: `s${i}` })),
    );
    expect(spends.filter((s) => s.status === 'rejected')).toEqual([]);
    await h.drain();

    const sent = (await h.notifier.deliveries({ limit: 500, status: 'sent' })).items;
    expect(sent.map((line) => line.template).sort()).toEqual(['low_balance', 'welcome']);
    const low = h.transport.sent.find((mail) => mail.dedupeKey.startsWith('low_balance:'));
    expect(low?.text).toContain('You have 1.00 credits left of your 20.00 credit allowance.');
    expect(low?.text).toContain('Your allowance renews on 2026-12-01.');
    const outbox = await h.store.listOutbox({ limit: 100_000 });
    expect(outbox.filter((m) => m.topic === 'customer.created')).toHaveLength(1);
    expect(
      outbox
        .filter((m) => m.topic === 'email.send')
        .map((m) => m.dedupeKey)
        .sort(),
    ).toEqual(['email:low_balance:ada:2026-12-01T00:00:00.000Z', 'email:welcome:ada']);

    // Every event and mail message handled again, concurrently: nothing new is enqueued or sent.
    await Promise.all(outbox.map((message) => h.notifier.handlers[message.topic]?.(message)));
    await h.drain();
    expect((await h.store.listOutbox({ limit: 100_000 })).length).toBe(outbox.length);
    expect(h.transport.sent).toHaveLength(2);
    expect((await h.notifier.deliveries({ limit: 500 })).items).toHaveLength(2);
  });

  it('a transport down for three tries: three failed lines, then sent on attempt 4', async () => {
    const h = await setup();
    h.transport.failNext(3);
    await h.tally.customers.upsert({ customerId: 'bo', tier: 'starter' });
    await h.drain();
    const lines = (await h.notifier.deliveries({ limit: 50, customerId: 'bo' })).items.reverse();
    expect(lines.map((l) => [l.status, l.attempt])).toEqual([
      ['failed', 1],
      ['failed', 2],
      ['failed', 3],
      ['sent', 4],
    ]);
    expect(h.transport.sent).toHaveLength(1);
  });

  it('monthly reset from a SQL credits.granted payload (no bucket in it): the second period’s allowance only', async () => {
    const h = await setup();
    await h.tally.customers.upsert({ customerId: 'cy', tier: 'starter' });
    await h.tally.grant({
      customerId: 'cy',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2026-12-05T00:00:00Z',
      idempotencyKey: 'p1',
    });
    await h.tally.grant({ customerId: 'cy', kind: 'purchased', amountMicros: 3n * CREDIT, idempotencyKey: 'pack' });
    h.clock.set('2026-12-05T00:00:00Z');
    await h.tally.grant({
      customerId: 'cy',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2027-01-05T00:00:00Z',
      idempotencyKey: 'p2',
    });
    await h.drain();
    const resets = h.transport.sent.filter((mail) => mail.dedupeKey.startsWith('monthly_reset:'));
    expect(resets.map((mail) => mail.text.split('\n')[2])).toEqual(['20.00 credits for 2026-12-05 to 2027-01-05.']);
  });
});
