import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
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

  it('leaves other topics to other workers', async () => {
    const { store, clock } = await ledgerWithEvents();
    const worker = createOutboxWorker({ store, clock, handlers: { 'credits.expired': async () => {} } });
    expect((await worker.runOnce()).claimed).toBe(0);
    expect(await store.listOutbox({ delivered: false, limit: 10 })).toHaveLength(2);
  });

  it('backs off exponentially with jitter inside [window/2, window), capped', () => {
    expect(outboxBackoffMs(1, () => 0)).toBe(500);
    expect(outboxBackoffMs(3, () => 0)).toBe(2_000);
    expect(outboxBackoffMs(3, () => 0.999_999)).toBe(3_999);
    expect(outboxBackoffMs(40, () => 0, 1_000, 60_000)).toBe(30_000);
  });
});
