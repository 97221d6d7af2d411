import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createFakeClock, runStoreConformance } from '../testing/index.js';
import { createMemoryStore } from './memory-store.js';
import { createTally } from './tally.js';

runStoreConformance(async () => ({ store: createMemoryStore() }), { describe, it });

function setup() {
  const store = createMemoryStore();
  const clock = createFakeClock('2026-11-01T00:00:00Z');
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  return { store, clock, tally };
}

describe('memory store', () => {
  it('hands out copies: mutating a result never changes the store', async () => {
    const { store, tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    const granted = await tally.grant({ customerId: 'a', kind: 'purchased', amountMicros: 10_000_000n, idempotencyKey: 'g' });
    granted.bucket.remainingMicros = 1n;
    (granted.entries[0] as { amountMicros: bigint }).amountMicros = 1n;
    granted.entries[0]?.createdAt.setTime(0);
    granted.balance.balanceMicros = 1n;

    const balance = await tally.balance('a');
    expect(balance.balanceMicros).toBe(10_000_000n);
    expect(balance.buckets[0]?.remainingMicros).toBe(10_000_000n);
    const [entry] = (await tally.transactions()).items;
    expect(entry?.amountMicros).toBe(10_000_000n);
    expect(entry?.createdAt.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    const replay = await tally.grant({ customerId: 'a', kind: 'purchased', amountMicros: 10_000_000n, idempotencyKey: 'g' });
    expect(replay.bucket.remainingMicros).toBe(10_000_000n);
    expect(replay.balance.balanceMicros).toBe(10_000_000n);

    const reserved = await tally.reserve({ customerId: 'a', amountMicros: 1_000_000n, ttlMs: 60_000, idempotencyKey: 'r' });
    reserved.hold.status = 'captured';
    reserved.hold.expiresAt.setTime(0);
    const hold = await store.getHold(reserved.hold.id);
    expect(hold?.status).toBe('active');
    expect(hold?.expiresAt.toISOString()).toBe('2026-11-01T00:01:00.000Z');

    const customer = await store.getCustomer('a');
    if (customer) customer.overdraftLimitMicros = 100n;
    expect((await tally.balance('a')).overdraftLimitMicros).toBe(0n);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('replays a hold as each operation left it, and a replay handed out shares nothing with the store', async () => {
    const { store, clock, tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    await tally.grant({ customerId: 'a', kind: 'purchased', amountMicros: 10_000_000n, idempotencyKey: 'g' });
    const reserveInput = { customerId: 'a', amountMicros: 3_000_000n, ttlMs: 60_000, idempotencyKey: 'r' };
    const reserved = await tally.reserve(reserveInput);
    clock.advance(1_000);
    const captured = await tally.capture({ holdId: reserved.hold.id, amountMicros: 1_000_000n, idempotencyKey: 'c' });
    expect(captured.hold).toMatchObject({ status: 'captured', capturedMicros: 1_000_000n });

    const replayed = await tally.reserve(reserveInput);
    expect(replayed).toEqual({ ...reserved, replayed: true });
    replayed.hold.expiresAt.setTime(0);
    replayed.hold.createdAt.setTime(0);
    const capturedAgain = await tally.capture({ holdId: reserved.hold.id, amountMicros: 1_000_000n, idempotencyKey: 'c' });
    expect(capturedAgain).toEqual({ ...captured, replayed: true });
    capturedAgain.hold.settledAt?.setTime(0);
    capturedAgain.hold.status = 'released';

    const hold = await store.getHold(reserved.hold.id);
    expect(hold).toEqual(captured.hold);
    expect(await tally.reserve(reserveInput)).toEqual({ ...reserved, replayed: true });
    expect(await tally.capture({ holdId: reserved.hold.id, amountMicros: 1_000_000n, idempotencyKey: 'c' })).toEqual({
      ...captured,
      replayed: true,
    });

    const second = await tally.reserve({ customerId: 'a', amountMicros: 1_000_000n, ttlMs: 60_000, idempotencyKey: 'r2' });
    const released = await tally.release({ holdId: second.hold.id, idempotencyKey: 'x' });
    expect(await tally.release({ holdId: second.hold.id, idempotencyKey: 'x' })).toEqual({ ...released, replayed: true });
    expect(await tally.reserve({ customerId: 'a', amountMicros: 1_000_000n, ttlMs: 60_000, idempotencyKey: 'r2' })).toEqual({
      ...second,
      replayed: true,
    });
    expect((await tally.audit()).ok).toBe(true);
  });

  it('never expires a hold or bucket through what a rolled-back operation left behind', async () => {
    const { store, clock, tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    await tally.grant({ customerId: 'a', kind: 'purchased', amountMicros: 10_000_000n, idempotencyKey: 'g' });
    const failure = new Error('rolled back');
    // A hold and a bucket that expire in a minute, undone; the next ones reuse their ids and live an hour.
    await expect(
      store.transaction(async (tx) => {
        const scoped = createTally({ catalog: sampleCatalog, store: tx, clock });
        await scoped.reserve({ customerId: 'a', amountMicros: 1_000_000n, ttlMs: 60_000, idempotencyKey: 'short' });
        await scoped.grant({
          customerId: 'a',
          kind: 'coupon',
          amountMicros: 5n,
          expiresAt: new Date(clock.now().getTime() + 60_000),
          idempotencyKey: 'gs',
        });
        throw failure;
      }),
    ).rejects.toBe(failure);
    const hold = await tally.reserve({ customerId: 'a', amountMicros: 1_000_000n, ttlMs: 3_600_000, idempotencyKey: 'long' });
    const bucket = await tally.grant({
      customerId: 'a',
      kind: 'coupon',
      amountMicros: 5n,
      expiresAt: new Date(clock.now().getTime() + 3_600_000),
      idempotencyKey: 'gl',
    });
    expect(hold.hold.id).toBe('1');
    expect(bucket.bucket.id).toBe('2');
    const later = new Date(clock.now().getTime() + 120_000);
    expect(await store.sweepHolds(later)).toBe(0);
    expect(await store.expireBuckets(later)).toBe(0);
    expect((await store.getHold('1'))?.status).toBe('active');
    const end = new Date(clock.now().getTime() + 3_600_000);
    expect(await store.sweepHolds(end)).toBe(1);
    expect(await store.expireBuckets(end)).toBe(1);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('keeps its own copy of the dates a command carries', async () => {
    const { store, tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    const expiresAt = new Date('2026-11-02T00:00:00Z');
    await tally.grant({ customerId: 'a', kind: 'coupon', amountMicros: 5n, expiresAt, idempotencyKey: 'g' });
    expiresAt.setTime(Date.parse('2026-10-01T00:00:00Z'));
    expect(await store.expireBuckets(new Date('2026-11-01T12:00:00Z'))).toBe(0);
    expect(await store.expireBuckets(new Date('2026-11-02T00:00:00Z'))).toBe(1);
  });

  it('makes other callers wait while a transaction is open, so they never see its uncommitted writes', async () => {
    const { store, tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    let release = () => {};
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    let seen: bigint | null = null;
    const tx = store.transaction(async (inner) => {
      await createTally({ catalog: sampleCatalog, store: inner }).grant({
        customerId: 'a',
        kind: 'purchased',
        amountMicros: 5n,
        idempotencyKey: 'tx',
      });
      await paused;
      throw new Error('abort');
    });
    const outside = store.balance('a', new Date('2026-11-01T00:00:00Z')).then((b) => {
      seen = b.balanceMicros;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toBe(null);
    release();
    await expect(tx).rejects.toThrow('abort');
    await outside;
    expect(seen).toBe(0n);
  });

  it('refuses calls on a transaction handle after the transaction ended', async () => {
    const { store } = setup();
    let leaked: typeof store | null = null;
    await store.transaction(async (tx) => {
      leaked = tx;
    });
    const error = await (leaked as unknown as typeof store).getCustomer('a').catch((e: unknown) => e);
    expect(TallyError.is(error, 'CONFLICT')).toBe(true);
  });

  it('a nested transaction rolls back its own work only', async () => {
    const { store, clock } = setup();
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    await store.transaction(async (tx) => {
      const outer = createTally({ catalog: sampleCatalog, store: tx, clock });
      await outer.grant({ customerId: 'a', kind: 'purchased', amountMicros: 7n, idempotencyKey: 'outer' });
      await tx
        .transaction(async (savepoint) => {
          await createTally({ catalog: sampleCatalog, store: savepoint, clock }).grant({
            customerId: 'a',
            kind: 'purchased',
            amountMicros: 3n,
            idempotencyKey: 'inner',
          });
          throw new Error('inner abort');
        })
        .catch(() => {});
    });
    expect((await tally.balance('a')).balanceMicros).toBe(7n);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('numbers entries and operations with their own increasing counters', async () => {
    const { tally } = setup();
    await tally.customers.upsert({ customerId: 'a', tier: 'starter' });
    const g = await tally.grant({ customerId: 'a', kind: 'allowance', amountMicros: 5n, idempotencyKey: 'g1' });
    await tally.grant({ customerId: 'a', kind: 'allowance', amountMicros: 5n, idempotencyKey: 'g2' });
    const s = await tally.spend({ customerId: 'a', amountMicros: 7n, idempotencyKey: 's' });
    expect(g.operationId).toBe('1');
    expect(g.entries.map((e) => e.id)).toEqual(['1']);
    expect(s.operationId).toBe('3');
    expect(s.entries.map((e) => e.id)).toEqual(['3', '4']);
  });

  it('runs 100k operations quickly', async () => {
    const { store, clock, tally } = setup();
    const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
    for (const customerId of ids) await tally.customers.upsert({ customerId, tier: 'professional' });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const customerId = ids[i % ids.length] as string;
      if (i % 10 === 0) {
        await tally.grant({
          customerId,
          kind: 'coupon',
          amountMicros: 5_000_000n,
          expiresAt: new Date(clock.now().getTime() + 3_600_000),
          idempotencyKey: `g${i}`,
        });
      } else {
        await tally.recordUsage({ customerId, amountMicros: 400_000n, idempotencyKey: `u${i}` });
      }
      if (i % 1000 === 0) clock.advance(60_000);
    }
    const elapsed = performance.now() - started;
    expect((await store.audit()).ok).toBe(true);
    // About a second on a laptop; the bound is loose for busy CI machines but still far below what
    // a scan of the journal or of every customer per operation would cost at this size.
    expect(elapsed).toBeLessThan(10_000);
  }, 30_000);
});
