// `pnpm bench:ledger`: Tally's spend and batched-usage paths against hand-written SQL on the same
// database, driver, pool size and server settings, measured in the same run. Read the ratios, not the
// absolute numbers: the machine is shared and small. Nothing here asserts; a missed goal prints FAIL
// and still exits 0. Errors (a failed spend, a driver error) exit non-zero.
//
//   BENCH_SECONDS            measured seconds per cell (default 3; each cell also warms up for 0.5 s)
//   BENCH_BATCH              items per recordUsageBatch call (default 1000)
//   BENCH_INGEST_WRITERS     concurrent batch writers to try (default 1,2,4)
//   TALLY_TEST_DATABASE_URL  admin URL; the bench creates and drops its own database tally_bench_<pid>
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import { createPGliteStore } from '@tally/adapters/pglite';
import { createPostgresStore, type SqlStore } from '@tally/adapters/postgres';
import { type ChargeInput, createTally, sampleCatalog, type Tally, type TallyStore } from '@tally/core';
import pg from 'pg';
import { benchDatabase, goal } from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_MS = 500;
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const ADMIN_URL = process.env.TALLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = `tally_bench_${process.pid}`;

const ACCOUNTS = 10_000;
const PG_WRITERS = [1, 16, 64];
const PGLITE_WRITERS = [1, 16, 64];
const INGEST_WRITERS = (process.env.BENCH_INGEST_WRITERS ?? '1,2,4').split(',').map(Number);
/** A batch takes a good fraction of a second: ingest cells measure twice as long to count enough of them. */
const INGEST_SECONDS = SECONDS * 2;
/** 10^15 micros, the largest grant core accepts: no spend in this bench can run out. */
const ALLOWANCE = 1_000_000_000_000_000n;
const SPEND = 1_000n;
const TALLY_SCHEMA = 'tally';

if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new RangeError('BENCH_SECONDS must be a positive number');
if (!Number.isSafeInteger(BATCH) || BATCH < 1 || BATCH > 10_000) throw new RangeError('BENCH_BATCH must be 1..10000');
if (!INGEST_WRITERS.every((n) => Number.isSafeInteger(n) && n > 0))
  throw new RangeError('BENCH_INGEST_WRITERS must list positive integers');

const customerId = (i: number) => `c${String(i).padStart(5, '0')}`;
const HOT = customerId(0);

interface AccountSet {
  label: string;
  pick: () => string;
}
const ACCOUNT_SETS: AccountSet[] = [
  { label: '1 hot account', pick: () => HOT },
  { label: `${ACCOUNTS.toLocaleString('en-US')} accounts`, pick: () => customerId(Math.floor(Math.random() * ACCOUNTS)) },
];

// ---- The baselines: the same shape as Tally's customer + entry tables, in their own schema.

const BASELINE_SCHEMA = `
  create schema bench_raw;
  create table bench_raw.bench_accounts (id text primary key, balance bigint not null);
  create table bench_raw.bench_entries (
    id bigint generated always as identity primary key,
    account_id text not null,
    amount bigint not null,
    created_at timestamptz not null
  );
  insert into bench_raw.bench_accounts (id, balance)
    select 'c' || lpad(i::text, 5, '0'), ${ALLOWANCE} from generate_series(0, ${ACCOUNTS - 1}) i;
`;
const DEBIT = 'update bench_raw.bench_accounts set balance = balance - $2 where id = $1 and balance >= $2 returning balance';
const JOURNAL = 'insert into bench_raw.bench_entries (account_id, amount, created_at) values ($1, $2, $3)';
const ONE_STATEMENT = `
  with debit as (
    update bench_raw.bench_accounts set balance = balance - $2 where id = $1 and balance >= $2 returning id, balance
  )
  insert into bench_raw.bench_entries (account_id, amount, created_at)
  select id, $2, $3 from debit
  returning (select balance from debit)`;

// What audit() checks that the bench's writes could break, straight from the tables: the journal
// sums to zero, and every customer row and bucket agrees with it.
const LEDGER_CHECK = `
  with moves as (
    select to_account as account, amount from tally.tally_entries
    union all
    select from_account, -amount from tally.tally_entries
  ), journal as (
    select account, sum(amount) as balance from moves group by account
  ), deltas as (
    select bucket_id, sum(bucket_delta) as remaining from tally.tally_entries where bucket_id is not null group by bucket_id
  )
  select
    (select count(*) from tally.tally_entries)::int as entries,
    (select coalesce(sum(balance), 0) from journal)::text as total,
    (select count(*) from tally.tally_customers c left join journal j on j.account = 'customer:' || c.id
      where c.balance <> coalesce(j.balance, 0))::int as balance_mismatches,
    (select count(*) from tally.tally_customers c left join journal j on j.account = 'debt:' || c.id
      where c.debt <> -coalesce(j.balance, 0))::int as debt_mismatches,
    (select count(*) from tally.tally_buckets b left join deltas d on d.bucket_id = b.id
      where b.remaining <> coalesce(d.remaining, 0))::int as bucket_mismatches,
    (select count(*) from tally.tally_customers c
      where greatest(c.balance, 0) <> coalesce((select sum(remaining) from tally.tally_buckets b where b.customer_id = c.id), 0))::int
      as buckets_vs_balance,
    (select count(*) from tally.tally_idempotency where result is null)::int as unfinished_keys`;

interface LedgerCheck {
  entries: number;
  total: string;
  balance_mismatches: number;
  debt_mismatches: number;
  bucket_mismatches: number;
  buckets_vs_balance: number;
  unfinished_keys: number;
}

function ledgerLine(engine: string, check: LedgerCheck | undefined): string {
  if (!check) throw new Error(`${engine}: the ledger check returned nothing`);
  const { entries, total, ...problems } = check;
  const bad = Object.entries(problems).filter(([, count]) => count !== 0);
  if (total !== '0' || bad.length > 0) {
    throw new Error(`${engine}: the ledger is unsound after the bench: total ${total}, ${JSON.stringify(Object.fromEntries(bad))}`);
  }
  return `${engine} ledger check ok: ${entries.toLocaleString('en-US')} entries sum to zero; customer balances, debts and buckets match the journal`;
}

function refused(id: string): Error {
  return new Error(`baseline spend refused for ${id}: the bench ran an account dry`);
}

// ---- The driver: `writers` concurrent loops, a warm-up, then a fixed measured window.

interface Rate {
  ops: number;
  units: number;
  seconds: number;
}

/**
 * Runs `op` from `writers` concurrent loops for the warm-up plus the measured window and counts what
 * completes inside the window. The loops read the clock themselves instead of waiting for a timer:
 * PGlite answers without going back to the event loop, so a timer might never fire.
 */
async function drive(writers: number, op: () => Promise<number>, seconds = SECONDS): Promise<Rate> {
  const start = performance.now() + WARMUP_MS;
  const end = start + seconds * 1000;
  let ops = 0;
  let units = 0;
  let failure: { error: unknown } | null = null;
  const loop = async () => {
    while (failure === null && performance.now() < end) {
      try {
        const n = await op();
        const now = performance.now();
        if (now >= start && now < end) {
          ops += 1;
          units += n;
        }
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, loop));
  if (failure) throw (failure as { error: unknown }).error;
  return { ops, units, seconds };
}

const perSecond = (rate: Rate) => rate.ops / rate.seconds;
const unitsPerSecond = (rate: Rate) => rate.units / rate.seconds;

// ---- Set-up shared by both engines.

/** Creates the 10,000 Tally customers (tier 'starter', no overdraft) with one big allowance each. */
async function seedTally(store: TallyStore, parallel: number): Promise<void> {
  const chunk = 500;
  const starts = Array.from({ length: Math.ceil(ACCOUNTS / chunk) }, (_, i) => i * chunk);
  const worker = async () => {
    for (let first = starts.shift(); first !== undefined; first = starts.shift()) {
      await store.transaction(async (tx) => {
        const tally = createTally({ catalog: sampleCatalog, store: tx });
        for (let i = first; i < Math.min(first + chunk, ACCOUNTS); i++) {
          await tally.customers.upsert({ customerId: customerId(i), tier: 'starter' });
          await tally.grant({ customerId: customerId(i), kind: 'allowance', amountMicros: ALLOWANCE, idempotencyKey: `seed:${i}` });
        }
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

function spendOp(tally: Tally, accounts: AccountSet) {
  return async () => {
    await tally.spend({ customerId: accounts.pick(), amountMicros: SPEND, idempotencyKey: randomUUID() });
    return 1;
  };
}

function ingestOp(tally: Tally) {
  return async () => {
    const items: ChargeInput[] = Array.from({ length: BATCH }, () => ({
      customerId: customerId(Math.floor(Math.random() * ACCOUNTS)),
      amountMicros: SPEND,
      idempotencyKey: randomUUID(),
    }));
    const results = await tally.recordUsageBatch(items);
    let entries = 0;
    for (const item of results) {
      if (!item.ok) throw new Error(`usage item failed: ${item.code} ${item.message}`);
      entries += item.result.entries.length;
    }
    return entries;
  };
}

interface SpendRow {
  engine: string;
  writers: number;
  accounts: string;
  tally: number;
  naive: number;
  single: number;
}

interface IngestRow {
  engine: string;
  writers: number;
  batches: number;
  items: number;
  entries: number;
}

// ---- Postgres.

async function postgresBench(url: string): Promise<{ spend: SpendRow[]; ingest: IngestRow[]; check: string }> {
  const setupStart = performance.now();
  const setupStore = createPostgresStore({ connectionString: url, schema: TALLY_SCHEMA, max: 8 });
  await setupStore.migrate();
  await seedTally(setupStore, 4);
  await setupStore.close();
  const db = new pg.Client({ connectionString: url });
  db.on('error', () => {});
  await db.connect();
  try {
    return await postgresRuns(url, db, setupStart);
  } finally {
    await db.end().catch(() => {});
  }
}

async function postgresRuns(
  url: string,
  db: pg.Client,
  setupStart: number,
): Promise<{ spend: SpendRow[]; ingest: IngestRow[]; check: string }> {
  await db.query(BASELINE_SCHEMA);
  await db.query('vacuum analyze');
  console.log(
    `Postgres set-up: ${ACCOUNTS.toLocaleString('en-US')} customers and accounts in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  // Every run starts from the same state: the updated tables vacuumed (this server may run without
  // autovacuum) and a fresh checkpoint, so no run pays for another's dead rows or checkpoint.
  const settle = async () => {
    await db.query('vacuum tally.tally_customers, tally.tally_buckets, bench_raw.bench_accounts');
    await db.query('checkpoint');
  };

  async function runTally(writers: number, op: (tally: Tally) => () => Promise<number>, seconds = SECONDS): Promise<Rate> {
    const store: SqlStore = createPostgresStore({ connectionString: url, schema: TALLY_SCHEMA, max: writers });
    try {
      // Open every pooled connection before the warm-up, as for the baselines.
      await Promise.all(Array.from({ length: writers }, () => store.getCustomer(HOT)));
      await settle();
      return await drive(writers, op(createTally({ catalog: sampleCatalog, store })), seconds);
    } finally {
      await store.close();
    }
  }

  async function runRaw(writers: number, op: (pool: pg.Pool) => () => Promise<number>): Promise<Rate> {
    const pool = new pg.Pool({ connectionString: url, max: writers });
    pool.on('error', () => {});
    try {
      await Promise.all(Array.from({ length: writers }, () => pool.query('select 1')));
      await settle();
      return await drive(writers, op(pool));
    } finally {
      await pool.end();
    }
  }

  // (a) the naive transaction: BEGIN; UPDATE … RETURNING; INSERT; COMMIT — four round trips.
  const naive = (accounts: AccountSet) => (pool: pg.Pool) => async () => {
    const id = accounts.pick();
    const client = await pool.connect();
    try {
      await client.query('begin');
      const debited = await client.query(DEBIT, [id, SPEND.toString()]);
      if (debited.rowCount !== 1) throw refused(id);
      await client.query(JOURNAL, [id, SPEND.toString(), new Date()]);
      await client.query('commit');
      return 1;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  // (b) the ceiling: one prepared statement, one round trip.
  const single = (accounts: AccountSet) => (pool: pg.Pool) => async () => {
    const id = accounts.pick();
    const result = await pool.query({ name: 'bench_spend', text: ONE_STATEMENT, values: [id, SPEND.toString(), new Date()] });
    if (result.rowCount !== 1) throw refused(id);
    return 1;
  };

  const spend: SpendRow[] = [];
  for (const writers of PG_WRITERS) {
    for (const accounts of ACCOUNT_SETS) {
      const tally = perSecond(await runTally(writers, (t) => spendOp(t, accounts)));
      const a = perSecond(await runRaw(writers, naive(accounts)));
      const b = perSecond(await runRaw(writers, single(accounts)));
      spend.push({ engine: 'Postgres', writers, accounts: accounts.label, tally, naive: a, single: b });
      console.log(`  postgres ${writers} writers, ${accounts.label}: Tally ${fmt(tally)}, (a) ${fmt(a)}, (b) ${fmt(b)} ops/s`);
    }
  }

  const ingest: IngestRow[] = [];
  for (const writers of INGEST_WRITERS) {
    const rate = await runTally(writers, ingestOp, INGEST_SECONDS);
    ingest.push({
      engine: 'Postgres',
      writers,
      batches: perSecond(rate),
      items: perSecond(rate) * BATCH,
      entries: unitsPerSecond(rate),
    });
    console.log(`  postgres ingest ${writers} writers: ${fmt(unitsPerSecond(rate))} entries/s`);
  }

  const check = await db.query<LedgerCheck>(LEDGER_CHECK);
  return { spend, ingest, check: ledgerLine('Postgres', check.rows[0]) };
}

// ---- PGlite: one embedded connection; "writers" are callers queueing on it.

async function pgliteBench(): Promise<{ spend: SpendRow[]; ingest: IngestRow[]; check: string }> {
  const setupStart = performance.now();
  const db = await PGlite.create();
  try {
    const store = await createPGliteStore({ db, schema: TALLY_SCHEMA });
    await seedTally(store, 1);
    await db.exec(BASELINE_SCHEMA);
    await db.exec('vacuum analyze');
    console.log(
      `PGlite set-up: ${ACCOUNTS.toLocaleString('en-US')} customers and accounts in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
    );
    const tally = createTally({ catalog: sampleCatalog, store });
    const settle = () => db.exec('checkpoint');

    const naive = (accounts: AccountSet) => async () => {
      const id = accounts.pick();
      await db.transaction(async (tx) => {
        const debited = await tx.query(DEBIT, [id, SPEND.toString()]);
        if (debited.rows.length !== 1) throw refused(id);
        await tx.query(JOURNAL, [id, SPEND.toString(), new Date()]);
      });
      return 1;
    };
    const single = (accounts: AccountSet) => async () => {
      const id = accounts.pick();
      const result = await db.query(ONE_STATEMENT, [id, SPEND.toString(), new Date()]);
      if (result.rows.length !== 1) throw refused(id);
      return 1;
    };

    const spend: SpendRow[] = [];
    for (const writers of PGLITE_WRITERS) {
      for (const accounts of ACCOUNT_SETS) {
        await settle();
        const t = perSecond(await drive(writers, spendOp(tally, accounts)));
        await settle();
        const a = perSecond(await drive(writers, naive(accounts)));
        await settle();
        const b = perSecond(await drive(writers, single(accounts)));
        spend.push({ engine: 'PGlite', writers, accounts: accounts.label, tally: t, naive: a, single: b });
        console.log(`  pglite ${writers} writers, ${accounts.label}: Tally ${fmt(t)}, (a) ${fmt(a)}, (b) ${fmt(b)} ops/s`);
      }
    }

    const ingest: IngestRow[] = [];
    for (const writers of INGEST_WRITERS) {
      await settle();
      const rate = await drive(writers, ingestOp(tally), INGEST_SECONDS);
      ingest.push({ engine: 'PGlite', writers, batches: perSecond(rate), items: perSecond(rate) * BATCH, entries: unitsPerSecond(rate) });
      console.log(`  pglite ingest ${writers} writers: ${fmt(unitsPerSecond(rate))} entries/s`);
    }
    const check = await db.query<LedgerCheck>(LEDGER_CHECK);
    return { spend, ingest, check: ledgerLine('PGlite', check.rows[0]) };
  } finally {
    await db.close();
  }
}

// ---- Output.

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
const ratio = (n: number) => `${n.toFixed(2)}×`;

function spendTable(title: string, rows: SpendRow[]): string {
  const lines = [
    `### ${title}`,
    '',
    '| writers | accounts | Tally ops/s | (a) naive tx ops/s | (b) one statement ops/s | Tally ÷ (a) | Tally ÷ (b) |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.writers} | ${r.accounts} | ${fmt(r.tally)} | ${fmt(r.naive)} | ${fmt(r.single)} | ${ratio(r.tally / r.naive)} | ${ratio(r.tally / r.single)} |`,
    ),
  ];
  return lines.join('\n');
}

function ingestTable(rows: IngestRow[]): string {
  return [
    `### 3. Batched usage ingest: tally.recordUsageBatch, ${BATCH} items per batch over ${ACCOUNTS.toLocaleString('en-US')} random customers (${INGEST_SECONDS} s per cell)`,
    '',
    '| engine | batch writers | batches/s | items/s | entries/s |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.engine} | ${r.writers} | ${r.batches.toFixed(1)} | ${fmt(r.items)} | ${fmt(r.entries)} |`),
  ].join('\n');
}

function worst(rows: SpendRow[], value: (r: SpendRow) => number): { value: number; where: string } {
  let found = { value: Number.POSITIVE_INFINITY, where: '' };
  for (const r of rows) {
    const v = value(r);
    if (v < found.value) found = { value: v, where: `${r.engine}, ${r.writers} writers, ${r.accounts}` };
  }
  return found;
}

const database = benchDatabase(ADMIN_URL, DATABASE);

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  admin.on('error', () => {});
  await admin.connect();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  let adminOpen = true;
  try {
    const settings = await admin.query<{ version: string; sync: string; fsync: string; wal: string; autovacuum: string }>(
      `select current_setting('server_version') as version, current_setting('synchronous_commit') as sync,
              current_setting('fsync') as fsync, current_setting('wal_level') as wal, current_setting('autovacuum') as autovacuum`,
    );
    const s = settings.rows[0];
    await admin.query(`drop database if exists ${DATABASE} with (force)`);
    await admin.query(`create database ${DATABASE}`);
    database.created();
    adminOpen = false;
    await admin.end();

    console.log(
      `Tally ledger bench — Node ${process.version}, ${os.cpus().length} CPUs, Postgres ${s?.version} ` +
        `(synchronous_commit=${s?.sync}, fsync=${s?.fsync}, wal_level=${s?.wal}, autovacuum=${s?.autovacuum}; the same for every variant), ` +
        `${SECONDS} s per cell after ${WARMUP_MS} ms warm-up, spend ${SPEND} micros, database ${DATABASE}`,
    );
    console.log('Every Postgres run starts after VACUUM of the updated tables and a CHECKPOINT; PGlite runs after a CHECKPOINT. Progress:');
    const postgres = await postgresBench(url.toString());
    const pglite = await pgliteBench();

    console.log('');
    console.log(
      spendTable(
        `1. Spend throughput on Postgres (pool size = writers; (a) BEGIN/UPDATE/INSERT/COMMIT, (b) one prepared CTE statement)`,
        postgres.spend,
      ),
    );
    console.log('');
    console.log(
      spendTable(
        '2. Spend throughput on PGlite (one embedded connection: writers are concurrent callers queueing on it; baselines on the same instance)',
        pglite.spend,
      ),
    );
    console.log('');
    console.log(ingestTable([...postgres.ingest, ...pglite.ingest]));
    console.log('');
    console.log(`${postgres.check}.`);
    console.log(`${pglite.check}.`);
    console.log('');

    const all = [...postgres.spend, ...pglite.spend];
    const vsNaive = worst(all, (r) => r.tally / r.naive);
    const vsSingle = worst(all, (r) => r.tally / r.single);
    const bestIngest = postgres.ingest.reduce((best, r) => (r.entries > best.entries ? r : best));
    const worstIngest = postgres.ingest.reduce((low, r) => (r.entries < low.entries ? r : low));
    console.log('### 4. Goals');
    console.log('');
    console.log(goal('Tally ≥ 1.0× (a) at every point', vsNaive.value >= 1, `worst ${ratio(vsNaive.value)} at ${vsNaive.where}`));
    console.log(goal('Tally ≥ 0.7× (b) at every point', vsSingle.value >= 0.7, `worst ${ratio(vsSingle.value)} at ${vsSingle.where}`));
    console.log(
      goal(
        'batched ingest ≥ 50,000 entries/s',
        bestIngest.entries >= 50_000,
        `Postgres best ${fmt(bestIngest.entries)} entries/s = ${ratio(bestIngest.entries / 50_000)} of goal at ${bestIngest.writers} writers; ` +
          `worst ${fmt(worstIngest.entries)} = ${ratio(worstIngest.entries / 50_000)} at ${worstIngest.writers} writers`,
      ),
    );
  } finally {
    if (adminOpen) await admin.end().catch(() => {});
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
