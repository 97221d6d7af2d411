import { createTally, sampleCatalog, type Tally, TallyError } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../sql/migrate.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createPostgresStore, type SqlStore } from './index.js';

// The races the ledger exists to win, against the machine's real Postgres.
let db: TestDatabase;
let schemaCount = 0;
// Stores of the running test, closed after it: pools of 64 must not pile up past max_connections.
let stores: SqlStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase('race');
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
});
afterAll(async () => {
  await db.drop();
});

async function freshTally(options: { max?: number; pool?: pg.Pool } = {}): Promise<{ tally: Tally; store: SqlStore }> {
  const schema = `race_${++schemaCount}`;
  const store = options.pool
    ? createPostgresStore({ pool: options.pool })
    : createPostgresStore({ connectionString: db.url, schema, max: options.max ?? 64 });
  stores.push(store);
  await store.migrate();
  const tally = createTally({ catalog: sampleCatalog, store, clock: createFakeClock('2026-11-05T00:00:00Z') });
  return { tally, store };
}

/** A pool of the test's own that counts the connections it opens and drops. */
function countedPool(config: pg.PoolConfig): { pool: pg.Pool; count: { opened: number; dropped: number } } {
  const pool = new pg.Pool({ connectionString: db.url, ...config });
  const count = { opened: 0, dropped: 0 };
  pool.on('error', () => {});
  pool.on('connect', () => count.opened++);
  pool.on('remove', () => count.dropped++);
  return { pool, count };
}

const CREDIT = 1_000_000n;

describe('Postgres races', () => {
  it('64 concurrent spenders, credit for exactly one: one wins, 63 get INSUFFICIENT_CREDITS', async () => {
    const { tally } = await freshTally();
    await tally.customers.upsert({ customerId: 'last-credit', tier: 'starter' });
    await tally.grant({ customerId: 'last-credit', kind: 'allowance', amountMicros: CREDIT, idempotencyKey: 'grant' });
    const results = await Promise.allSettled(
      Array.from({ length: 64 }, (_, i) => tally.spend({ customerId: 'last-credit', amountMicros: CREDIT, idempotencyKey: `spend-${i}` })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(63);
    for (const r of lost) expect(TallyError.is((r as PromiseRejectedResult).reason, 'INSUFFICIENT_CREDITS')).toBe(true);
    expect((await tally.balance('last-credit')).balanceMicros).toBe(0n);
    expect((await tally.audit()).issues).toEqual([]);
  });

  it('64 concurrent holds, credit for exactly one: one hold, 63 refusals', async () => {
    const { tally } = await freshTally();
    await tally.customers.upsert({ customerId: 'hold-race', tier: 'starter' });
    await tally.grant({ customerId: 'hold-race', kind: 'allowance', amountMicros: CREDIT, idempotencyKey: 'grant' });
    const results = await Promise.allSettled(
      Array.from({ length: 64 }, (_, i) =>
        tally.reserve({ customerId: 'hold-race', amountMicros: CREDIT, ttlMs: 60_000, idempotencyKey: `hold-${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = results.filter((r) => r.status === 'rejected' && TallyError.is(r.reason, 'INSUFFICIENT_CREDITS'));
    expect(refusals).toHaveLength(63);
    const balance = await tally.balance('hold-race');
    expect(balance.heldMicros).toBe(CREDIT);
    expect(balance.availableMicros).toBe(0n);
    expect((await tally.audit()).issues).toEqual([]);
  });

  it('1,000 concurrent retries of one idempotency key write one operation', async () => {
    const { tally } = await freshTally();
    await tally.customers.upsert({ customerId: 'retry', tier: 'starter' });
    await tally.grant({ customerId: 'retry', kind: 'allowance', amountMicros: 10n * CREDIT, idempotencyKey: 'grant' });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => tally.spend({ customerId: 'retry', amountMicros: 3n * CREDIT, idempotencyKey: 'the-one-key' })),
    );
    expect(new Set(results.map((r) => r.operationId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const spends = await tally.transactions({ customerId: 'retry', kinds: ['spend'] });
    expect(spends.items).toHaveLength(1);
    expect((await tally.balance('retry')).balanceMicros).toBe(7n * CREDIT);
    expect((await tally.audit()).issues).toEqual([]);
  });

  it('a connection killed mid-transaction leaves nothing behind, and the retry succeeds once', async () => {
    const application = `tally-kill-${process.pid}`;
    const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: application });
    pool.on('error', () => {});
    const { tally, store } = await freshTally({ pool });
    await tally.customers.upsert({ customerId: 'killed', tier: 'starter' });
    await tally.grant({ customerId: 'killed', kind: 'allowance', amountMicros: 5n * CREDIT, idempotencyKey: 'grant' });

    const killed = store.transaction(async (tx) => {
      const inTx = createTally({ catalog: sampleCatalog, store: tx, clock: createFakeClock('2026-11-05T00:00:00Z') });
      await inTx.spend({ customerId: 'killed', amountMicros: 2n * CREDIT, idempotencyKey: 'spend-a' });
      await inTx.grant({ customerId: 'killed', kind: 'coupon', amountMicros: CREDIT, idempotencyKey: 'coupon-a' });
      // The backend is now idle in this transaction: end it from outside, as a crash or failover would.
      const ended = await db.query<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`,
        [application],
      );
      expect(ended.map((row) => row.ok)).toEqual([true]);
      await inTx.spend({ customerId: 'killed', amountMicros: CREDIT, idempotencyKey: 'spend-b' });
    });
    await expect(killed).rejects.toThrow();

    // Nothing of the transaction survived: no entries, no keys, the balance as before.
    expect((await tally.balance('killed')).balanceMicros).toBe(5n * CREDIT);
    expect((await tally.transactions({ customerId: 'killed' })).items.map((e) => e.kind)).toEqual(['grant']);
    const retried = await tally.spend({ customerId: 'killed', amountMicros: 2n * CREDIT, idempotencyKey: 'spend-a' });
    expect(retried.replayed).toBe(false);
    expect((await tally.spend({ customerId: 'killed', amountMicros: 2n * CREDIT, idempotencyKey: 'spend-a' })).replayed).toBe(true);
    expect((await tally.balance('killed')).balanceMicros).toBe(3n * CREDIT);
    expect((await tally.audit()).issues).toEqual([]);
    await store.close();
    await pool.end();
    stores = stores.filter((other) => other !== store);
  });

  it('a refused call keeps its pooled connection; one ended mid-call is dropped and replaced', async () => {
    const application = `tally-refusals-${process.pid}`;
    const { pool, count } = countedPool({ max: 1, application_name: application });
    const { tally, store } = await freshTally({ pool });
    try {
      await tally.customers.upsert({ customerId: 'refused', tier: 'starter' });
      await tally.grant({ customerId: 'refused', kind: 'allowance', amountMicros: CREDIT, idempotencyKey: 'refusals-grant' });
      // Refusals raised inside the ledger functions: the server answers them, the connection stays good.
      for (let i = 0; i < 20; i++) {
        const refused = tally.spend({ customerId: 'refused', amountMicros: 2n * CREDIT, idempotencyKey: `refusals-too-much-${i}` });
        await expect(refused).rejects.toSatisfy((error) => TallyError.is(error, 'INSUFFICIENT_CREDITS'));
      }
      const conflict = tally.grant({ customerId: 'refused', kind: 'coupon', amountMicros: 1n, idempotencyKey: 'refusals-grant' });
      await expect(conflict).rejects.toSatisfy((error) => TallyError.is(error, 'IDEMPOTENCY_CONFLICT'));
      expect((await tally.spend({ customerId: 'refused', amountMicros: CREDIT / 2n, idempotencyKey: 'refusals-fits' })).replayed).toBe(
        false,
      );
      expect(count, 'one connection served every call').toEqual({ opened: 1, dropped: 0 });

      // A call whose connection the server ends while it waits (here on a row lock held elsewhere) fails,
      // and that connection leaves the pool; the next call opens a new one.
      const locker = new pg.Client({ connectionString: db.url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query(`select 1 from tally_customers where id = 'refused' for update`);
        const waiting = tally.spend({ customerId: 'refused', amountMicros: 1n, idempotencyKey: 'refusals-ended' });
        const outcome = waiting.then(
          () => 'served',
          (error: unknown) => (error instanceof TallyError ? error.code : 'connection ended'),
        );
        await expect
          .poll(
            async () =>
              (await db.query(`select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [application]))
                .length,
          )
          .toBe(1);
        await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [application]);
        expect(await outcome).toBe('connection ended');
      } finally {
        await locker.query('rollback');
        await locker.end();
      }
      await expect.poll(() => count.dropped).toBe(1);
      expect((await tally.spend({ customerId: 'refused', amountMicros: 1n, idempotencyKey: 'refusals-ended' })).replayed).toBe(false);
      expect(count.opened).toBe(2);
      expect((await tally.audit()).issues).toEqual([]);
    } finally {
      await store.close();
      await pool.end();
      stores = stores.filter((other) => other !== store);
    }
  });

  it('a call that times out on the client side ends its connection: the query may still be running on it', async () => {
    const { pool, count } = countedPool({ max: 1, query_timeout: 300 });
    const { tally, store } = await freshTally({ pool });
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await tally.customers.upsert({ customerId: 'timed-out', tier: 'starter' });
      await tally.grant({ customerId: 'timed-out', kind: 'allowance', amountMicros: CREDIT, idempotencyKey: 'timeout-grant' });
      await locker.query('begin');
      await locker.query(`select 1 from tally_customers where id = 'timed-out' for update`);
      const waited = tally.spend({ customerId: 'timed-out', amountMicros: 1n, idempotencyKey: 'timeout-spend' });
      await expect(waited).rejects.toThrow(/timeout/i);
      await expect.poll(() => count.dropped).toBe(1);
      // The server ran the spend once the lock was free (nothing cancelled it), so the retry replays it:
      // its key claim waits for that transaction and then finds the key taken.
      await locker.query('rollback');
      const retried = await tally.spend({ customerId: 'timed-out', amountMicros: 1n, idempotencyKey: 'timeout-spend' });
      expect(retried.replayed).toBe(true);
      expect(count.opened).toBe(2);
      expect((await tally.balance('timed-out')).balanceMicros).toBe(CREDIT - 1n);
    } finally {
      await locker.end();
      await store.close();
      await pool.end();
      stores = stores.filter((other) => other !== store);
    }
  });

  it('outbox workers claiming at once never get the same message', async () => {
    const { store } = await freshTally({ max: 8 });
    const at = new Date('2026-11-05T00:00:00Z');
    for (let i = 0; i < 200; i++) {
      await store.enqueueOutbox({ topic: 'test.event', payload: JSON.stringify({ i }), dedupeKey: `event-${i}`, at });
    }
    expect(await store.enqueueOutbox({ topic: 'test.event', payload: '{}', dedupeKey: 'event-7', at })).toBeNull();
    const leaseUntil = new Date(at.getTime() + 60_000);
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimOutbox({ limit: 30, leaseUntil, at })));
    const ids = claims.flat().map((message) => message.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(200);
    // Leased messages stay out of reach until the lease ends.
    expect(await store.claimOutbox({ limit: 50, leaseUntil, at })).toEqual([]);
    expect(await store.claimOutbox({ limit: 500, leaseUntil: new Date(at.getTime() + 120_000), at: leaseUntil })).toHaveLength(200);
  });

  it('migrate() from several processes at once applies each version once', async () => {
    const urlSchema = `race_migrate_${process.pid}`;
    const racers = Array.from({ length: 4 }, () => createPostgresStore({ connectionString: db.url, schema: urlSchema, max: 2 }));
    stores.push(...racers);
    const results = await Promise.all(racers.map((store) => store.migrate()));
    const all = migrations.map((migration) => migration.version);
    expect(results.flatMap((r) => r.applied).sort((x, y) => x - y)).toEqual(all);
    expect(results.every((r) => r.current === Math.max(...all))).toBe(true);
    const versions = await db.query<{ version: number }>(`select version from ${urlSchema}.tally_migrations`);
    expect(versions.map((row) => row.version).sort((x, y) => x - y)).toEqual(all);
    expect((await racers[0]?.migrate())?.applied).toEqual([]);
  });
});
