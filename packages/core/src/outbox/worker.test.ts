import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
import type { OutboxMessage } from '../ledger/types.js';
import { createFakeClock } from '../testing/index.js';
import { createSeededRandom } from '../testing/random.js';
import { createOutboxWorker, outboxBackoffMs } from './worker.js';

async function ledgerWithEvents() {
  const store = createMemoryStore();
  const clock = createFakeClock('2026-11-05T00:00:00Z');
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  await tally.customers.upsert({ customerId: 'c', tier: 'starter' });
  await tally.grant({ customerId: 'c', kind: 'purchased', amountMicros: 5_000_000n, idempotencyKey: 'g' });
  await tally.spend({ customerId: 'c', amountMicros: 1_000_000n, idempotencyKey: 's' });
  return { store, clock, tally };
}

describe('outbox worker', () => {
  it('delivers each event once and records the delivery', async () => {
    const { store, clock } = await ledgerWithEvents();
    const seen: string[] = [];
    const worker = createOutboxWorker({
      store,
      clock,
      handlers: {
        'credits.granted': async (m) => void seen.push(`${m.topic} ${JSON.parse(m.payload).amountMicros}`),
        'credits.charged': async (m) => void seen.push(`${m.topic} ${JSON.parse(m.payload).amountMicros}`),
      },
    });
    expect(await worker.runOnce()).toEqual({ claimed: 2, delivered: 2, retried: 0, dead: 0 });
    expect(seen).toEqual(['credits.granted 5000000', 'credits.charged 1000000']);
    expect(await worker.runOnce()).toEqual({ claimed: 0, delivered: 0, retried: 0, dead: 0 });
    const delivered = await store.listOutbox({ delivered: true, limit: 10 });
    expect(delivered.map((m) => [m.attempts, m.deliveredAt?.toISOString()])).toEqual([
      [1, '2026-11-05T00:00:00.000Z'],
      [1, '2026-11-05T00:00:00.000Z'],
    ]);
  });

  it('retries a failing sink with growing waits, then keeps the message as a dead letter', async () => {
    const { store, clock } = await ledgerWithEvents();
    let calls = 0;
    const worker = createOutboxWorker({
      store,
      clock,
      maxAttempts: 3,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      random: createSeededRandom(1).next,
      handlers: {
        'credits.charged': async () => {
          calls++;
          throw new Error('sink down');
        },
      },
    });
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    // Not due yet: the backoff keeps it out of the next round.
    expect((await worker.runOnce()).claimed).toBe(0);
    clock.advance(1_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    clock.advance(2_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, dead: 1 });
    clock.advance(3_600_000);
    expect((await worker.runOnce()).claimed).toBe(0);
    expect(calls).toBe(3);
    const [dead] = await store.listOutbox({ dead: true, limit: 10 });
    expect(dead).toMatchObject({ topic: 'credits.charged', attempts: 3, lastError: 'sink down', deliveredAt: null, dead: true });
  });

  it('waits at least as long as a sink’s Retry-After before the next attempt', async () => {
    const { store, clock } = await ledgerWithEvents();
    let calls = 0;
    const worker = createOutboxWorker({
      store,
      clock,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      random: createSeededRandom(1).next,
      handlers: {
        'credits.charged': async () => {
          calls++;
          if (calls === 1) throw new TallyError('PROVIDER_UNAVAILABLE', 'throttled', { details: { retryAfterMs: 30_000 } });
        },
      },
    });
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    // The backoff alone would allow a retry after at most 1 s.
    clock.advance(29_999);
    expect((await worker.runOnce()).claimed).toBe(0);
    clock.advance(1);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(calls).toBe(2);
  });

  it('leaves other topics to other workers', async () => {
    const { store, clock } = await ledgerWithEvents();
    const worker = createOutboxWorker({ store, clock, handlers: { 'credits.expired': async () => {} } });
    expect((await worker.runOnce()).claimed).toBe(0);
    // credits.granted, credits.charged and the customer's customer.created.
    expect(await store.listOutbox({ delivered: false, limit: 10 })).toHaveLength(3);
  });

  it('backs off exponentially with jitter inside [window/2, window), capped', () => {
    expect(outboxBackoffMs(1, () => 0)).toBe(500);
    expect(outboxBackoffMs(3, () => 0)).toBe(2_000);
    expect(outboxBackoffMs(3, () => 0.999_999)).toBe(3_999);
    expect(outboxBackoffMs(40, () => 0, 1_000, 60_000)).toBe(30_000);
  });

  describe('batch handlers', () => {
    async function storeWith(messages: Array<[topic: string, key: string]>) {
      const store = createMemoryStore();
      const clock = createFakeClock('2026-11-05T00:00:00Z');
      for (const [topic, key] of messages) {
        await store.enqueueOutbox({ topic, payload: JSON.stringify({ key }), dedupeKey: `${topic}:${key}`, at: clock.now() });
      }
      return { store, clock };
    }
    const keys = (batch: OutboxMessage[]) => batch.map((m) => JSON.parse(m.payload).key as string);

    it("delivers a topic's messages of one round in one call, next to per-message topics", async () => {
      const { store, clock } = await storeWith([
        ['usage', 'a'],
        ['mail', 'm1'],
        ['usage', 'b'],
        ['usage', 'c'],
        ['mail', 'm2'],
      ]);
      const calls: string[] = [];
      const worker = createOutboxWorker({
        store,
        clock,
        handlers: { mail: async (m) => void calls.push(`mail ${JSON.parse(m.payload).key}`) },
        batchHandlers: { usage: async (batch) => void calls.push(`usage ${keys(batch).join(',')}`) },
      });
      expect(await worker.runOnce()).toEqual({ claimed: 5, delivered: 5, retried: 0, dead: 0 });
      expect(calls).toEqual(['usage a,b,c', 'mail m1', 'mail m2']);
      expect(await store.listOutbox({ delivered: false, limit: 10 })).toEqual([]);
      expect(await worker.runOnce()).toEqual({ claimed: 0, delivered: 0, retried: 0, dead: 0 });
    });

    it('never hands a batch handler more than batchSize messages', async () => {
      const { store, clock } = await storeWith(['1', '2', '3', '4', '5'].map((key) => ['usage', key]));
      const sizes: number[] = [];
      const worker = createOutboxWorker({
        store,
        clock,
        batchSize: 2,
        batchHandlers: { usage: async (batch) => void sizes.push(batch.length) },
      });
      while ((await worker.runOnce()).claimed > 0);
      expect(sizes).toEqual([2, 2, 1]);
      expect(await store.listOutbox({ delivered: true, limit: 10 })).toHaveLength(5);
    });

    it('fails a batch as a whole: every message retried with the same error, then dead together', async () => {
      const { store, clock } = await storeWith([
        ['usage', 'a'],
        ['usage', 'b'],
        ['mail', 'm'],
      ]);
      let batchCalls = 0;
      const worker = createOutboxWorker({
        store,
        clock,
        maxAttempts: 2,
        backoff: { baseMs: 1_000, maxMs: 1_000 },
        random: createSeededRandom(7).next,
        handlers: { mail: async () => {} },
        batchHandlers: {
          usage: async () => {
            batchCalls++;
            throw new Error('biller down');
          },
        },
      });
      expect(await worker.runOnce()).toEqual({ claimed: 3, delivered: 1, retried: 2, dead: 0 });
      const pending = await store.listOutbox({ delivered: false, limit: 10 });
      expect(pending.map((m) => [m.topic, m.attempts, m.lastError, m.dead])).toEqual([
        ['usage', 1, 'biller down', false],
        ['usage', 1, 'biller down', false],
      ]);
      // Backoff: not due before the window's lower half has passed.
      expect((await worker.runOnce()).claimed).toBe(0);
      clock.advance(1_000);
      expect(await worker.runOnce()).toEqual({ claimed: 2, delivered: 0, retried: 0, dead: 2 });
      expect(batchCalls).toBe(2);
      const dead = await store.listOutbox({ dead: true, limit: 10 });
      expect(dead.map((m) => [JSON.parse(m.payload).key, m.attempts, m.lastError])).toEqual([
        ['a', 2, 'biller down'],
        ['b', 2, 'biller down'],
      ]);
    });

    it('delivers a failed batch later, once, when the sink is back', async () => {
      const { store, clock } = await storeWith([
        ['usage', 'a'],
        ['usage', 'b'],
      ]);
      const delivered: string[] = [];
      let down = true;
      const worker = createOutboxWorker({
        store,
        clock,
        backoff: { baseMs: 1_000, maxMs: 1_000 },
        batchHandlers: {
          usage: async (batch) => {
            if (down) throw new Error('down');
            delivered.push(...keys(batch));
          },
        },
      });
      expect((await worker.runOnce()).retried).toBe(2);
      down = false;
      clock.advance(1_000);
      expect((await worker.runOnce()).delivered).toBe(2);
      clock.advance(60_000);
      expect((await worker.runOnce()).claimed).toBe(0);
      expect(delivered).toEqual(['a', 'b']);
    });

    it('refuses a topic with both a handler and a batch handler, and a worker with neither', async () => {
      const { store } = await storeWith([]);
      const attempt = () => createOutboxWorker({ store, handlers: { usage: async () => {} }, batchHandlers: { usage: async () => {} } });
      expect(attempt).toThrow(TallyError);
      expect(attempt).toThrow(/usage has both/);
      expect(() => createOutboxWorker({ store, handlers: {}, batchHandlers: {} })).toThrow(/at least one handler/);
      expect(() => createOutboxWorker({ store })).toThrow(/at least one handler/);
    });
  });
});
