import { PGlite } from '@electric-sql/pglite';
import { createTally, sampleCatalog, type Tally } from '@tally/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore, type SqlStore } from '../pglite/index.js';
import { createPostgresStore } from '../postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';

// Schema version 13: a single-entry write only queues its entries for the rollups; the fold runs from
// `tally.analytics.fold()` (a job), with a backstop on every 1024th queuing statement, and a batch of
// 64 rows or more still folds itself. Metrics are the same folded or not (analytics-journal.test.ts
// holds that); this file holds who folds when.

interface Opened {
  store: SqlStore;
  /** Runs one statement in the store's schema, outside the store's pool. */
  sql<Row = Record<string, unknown>>(text: string): Promise<Row[]>;
  close(): Promise<void>;
}

const queued = async (opened: Opened) =>
  Number((await opened.sql<{ n: string }>('select count(*)::text as n from tally_rollup_pending'))[0]?.n);
const folded = async (opened: Opened) =>
  Number((await opened.sql<{ n: string }>('select coalesce(sum(calls), 0)::text as n from tally_usage_hours'))[0]?.n);

async function customerWithCredit(store: SqlStore): Promise<Tally> {
  const tally = createTally({ catalog: sampleCatalog, store });
  await tally.customers.upsert({ customerId: 'ada', tier: 'starter' });
  await tally.grant({ customerId: 'ada', kind: 'purchased', amountMicros: 1_000_000_000n, idempotencyKey: 'grant' });
  return tally;
}

const usage = { model: 'openai/gpt-4o-mini', inputTokens: 10, outputTokens: 20, providerCostNanoUsd: 1_000n, markupBps: 0 };

/** `n` metered captures, one entry each: what the AI SDK middleware writes per call. */
async function captures(tally: Tally, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const { hold } = await tally.reserve({ customerId: 'ada', amountMicros: 100n, ttlMs: 60_000, idempotencyKey: `r${i}` });
    await tally.capture({ holdId: hold.id, amountMicros: 40n, usage, idempotencyKey: `c${i}` });
  }
}

function foldSuite(name: string, open: () => Promise<Opened>) {
  describe(`rollup folding on ${name}`, () => {
    it('single-entry writes only queue; tally.analytics.fold() folds the queue, and metrics agree before and after', async () => {
      const opened = await open();
      try {
        const tally = await customerWithCredit(opened.store);
        // 70 statements: version 8 would have folded at the 64th ticket.
        await captures(tally, 0, 69);
        expect(await queued(opened)).toBe(70);
        expect(await folded(opened)).toBe(0);
        const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
        const range = { from: new Date(today - 86_400_000), to: new Date(today + 2 * 86_400_000) };
        const before = await tally.analytics.metric({ metric: 'usage', ...range });
        expect(before.split.managed.calls).toBe(69);

        expect(await tally.analytics.fold()).toBe(true);
        expect(await queued(opened)).toBe(0);
        expect(await folded(opened)).toBe(69);
        expect(await tally.analytics.metric({ metric: 'usage', ...range })).toEqual(before);
        // Nothing queued: a fold is a no-op that still answers.
        expect(await tally.analytics.fold()).toBe(true);
        expect((await tally.audit()).ok).toBe(true);
      } finally {
        await opened.close();
      }
    });

    it('the folding functions are planned per call, so statistics taken while the rollups were empty cannot fix a bad plan for a session (schema 14)', async () => {
      const opened = await open();
      try {
        const rows = await opened.sql<{ name: string; config: string[] | null }>(
          `select p.proname as name, p.proconfig as config from pg_proc p
           where p.pronamespace = current_schema()::regnamespace
             and p.proname in ('tally__fold', 'tally__add_rollups', 'tally__add_customer_hours', 'tally__add_active_days')
           order by 1`,
        );
        expect(rows.map((row) => row.name)).toEqual([
          'tally__add_active_days',
          'tally__add_customer_hours',
          'tally__add_rollups',
          'tally__fold',
        ]);
        for (const row of rows) {
          expect(row.config, row.name).toContain('plan_cache_mode=force_custom_plan');
          expect(row.config, row.name).toContain('enable_seqscan=off');
        }
      } finally {
        await opened.close();
      }
    });

    it('the 1024th queuing statement folds as a backstop, and a batch of 64 rows folds itself', async () => {
      const opened = await open();
      try {
        const tally = await customerWithCredit(opened.store);
        await opened.sql("select setval(pg_get_serial_sequence('tally_rollup_pending', 'id'), 1021)");
        await captures(tally, 0, 1); // ticket 1022
        expect(await queued(opened)).toBe(2);
        await captures(tally, 1, 1); // ticket 1023
        expect(await queued(opened)).toBe(3);
        await captures(tally, 2, 1); // ticket 1024: folds everything queued, itself included
        expect(await queued(opened)).toBe(0);
        expect(await folded(opened)).toBe(3);

        await captures(tally, 3, 1);
        expect(await queued(opened)).toBe(1);
        const items = Array.from({ length: 64 }, (_, i) => ({
          customerId: 'ada',
          amountMicros: 5n,
          usage,
          idempotencyKey: `batch${i}`,
        }));
        await tally.recordUsageBatch(items);
        expect(await queued(opened)).toBe(0);
        expect(await folded(opened)).toBe(4 + 64);
      } finally {
        await opened.close();
      }
    });
  });
}

let pglite: PGlite;
let pgliteSchemas = 0;
foldSuite('PGlite', async () => {
  const schema = `rollup_fold_${++pgliteSchemas}`;
  const store = await createPGliteStore({ db: pglite, schema });
  return {
    store,
    sql: async <Row>(text: string) => (await pglite.query<Row>(text)).rows,
    close: async () => {
      await store.close();
      await pglite.exec(`drop schema ${schema} cascade; set search_path to public`);
    },
  };
});

let postgres: TestDatabase;
let postgresSchemas = 0;
/** A store in a schema of its own, and a second connection (not the store's pool) in that schema. */
async function openPostgres(): Promise<Opened & { client: pg.Client }> {
  const schema = `rollup_fold_${++postgresSchemas}`;
  const store = createPostgresStore({ connectionString: postgres.url, schema, max: 4 });
  await store.migrate();
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  await client.query(`set search_path to ${schema}`);
  return {
    store,
    client,
    sql: async <Row>(text: string) => (await client.query(text)).rows as Row[],
    close: async () => {
      await client.end();
      await store.close();
    },
  };
}
foldSuite('Postgres', openPostgres);

describe('rollup folding on Postgres, two sessions', () => {
  it('a fold that finds another fold running answers false and folds nothing', async () => {
    const opened = await openPostgres();
    try {
      const tally = await customerWithCredit(opened.store);
      await captures(tally, 0, 3);
      await opened.client.query('begin');
      await opened.client.query('select pg_advisory_xact_lock(726351, hashtext(current_schema()))');
      try {
        expect(await tally.analytics.fold()).toBe(false);
      } finally {
        await opened.client.query('rollback');
      }
      expect(await queued(opened)).toBe(4);
      expect(await tally.analytics.fold()).toBe(true);
      expect(await queued(opened)).toBe(0);
    } finally {
      await opened.close();
    }
  });

  it('only a read-committed transaction folds: a repeatable-read one gets CONFLICT and the queue stays', async () => {
    const opened = await openPostgres();
    try {
      await customerWithCredit(opened.store);
      await opened.client.query('begin isolation level repeatable read');
      const error = await opened.client.query('select tally_fold_rollups()').catch((e: unknown) => e);
      await opened.client.query('rollback');
      expect(String((error as Error).message)).toMatch(/^TALLY:CONFLICT:the rollups fold only in a read committed transaction/);
      expect(await queued(opened)).toBe(1);
    } finally {
      await opened.close();
    }
  });
});

beforeAll(async () => {
  pglite = await PGlite.create();
  postgres = await createTestDatabase('rollup_fold');
});
afterAll(async () => {
  await pglite.close();
  await postgres.drop();
});
