// `pnpm bench:metering`: what tallyMiddleware adds to a model call, against the bare mock model in the
// same run. Each request builds its own middleware (as an app does per HTTP request) and makes one
// model call, generate or stream (the stream drained), one at a time; bare and metered calls alternate
// so both see the same machine. Reported: p50 and p99 of each, and the difference; the garbage
// collector's pauses during each cell; and, to show where the time goes, the ledger alone (the
// customer read, reserve and capture the middleware makes, called directly). Nothing here asserts; a
// missed goal prints FAIL and still exits 0. Errors exit non-zero.
//
//   BENCH_CALLS              metered calls per cell with the memory store (default 20000; Postgres: a tenth)
//   TALLY_TEST_DATABASE_URL  admin URL; the bench creates and drops its own database tally_bench_metering_<pid>
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { tallyMiddleware } from '@tally/adapters/ai-sdk';
import { createPostgresStore } from '@tally/adapters/postgres';
import { createMemoryStore, createTally, sampleCatalog, type Tally, type TallyStore } from '@tally/core';
import { wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import pg from 'pg';
import { benchDatabase, goal } from './support.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const ADMIN_URL = process.env.TALLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = `tally_bench_metering_${process.pid}`;
if (!Number.isSafeInteger(CALLS) || CALLS < 100) throw new RangeError('BENCH_CALLS must be a whole number ≥ 100');

/** 10^15 micros, the largest grant core accepts: no call in this bench can run out. */
const ALLOWANCE = 1_000_000_000_000_000n;

const params: LanguageModelV4CallOptions = {
  prompt: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: [{ type: 'text', text: 'Summarise the plot of Hamlet in two sentences.' }] },
  ],
  maxOutputTokens: 256,
};
const usage = {
  inputTokens: { total: 31, noCache: 31, cacheRead: 0, cacheWrite: undefined },
  outputTokens: { total: 52, text: 52, reasoning: 0 },
};
const providerMetadata = { openrouter: { usage: { cost: 0.0000358 } } };
const words = 'Prince Hamlet feigns madness to avenge his father , whom his uncle Claudius murdered to take the throne .'.split(' ');

const mock = new MockLanguageModelV4({
  modelId: 'openai/gpt-4o-mini',
  doGenerate: async () => ({
    content: [{ type: 'text', text: words.join(' ') }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    providerMetadata,
    warnings: [],
    response: { id: 'gen-bench' },
  }),
  doStream: async () => ({
    stream: new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        controller.enqueue({ type: 'response-metadata', id: 'gen-bench' });
        controller.enqueue({ type: 'text-start', id: 't' });
        for (const word of words) controller.enqueue({ type: 'text-delta', id: 't', delta: `${word} ` });
        controller.enqueue({ type: 'text-end', id: 't' });
        controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage, providerMetadata });
        controller.close();
      },
    }),
  }),
});

type Operation = 'generate' | 'stream';

async function call(model: LanguageModelV4, operation: Operation): Promise<void> {
  if (operation === 'generate') {
    await model.doGenerate(params);
    return;
  }
  const { stream } = await model.doStream(params);
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}

let request = 0;
function metered(tally: Tally): LanguageModelV4 {
  const middleware = tallyMiddleware({ tally, customerId: 'bench', idempotencyKey: `req-${process.pid}-${++request}` });
  return wrapLanguageModel({ model: mock, middleware });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

interface Row {
  store: string;
  operation: Operation;
  calls: number;
  bareP50: number;
  bareP99: number;
  meteredP50: number;
  meteredP99: number;
  gc: Pauses;
}

interface Pauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

/** Garbage-collector pauses while `fn` runs. */
async function withPauses<T>(fn: () => Promise<T>): Promise<{ result: T; gc: Pauses }> {
  const gc: Pauses = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    const result = await fn();
    // Entries are delivered asynchronously: let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { result, gc };
  } finally {
    observer.disconnect();
  }
}

/** `calls` alternating pairs of bare and metered calls after a warm-up of a tenth as many. */
async function measure(store: string, tally: Tally, operation: Operation, calls: number): Promise<Row> {
  const bare: number[] = [];
  const withTally: number[] = [];
  const warmup = Math.ceil(calls / 10);
  const run = async (from: number, to: number, keep: boolean) => {
    for (let i = from; i < to; i++) {
      // Alternate which goes first, so neither always runs right after the other's garbage.
      const order = i % 2 === 0 ? [false, true] : [true, false];
      for (const wrapped of order) {
        const start = performance.now();
        await call(wrapped ? metered(tally) : mock, operation);
        const elapsed = (performance.now() - start) * 1000;
        if (keep) (wrapped ? withTally : bare).push(elapsed);
      }
    }
  };
  await run(0, warmup, false);
  const { gc } = await withPauses(() => run(0, calls, true));
  bare.sort((a, b) => a - b);
  withTally.sort((a, b) => a - b);
  return {
    store,
    operation,
    calls,
    bareP50: percentile(bare, 50),
    bareP99: percentile(bare, 99),
    meteredP50: percentile(withTally, 50),
    meteredP99: percentile(withTally, 99),
    gc,
  };
}

interface LedgerRow {
  store: string;
  calls: number;
  p50: number;
  p99: number;
  /** Reserve and capture alone, without the customer read: what the Postgres goal names. */
  holdP50: number;
  holdP99: number;
  gc: Pauses;
}

let ledgerKey = 0;
/** The ledger work of one metered call, without the middleware: customer read, reserve, capture. */
async function measureLedger(store: string, tally: Tally, calls: number): Promise<LedgerRow> {
  const times: number[] = [];
  const holdTimes: number[] = [];
  const once = async () => {
    const key = `ledger-${process.pid}-${++ledgerKey}`;
    const start = performance.now();
    await tally.customers.get('bench');
    const reserving = performance.now();
    const { hold } = await tally.reserve({ customerId: 'bench', amountMicros: 200n, ttlMs: 600_000, idempotencyKey: key });
    await tally.capture({
      holdId: hold.id,
      amountMicros: 39n,
      idempotencyKey: `${key}:capture`,
      usage: { model: 'openai/gpt-4o-mini', inputTokens: 31, outputTokens: 52, providerCostNanoUsd: 35_800n, markupBps: 1000 },
    });
    const end = performance.now();
    return { all: (end - start) * 1000, hold: (end - reserving) * 1000 };
  };
  for (let i = 0; i < Math.ceil(calls / 10); i++) await once();
  const { gc } = await withPauses(async () => {
    for (let i = 0; i < calls; i++) {
      const { all, hold } = await once();
      times.push(all);
      holdTimes.push(hold);
    }
  });
  times.sort((a, b) => a - b);
  holdTimes.sort((a, b) => a - b);
  return {
    store,
    calls,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    holdP50: percentile(holdTimes, 50),
    holdP99: percentile(holdTimes, 99),
    gc,
  };
}

/**
 * The floor under any durable reserve + capture on this server: two single-row statements, each its own
 * committed transaction (so each waits for the WAL flush), over the same driver and connection settings.
 */
async function measureCommitFloor(url: string, calls: number): Promise<{ p50: number; p99: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create table bench_commit_floor (id bigint primary key, v bigint not null)');
    const times: number[] = [];
    for (let i = 0; i < calls + Math.ceil(calls / 10); i++) {
      const start = performance.now();
      await client.query({ name: 'floor_insert', text: 'insert into bench_commit_floor (id, v) values ($1, 0)', values: [i] });
      await client.query({ name: 'floor_update', text: 'update bench_commit_floor set v = v + 1 where id = $1', values: [i] });
      if (i >= Math.ceil(calls / 10)) times.push((performance.now() - start) * 1000);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    await client.end();
  }
}

async function prepare(store: TallyStore): Promise<Tally> {
  const tally = createTally({ catalog: sampleCatalog, store });
  await tally.customers.upsert({ customerId: 'bench', tier: 'starter' });
  await tally.grant({ customerId: 'bench', kind: 'allowance', amountMicros: ALLOWANCE, idempotencyKey: `bench-grant-${process.pid}` });
  return tally;
}

/**
 * The middleware's own share: a Tally whose ledger calls answer at once with fixed results (taken from
 * a real reserve and capture), so what remains is the middleware, its estimate and pricing, and the
 * stream wrapper. A measuring instrument only: it keeps no state.
 */
async function instantLedger(): Promise<Tally> {
  const real = await prepare(createMemoryStore());
  const customer = await real.customers.get('bench');
  const held = await real.reserve({ customerId: 'bench', amountMicros: 200n, ttlMs: 600_000, idempotencyKey: 'instant' });
  const captured = await real.capture({ holdId: held.hold.id, amountMicros: 39n, idempotencyKey: 'instant:capture' });
  const answers: Partial<Tally> = {
    catalog: real.catalog,
    customers: { ...real.customers, get: async () => customer },
    reserve: async () => held,
    capture: async () => captured,
  };
  return { ...real, ...answers };
}

async function checkLedger(label: string, tally: Tally): Promise<string> {
  const audit = await tally.audit();
  if (!audit.ok) throw new Error(`${label}: audit failed after the bench: ${JSON.stringify(audit.issues.slice(0, 5))}`);
  const balance = await tally.balance('bench');
  if (balance.heldMicros !== 0n || balance.activeHolds !== 0) throw new Error(`${label}: ${balance.activeHolds} holds left open`);
  return `${label}: audit clean (${audit.entries.toLocaleString('en-US')} entries), no hold left open`;
}

const us = (n: number) => (n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));

const pauses = (gc: Pauses) => `${gc.count} (${gc.totalMs.toFixed(0)} ms, max ${gc.maxMs.toFixed(1)} ms)`;

function table(rows: Row[]): string {
  return [
    '| store | call | calls | bare p50 µs | bare p99 µs | metered p50 µs | metered p99 µs | added p50 µs | added p99 µs | GC pauses |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.store} | ${r.operation} | ${r.calls.toLocaleString('en-US')} | ${us(r.bareP50)} | ${us(r.bareP99)} | ` +
        `${us(r.meteredP50)} | ${us(r.meteredP99)} | ${us(r.meteredP50 - r.bareP50)} | ${us(r.meteredP99 - r.bareP99)} | ${pauses(r.gc)} |`,
    ),
  ].join('\n');
}

function ledgerTable(rows: LedgerRow[]): string {
  return [
    '| store | calls | p50 µs | p99 µs | reserve + capture p50 µs | reserve + capture p99 µs | GC pauses |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.store} | ${r.calls.toLocaleString('en-US')} | ${us(r.p50)} | ${us(r.p99)} | ${us(r.holdP50)} | ${us(r.holdP99)} | ${pauses(r.gc)} |`,
    ),
  ].join('\n');
}

const database = benchDatabase(ADMIN_URL, DATABASE);

async function main(): Promise<void> {
  const rows: Row[] = [];
  const ledger: LedgerRow[] = [];
  const checks: string[] = [];
  let floor: { p50: number; p99: number } | undefined;

  const instant = await instantLedger();
  for (const operation of ['generate', 'stream'] as const) rows.push(await measure('none (instant ledger)', instant, operation, CALLS));

  const memory = await prepare(createMemoryStore());
  for (const operation of ['generate', 'stream'] as const) rows.push(await measure('memory', memory, operation, CALLS));
  ledger.push(await measureLedger('memory', memory, CALLS));
  checks.push(await checkLedger('memory', memory));

  const admin = new pg.Client({ connectionString: ADMIN_URL });
  admin.on('error', () => {});
  await admin.connect();
  let version = '?';
  try {
    version = (await admin.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v ?? '?';
    await admin.query(`drop database if exists ${DATABASE} with (force)`);
    await admin.query(`create database ${DATABASE}`);
    database.created();
  } finally {
    await admin.end();
  }
  try {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${DATABASE}`;
    const store = createPostgresStore({ connectionString: url.toString(), max: 4 });
    try {
      await store.migrate();
      const postgres = await prepare(store);
      const calls = Math.max(100, Math.floor(CALLS / 10));
      for (const operation of ['generate', 'stream'] as const) rows.push(await measure('Postgres', postgres, operation, calls));
      ledger.push(await measureLedger('Postgres', postgres, calls));
      checks.push(await checkLedger('Postgres', postgres));
      floor = await measureCommitFloor(url.toString(), calls);
    } finally {
      await store.close();
    }
  } finally {
    await database.drop();
  }

  console.log(
    `Tally metering bench — Node ${process.version}, ${os.cpus().length} CPUs, Postgres ${version} on ${new URL(ADMIN_URL).host}; ` +
      'one call at a time, a new middleware per call (customer read, reserve, capture), mock model openai/gpt-4o-mini',
  );
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log('The ledger alone, per call: customer read + reserve + capture, called directly');
  console.log('');
  console.log(ledgerTable(ledger));
  console.log('');
  for (const line of checks) console.log(`${line}.`);
  if (floor) {
    console.log('');
    console.log(
      `Postgres floor: two single-row statements, each its own durable commit, same driver: p50 ${us(floor.p50)} µs, p99 ${us(floor.p99)} µs ` +
        '(a durable hold and its capture cannot cost less than this on this server).',
    );
  }
  console.log('');
  console.log('### Goals');
  console.log('');
  for (const row of rows) {
    const added = row.meteredP99 - row.bareP99;
    if (row.store.startsWith('none')) {
      console.log(`- for reference, the middleware's own share (instant ledger), ${row.operation}: ${us(added)} µs added at p99`);
      continue;
    }
    if (row.store === 'memory') {
      console.log(goal(`memory store, ${row.operation}: ≤ 50 µs added at p99`, added <= 50, `${us(added)} µs`));
    } else {
      console.log(`- for reference, Postgres, ${row.operation}: ${us(added)} µs added at p99 (customer read, reserve, capture)`);
    }
  }
  for (const row of ledger.filter((r) => r.store === 'Postgres')) {
    console.log(goal('Postgres: reserve + capture ≤ 2 ms at p99', row.holdP99 <= 2000, `${us(row.holdP99)} µs at p99`));
  }
}

main().catch(async (error) => {
  console.error(error);
  await database.drop();
  process.exitCode = 1;
});
