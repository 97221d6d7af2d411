import type { CouponDefinition, SubscriptionRecord, SubscriptionStatus } from '../billing/types.js';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError, type TallyErrorCode } from '../errors/index.js';
import { canonicalJson } from '../ledger/canonical.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { BucketKind, Entry, EntryQuery, TallyStore } from '../ledger/types.js';
import type { BillingInterval } from '../time/index.js';
import { callLogCases } from './conformance-calls.js';
import { emailCases } from './conformance-email.js';
import { notificationCases } from './conformance-notifications.js';
import { providerCases } from './conformance-provider.js';
import { createFakeClock, type FakeClock } from './index.js';

/**
 * The store conformance suite: docs/ledger.md as executable cases. Every store (memory, PGlite,
 * Postgres) runs the same cases; it imports no test framework, so any runner can register them.
 */

export interface ConformanceContext {
  /** A fresh, empty store for this case. */
  store: TallyStore;
}

export interface ConformanceCase {
  name: string;
  run(ctx: ConformanceContext): Promise<void>;
}

export type StoreFactory = () => Promise<{ store: TallyStore; cleanup?: () => Promise<void> }>;

/** The two functions of vitest, jest, node:test or bun:test the suite needs. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

const START = '2026-11-01T00:00:00Z';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const credits = (n: bigint) => n * 1_000_000n;

// ---- assertions (no test framework, so these are the whole vocabulary)

class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

// The three assertions are exported for the case files beside this one, which import them back
// through a module cycle: safe, because a case calls them only when it runs, after both have loaded.

/** Compares canonical JSON, so bigints, dates and key order compare by meaning. */
export function expectEqual(actual: unknown, expected: unknown, message: string): void {
  const a = canonicalJson(actual);
  const e = canonicalJson(expected);
  if (a !== e) throw new ConformanceFailure(`${message}\n  expected: ${e}\n  actual:   ${a}`);
}

export function expectTrue(condition: boolean, message: string): void {
  if (!condition) throw new ConformanceFailure(message);
}

/** Takes a thunk as well as a promise because the facade refuses bad input synchronously. */
export async function expectError(action: Promise<unknown> | (() => unknown), code: TallyErrorCode, message = ''): Promise<TallyError> {
  let outcome: unknown;
  try {
    outcome = await (typeof action === 'function' ? action() : action);
  } catch (error) {
    if (TallyError.is(error, code)) return error;
    const got = TallyError.is(error) ? `TallyError ${error.code}: ${error.message}` : String(error);
    throw new ConformanceFailure(`${message} expected TallyError ${code}, got ${got}`.trim());
  }
  throw new ConformanceFailure(`${message} expected TallyError ${code}, but it succeeded with ${canonicalJson(outcome)}`.trim());
}

// ---- harness

interface Harness {
  store: TallyStore;
  clock: FakeClock;
  tally: Tally;
  /** The clock's time plus `ms`. */
  later(ms: number): Date;
}

function harness({ store }: ConformanceContext): Harness {
  const clock = createFakeClock(START);
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  return { store, clock, tally, later: (ms) => new Date(clock.now().getTime() + ms) };
}

async function customers(h: Harness, tiers: Record<string, string>): Promise<void> {
  for (const [customerId, tier] of Object.entries(tiers)) await h.tally.customers.upsert({ customerId, tier });
}

let keySeq = 0;
const key = (label: string) => `${label}-${++keySeq}`;

function grant(
  h: Harness,
  customerId: string,
  kind: BucketKind,
  amountMicros: bigint,
  expiresAt: Date | null = null,
  idempotencyKey = key('grant'),
) {
  return h.tally.grant({ customerId, kind, amountMicros, expiresAt, idempotencyKey });
}

/** The accounting content of an entry, without ids and times, for exact comparison. */
function line(entry: Entry) {
  return {
    kind: entry.kind,
    from: entry.fromAccount,
    to: entry.toAccount,
    amount: entry.amountMicros,
    bucketId: entry.bucketId,
    delta: entry.bucketDeltaMicros,
    holdId: entry.holdId,
  };
}

function expected(
  kind: Entry['kind'],
  from: string,
  to: string,
  amount: bigint,
  bucketId: string | null = null,
  delta = 0n,
  holdId: string | null = null,
) {
  return { kind, from, to, amount, bucketId, delta, holdId };
}

async function allEntries(store: TallyStore, filter: Omit<EntryQuery, 'limit' | 'cursor'> = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listEntries({ ...filter, limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
}

/** Everything observable about the given customers and the store's journal and outbox. */
async function observe(h: Harness, customerIds: string[]): Promise<string> {
  const balances = [];
  for (const customerId of customerIds) balances.push(await h.store.balance(customerId, h.clock.now()));
  const entries = await allEntries(h.store);
  const outbox = await h.store.listOutbox({ limit: 100_000 });
  return canonicalJson({ balances, entries, outbox });
}

async function expectUnchanged(h: Harness, customerIds: string[], before: string, message: string): Promise<void> {
  expectEqual(JSON.parse(await observe(h, customerIds)), JSON.parse(before), `${message}: state changed`);
}

async function expectCleanAudit(h: Harness, message: string) {
  const report = await h.tally.audit();
  expectEqual(report.issues, [], `${message}: audit issues`);
  expectEqual({ ok: report.ok, totalMicros: report.totalMicros }, { ok: true, totalMicros: 0n }, `${message}: audit`);
  return report;
}

/** System balances with zero accounts dropped, so stores may list untouched accounts or not. */
function nonZero(balances: Record<string, bigint>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(balances).filter(([, value]) => value !== 0n));
}

const byFrom = (a: { from: string }, b: { from: string }) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0);

const isIncreasing = (ids: string[]) => ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1] as string));

// ---- cases

const cases: ConformanceCase[] = [];
const test = (name: string, run: (h: Harness) => Promise<void>) => cases.push({ name, run: (ctx) => run(harness(ctx)) });

test('a grant creates a bucket per grant; balance lists them soonest expiry first', async (h) => {
  await customers(h, { alice: 'starter' });
  const now = h.clock.now();
  const allowance = await grant(h, 'alice', 'allowance', credits(20n), h.later(30 * DAY));
  expectEqual(allowance.replayed, false, 'fresh grant');
  expectEqual(
    allowance.bucket,
    {
      id: allowance.bucket.id,
      customerId: 'alice',
      kind: 'allowance',
      grantedMicros: credits(20n),
      remainingMicros: credits(20n),
      expiresAt: h.later(30 * DAY),
      createdAt: now,
    },
    'allowance bucket',
  );
  expectEqual(
    allowance.entries.map(line),
    [expected('grant', 'system:grants', 'customer:alice', credits(20n), allowance.bucket.id, credits(20n))],
    'grant entry',
  );
  const entry = allowance.entries[0] as Entry;
  expectEqual(
    { operationId: entry.operationId, customerId: entry.customerId, createdAt: entry.createdAt },
    { operationId: allowance.operationId, customerId: 'alice', createdAt: now },
    'grant entry metadata',
  );
  expectEqual(allowance.balance, { balanceMicros: credits(20n), heldMicros: 0n, debtMicros: 0n }, 'balance after the allowance');

  const purchased = await grant(h, 'alice', 'purchased', credits(10n));
  const coupon = await grant(h, 'alice', 'coupon', credits(5n), h.later(10 * DAY));
  expectEqual(
    purchased.entries.map((e) => e.fromAccount),
    ['system:purchases'],
    'purchased credit comes from system:purchases',
  );
  expectEqual(
    coupon.entries.map((e) => e.fromAccount),
    ['system:coupons'],
    'coupon credit comes from system:coupons',
  );
  expectTrue(isIncreasing([allowance, purchased, coupon].map((r) => (r.entries[0] as Entry).id)), 'entry ids increase');
  expectTrue(new Set([allowance, purchased, coupon].map((r) => r.bucket.id)).size === 3, 'three distinct buckets');

  expectEqual(
    await h.tally.balance('alice'),
    {
      customerId: 'alice',
      tier: 'starter',
      overdraftLimitMicros: 0n,
      unlimited: false,
      balanceMicros: credits(35n),
      heldMicros: 0n,
      debtMicros: 0n,
      availableMicros: credits(35n),
      buckets: [coupon.bucket, allowance.bucket, purchased.bucket],
      activeHolds: 0,
    },
    'balance',
  );
});

test('spends drain the soonest expiry first, ties by creation, buckets without expiry last', async (h) => {
  await customers(h, { bob: 'starter' });
  const purchased = await grant(h, 'bob', 'purchased', credits(10n));
  const coupon = await grant(h, 'bob', 'coupon', credits(10n), h.later(20 * DAY));
  const first = await grant(h, 'bob', 'allowance', credits(10n), h.later(5 * DAY));
  const second = await grant(h, 'bob', 'allowance', credits(4n), h.later(5 * DAY));

  const a = await h.tally.spend({ customerId: 'bob', amountMicros: credits(12n), idempotencyKey: key('spend') });
  expectEqual(
    a.entries.map(line),
    [
      expected('spend', 'customer:bob', 'system:revenue', credits(10n), first.bucket.id, -credits(10n)),
      expected('spend', 'customer:bob', 'system:revenue', credits(2n), second.bucket.id, -credits(2n)),
    ],
    'first spend drains the two allowances in creation order',
  );
  expectEqual(
    { charged: a.chargedMicros, debt: a.debtMicros, balance: a.balance },
    { charged: credits(12n), debt: 0n, balance: { balanceMicros: credits(22n), heldMicros: 0n, debtMicros: 0n } },
    'first spend result',
  );
  expectTrue(
    a.entries.every((e) => e.operationId === a.operationId),
    'entries share the operation id',
  );

  const b = await h.tally.spend({ customerId: 'bob', amountMicros: credits(15n), idempotencyKey: key('spend') });
  expectEqual(
    b.entries.map(line),
    [
      expected('spend', 'customer:bob', 'system:revenue', credits(2n), second.bucket.id, -credits(2n)),
      expected('spend', 'customer:bob', 'system:revenue', credits(10n), coupon.bucket.id, -credits(10n)),
      expected('spend', 'customer:bob', 'system:revenue', credits(3n), purchased.bucket.id, -credits(3n)),
    ],
    'second spend: allowance, then coupon, then purchased',
  );
  const balance = await h.tally.balance('bob');
  expectEqual(balance.balanceMicros, credits(7n), 'balance');
  expectEqual(balance.buckets, [{ ...purchased.bucket, remainingMicros: credits(7n) }], 'only the purchased bucket has credit left');
  await expectCleanAudit(h, 'after draining');
});

test('a spend beyond the available credit fails with INSUFFICIENT_CREDITS and changes nothing', async (h) => {
  await customers(h, { carol: 'starter' });
  await grant(h, 'carol', 'allowance', credits(5n));
  const before = await observe(h, ['carol']);
  await expectError(
    h.tally.spend({ customerId: 'carol', amountMicros: credits(5n) + 1n, idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
  );
  await expectUnchanged(h, ['carol'], before, 'after a refused spend');
  const exact = await h.tally.spend({ customerId: 'carol', amountMicros: credits(5n), idempotencyKey: key('spend') });
  expectEqual(exact.balance.balanceMicros, 0n, 'spending exactly the balance is allowed');
});

test('professional may overdraw down to -5 credits and no further', async (h) => {
  await customers(h, { dave: 'professional' });
  const allowance = await grant(h, 'dave', 'allowance', credits(10n));
  const spend = await h.tally.spend({ customerId: 'dave', amountMicros: credits(14n), idempotencyKey: key('spend') });
  expectEqual(
    spend.entries.map(line),
    [
      expected('spend', 'customer:dave', 'system:revenue', credits(10n), allowance.bucket.id, -credits(10n)),
      expected('spend', 'customer:dave', 'system:revenue', credits(4n)),
    ],
    'the bucket, then the overdraft portion without a bucket',
  );
  let balance = await h.tally.balance('dave');
  expectEqual(
    {
      balance: balance.balanceMicros,
      available: balance.availableMicros,
      overdraft: balance.overdraftLimitMicros,
      buckets: balance.buckets,
    },
    { balance: -credits(4n), available: credits(1n), overdraft: credits(5n), buckets: [] },
    'after overdrawing',
  );
  await expectError(
    h.tally.spend({ customerId: 'dave', amountMicros: credits(2n), idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
    'beyond the limit',
  );
  await h.tally.spend({ customerId: 'dave', amountMicros: credits(1n), idempotencyKey: key('spend') });
  await expectError(
    h.tally.spend({ customerId: 'dave', amountMicros: 1n, idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
    'at the limit',
  );
  balance = await h.tally.balance('dave');
  expectEqual(
    { balance: balance.balanceMicros, available: balance.availableMicros },
    { balance: -credits(5n), available: 0n },
    'at the limit',
  );
  await expectCleanAudit(h, 'overdraft');
});

test('a grant while the balance is negative covers the overdraft first', async (h) => {
  await customers(h, { erin: 'professional' });
  const overdraw = await h.tally.spend({ customerId: 'erin', amountMicros: credits(3n), idempotencyKey: key('spend') });
  expectEqual(overdraw.entries.map(line), [expected('spend', 'customer:erin', 'system:revenue', credits(3n))], 'all overdraft');
  const top = await grant(h, 'erin', 'allowance', credits(10n));
  expectEqual(
    { granted: top.bucket.grantedMicros, remaining: top.bucket.remainingMicros },
    { granted: credits(10n), remaining: credits(7n) },
    'bucket',
  );
  expectEqual(
    top.entries.map(line),
    [expected('grant', 'system:grants', 'customer:erin', credits(10n), top.bucket.id, credits(7n))],
    'grant entry',
  );
  expectEqual(top.balance.balanceMicros, credits(7n), 'balance after the grant');

  const spend = await h.tally.spend({ customerId: 'erin', amountMicros: credits(9n), idempotencyKey: key('spend') });
  expectEqual(
    spend.entries.map(line),
    [
      expected('spend', 'customer:erin', 'system:revenue', credits(7n), top.bucket.id, -credits(7n)),
      expected('spend', 'customer:erin', 'system:revenue', credits(2n)),
    ],
    'spend',
  );
  const small = await grant(h, 'erin', 'coupon', credits(1n), h.later(DAY));
  expectEqual(
    { remaining: small.bucket.remainingMicros, delta: small.entries[0]?.bucketDeltaMicros },
    { remaining: 0n, delta: 0n },
    'a grant smaller than the overdraft fills no bucket',
  );
  const balance = await h.tally.balance('erin');
  expectEqual({ balance: balance.balanceMicros, buckets: balance.buckets }, { balance: -credits(1n), buckets: [] }, 'still overdrawn');
  await expectCleanAudit(h, 'covering the overdraft');
});

test('unlimited customers are never blocked and are charged to system:unlimited', async (h) => {
  await customers(h, { ent: 'enterprise' });
  await grant(h, 'ent', 'purchased', credits(3n));
  const spend = await h.tally.spend({ customerId: 'ent', amountMicros: credits(1000n), idempotencyKey: key('spend') });
  expectEqual(spend.entries.map(line), [expected('spend', 'system:unlimited', 'system:revenue', credits(1000n))], 'spend entry');
  // `chargedMicros` counts what came from the customer's own credit: none of it, here.
  expectEqual(
    { charged: spend.chargedMicros, debt: spend.debtMicros, balance: spend.balance },
    { charged: 0n, debt: 0n, balance: { balanceMicros: credits(3n), heldMicros: 0n, debtMicros: 0n } },
    'spend result',
  );
  const usage = await h.tally.recordUsage({ customerId: 'ent', amountMicros: credits(5n), idempotencyKey: key('usage') });
  expectEqual(usage.entries.map(line), [expected('usage', 'system:unlimited', 'system:revenue', credits(5n))], 'usage entry');
  expectEqual(usage.debtMicros, 0n, 'no debt');

  const reserved = await h.tally.reserve({ customerId: 'ent', amountMicros: credits(50n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  expectEqual(reserved.balance, { balanceMicros: credits(3n), heldMicros: credits(50n), debtMicros: 0n }, 'reserve tracks held');
  const captured = await h.tally.capture({ holdId: reserved.hold.id, amountMicros: credits(70n), idempotencyKey: key('capture') });
  expectEqual(
    captured.entries.map(line),
    [expected('capture', 'system:unlimited', 'system:revenue', credits(70n), null, 0n, reserved.hold.id)],
    'capture entry',
  );
  expectEqual(captured.balance, { balanceMicros: credits(3n), heldMicros: 0n, debtMicros: 0n }, 'after capture');
  const balance = await h.tally.balance('ent');
  // `available` is defined for limited customers; for unlimited ones it reads 0.
  expectEqual(
    {
      unlimited: balance.unlimited,
      overdraft: balance.overdraftLimitMicros,
      balance: balance.balanceMicros,
      available: balance.availableMicros,
    },
    { unlimited: true, overdraft: 0n, balance: credits(3n), available: 0n },
    'balance',
  );
  const adjusted = await h.tally.adjust({
    customerId: 'ent',
    amountMicros: -credits(2n),
    reason: 'correction',
    idempotencyKey: key('adjust'),
  });
  expectEqual(
    adjusted.entries.map(line),
    [expected('adjust', 'system:unlimited', 'system:adjustments', credits(2n))],
    'a negative adjustment is a spend',
  );
  const report = await expectCleanAudit(h, 'unlimited');
  expectEqual(
    nonZero(report.systemBalances),
    {
      'system:adjustments': credits(2n),
      'system:purchases': -credits(3n),
      'system:revenue': credits(1075n),
      'system:unlimited': -credits(1077n),
    },
    'system balances',
  );
});

test('usage beyond the credit is recorded as debt and the journal stays sound', async (h) => {
  await customers(h, { frank: 'professional' });
  const allowance = await grant(h, 'frank', 'allowance', credits(3n));
  const usage = await h.tally.recordUsage({ customerId: 'frank', amountMicros: credits(10n), idempotencyKey: key('usage') });
  expectEqual(
    usage.entries.map(line),
    [
      expected('usage', 'customer:frank', 'system:revenue', credits(3n), allowance.bucket.id, -credits(3n)),
      expected('usage', 'customer:frank', 'system:revenue', credits(5n)),
      expected('usage', 'debt:frank', 'system:revenue', credits(2n)),
    ],
    'buckets, overdraft, then debt',
  );
  expectEqual(
    { charged: usage.chargedMicros, debt: usage.debtMicros, balance: usage.balance },
    { charged: credits(8n), debt: credits(2n), balance: { balanceMicros: -credits(5n), heldMicros: 0n, debtMicros: credits(2n) } },
    'usage result',
  );
  const more = await h.tally.recordUsage({ customerId: 'frank', amountMicros: credits(1n), idempotencyKey: key('usage') });
  expectEqual(
    more.entries.map(line),
    [expected('usage', 'debt:frank', 'system:revenue', credits(1n))],
    'all debt once nothing is available',
  );
  expectEqual(
    { charged: more.chargedMicros, debt: more.debtMicros, total: more.balance.debtMicros },
    { charged: 0n, debt: credits(1n), total: credits(3n) },
    'debt',
  );
  const report = await expectCleanAudit(h, 'debt');
  expectEqual(nonZero(report.systemBalances), { 'system:grants': -credits(3n), 'system:revenue': credits(11n) }, 'system balances');
});

test('capturing less than the hold charges the actual amount and frees the rest', async (h) => {
  await customers(h, { gina: 'starter' });
  const allowance = await grant(h, 'gina', 'allowance', credits(10n));
  const now = h.clock.now();
  const reserved = await h.tally.reserve({ customerId: 'gina', amountMicros: credits(4n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  expectEqual(
    reserved.hold,
    {
      id: reserved.hold.id,
      customerId: 'gina',
      amountMicros: credits(4n),
      status: 'active',
      capturedMicros: null,
      expiresAt: h.later(MINUTE),
      createdAt: now,
      settledAt: null,
    },
    'hold',
  );
  expectEqual(reserved.balance, { balanceMicros: credits(10n), heldMicros: credits(4n), debtMicros: 0n }, 'held');
  const balance = await h.tally.balance('gina');
  expectEqual(
    { available: balance.availableMicros, holds: balance.activeHolds },
    { available: credits(6n), holds: 1 },
    'available while held',
  );
  expectEqual((await allEntries(h.store, { customerId: 'gina' })).length, 1, 'a reservation writes no entry');

  h.clock.advance(10 * SECOND);
  const captured = await h.tally.capture({ holdId: reserved.hold.id, amountMicros: credits(3n), idempotencyKey: key('capture') });
  expectEqual(
    captured.entries.map(line),
    [expected('capture', 'customer:gina', 'system:revenue', credits(3n), allowance.bucket.id, -credits(3n), reserved.hold.id)],
    'capture entry',
  );
  expectEqual(
    { hold: captured.hold, charged: captured.chargedMicros, debt: captured.debtMicros, balance: captured.balance },
    {
      hold: { ...reserved.hold, status: 'captured', capturedMicros: credits(3n), settledAt: h.clock.now() },
      charged: credits(3n),
      debt: 0n,
      balance: { balanceMicros: credits(7n), heldMicros: 0n, debtMicros: 0n },
    },
    'capture result',
  );
  expectEqual(await h.store.getHold(reserved.hold.id), captured.hold, 'stored hold');
  await expectCleanAudit(h, 'capture');
});

test('capturing zero settles the hold, writes no entries and leaves the audit clean', async (h) => {
  await customers(h, { zack: 'starter' });
  await grant(h, 'zack', 'allowance', credits(10n));
  const reserved = await h.tally.reserve({ customerId: 'zack', amountMicros: credits(4n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  const input = { holdId: reserved.hold.id, amountMicros: 0n, idempotencyKey: key('capture') };
  const captured = await h.tally.capture(input);
  expectEqual(
    {
      entries: captured.entries,
      charged: captured.chargedMicros,
      debt: captured.debtMicros,
      balance: captured.balance,
      hold: captured.hold,
    },
    {
      entries: [],
      charged: 0n,
      debt: 0n,
      balance: { balanceMicros: credits(10n), heldMicros: 0n, debtMicros: 0n },
      hold: { ...reserved.hold, status: 'captured', capturedMicros: 0n, settledAt: h.clock.now() },
    },
    'capture of zero',
  );
  expectEqual(await h.tally.capture(input), { ...captured, replayed: true }, 'replay');
  expectEqual(
    (await allEntries(h.store)).map((e) => e.kind),
    ['grant'],
    'no entries',
  );
  await expectCleanAudit(h, 'a stored result without entries is not a mismatch when it has none to write');
});

test('capturing more than the hold takes what is available and records the rest as debt', async (h) => {
  await customers(h, { hank: 'starter' });
  const allowance = await grant(h, 'hank', 'allowance', credits(10n));
  const reserved = await h.tally.reserve({ customerId: 'hank', amountMicros: credits(4n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  const spend = await h.tally.spend({ customerId: 'hank', amountMicros: credits(5n), idempotencyKey: key('spend') });
  expectEqual(spend.balance, { balanceMicros: credits(5n), heldMicros: credits(4n), debtMicros: 0n }, 'after the spend');
  const captured = await h.tally.capture({ holdId: reserved.hold.id, amountMicros: credits(8n), idempotencyKey: key('capture') });
  expectEqual(
    captured.entries.map(line),
    [
      expected('capture', 'customer:hank', 'system:revenue', credits(5n), allowance.bucket.id, -credits(5n), reserved.hold.id),
      expected('capture', 'debt:hank', 'system:revenue', credits(3n), null, 0n, reserved.hold.id),
    ],
    'capture entries',
  );
  expectEqual(
    { charged: captured.chargedMicros, debt: captured.debtMicros, balance: captured.balance, captured: captured.hold.capturedMicros },
    {
      charged: credits(5n),
      debt: credits(3n),
      balance: { balanceMicros: 0n, heldMicros: 0n, debtMicros: credits(3n) },
      captured: credits(8n),
    },
    'capture result',
  );
  await expectCleanAudit(h, 'over-capture');
});

test('release frees the hold; releasing again replays or is refused', async (h) => {
  await customers(h, { ivy: 'starter' });
  await grant(h, 'ivy', 'allowance', credits(10n));
  const reserved = await h.tally.reserve({ customerId: 'ivy', amountMicros: credits(4n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  h.clock.advance(SECOND);
  const released = await h.tally.release({ holdId: reserved.hold.id });
  expectEqual(
    released,
    {
      hold: { ...reserved.hold, status: 'released', settledAt: h.clock.now() },
      balance: { balanceMicros: credits(10n), heldMicros: 0n, debtMicros: 0n },
      replayed: false,
    },
    'release',
  );
  expectEqual(await h.tally.release({ holdId: reserved.hold.id }), { ...released, replayed: true }, 'the default key replays');
  await expectError(h.tally.release({ holdId: reserved.hold.id, idempotencyKey: key('release') }), 'HOLD_NOT_ACTIVE', 'a new release');
  expectEqual((await h.tally.balance('ivy')).availableMicros, credits(10n), 'available again');
  expectEqual((await allEntries(h.store, { customerId: 'ivy' })).length, 1, 'reserve and release write no entries');
  await expectCleanAudit(h, 'release');
});

test('a hold that is released or captured cannot be captured: HOLD_NOT_ACTIVE; unknown holds: NOT_FOUND', async (h) => {
  await customers(h, { jay: 'starter' });
  await grant(h, 'jay', 'allowance', credits(10n));
  const released = await h.tally.reserve({ customerId: 'jay', amountMicros: credits(2n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  await h.tally.release({ holdId: released.hold.id });
  const before = await observe(h, ['jay']);
  await expectError(
    h.tally.capture({ holdId: released.hold.id, amountMicros: credits(1n), idempotencyKey: key('capture') }),
    'HOLD_NOT_ACTIVE',
    'released',
  );
  await expectUnchanged(h, ['jay'], before, 'after the refused capture');
  const captured = await h.tally.reserve({ customerId: 'jay', amountMicros: credits(2n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  await h.tally.capture({ holdId: captured.hold.id, amountMicros: credits(1n), idempotencyKey: key('capture') });
  await expectError(
    h.tally.capture({ holdId: captured.hold.id, amountMicros: credits(1n), idempotencyKey: key('capture') }),
    'HOLD_NOT_ACTIVE',
    'captured twice',
  );
  await expectError(
    h.tally.release({ holdId: captured.hold.id, idempotencyKey: key('release') }),
    'HOLD_NOT_ACTIVE',
    'release after capture',
  );
  await expectError(
    h.tally.capture({ holdId: '999999', amountMicros: credits(1n), idempotencyKey: key('capture') }),
    'NOT_FOUND',
    'unknown hold',
  );
  await expectError(h.tally.release({ holdId: '999999' }), 'NOT_FOUND', 'release of an unknown hold');
  expectEqual(await h.store.getHold('999999'), null, 'getHold of an unknown hold');
  expectEqual((await h.tally.balance('jay')).balanceMicros, credits(9n), 'only the one capture charged');
});

test('a capture after the hold expired fails with HOLD_EXPIRED and changes nothing', async (h) => {
  await customers(h, { jack: 'starter' });
  await grant(h, 'jack', 'allowance', credits(10n));
  const reserved = await h.tally.reserve({ customerId: 'jack', amountMicros: credits(4n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  h.clock.advance(MINUTE);
  const before = await observe(h, ['jack']);
  await expectError(
    h.tally.capture({ holdId: reserved.hold.id, amountMicros: credits(1n), idempotencyKey: key('capture') }),
    'HOLD_EXPIRED',
    'at expiresAt',
  );
  await expectUnchanged(h, ['jack'], before, 'after the refused capture');
  const balance = await h.tally.balance('jack');
  expectEqual(
    { held: balance.heldMicros, available: balance.availableMicros, holds: balance.activeHolds },
    { held: 0n, available: credits(10n), holds: 0 },
    'balance() already excludes the hold',
  );
  expectEqual(await h.tally.sweepHolds(), 1, 'the failed capture left the hold for the sweeper');
  expectEqual((await h.store.getHold(reserved.hold.id))?.status, 'expired', 'swept');
  await expectError(
    h.tally.capture({ holdId: reserved.hold.id, amountMicros: credits(1n), idempotencyKey: key('capture') }),
    'HOLD_EXPIRED',
    'after the sweep',
  );
  await expectCleanAudit(h, 'expired hold');
});

test('sweepHolds expires due holds and frees what they held', async (h) => {
  await customers(h, { kate: 'starter' });
  await grant(h, 'kate', 'allowance', credits(10n));
  const first = await h.tally.reserve({ customerId: 'kate', amountMicros: credits(3n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  const second = await h.tally.reserve({
    customerId: 'kate',
    amountMicros: credits(2n),
    ttlMs: 2 * MINUTE,
    idempotencyKey: key('reserve'),
  });
  expectEqual(second.balance.heldMicros, credits(5n), 'two holds');
  h.clock.advance(90 * SECOND);
  expectEqual(await h.tally.sweepHolds(), 1, 'one hold due');
  expectEqual(await h.store.getHold(first.hold.id), { ...first.hold, status: 'expired', settledAt: h.clock.now() }, 'first hold expired');
  expectEqual((await h.store.getHold(second.hold.id))?.status, 'active', 'second hold still active');
  let balance = await h.tally.balance('kate');
  expectEqual(
    { held: balance.heldMicros, available: balance.availableMicros, holds: balance.activeHolds },
    { held: credits(2n), available: credits(8n), holds: 1 },
    'after one sweep',
  );
  await expectCleanAudit(h, 'after one sweep');
  h.clock.advance(MINUTE);
  expectEqual(await h.tally.sweepHolds(), 1, 'second hold due');
  expectEqual(await h.tally.sweepHolds(), 0, 'nothing left');
  balance = await h.tally.balance('kate');
  expectEqual(
    { balance: balance.balanceMicros, held: balance.heldMicros, available: balance.availableMicros },
    { balance: credits(10n), held: 0n, available: credits(10n) },
    'all freed',
  );
  await expectCleanAudit(h, 'after both sweeps');
});

test('a reservation beyond the available credit is refused', async (h) => {
  await customers(h, { liam: 'starter', mia: 'professional' });
  await grant(h, 'liam', 'allowance', credits(5n));
  const before = await observe(h, ['liam']);
  await expectError(
    h.tally.reserve({ customerId: 'liam', amountMicros: credits(6n), ttlMs: MINUTE, idempotencyKey: key('reserve') }),
    'INSUFFICIENT_CREDITS',
    'more than the balance',
  );
  await expectUnchanged(h, ['liam'], before, 'after a refused reservation');
  await h.tally.reserve({ customerId: 'liam', amountMicros: credits(5n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  await expectError(
    h.tally.reserve({ customerId: 'liam', amountMicros: 1n, ttlMs: MINUTE, idempotencyKey: key('reserve') }),
    'INSUFFICIENT_CREDITS',
    'all held',
  );
  await expectError(
    h.tally.spend({ customerId: 'liam', amountMicros: 1n, idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
    'a spend while all is held',
  );
  const overdraft = await h.tally.reserve({ customerId: 'mia', amountMicros: credits(5n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  expectEqual(overdraft.balance, { balanceMicros: 0n, heldMicros: credits(5n), debtMicros: 0n }, 'a reservation may use the overdraft');
  await expectError(
    h.tally.reserve({ customerId: 'mia', amountMicros: 1n, ttlMs: MINUTE, idempotencyKey: key('reserve') }),
    'INSUFFICIENT_CREDITS',
    'beyond the overdraft',
  );
});

test('lazy expiry: balance() excludes a due bucket without writing; the next spend writes the expiry', async (h) => {
  await customers(h, { noah: 'starter' });
  const allowance = await grant(h, 'noah', 'allowance', credits(10n), h.later(DAY));
  const purchased = await grant(h, 'noah', 'purchased', credits(3n));
  h.clock.advance(DAY);
  const balance = await h.tally.balance('noah');
  expectEqual(
    { balance: balance.balanceMicros, available: balance.availableMicros, buckets: balance.buckets },
    { balance: credits(3n), available: credits(3n), buckets: [purchased.bucket] },
    'the expired bucket is left out',
  );
  expectEqual((await allEntries(h.store)).length, 2, 'balance() wrote nothing');
  await expectCleanAudit(h, 'before the expiry is written');

  const spend = await h.tally.spend({ customerId: 'noah', amountMicros: credits(1n), idempotencyKey: key('spend') });
  expectEqual(
    spend.entries.map(line),
    [expected('spend', 'customer:noah', 'system:revenue', credits(1n), purchased.bucket.id, -credits(1n))],
    'the spend skips the expired bucket',
  );
  expectEqual(spend.balance.balanceMicros, credits(2n), 'balance after the spend');
  const entries = await allEntries(h.store, { customerId: 'noah' });
  expectEqual(
    entries.map((e) => e.kind),
    ['spend', 'expire', 'grant', 'grant'],
    'newest first',
  );
  const expire = entries[1] as Entry;
  expectEqual(
    line(expire),
    expected('expire', 'customer:noah', 'system:expired', credits(10n), allowance.bucket.id, -credits(10n)),
    'expire entry',
  );
  expectTrue(expire.operationId !== spend.operationId, 'the lazy expiry is its own operation');
  expectEqual(await h.tally.expireBuckets(), 0, 'nothing left for the sweeper');
  await expectCleanAudit(h, 'after lazy expiry');
});

test('expireBuckets expires due buckets with credit left and counts them', async (h) => {
  await customers(h, { olga: 'starter', pete: 'starter', quin: 'starter' });
  const olgaAllowance = await grant(h, 'olga', 'allowance', credits(10n), h.later(DAY));
  const olgaCoupon = await grant(h, 'olga', 'coupon', credits(2n), h.later(2 * DAY));
  const peteAllowance = await grant(h, 'pete', 'allowance', credits(5n), h.later(DAY));
  await grant(h, 'pete', 'purchased', credits(1n));
  await grant(h, 'quin', 'allowance', credits(4n), h.later(DAY));
  await h.tally.spend({ customerId: 'quin', amountMicros: credits(4n), idempotencyKey: key('spend') });
  expectEqual(await h.tally.expireBuckets(), 0, 'nothing due yet');

  h.clock.advance(DAY);
  expectEqual(await h.tally.expireBuckets(), 2, "olga's and pete's allowances; quin's is empty");
  expectEqual(
    (await allEntries(h.store, { kinds: ['expire'] })).map(line).sort(byFrom),
    [
      expected('expire', 'customer:olga', 'system:expired', credits(10n), olgaAllowance.bucket.id, -credits(10n)),
      expected('expire', 'customer:pete', 'system:expired', credits(5n), peteAllowance.bucket.id, -credits(5n)),
    ],
    'expire entries (in either order: the two expire at the same time)',
  );
  expectEqual(await h.tally.expireBuckets(), 0, 'expiring twice expires nothing');
  h.clock.advance(DAY);
  expectEqual(await h.tally.expireBuckets(), 1, "olga's coupon");
  const olga = await allEntries(h.store, { customerId: 'olga', kinds: ['expire'] });
  expectEqual(
    olga[0] ? line(olga[0]) : null,
    expected('expire', 'customer:olga', 'system:expired', credits(2n), olgaCoupon.bucket.id, -credits(2n)),
    'coupon expiry',
  );
  expectEqual(
    [
      (await h.tally.balance('olga')).balanceMicros,
      (await h.tally.balance('pete')).balanceMicros,
      (await h.tally.balance('quin')).balanceMicros,
    ],
    [0n, credits(1n), 0n],
    'balances',
  );
  const report = await expectCleanAudit(h, 'after expiry');
  expectEqual(report.systemBalances['system:expired'], credits(17n), 'system:expired');
});

test('adjust: positive adds an adjustment bucket, negative drains like a spend; both keep the reason', async (h) => {
  await customers(h, { rita: 'starter' });
  const credit = await h.tally.adjust({ customerId: 'rita', amountMicros: credits(5n), reason: 'goodwill', idempotencyKey: key('adjust') });
  expectTrue('bucket' in credit, 'a positive adjustment returns its bucket');
  const bucket = (credit as { bucket: { id: string; kind: string; grantedMicros: bigint; expiresAt: Date | null } }).bucket;
  expectEqual(
    { kind: bucket.kind, granted: bucket.grantedMicros, expiresAt: bucket.expiresAt },
    { kind: 'adjustment', granted: credits(5n), expiresAt: null },
    'bucket',
  );
  expectEqual(
    credit.entries.map(line),
    [expected('adjust', 'system:adjustments', 'customer:rita', credits(5n), bucket.id, credits(5n))],
    'credit entry',
  );
  expectEqual(
    credit.entries.map((e) => e.description),
    ['goodwill'],
    'reason',
  );

  const debit = await h.tally.adjust({
    customerId: 'rita',
    amountMicros: -credits(2n),
    reason: 'correction',
    idempotencyKey: key('adjust'),
  });
  expectEqual(
    debit.entries.map(line),
    [expected('adjust', 'customer:rita', 'system:adjustments', credits(2n), bucket.id, -credits(2n))],
    'debit entry',
  );
  expectEqual(
    debit.entries.map((e) => e.description),
    ['correction'],
    'reason',
  );
  expectEqual(debit.balance.balanceMicros, credits(3n), 'balance');
  const before = await observe(h, ['rita']);
  await expectError(
    h.tally.adjust({ customerId: 'rita', amountMicros: -credits(4n), reason: 'too much', idempotencyKey: key('adjust') }),
    'INSUFFICIENT_CREDITS',
    'a negative adjustment respects available',
  );
  await expectUnchanged(h, ['rita'], before, 'after a refused adjustment');
  const report = await expectCleanAudit(h, 'adjust');
  expectEqual(report.systemBalances['system:adjustments'], -credits(3n), 'system:adjustments');
});

test('idempotency: the same key and payload replay the stored result and write nothing', async (h) => {
  await customers(h, { sam: 'starter' });
  const input = { customerId: 'sam', kind: 'allowance' as const, amountMicros: credits(10n), idempotencyKey: 'grant-sam' };
  const granted = await h.tally.grant(input);
  expectEqual(await h.tally.grant(input), { ...granted, replayed: true }, 'grant replay');
  const spendInput = { customerId: 'sam', amountMicros: credits(3n), idempotencyKey: 'spend-sam' };
  const spent = await h.tally.spend(spendInput);
  expectEqual(await h.tally.spend(spendInput), { ...spent, replayed: true }, 'spend replay');
  const reserveInput = { customerId: 'sam', amountMicros: credits(2n), ttlMs: MINUTE, idempotencyKey: 'reserve-sam' };
  const reserved = await h.tally.reserve(reserveInput);
  expectEqual(await h.tally.reserve(reserveInput), { ...reserved, replayed: true }, 'reserve replay');
  const captureInput = { holdId: reserved.hold.id, amountMicros: credits(1n), idempotencyKey: 'capture-sam' };
  const captured = await h.tally.capture(captureInput);
  h.clock.advance(HOUR);
  expectEqual(
    await h.tally.capture(captureInput),
    { ...captured, replayed: true },
    'capture replay, even after the hold would have expired',
  );
  expectEqual(await h.tally.spend(spendInput), { ...spent, replayed: true }, 'a later replay returns the result as it was');
  expectEqual(
    await h.tally.reserve(reserveInput),
    { ...reserved, replayed: true },
    'a reserve replayed after its capture shows the hold as it was reserved',
  );
  expectEqual(
    (await allEntries(h.store)).map((e) => e.kind),
    ['capture', 'spend', 'grant'],
    'one set of entries',
  );
  const balance = await h.tally.balance('sam');
  expectEqual({ balance: balance.balanceMicros, held: balance.heldMicros }, { balance: credits(6n), held: 0n }, 'balance counted once');
  await expectCleanAudit(h, 'replays');
});

test('idempotency: the same key with another payload or operation is IDEMPOTENCY_CONFLICT and changes nothing', async (h) => {
  await customers(h, { tom: 'starter' });
  await grant(h, 'tom', 'allowance', credits(10n));
  await h.tally.spend({ customerId: 'tom', amountMicros: credits(1n), idempotencyKey: 'shared' });
  const before = await observe(h, ['tom']);
  await expectError(
    h.tally.spend({ customerId: 'tom', amountMicros: credits(2n), idempotencyKey: 'shared' }),
    'IDEMPOTENCY_CONFLICT',
    'another amount',
  );
  await expectError(
    h.tally.recordUsage({ customerId: 'tom', amountMicros: credits(1n), idempotencyKey: 'shared' }),
    'IDEMPOTENCY_CONFLICT',
    'another operation',
  );
  await expectError(grant(h, 'tom', 'purchased', credits(1n), null, 'shared'), 'IDEMPOTENCY_CONFLICT', 'a grant');
  await expectUnchanged(h, ['tom'], before, 'after conflicts');
});

test('a failed operation does not consume its key: the retry succeeds after a top-up', async (h) => {
  await customers(h, { uma: 'starter' });
  const input = { customerId: 'uma', amountMicros: credits(5n), idempotencyKey: 'buy' };
  await expectError(h.tally.spend(input), 'INSUFFICIENT_CREDITS', 'no credit yet');
  await grant(h, 'uma', 'purchased', credits(10n));
  const retried = await h.tally.spend(input);
  expectEqual({ replayed: retried.replayed, balance: retried.balance.balanceMicros }, { replayed: false, balance: credits(5n) }, 'retry');
  expectEqual(
    (await allEntries(h.store)).map((e) => e.kind),
    ['spend', 'grant'],
    'entries',
  );
});

test('recordUsageBatch: each item has its own result; a bad item fails alone; a repeated key replays', async (h) => {
  await customers(h, { vic: 'starter' });
  await grant(h, 'vic', 'allowance', credits(10n));
  const results = await h.tally.recordUsageBatch([
    { customerId: 'vic', amountMicros: credits(1n), idempotencyKey: 'u1' },
    { customerId: 'ghost', amountMicros: credits(1n), idempotencyKey: 'u2' },
    { customerId: 'vic', amountMicros: credits(1n), idempotencyKey: 'u1' },
    { customerId: 'vic', amountMicros: credits(2n), idempotencyKey: 'u3' },
  ]);
  expectEqual(
    results.map((r) => r.ok),
    [true, false, true, true],
    'outcomes',
  );
  const [first, missing, again, last] = results;
  expectEqual(missing?.ok === false ? missing.code : null, 'NOT_FOUND', 'the unknown customer fails alone');
  if (!first?.ok || !again?.ok || !last?.ok) throw new ConformanceFailure('expected results');
  expectEqual(again.result, { ...first.result, replayed: true }, 'the repeated key replays');
  expectEqual(
    { charged: first.result.chargedMicros, replayed: first.result.replayed },
    { charged: credits(1n), replayed: false },
    'first item',
  );
  expectEqual(last.result.balance.balanceMicros, credits(7n), 'balance after the batch');
  expectEqual((await allEntries(h.store, { kinds: ['usage'] })).length, 2, 'two usage entries');
  await customers(h, { ghost: 'starter' });
  const retried = await h.tally.recordUsage({ customerId: 'ghost', amountMicros: credits(1n), idempotencyKey: 'u2' });
  expectEqual(
    { replayed: retried.replayed, debt: retried.debtMicros },
    { replayed: false, debt: credits(1n) },
    'the failed item stored nothing',
  );
});

test('usage at its own time: each batch item is stored, expires buckets and counts caps at its `at`; a time after now is refused', async (h) => {
  const at = (iso: string) => new Date(iso);
  h.clock.set('2026-10-31T22:00:00Z');
  await customers(h, { ann: 'starter', bob: 'starter', cy: 'starter', dee: 'starter' });
  // ann's allowance runs out at 01:00, between her two calls; cy's coupon at midnight, before hers.
  await grant(h, 'ann', 'allowance', credits(10n), at('2026-11-01T01:00:00Z'));
  for (const customerId of ['bob', 'cy', 'dee']) await grant(h, customerId, 'purchased', credits(100n));
  await grant(h, 'cy', 'coupon', credits(5n), at('2026-11-01T00:00:00Z'));
  await h.tally.spendCaps.set({ customerId: 'dee', dailyMicros: credits(50n) });
  h.clock.set('2026-11-01T03:00:00Z');
  const now = h.clock.now();

  // Nothing falls due between a customer's calls and nobody is capped: the SQL stores' set-based path.
  const plain = [
    { customerId: 'bob', amountMicros: credits(1n), idempotencyKey: key('at'), at: at('2026-10-31T22:30:00Z') },
    { customerId: 'cy', amountMicros: credits(1n), idempotencyKey: key('at'), at: at('2026-11-01T02:59:59.999Z') },
    { customerId: 'bob', amountMicros: credits(2n), idempotencyKey: key('at'), at: at('2026-11-01T00:15:00Z') },
    { customerId: 'cy', amountMicros: credits(2n), idempotencyKey: key('at') },
  ];
  // An expiry between two items of one customer, and a capped customer across midnight and a month end.
  const mixed = [
    { customerId: 'ann', amountMicros: credits(1n), idempotencyKey: key('at'), at: at('2026-11-01T00:30:00Z') },
    { customerId: 'dee', amountMicros: credits(4n), idempotencyKey: key('at'), at: at('2026-10-31T23:00:00Z') },
    { customerId: 'ann', amountMicros: credits(3n), idempotencyKey: key('at'), at: at('2026-11-01T02:00:00Z') },
    { customerId: 'dee', amountMicros: credits(5n), idempotencyKey: key('at'), at: at('2026-11-01T02:00:00Z') },
  ];
  for (const batch of [plain, mixed]) {
    const results = await h.tally.recordUsageBatch(batch);
    const stored = await allEntries(h.store, { kinds: ['usage'] });
    for (const [index, result] of results.entries()) {
      if (!result.ok) throw new ConformanceFailure(`item ${index}: ${result.code} ${result.message}`);
      const expectedAt = batch[index]?.at ?? now;
      expectEqual(
        result.result.entries.map((e) => e.createdAt),
        result.result.entries.map(() => expectedAt),
        `item ${index}: the entries it returned are at its time`,
      );
      expectEqual(
        stored.filter((e) => e.operationId === result.result.operationId).map((e) => e.createdAt),
        result.result.entries.map(() => expectedAt),
        `item ${index}: the entries stored are at its time`,
      );
    }
  }
  expectEqual(
    (await allEntries(h.store, { customerId: 'ann' })).reverse().map((e) => ({ ...line(e), bucketId: null, at: e.createdAt })),
    [
      { ...expected('grant', 'system:grants', 'customer:ann', credits(10n), null, credits(10n)), at: at('2026-10-31T22:00:00Z') },
      { ...expected('usage', 'customer:ann', 'system:revenue', credits(1n), null, -credits(1n)), at: at('2026-11-01T00:30:00Z') },
      { ...expected('expire', 'customer:ann', 'system:expired', credits(9n), null, -credits(9n)), at: at('2026-11-01T02:00:00Z') },
      { ...expected('usage', 'debt:ann', 'system:revenue', credits(3n)), at: at('2026-11-01T02:00:00Z') },
    ],
    'the allowance served the call before it ran out, and expired at the next call',
  );
  expectEqual(
    (await allEntries(h.store, { customerId: 'cy' })).reverse().map((e) => ({ kind: e.kind, amount: e.amountMicros, at: e.createdAt })),
    [
      { kind: 'grant', amount: credits(100n), at: at('2026-10-31T22:00:00Z') },
      { kind: 'grant', amount: credits(5n), at: at('2026-10-31T22:00:00Z') },
      { kind: 'expire', amount: credits(5n), at: at('2026-11-01T02:59:59.999Z') },
      { kind: 'usage', amount: credits(1n), at: at('2026-11-01T02:59:59.999Z') },
      { kind: 'usage', amount: credits(2n), at: now },
    ],
    'the coupon that ran out before her first call expired at that call',
  );
  const [dee] = await capUsage(h, 'dee');
  expectEqual(
    { today: dee?.today, month: dee?.month },
    { today: credits(5n), month: credits(5n) },
    "October's call counts in neither window of today",
  );

  // A retry replays the first result whatever its time: the time is not part of the request.
  const first = plain[0] as (typeof plain)[number];
  const retried = await h.tally.recordUsage({ ...first, at: at('2026-11-01T01:00:00Z') });
  expectEqual({ replayed: retried.replayed, at: retried.entries[0]?.createdAt }, { replayed: true, at: first.at }, 'a retry');

  const before = await observe(h, ['ann', 'bob', 'cy', 'dee']);
  const later = new Date(now.getTime() + 1);
  await expectError(
    () => h.tally.recordUsage({ customerId: 'bob', amountMicros: 1n, idempotencyKey: key('future'), at: later }),
    'VALIDATION',
    'usage after now',
  );
  await expectError(
    () =>
      h.tally.recordUsageBatch([
        { customerId: 'bob', amountMicros: 1n, idempotencyKey: key('future'), at: now },
        { customerId: 'cy', amountMicros: 1n, idempotencyKey: key('future'), at: later },
      ]),
    'VALIDATION',
    'a batch with an item after now',
  );
  await expectError(
    () => h.tally.recordUsage({ customerId: 'bob', amountMicros: 1n, idempotencyKey: key('bad'), at: new Date(Number.NaN) }),
    'VALIDATION',
    'an invalid date',
  );
  await expectError(
    () => h.tally.spend({ customerId: 'bob', amountMicros: 1n, idempotencyKey: key('spend'), at: at('2026-11-01T01:00:00Z') }),
    'VALIDATION',
    'a spend happens now',
  );
  await expectUnchanged(h, ['ann', 'bob', 'cy', 'dee'], before, 'refused times');
  await expectCleanAudit(h, 'usage at its own time');
});

test('listEntries pages newest first with a cursor, without overlaps', async (h) => {
  await customers(h, { wes: 'starter', xena: 'starter' });
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const result = await grant(h, 'wes', 'purchased', credits(1n));
    ids.push((result.entries[0] as Entry).id);
    if (i % 3 === 0) await grant(h, 'xena', 'purchased', credits(1n));
    h.clock.advance(SECOND);
  }
  const pages: string[][] = [];
  const cursors: Array<string | null> = [];
  let cursor: string | undefined;
  do {
    const page = await h.tally.transactions({ customerId: 'wes', limit: 3, ...(cursor ? { cursor } : {}) });
    pages.push(page.items.map((e) => e.id));
    cursors.push(page.nextCursor);
    expectTrue(
      page.items.every((e) => e.customerId === 'wes'),
      'only the customer asked for',
    );
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 10);
  expectEqual(
    pages.map((p) => p.length),
    [3, 3, 1],
    'page sizes',
  );
  expectEqual(pages.flat(), [...ids].reverse(), 'newest first, every entry once');
  expectEqual(cursors, [pages[0]?.[2], pages[1]?.[2], null], 'the cursor is the last id of the page');
  const whole = await h.tally.transactions({ customerId: 'wes', limit: 7 });
  expectEqual({ count: whole.items.length, next: whole.nextCursor }, { count: 7, next: null }, 'an exact page has no next cursor');

  const everyone = await allEntries(h.store);
  expectEqual(everyone.length, 10, 'all customers');
  expectTrue(isIncreasing(everyone.map((e) => e.id).reverse()), 'ids strictly decrease');
});

test('listEntries filters by kind and by time (from inclusive, to exclusive)', async (h) => {
  await customers(h, { yara: 'professional', zed: 'starter' });
  const t0 = h.clock.now();
  await grant(h, 'yara', 'allowance', credits(10n));
  await grant(h, 'zed', 'allowance', credits(10n));
  const t1 = new Date(h.clock.advance(HOUR));
  await h.tally.spend({ customerId: 'yara', amountMicros: credits(1n), idempotencyKey: key('spend') });
  const t2 = new Date(h.clock.advance(HOUR));
  await h.tally.recordUsage({ customerId: 'yara', amountMicros: credits(1n), idempotencyKey: key('usage') });
  h.clock.advance(HOUR);
  const kinds = async (query: Parameters<Tally['transactions']>[0]) =>
    (await h.tally.transactions({ customerId: 'yara', ...query })).items.map((e) => e.kind);
  expectEqual(await kinds({ kinds: ['spend'] }), ['spend'], 'kind spend');
  expectEqual(await kinds({ kinds: ['grant', 'usage'] }), ['usage', 'grant'], 'two kinds');
  expectEqual(await kinds({ kinds: ['expire'] }), [], 'no expiries');
  expectEqual(await kinds({ from: t1 }), ['usage', 'spend'], 'from is inclusive');
  expectEqual(await kinds({ to: t1 }), ['grant'], 'to is exclusive');
  expectEqual(await kinds({ from: t1, to: t2 }), ['spend'], 'a window');
  expectEqual(await kinds({ from: t0, to: t0 }), [], 'an empty window');
  const first = await h.tally.transactions({ customerId: 'yara', kinds: ['grant', 'usage'], limit: 1 });
  expectEqual(
    { kinds: first.items.map((e) => e.kind), more: first.nextCursor !== null },
    { kinds: ['usage'], more: true },
    'filtered first page',
  );
  const second = await h.tally.transactions({
    customerId: 'yara',
    kinds: ['grant', 'usage'],
    limit: 1,
    cursor: first.nextCursor as string,
  });
  expectEqual({ kinds: second.items.map((e) => e.kind), next: second.nextCursor }, { kinds: ['grant'], next: null }, 'filtered last page');
  expectEqual(
    (await h.tally.transactions({ kinds: ['grant'] })).items.map((e) => e.customerId),
    ['zed', 'yara'],
    'without a customer filter',
  );
});

test('operations write outbox rows: credits.granted, credits.charged, credits.expired', async (h) => {
  await customers(h, { zoe: 'starter' });
  const granted = await grant(h, 'zoe', 'allowance', credits(10n), h.later(DAY));
  const spent = await h.tally.spend({ customerId: 'zoe', amountMicros: credits(3n), idempotencyKey: key('spend') });
  await expectError(
    h.tally.spend({ customerId: 'zoe', amountMicros: credits(100n), idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
  );
  h.clock.advance(DAY);
  expectEqual(await h.tally.expireBuckets(), 1, 'the allowance expires');
  const expiredOperation = (await allEntries(h.store, { kinds: ['expire'] }))[0]?.operationId;
  const all = await h.store.listOutbox({ limit: 100 });
  expectEqual(all.filter((r) => r.topic === 'customer.created').length, 1, 'creating the customer wrote customer.created');
  const rows = all.filter((r) => r.topic.startsWith('credits.'));
  expectEqual(rows.length, 3, 'one row per effect; the refused spend wrote none');
  const check = (topic: string, operationId: string | undefined, amountMicros: bigint, balanceMicros: bigint) => {
    const row = rows.find((r) => r.topic === topic);
    if (!row) throw new ConformanceFailure(`no ${topic} row`);
    expectEqual(
      { dedupeKey: row.dedupeKey, attempts: row.attempts, dead: row.dead, deliveredAt: row.deliveredAt, lastError: row.lastError },
      { dedupeKey: `${topic}:${operationId}`, attempts: 0, dead: false, deliveredAt: null, lastError: null },
      `${topic} row`,
    );
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    expectEqual(
      {
        customerId: payload.customerId,
        operationId: payload.operationId,
        amountMicros: payload.amountMicros,
        balanceMicros: payload.balanceMicros,
      },
      { customerId: 'zoe', operationId, amountMicros: amountMicros.toString(), balanceMicros: balanceMicros.toString() },
      `${topic} payload`,
    );
  };
  check('credits.granted', granted.operationId, credits(10n), credits(10n));
  check('credits.charged', spent.operationId, credits(3n), credits(7n));
  check('credits.expired', expiredOperation, credits(7n), 0n);
});

test('claimOutbox leases rows: leased rows are skipped until the lease passes', async (h) => {
  const at = h.clock.now();
  const a1 = await h.store.enqueueOutbox({ topic: 'test.a', payload: '{"n":1}', dedupeKey: 'a1', at });
  const a2 = await h.store.enqueueOutbox({ topic: 'test.a', payload: '{"n":2}', dedupeKey: 'a2', at });
  const b1 = await h.store.enqueueOutbox({ topic: 'test.b', payload: '{"n":3}', dedupeKey: 'b1', at });
  const claim = async (topics: string[], limit = 10) =>
    (await h.store.claimOutbox({ limit, leaseUntil: h.later(30 * SECOND), at: h.clock.now(), topics })).map((m) => m.id).sort();
  expectEqual(await claim(['test.a']), [a1?.id, a2?.id].sort(), 'both test.a rows');
  expectEqual(await claim(['test.a']), [], 'leased rows are skipped');
  expectEqual(await claim(['test.b']), [b1?.id], 'another topic is unaffected');
  h.clock.advance(29 * SECOND);
  expectEqual(await claim(['test.a', 'test.b']), [], 'still leased');
  h.clock.advance(SECOND);
  const one = await claim(['test.a'], 1);
  expectEqual(one.length, 1, 'limit');
  const rest = await claim(['test.a', 'test.b']);
  expectEqual([...one, ...rest].sort(), [a1?.id, a2?.id, b1?.id].sort(), 'every row comes back once its lease passed');
});

test('completeOutbox delivers; failOutbox retries later or dead-letters', async (h) => {
  const at = h.clock.now();
  const ok = await h.store.enqueueOutbox({ topic: 'test.c', payload: '{}', dedupeKey: 'ok', at });
  const retry = await h.store.enqueueOutbox({ topic: 'test.c', payload: '{}', dedupeKey: 'retry', at });
  const dead = await h.store.enqueueOutbox({ topic: 'test.c', payload: '{}', dedupeKey: 'dead', at });
  if (!ok || !retry || !dead) throw new ConformanceFailure('enqueue returned null for new keys');
  const claim = async () =>
    (await h.store.claimOutbox({ limit: 10, leaseUntil: h.later(30 * SECOND), at: h.clock.now(), topics: ['test.c'] }))
      .map((m) => m.id)
      .sort();
  expectEqual(await claim(), [ok.id, retry.id, dead.id].sort(), 'claimed');
  await h.store.completeOutbox(ok.id, h.clock.now());
  await h.store.failOutbox(retry.id, 'timeout', h.later(MINUTE), h.clock.now());
  await h.store.failOutbox(dead.id, 'bad payload', null, h.clock.now());

  const delivered = await h.store.listOutbox({ delivered: true, limit: 10 });
  expectEqual(
    delivered.map((m) => ({ id: m.id, deliveredAt: m.deliveredAt, dead: m.dead })),
    [{ id: ok.id, deliveredAt: h.clock.now(), dead: false }],
    'delivered',
  );
  const letters = await h.store.listOutbox({ dead: true, limit: 10 });
  expectEqual(
    letters.map((m) => ({ id: m.id, lastError: m.lastError, deliveredAt: m.deliveredAt })),
    [{ id: dead.id, lastError: 'bad payload', deliveredAt: null }],
    'dead letters',
  );
  const waiting = await h.store.listOutbox({ dead: false, delivered: false, limit: 10 });
  expectEqual(
    waiting.map((m) => ({ id: m.id, lastError: m.lastError })),
    [{ id: retry.id, lastError: 'timeout' }],
    'waiting',
  );

  h.clock.advance(MINUTE - 1);
  expectEqual(await claim(), [], 'the retry is not due yet');
  h.clock.advance(1);
  expectEqual(await claim(), [retry.id], 'the retry is due');
  h.clock.advance(HOUR);
  expectEqual(await claim(), [retry.id], 'an unfinished claim comes back; delivered and dead rows never do');
});

test('enqueueOutbox dedupes on dedupeKey', async (h) => {
  const at = h.clock.now();
  const first = await h.store.enqueueOutbox({ topic: 'test.d', payload: '{"a":1}', dedupeKey: 'order-1', at });
  expectEqual(
    first,
    {
      id: first?.id,
      topic: 'test.d',
      payload: '{"a":1}',
      dedupeKey: 'order-1',
      attempts: 0,
      createdAt: at,
      availableAt: at,
      deliveredAt: null,
      lastError: null,
      dead: false,
    },
    'new row',
  );
  expectEqual(await h.store.enqueueOutbox({ topic: 'test.d', payload: '{"a":2}', dedupeKey: 'order-1', at }), null, 'a repeated key');
  expectEqual(
    (await h.store.listOutbox({ limit: 10 })).map((m) => m.payload),
    ['{"a":1}'],
    'one row, the first payload',
  );
});

test('audit is clean after a mixed scenario, with exact system balances', async (h) => {
  await customers(h, { abby: 'professional', ent: 'enterprise', cy: 'starter' });
  await grant(h, 'abby', 'allowance', credits(10n), h.later(30 * DAY));
  await grant(h, 'abby', 'purchased', credits(5n));
  await grant(h, 'abby', 'coupon', credits(3n), h.later(DAY));
  await h.tally.spend({ customerId: 'abby', amountMicros: credits(1n), idempotencyKey: key('spend') });
  await h.tally.adjust({ customerId: 'abby', amountMicros: credits(1n), reason: 'goodwill', idempotencyKey: key('adjust') });
  await h.tally.adjust({ customerId: 'abby', amountMicros: -credits(1n), reason: 'correction', idempotencyKey: key('adjust') });
  const hold = await h.tally.reserve({ customerId: 'abby', amountMicros: credits(3n), ttlMs: 2 * DAY, idempotencyKey: key('reserve') });
  h.clock.advance(DAY);
  expectEqual(await h.tally.expireBuckets(), 1, 'the coupon expires with 1 credit left');
  await h.tally.capture({ holdId: hold.hold.id, amountMicros: credits(2n), idempotencyKey: key('capture') });
  await h.tally.spend({ customerId: 'ent', amountMicros: credits(7n), idempotencyKey: key('spend') });
  await h.tally.recordUsage({ customerId: 'cy', amountMicros: credits(4n), idempotencyKey: key('usage') });

  const report = await expectCleanAudit(h, 'mixed scenario');
  expectEqual(
    { customers: report.customers, entries: report.entries, buckets: report.buckets, holds: report.holds },
    { customers: 3, entries: 10, buckets: 4, holds: 1 },
    'counts',
  );
  expectEqual(
    nonZero(report.systemBalances),
    {
      'system:coupons': -credits(3n),
      'system:expired': credits(1n),
      'system:grants': -credits(10n),
      'system:purchases': -credits(5n),
      'system:revenue': credits(14n),
      'system:unlimited': -credits(7n),
    },
    'system balances',
  );
  expectEqual(report.systemBalances['system:adjustments'] ?? 0n, 0n, 'adjustments net to zero');
  const abby = await h.tally.balance('abby');
  expectEqual(
    { balance: abby.balanceMicros, buckets: abby.buckets.map((b) => [b.kind, b.remainingMicros]) },
    {
      balance: credits(14n),
      buckets: [
        ['allowance', credits(8n)],
        ['purchased', credits(5n)],
        ['adjustment', credits(1n)],
      ],
    },
    'abby',
  );
  expectEqual((await h.tally.balance('cy')).debtMicros, credits(4n), 'cy owes');
});

test('transaction(fn) commits together, or rolls everything back when fn throws', async (h) => {
  await customers(h, { abe: 'starter' });
  await grant(h, 'abe', 'allowance', credits(10n));
  const before = await observe(h, ['abe']);
  const failure = new Error('abort');
  let inside: bigint | null = null;
  const outcome = await h.store
    .transaction(async (tx) => {
      const inner = createTally({ catalog: sampleCatalog, store: tx, clock: h.clock });
      await inner.grant({ customerId: 'abe', kind: 'purchased', amountMicros: credits(5n), idempotencyKey: 'tx-grant' });
      await inner.spend({ customerId: 'abe', amountMicros: credits(2n), idempotencyKey: 'tx-spend' });
      await inner.customers.upsert({ customerId: 'ben', tier: 'starter' });
      await tx.enqueueOutbox({ topic: 'test.tx', payload: '{}', dedupeKey: 'tx-row', at: h.clock.now() });
      inside = (await inner.balance('abe')).balanceMicros;
      throw failure;
    })
    .then(
      () => 'committed',
      (error: unknown) => error,
    );
  expectTrue(outcome === failure, 'the transaction rejects with the error fn threw');
  expectEqual(inside, credits(13n), 'inside the transaction its own writes are visible');
  await expectUnchanged(h, ['abe'], before, 'after the rollback');
  expectEqual(await h.store.getCustomer('ben'), null, 'the customer created inside was rolled back');
  const regrant = await h.tally.grant({ customerId: 'abe', kind: 'purchased', amountMicros: credits(5n), idempotencyKey: 'tx-grant' });
  expectEqual(regrant.replayed, false, 'the rolled-back key is free');
  expectTrue(
    (await h.store.enqueueOutbox({ topic: 'test.tx', payload: '{}', dedupeKey: 'tx-row', at: h.clock.now() })) !== null,
    'the rolled-back dedupe key is free',
  );

  const committed = await h.store.transaction(async (tx) => {
    const inner = createTally({ catalog: sampleCatalog, store: tx, clock: h.clock });
    await inner.spend({ customerId: 'abe', amountMicros: credits(2n), idempotencyKey: 'tx-spend-2' });
    await inner.spend({ customerId: 'abe', amountMicros: credits(3n), idempotencyKey: 'tx-spend-3' });
    return 'done';
  });
  expectEqual(committed, 'done', 'the transaction returns what fn returned');
  expectEqual((await h.tally.balance('abe')).balanceMicros, credits(10n), 'both spends committed');
  await expectCleanAudit(h, 'transactions');
});

test('unknown customers are NOT_FOUND', async (h) => {
  await customers(h, { real: 'starter' });
  const before = await observe(h, ['real']);
  await expectError(grant(h, 'nobody', 'purchased', credits(1n)), 'NOT_FOUND', 'grant');
  await expectError(h.tally.spend({ customerId: 'nobody', amountMicros: 1n, idempotencyKey: key('spend') }), 'NOT_FOUND', 'spend');
  await expectError(h.tally.recordUsage({ customerId: 'nobody', amountMicros: 1n, idempotencyKey: key('usage') }), 'NOT_FOUND', 'usage');
  await expectError(
    h.tally.adjust({ customerId: 'nobody', amountMicros: 1n, reason: 'x', idempotencyKey: key('adjust') }),
    'NOT_FOUND',
    'adjust',
  );
  await expectError(
    h.tally.reserve({ customerId: 'nobody', amountMicros: 1n, ttlMs: MINUTE, idempotencyKey: key('reserve') }),
    'NOT_FOUND',
    'reserve',
  );
  await expectError(h.tally.balance('nobody'), 'NOT_FOUND', 'balance');
  await expectError(h.tally.customers.get('nobody'), 'NOT_FOUND', 'customers.get');
  expectEqual(await h.store.getCustomer('nobody'), null, 'getCustomer');
  await expectUnchanged(h, ['real'], before, 'after NOT_FOUND');
});

test('upsert moves a customer between tiers: overdraft and unlimited follow the tier', async (h) => {
  const created = await h.tally.customers.upsert({ customerId: 'cleo', tier: 'starter' });
  const createdAt = h.clock.now();
  expectEqual(created, { id: 'cleo', tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, createdAt }, 'created');
  await expectError(
    h.tally.spend({ customerId: 'cleo', amountMicros: credits(1n), idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
    'starter has no overdraft',
  );
  h.clock.advance(HOUR);
  const moved = await h.tally.customers.upsert({ customerId: 'cleo', tier: 'professional' });
  expectEqual(
    moved,
    { id: 'cleo', tier: 'professional', overdraftLimitMicros: credits(5n), unlimited: false, createdAt },
    'moved; createdAt kept',
  );
  await h.tally.spend({ customerId: 'cleo', amountMicros: credits(3n), idempotencyKey: key('spend') });
  await h.tally.customers.upsert({ customerId: 'cleo', tier: 'starter' });
  const balance = await h.tally.balance('cleo');
  expectEqual(
    { tier: balance.tier, overdraft: balance.overdraftLimitMicros, balance: balance.balanceMicros, available: balance.availableMicros },
    { tier: 'starter', overdraft: 0n, balance: -credits(3n), available: 0n },
    'back on starter while overdrawn',
  );
  await expectError(
    h.tally.spend({ customerId: 'cleo', amountMicros: 1n, idempotencyKey: key('spend') }),
    'INSUFFICIENT_CREDITS',
    'no overdraft left',
  );
  await h.tally.customers.upsert({ customerId: 'cleo', tier: 'enterprise' });
  const unlimited = await h.tally.spend({ customerId: 'cleo', amountMicros: credits(10n), idempotencyKey: key('spend') });
  expectEqual(
    { from: unlimited.entries.map((e) => e.fromAccount), balance: unlimited.balance.balanceMicros },
    { from: ['system:unlimited'], balance: -credits(3n) },
    'enterprise',
  );
  expectEqual(
    await h.store.getCustomer('cleo'),
    { id: 'cleo', tier: 'enterprise', overdraftLimitMicros: 0n, unlimited: true, createdAt },
    'stored',
  );
  await expectCleanAudit(h, 'tier moves');
});

test('bad input is refused with VALIDATION before the store, and changes nothing', async (h) => {
  await customers(h, { dora: 'professional' });
  await grant(h, 'dora', 'allowance', credits(10n), h.later(DAY));
  const reserved = await h.tally.reserve({ customerId: 'dora', amountMicros: credits(1n), ttlMs: MINUTE, idempotencyKey: key('reserve') });
  const tooBig = 10n ** 15n + 1n;
  const attempts: Array<[string, () => unknown]> = [
    ['negative spend', () => h.tally.spend({ customerId: 'dora', amountMicros: -1n, idempotencyKey: key('bad') })],
    ['zero spend', () => h.tally.spend({ customerId: 'dora', amountMicros: 0n, idempotencyKey: key('bad') })],
    ['spend above 10^15', () => h.tally.spend({ customerId: 'dora', amountMicros: tooBig, idempotencyKey: key('bad') })],
    ['fractional usage', () => h.tally.recordUsage({ customerId: 'dora', amountMicros: 1.5, idempotencyKey: key('bad') })],
    ['decimal string', () => h.tally.recordUsage({ customerId: 'dora', amountMicros: '1.5', idempotencyKey: key('bad') })],
    ['negative grant', () => grant(h, 'dora', 'purchased', -credits(1n))],
    ['grant above 10^15', () => grant(h, 'dora', 'purchased', tooBig)],
    ['unknown bucket kind', () => grant(h, 'dora', 'bonus' as BucketKind, credits(1n))],
    [
      'invalid date',
      () =>
        h.tally.grant({
          customerId: 'dora',
          kind: 'coupon',
          amountMicros: credits(1n),
          expiresAt: 'not-a-date',
          idempotencyKey: key('bad'),
        }),
    ],
    ['expired at creation', () => grant(h, 'dora', 'coupon', credits(1n), h.clock.now())],
    ['expired before creation', () => grant(h, 'dora', 'coupon', credits(1n), h.later(-DAY))],
    ['blank reason', () => h.tally.adjust({ customerId: 'dora', amountMicros: credits(1n), reason: '   ', idempotencyKey: key('bad') })],
    ['zero adjustment', () => h.tally.adjust({ customerId: 'dora', amountMicros: 0n, reason: 'nothing', idempotencyKey: key('bad') })],
    [
      'adjustment above 10^15',
      () => h.tally.adjust({ customerId: 'dora', amountMicros: -tooBig, reason: 'too much', idempotencyKey: key('bad') }),
    ],
    ['zero reservation', () => h.tally.reserve({ customerId: 'dora', amountMicros: 0n, ttlMs: MINUTE, idempotencyKey: key('bad') })],
    ['zero ttl', () => h.tally.reserve({ customerId: 'dora', amountMicros: 1n, ttlMs: 0, idempotencyKey: key('bad') })],
    ['negative capture', () => h.tally.capture({ holdId: reserved.hold.id, amountMicros: -1n, idempotencyKey: key('bad') })],
    ['blank key', () => h.tally.spend({ customerId: 'dora', amountMicros: 1n, idempotencyKey: '' })],
    ['key with spaces', () => h.tally.spend({ customerId: 'dora', amountMicros: 1n, idempotencyKey: 'a b' })],
    ['blank customer id', () => h.tally.spend({ customerId: ' ', amountMicros: 1n, idempotencyKey: key('bad') })],
  ];
  for (const [label, attempt] of attempts) {
    const before = await observe(h, ['dora']);
    await expectError(attempt, 'VALIDATION', label);
    await expectUnchanged(h, ['dora'], before, label);
  }
  const max = await grant(h, 'dora', 'purchased', 10n ** 15n);
  expectEqual(max.balance.balanceMicros, credits(10n) + 10n ** 15n, 'exactly 10^15 is accepted');
  expectEqual((await h.store.getHold(reserved.hold.id))?.status, 'active', 'the hold is untouched');
});

// ---- billing cases (docs/billing.md): subscriptions, provider events, coupons, credit packs,
// auto-recharge and dead-letter retry. They call the store directly: what is checked here is storage.

const billingCases: ConformanceCase[] = [];
const billingTest = (name: string, run: (h: Harness) => Promise<void>) => billingCases.push({ name, run: (ctx) => run(harness(ctx)) });

function subscription(h: Harness, customerId: string, fields: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  const now = h.clock.now();
  return {
    customerId,
    tier: 'starter',
    status: 'active',
    interval: 'month',
    currentPeriodStart: now,
    currentPeriodEnd: h.later(30 * DAY),
    trialEnd: null,
    scheduledChange: null,
    pastDueSince: null,
    provider: 'sandbox',
    providerCustomerId: `cus_${customerId}`,
    providerSubscriptionId: `sub_${customerId}`,
    providerStateAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

function creditCoupon(code: string, amountMicros: bigint, expiresInDays: number | null, fields: Partial<CouponDefinition> = {}) {
  const definition: CouponDefinition = {
    code,
    benefit: { type: 'credits', amountMicros, expiresInDays },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  };
  return { ...definition, ...fields };
}

function percentCoupon(code: string, percentOffBps: number, durationPeriods: number, fields: Partial<CouponDefinition> = {}) {
  const definition: CouponDefinition = {
    code,
    benefit: { type: 'percent_off', percentOffBps, durationPeriods },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  };
  return { ...definition, ...fields };
}

function redeem(h: Harness, code: string, customerId: string, tier: string, idempotencyKey = key('redeem')) {
  return h.store.redeemCoupon({
    code,
    customerId,
    tier,
    at: h.clock.now(),
    idempotencyKey,
    request: canonicalJson({ operation: 'redeemCoupon', code, customerId, tier }),
  });
}

function purchase(
  h: Harness,
  customerId: string,
  paymentId: string,
  priceCents: bigint,
  creditsMicros: bigint,
  idempotencyKey = key('buy'),
) {
  const payload = { paymentId, customerId, packId: 'pack_10', priceCents, creditsMicros };
  return h.store.purchaseCredits({
    ...payload,
    at: h.clock.now(),
    idempotencyKey,
    request: canonicalJson({ operation: 'purchaseCredits', ...payload }),
  });
}

function refund(h: Harness, paymentId: string, refundedCents: bigint, idempotencyKey = key('refund')) {
  return h.store.refundPurchase({
    paymentId,
    refundedCents,
    at: h.clock.now(),
    idempotencyKey,
    request: canonicalJson({ operation: 'refundPurchase', paymentId, refundedCents }),
  });
}

interface BillingScope {
  customers?: string[];
  coupons?: string[];
  payments?: string[];
}

/** `observe` plus the billing records of the given customers, coupons and payments. */
async function observeBilling(h: Harness, scope: BillingScope): Promise<string> {
  const records: unknown[] = [await observe(h, scope.customers ?? [])];
  for (const customerId of scope.customers ?? []) {
    records.push(
      await h.store.getSubscription(customerId),
      await h.store.subscriptionHistory(customerId),
      await h.store.getAutoRecharge(customerId),
      await h.store.listRedemptions({ customerId, limit: 1000 }),
    );
  }
  for (const code of scope.coupons ?? []) records.push(await h.store.getCoupon(code));
  for (const paymentId of scope.payments ?? []) records.push(await h.store.getPurchase(paymentId));
  records.push(await h.store.listCoupons({ limit: 1000 }));
  return canonicalJson(records);
}

/** Runs each attempt, which must fail with `code`, and checks that none changed anything in `scope`. */
async function expectRefused(h: Harness, scope: BillingScope, code: TallyErrorCode, attempts: Array<[string, () => Promise<unknown>]>) {
  for (const [label, attempt] of attempts) {
    const before = await observeBilling(h, scope);
    await expectError(attempt, code, label);
    expectEqual(JSON.parse(await observeBilling(h, scope)), JSON.parse(before), `${label}: state changed`);
  }
}

async function outboxRows(h: Harness, topic: string) {
  return (await h.store.listOutbox({ limit: 100_000 }))
    .filter((m) => m.topic === topic)
    .map((m) => ({ dedupeKey: m.dedupeKey, createdAt: m.createdAt, payload: JSON.parse(m.payload) as unknown }));
}

billingTest('saveSubscription inserts version 1, then replaces only the expected version; history and outbox follow', async (h) => {
  await customers(h, { sia: 'starter' });
  expectEqual(await h.store.getSubscription('sia'), null, 'none yet');
  const v1 = subscription(h, 'sia', { status: 'trialing', trialEnd: h.later(7 * DAY) });
  expectEqual(await h.store.saveSubscription(v1, null), v1, 'inserted as given');
  expectEqual(await h.store.getSubscription('sia'), v1, 'read back');

  h.clock.advance(HOUR);
  const v2 = subscription(h, 'sia', {
    ...v1,
    tier: 'professional',
    status: 'active',
    trialEnd: null,
    scheduledChange: { tier: 'starter', at: v1.currentPeriodEnd },
    providerStateAt: h.clock.now(),
    version: 2,
    updatedAt: h.clock.now(),
  });
  expectEqual(await h.store.saveSubscription(v2, 1), v2, 'version 2 replaces version 1');

  const scope = { customers: ['sia'] };
  await expectRefused(h, scope, 'CONFLICT', [
    ['a second insert', () => h.store.saveSubscription(v1, null)],
    ['a save from the stale version 1', () => h.store.saveSubscription({ ...v2, tier: 'enterprise' }, 1)],
    ['a save from a version not reached', () => h.store.saveSubscription({ ...v2, version: 6 }, 5)],
  ]);
  await expectRefused(h, scope, 'VALIDATION', [
    ['an insert that is not version 1', () => h.store.saveSubscription({ ...v1, version: 2 }, null)],
    ['a version that skips one', () => h.store.saveSubscription({ ...v2, version: 4 }, 2)],
    ['an unknown status', () => h.store.saveSubscription({ ...v2, status: 'paused' as SubscriptionStatus, version: 3 }, 2)],
    ['an unknown interval', () => h.store.saveSubscription({ ...v2, interval: 'week' as BillingInterval, version: 3 }, 2)],
    [
      'a period that ends before it starts',
      () => h.store.saveSubscription({ ...v2, currentPeriodEnd: v2.currentPeriodStart, version: 3 }, 2),
    ],
    ['an invalid date', () => h.store.saveSubscription({ ...v2, updatedAt: new Date('junk'), version: 3 }, 2)],
    ['a blank tier', () => h.store.saveSubscription({ ...v2, tier: '', version: 3 }, 2)],
  ]);
  await expectRefused(h, scope, 'NOT_FOUND', [['an unknown customer', () => h.store.saveSubscription(subscription(h, 'ghost'), null)]]);

  h.clock.advance(HOUR);
  const v3 = {
    ...v2,
    status: 'canceled' as const,
    scheduledChange: { tier: null, at: v2.currentPeriodEnd },
    version: 3,
    updatedAt: h.clock.now(),
  };
  // Two writers race from version 2: exactly one wins, the other gets CONFLICT.
  const race = await Promise.allSettled([h.store.saveSubscription(v3, 2), h.store.saveSubscription({ ...v3, tier: 'enterprise' }, 2)]);
  expectEqual(race.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'one of two concurrent saves wins');
  const lost = race.find((r) => r.status === 'rejected');
  expectTrue(lost?.status === 'rejected' && TallyError.is(lost.reason, 'CONFLICT'), 'the other is CONFLICT');
  const winner = (race.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<SubscriptionRecord>).value;
  expectEqual(await h.store.getSubscription('sia'), winner, 'the winner is stored');
  expectEqual(await h.store.subscriptionHistory('sia'), [v1, v2, winner], 'every saved version, oldest first');
  expectEqual(await h.store.subscriptionHistory('nobody'), [], 'no history');

  // Announcing a state is the billing service's job (it knows which states are provider events).
  expectEqual(await outboxRows(h, 'subscription.updated'), [], 'saving writes no outbox row');
});

billingTest('listDueSubscriptions: period ended, or past due since the grace start; never canceled ones', async (h) => {
  await customers(h, { ada: 'starter', bea: 'starter', cal: 'starter', dan: 'starter', eve: 'starter', fay: 'starter' });
  const save = (customerId: string, fields: Partial<SubscriptionRecord>) =>
    h.store.saveSubscription(subscription(h, customerId, fields), null);
  const bea = await save('bea', { currentPeriodEnd: h.later(DAY) });
  const ada = await save('ada', { currentPeriodEnd: h.later(DAY) });
  const cal = await save('cal', { currentPeriodEnd: h.later(2 * DAY) });
  await save('dan', { currentPeriodEnd: h.later(DAY), status: 'canceled' });
  const eve = await save('eve', { currentPeriodEnd: h.later(20 * DAY), status: 'past_due', pastDueSince: h.later(-3 * DAY) });
  await save('fay', { currentPeriodEnd: h.later(30 * DAY), status: 'trialing', trialEnd: h.later(30 * DAY) });
  const due = async (periodEndBefore: Date, pastDueBefore: Date, limit = 10) =>
    (await h.store.listDueSubscriptions({ periodEndBefore, pastDueBefore, limit })).map((s) => s.customerId);

  expectEqual(await due(h.clock.now(), h.later(-7 * DAY)), [], 'nothing due yet');
  expectEqual(await due(h.later(DAY), h.later(-7 * DAY)), ['ada', 'bea'], 'the period end is inclusive; ties by customer id');
  expectEqual(await due(h.later(DAY), h.later(-3 * DAY)), ['ada', 'bea', 'eve'], 'past due since the grace start, inclusive');
  expectEqual(await due(h.later(2 * DAY), h.clock.now()), ['ada', 'bea', 'cal', 'eve'], 'by period end');
  expectEqual(await due(h.later(2 * DAY), h.clock.now(), 2), ['ada', 'bea'], 'limit');
  expectEqual(
    await h.store.listDueSubscriptions({ periodEndBefore: h.later(DAY), pastDueBefore: h.later(-7 * DAY), limit: 1 }),
    [ada],
    'whole records',
  );
  expectTrue(bea.version === 1 && cal.version === 1 && eve.status === 'past_due', 'saved');
  await expectError(h.store.listDueSubscriptions({ periodEndBefore: h.clock.now(), pastDueBefore: h.clock.now(), limit: 0 }), 'VALIDATION');
});

billingTest('recordProviderEvent is true the first time an event id is seen, false after', async (h) => {
  const event = { provider: 'stripe', eventId: 'evt_1', type: 'invoice.paid', at: h.clock.now() };
  expectEqual(await h.store.recordProviderEvent(event), true, 'first');
  expectEqual(await h.store.recordProviderEvent({ ...event, at: h.later(HOUR) }), false, 'again');
  expectEqual(await h.store.recordProviderEvent({ ...event, provider: 'lago' }), true, 'the same id from another provider');
  const concurrent = await Promise.all(Array.from({ length: 8 }, () => h.store.recordProviderEvent({ ...event, eventId: 'evt_2' })));
  expectEqual(concurrent.filter(Boolean).length, 1, 'concurrent deliveries: one is first');
  await expectError(h.store.recordProviderEvent({ ...event, eventId: '' }), 'VALIDATION', 'blank event id');
});

billingTest('coupons: create, read case-insensitively, list newest first, switch off; a duplicate code is CONFLICT', async (h) => {
  const welcome = await h.store.createCoupon(creditCoupon('welcome10', credits(10n), 30, { maxRedemptions: 100 }), h.clock.now());
  expectEqual(
    welcome,
    {
      code: 'WELCOME10',
      benefit: { type: 'credits', amountMicros: credits(10n), expiresInDays: 30 },
      maxRedemptions: 100,
      expiresAt: null,
      tiers: [],
      redemptions: 0,
      active: true,
      createdAt: h.clock.now(),
    },
    'stored upper-case',
  );
  expectEqual(await h.store.getCoupon('Welcome10'), welcome, 'read in any case');
  expectEqual(await h.store.getCoupon('NOPE'), null, 'unknown');
  expectEqual(await h.store.getCoupon('not a code!'), null, 'not even a code');
  h.clock.advance(MINUTE);
  const half = await h.store.createCoupon(
    percentCoupon('HALF-OFF_2', 5000, 3, { tiers: ['starter', 'professional'], expiresAt: h.later(DAY) }),
    h.clock.now(),
  );
  expectEqual(
    { benefit: half.benefit, tiers: half.tiers, expiresAt: half.expiresAt },
    {
      benefit: { type: 'percent_off', percentOffBps: 5000, durationPeriods: 3 },
      tiers: ['starter', 'professional'],
      expiresAt: h.later(DAY),
    },
    'percent-off coupon',
  );
  expectEqual(await h.store.listCoupons({ limit: 10 }), [half, welcome], 'newest first');
  expectEqual(await h.store.listCoupons({ limit: 1 }), [half], 'limit');
  const off = await h.store.setCouponActive('half-off_2', false);
  expectEqual(off, { ...half, active: false }, 'switched off');
  expectEqual(await h.store.setCouponActive('HALF-OFF_2', true), half, 'and on again');

  const scope = { coupons: ['WELCOME10', 'HALF-OFF_2'] };
  const at = h.clock.now();
  await expectRefused(h, scope, 'CONFLICT', [
    ['the same code', () => h.store.createCoupon(creditCoupon('WELCOME10', credits(1n), null), at)],
    ['the same code in lower case', () => h.store.createCoupon(percentCoupon('welcome10', 100, 1), at)],
  ]);
  await expectRefused(h, scope, 'COUPON_NOT_FOUND', [['switching an unknown coupon', () => h.store.setCouponActive('GHOST', false)]]);
  const tooBig = 10n ** 15n + 1n;
  await expectRefused(h, scope, 'VALIDATION', [
    ['a blank code', () => h.store.createCoupon(creditCoupon('', credits(1n), null), at)],
    ['a code with a space', () => h.store.createCoupon(creditCoupon('TWO WORDS', credits(1n), null), at)],
    ['a code with punctuation', () => h.store.createCoupon(creditCoupon('FREE!', credits(1n), null), at)],
    ['a code starting with a dash', () => h.store.createCoupon(creditCoupon('-X', credits(1n), null), at)],
    ['a code of 65 characters', () => h.store.createCoupon(creditCoupon('A'.repeat(65), credits(1n), null), at)],
    ['zero credits', () => h.store.createCoupon(creditCoupon('ZERO', 0n, null), at)],
    ['negative credits', () => h.store.createCoupon(creditCoupon('NEG', -credits(1n), null), at)],
    ['credits above 10^15', () => h.store.createCoupon(creditCoupon('HUGE', tooBig, null), at)],
    ['zero days', () => h.store.createCoupon(creditCoupon('DAYS', credits(1n), 0), at)],
    ['fractional days', () => h.store.createCoupon(creditCoupon('DAYS', credits(1n), 1.5), at)],
    ['0 % off', () => h.store.createCoupon(percentCoupon('PCT', 0, 1), at)],
    ['more than 100 % off', () => h.store.createCoupon(percentCoupon('PCT', 10_001, 1), at)],
    ['fractional basis points', () => h.store.createCoupon(percentCoupon('PCT', 12.5, 1), at)],
    ['zero periods', () => h.store.createCoupon(percentCoupon('PCT', 100, 0), at)],
    ['an unknown benefit', () => h.store.createCoupon({ ...percentCoupon('PCT', 100, 1), benefit: { type: 'free' } as never }, at)],
    ['zero redemptions', () => h.store.createCoupon(creditCoupon('MAX', credits(1n), null, { maxRedemptions: 0 }), at)],
    ['expired at creation', () => h.store.createCoupon(creditCoupon('LATE', credits(1n), null, { expiresAt: at }), at)],
    ['a blank tier', () => h.store.createCoupon(creditCoupon('TIER', credits(1n), null, { tiers: [''] }), at)],
    ['a bad code to switch', () => h.store.setCouponActive('no way', true)],
  ]);
  expectEqual(await h.store.getCoupon('PCT'), null, 'nothing was created');
  expectEqual(await h.store.createCoupon(percentCoupon('PCT', 10_000, 1), at).then((c) => c.code), 'PCT', '100 % is allowed');
});

billingTest('redeemCoupon: credit coupons grant a coupon bucket, percent-off grants nothing; every refusal has its code', async (h) => {
  await customers(h, { ana: 'starter', ben: 'professional' });
  const at = h.clock.now();
  await h.store.createCoupon(creditCoupon('CREDIT5', credits(5n), 30), at);
  await h.store.createCoupon(percentCoupon('PRO20', 2000, 2, { tiers: ['professional'] }), at);
  await h.store.createCoupon(creditCoupon('ONCE', credits(1n), null, { maxRedemptions: 1 }), at);
  await h.store.createCoupon(creditCoupon('SOON', credits(1n), null, { expiresAt: h.later(HOUR) }), at);

  const redeemed = await redeem(h, 'credit5', 'ana', 'starter', 'redeem-ana');
  const grant = redeemed.grant;
  if (!grant) throw new ConformanceFailure('a credit coupon grants credits');
  expectEqual(
    redeemed.redemption,
    {
      id: redeemed.redemption.id,
      code: 'CREDIT5',
      customerId: 'ana',
      benefit: { type: 'credits', amountMicros: credits(5n), expiresInDays: 30 },
      bucketId: grant.bucket.id,
      createdAt: at,
    },
    'redemption',
  );
  expectEqual(
    {
      kind: grant.bucket.kind,
      granted: grant.bucket.grantedMicros,
      remaining: grant.bucket.remainingMicros,
      expiresAt: grant.bucket.expiresAt,
    },
    { kind: 'coupon', granted: credits(5n), remaining: credits(5n), expiresAt: h.later(30 * DAY) },
    'a coupon bucket that expires 30 days after the redemption',
  );
  expectEqual(
    grant.entries.map(line),
    [expected('grant', 'system:coupons', 'customer:ana', credits(5n), grant.bucket.id, credits(5n))],
    'the grant entry',
  );
  expectEqual((await h.tally.balance('ana')).balanceMicros, credits(5n), 'the balance includes the coupon');
  expectEqual(redeemed.replayed, false, 'fresh');
  expectEqual(
    await redeem(h, 'credit5', 'ana', 'starter', 'redeem-ana'),
    { ...redeemed, replayed: true, grant: { ...grant, replayed: true } },
    'the same key and request replay the first result',
  );

  const percent = await redeem(h, 'PRO20', 'ben', 'professional');
  expectEqual(
    { grant: percent.grant, bucketId: percent.redemption.bucketId, benefit: percent.redemption.benefit },
    { grant: null, bucketId: null, benefit: { type: 'percent_off', percentOffBps: 2000, durationPeriods: 2 } },
    'percent-off grants nothing',
  );
  expectEqual(await allEntries(h.store, { customerId: 'ben' }), [], 'and writes no entries');
  await redeem(h, 'ONCE', 'ana', 'starter');

  const scope = { customers: ['ana', 'ben'], coupons: ['CREDIT5', 'PRO20', 'ONCE', 'SOON'] };
  await expectRefused(h, scope, 'IDEMPOTENCY_CONFLICT', [
    ['the same key for another coupon', () => redeem(h, 'SOON', 'ana', 'starter', 'redeem-ana')],
  ]);
  await expectRefused(h, scope, 'COUPON_ALREADY_REDEEMED', [
    ['once per customer', () => redeem(h, 'CREDIT5', 'ana', 'starter')],
    ['once per customer, whatever the case', () => redeem(h, 'Credit5', 'ana', 'starter')],
  ]);
  await expectRefused(h, scope, 'COUPON_NOT_APPLICABLE', [
    ['a professional-only coupon on starter', () => redeem(h, 'PRO20', 'ana', 'starter')],
  ]);
  await expectRefused(h, scope, 'COUPON_EXHAUSTED', [['no redemptions left', () => redeem(h, 'ONCE', 'ben', 'professional')]]);
  await expectRefused(h, scope, 'COUPON_NOT_FOUND', [['an unknown code', () => redeem(h, 'NOPE', 'ben', 'professional')]]);
  await expectRefused(h, scope, 'NOT_FOUND', [['an unknown customer', () => redeem(h, 'CREDIT5', 'ghost', 'starter')]]);
  await expectRefused(h, scope, 'VALIDATION', [['a malformed code', () => redeem(h, 'no such code!', 'ben', 'professional')]]);
  await h.store.setCouponActive('CREDIT5', false);
  await expectRefused(h, scope, 'COUPON_NOT_FOUND', [['a switched-off coupon', () => redeem(h, 'CREDIT5', 'ben', 'professional')]]);
  await h.store.setCouponActive('CREDIT5', true);
  h.clock.advance(HOUR);
  await expectRefused(h, scope, 'COUPON_EXPIRED', [['at its expiry time', () => redeem(h, 'SOON', 'ben', 'professional')]]);
  const later = await redeem(h, 'CREDIT5', 'ben', 'professional');
  expectEqual(later.grant?.bucket.expiresAt, h.later(30 * DAY), 'switched on again, redeemable');

  expectEqual(
    [
      (await h.store.getCoupon('CREDIT5'))?.redemptions,
      (await h.store.getCoupon('ONCE'))?.redemptions,
      (await h.store.getCoupon('SOON'))?.redemptions,
    ],
    [2, 1, 0],
    'redemptions counted once each',
  );
  expectEqual(
    (await h.store.listRedemptions({ customerId: 'ana', limit: 10 })).map((r) => r.code),
    ['ONCE', 'CREDIT5'],
    "ana's redemptions, newest first",
  );
  expectEqual(
    (await h.store.listRedemptions({ code: 'credit5', limit: 10 })).map((r) => r.customerId),
    ['ben', 'ana'],
    'redemptions of a coupon',
  );
  expectEqual(
    (await h.store.listRedemptions({ limit: 1 })).map((r) => r.id),
    [later.redemption.id],
    'limit',
  );
  expectEqual(await h.store.listRedemptions({ code: 'not a code', limit: 10 }), [], 'no such code');

  const rows = await outboxRows(h, 'coupon.redeemed');
  expectEqual(
    rows.find((r) => r.dedupeKey === 'coupon.redeemed:CREDIT5:ana'),
    {
      dedupeKey: 'coupon.redeemed:CREDIT5:ana',
      createdAt: at,
      payload: {
        customerId: 'ana',
        code: 'CREDIT5',
        benefit: { type: 'credits', amountMicros: credits(5n).toString(), expiresInDays: 30 },
        redemptionId: redeemed.redemption.id,
        at,
      },
    },
    'coupon.redeemed row',
  );
  expectEqual(rows.length, 4, 'one coupon.redeemed row per redemption');
  expectTrue(
    (await outboxRows(h, 'credits.granted')).some((r) => r.dedupeKey === `credits.granted:${grant.operationId}`),
    'the grant announced itself like any grant',
  );

  h.clock.set(h.later(30 * DAY - HOUR));
  const ana = await h.tally.balance('ana');
  expectEqual(
    { balance: ana.balanceMicros, buckets: ana.buckets.map((b) => b.kind) },
    { balance: credits(1n), buckets: ['coupon'] },
    "the 30-day coupon bucket expired; ONCE's (no expiry) is left",
  );
  await expectCleanAudit(h, 'coupons');
});

billingTest('50 concurrent redemptions of a coupon with 10 uses left: exactly 10 succeed', async (h) => {
  const racers = Array.from({ length: 50 }, (_, i) => `racer${String(i).padStart(2, '0')}`);
  await customers(h, Object.fromEntries([...racers, 'early1', 'early2'].map((id) => [id, 'starter'])));
  await h.store.createCoupon(creditCoupon('RUSH', credits(1n), null, { maxRedemptions: 12 }), h.clock.now());
  await redeem(h, 'RUSH', 'early1', 'starter');
  await redeem(h, 'RUSH', 'early2', 'starter');
  const outcomes = await Promise.allSettled(racers.map((customerId) => redeem(h, 'RUSH', customerId, 'starter')));
  const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [racers[i] as string] : []));
  expectEqual(winners.length, 10, 'winners');
  expectTrue(
    outcomes.every((o) => o.status === 'fulfilled' || TallyError.is(o.reason, 'COUPON_EXHAUSTED')),
    'every loser is COUPON_EXHAUSTED',
  );
  expectEqual((await h.store.getCoupon('RUSH'))?.redemptions, 12, 'the count stops at the maximum');
  expectEqual(
    (await h.store.listRedemptions({ code: 'RUSH', limit: 100 })).map((r) => r.customerId).sort(),
    [...winners, 'early1', 'early2'].sort(),
    'one redemption per winner',
  );
  for (const customerId of racers) {
    const balance = (await h.tally.balance(customerId)).balanceMicros;
    expectEqual(balance, winners.includes(customerId) ? credits(1n) : 0n, `${customerId}'s balance`);
  }
  const report = await expectCleanAudit(h, 'after the race');
  expectEqual(report.systemBalances['system:coupons'], -credits(12n), 'system:coupons');
});

billingTest('purchaseCredits grants a purchased bucket once per payment id, whatever the key', async (h) => {
  await customers(h, { pia: 'starter', quin: 'starter' });
  const at = h.clock.now();
  const bought = await purchase(h, 'pia', 'pi_1', 1000n, credits(10n), 'buy-pia');
  expectEqual(
    bought.purchase,
    {
      paymentId: 'pi_1',
      customerId: 'pia',
      packId: 'pack_10',
      priceCents: 1000n,
      creditsMicros: credits(10n),
      bucketId: bought.grant.bucket.id,
      refundedCents: 0n,
      clawedBackMicros: 0n,
      createdAt: at,
    },
    'purchase',
  );
  expectEqual(
    { kind: bought.grant.bucket.kind, expiresAt: bought.grant.bucket.expiresAt, replayed: bought.replayed },
    { kind: 'purchased', expiresAt: null, replayed: false },
    'a purchased bucket without expiry',
  );
  expectEqual(
    bought.grant.entries.map(line),
    [expected('grant', 'system:purchases', 'customer:pia', credits(10n), bought.grant.bucket.id, credits(10n))],
    'the grant entry',
  );
  const replay = { ...bought, replayed: true, grant: { ...bought.grant, replayed: true } };
  h.clock.advance(MINUTE);
  expectEqual(await purchase(h, 'pia', 'pi_1', 1000n, credits(10n), 'buy-pia'), replay, 'the same key replays');
  expectEqual(await purchase(h, 'pia', 'pi_1', 1000n, credits(10n), 'webhook-pi_1'), replay, 'another key for the payment replays too');
  expectEqual(await purchase(h, 'pia', 'pi_1', 1000n, credits(10n), 'webhook-pi_1'), replay, 'and that key keeps replaying');
  expectEqual(await h.store.getPurchase('pi_1'), bought.purchase, 'getPurchase');
  expectEqual(await h.store.getPurchase('pi_404'), null, 'unknown payment');
  expectEqual((await h.tally.balance('pia')).balanceMicros, credits(10n), 'credited once');

  const scope = { customers: ['pia', 'quin'], payments: ['pi_1', 'pi_2'] };
  await expectRefused(h, scope, 'CONFLICT', [
    ['the payment for another customer', () => purchase(h, 'quin', 'pi_1', 1000n, credits(10n))],
    ['the payment for other credits', () => purchase(h, 'pia', 'pi_1', 1000n, credits(11n))],
  ]);
  await expectRefused(h, scope, 'IDEMPOTENCY_CONFLICT', [
    ['the key for another payment', () => purchase(h, 'pia', 'pi_2', 1000n, credits(10n), 'buy-pia')],
  ]);
  await expectRefused(h, scope, 'NOT_FOUND', [['an unknown customer', () => purchase(h, 'ghost', 'pi_2', 1000n, credits(10n))]]);
  await expectRefused(h, scope, 'VALIDATION', [
    ['a free pack', () => purchase(h, 'quin', 'pi_2', 0n, credits(10n))],
    ['a pack of no credits', () => purchase(h, 'quin', 'pi_2', 1000n, 0n)],
    ['negative credits', () => purchase(h, 'quin', 'pi_2', 1000n, -1n)],
    ['credits above 10^15', () => purchase(h, 'quin', 'pi_2', 1000n, 10n ** 15n + 1n)],
    ['a blank payment id', () => purchase(h, 'quin', '', 1000n, credits(10n))],
  ]);
  const granted = await outboxRows(h, 'credits.granted');
  expectEqual(
    granted.map((r) => r.dedupeKey),
    [`credits.granted:${bought.grant.operationId}`],
    'one credits.granted row',
  );
  const report = await expectCleanAudit(h, 'purchases');
  expectEqual(report.systemBalances['system:purchases'], -credits(10n), 'system:purchases');
});

billingTest('refundPurchase claws back only the unspent part: proportional, cumulative, capped by the bucket', async (h) => {
  await customers(h, { rae: 'starter', sol: 'starter', tia: 'starter' });
  await grant(h, 'rae', 'allowance', credits(5n), h.later(30 * DAY));
  const pack = await purchase(h, 'rae', 'pi_rae', 1000n, credits(10n));
  await h.tally.spend({ customerId: 'rae', amountMicros: credits(9n), idempotencyKey: key('spend') });
  // The allowance drains first (it expires); the pack gave 4 of its 10 credits.

  const half = await refund(h, 'pi_rae', 500n, 'refund-rae-500');
  expectEqual(
    {
      clawed: half.clawedBackMicros,
      refunded: half.purchase.refundedCents,
      total: half.purchase.clawedBackMicros,
      replayed: half.replayed,
    },
    { clawed: credits(5n), refunded: 500n, total: credits(5n), replayed: false },
    'half the price refunded: half the credits, all still unspent',
  );
  const clawbacks = await allEntries(h.store, { customerId: 'rae', kinds: ['clawback'] });
  expectEqual(
    clawbacks.map(line),
    [expected('clawback', 'customer:rae', 'system:purchases', credits(5n), pack.grant.bucket.id, -credits(5n))],
    'a clawback entry against the pack bucket',
  );
  expectEqual(await refund(h, 'pi_rae', 500n, 'refund-rae-500'), { ...half, replayed: true }, 'the same key replays');
  const stale = await refund(h, 'pi_rae', 300n);
  expectEqual(
    { clawed: stale.clawedBackMicros, refunded: stale.purchase.refundedCents },
    { clawed: 0n, refunded: 500n },
    'an older, smaller cumulative figure changes nothing',
  );
  const full = await refund(h, 'pi_rae', 1000n);
  expectEqual(
    { clawed: full.clawedBackMicros, refunded: full.purchase.refundedCents, total: full.purchase.clawedBackMicros },
    { clawed: credits(1n), refunded: 1000n, total: credits(6n) },
    'the rest of the refund takes only what is left: 6 of 10 clawed back, the 4 spent stay spent',
  );
  const rae = await h.tally.balance('rae');
  expectEqual({ balance: rae.balanceMicros, buckets: rae.buckets }, { balance: 0n, buckets: [] }, 'nothing left');
  expectEqual(await h.store.getPurchase('pi_rae'), full.purchase, 'stored');

  // Proportional, rounded down, and the rounding made up by the next refund.
  await purchase(h, 'sol', 'pi_sol', 999n, credits(10n));
  expectEqual((await refund(h, 'pi_sol', 333n)).clawedBackMicros, 3_333_333n, '10 credits × 333/999, rounded down');
  expectEqual((await refund(h, 'pi_sol', 999n)).clawedBackMicros, 6_666_667n, 'the full refund takes the rest');
  expectEqual((await h.tally.balance('sol')).balanceMicros, 0n, 'sol has nothing left');

  // A pack spent to the last micro: the refund claws back nothing and writes no entry.
  await purchase(h, 'tia', 'pi_tia', 500n, credits(2n));
  await h.tally.spend({ customerId: 'tia', amountMicros: credits(2n), idempotencyKey: key('spend') });
  const spent = await refund(h, 'pi_tia', 500n);
  expectEqual(
    { clawed: spent.clawedBackMicros, refunded: spent.purchase.refundedCents },
    { clawed: 0n, refunded: 500n },
    'a fully spent pack',
  );
  expectEqual(await allEntries(h.store, { customerId: 'tia', kinds: ['clawback'] }), [], 'no clawback entry');

  const scope = { customers: ['rae', 'sol', 'tia'], payments: ['pi_rae', 'pi_sol', 'pi_tia'] };
  await expectRefused(h, scope, 'NOT_FOUND', [['an unknown payment', () => refund(h, 'pi_404', 100n)]]);
  await expectRefused(h, scope, 'VALIDATION', [
    ['more than the price', () => refund(h, 'pi_sol', 1000n)],
    ['a negative refund', () => refund(h, 'pi_sol', -1n)],
  ]);
  await expectRefused(h, scope, 'IDEMPOTENCY_CONFLICT', [
    ['the key for another amount', () => refund(h, 'pi_rae', 400n, 'refund-rae-500')],
  ]);

  const rows = await outboxRows(h, 'credits.clawed_back');
  expectEqual(
    rows.map((r) => r.dedupeKey),
    [
      'credits.clawed_back:pi_rae:500',
      'credits.clawed_back:pi_rae:1000',
      'credits.clawed_back:pi_sol:333',
      'credits.clawed_back:pi_sol:999',
    ],
    'one row per refund that took credits',
  );
  expectEqual(
    rows[0]?.payload,
    {
      customerId: 'rae',
      paymentId: 'pi_rae',
      amountMicros: credits(5n).toString(),
      balanceMicros: credits(1n).toString(),
      at: h.clock.now(),
    },
    'credits.clawed_back payload',
  );
  expectEqual((await h.tally.transactions({ kinds: ['clawback'] })).items.length, 4, 'the facade lists clawback entries');
  const report = await expectCleanAudit(h, 'refunds');
  expectEqual(report.systemBalances['system:purchases'], -credits(22n) + credits(6n) + credits(10n), 'system:purchases');
});

billingTest('auto-recharge: settings are saved per customer; claims are counted per month up to the cap', async (h) => {
  await customers(h, { ari: 'starter' });
  expectEqual(await h.store.getAutoRecharge('ari'), null, 'none yet');
  const settings = {
    customerId: 'ari',
    enabled: true,
    thresholdMicros: credits(2n),
    packId: 'pack_10',
    maxPerMonth: 3,
    updatedAt: h.clock.now(),
  };
  expectEqual(await h.store.saveAutoRecharge(settings), settings, 'saved');
  h.clock.advance(HOUR);
  const changed = { ...settings, enabled: false, maxPerMonth: 5, updatedAt: h.clock.now() };
  expectEqual(await h.store.saveAutoRecharge(changed), changed, 'replaced');
  expectEqual(await h.store.getAutoRecharge('ari'), changed, 'read back');

  const scope = { customers: ['ari'] };
  await expectRefused(h, scope, 'NOT_FOUND', [
    ['settings for an unknown customer', () => h.store.saveAutoRecharge({ ...settings, customerId: 'ghost' })],
    [
      'a claim for an unknown customer',
      () => h.store.claimAutoRecharge({ customerId: 'ghost', month: '2026-11', maxPerMonth: 3, at: h.clock.now() }),
    ],
  ]);
  await expectRefused(h, scope, 'VALIDATION', [
    ['a negative threshold', () => h.store.saveAutoRecharge({ ...settings, thresholdMicros: -1n })],
    ['a negative cap', () => h.store.saveAutoRecharge({ ...settings, maxPerMonth: -1 })],
    ['a blank pack', () => h.store.saveAutoRecharge({ ...settings, packId: '' })],
    ['month 13', () => h.store.claimAutoRecharge({ customerId: 'ari', month: '2026-13', maxPerMonth: 3, at: h.clock.now() })],
    ['a date for a month', () => h.store.claimAutoRecharge({ customerId: 'ari', month: '2026-11-01', maxPerMonth: 3, at: h.clock.now() })],
  ]);

  const claim = (month: string, maxPerMonth: number) =>
    h.store.claimAutoRecharge({ customerId: 'ari', month, maxPerMonth, at: h.clock.now() });
  expectEqual(
    [await claim('2026-11', 3), await claim('2026-11', 3), await claim('2026-11', 3), await claim('2026-11', 3)],
    [1, 2, 3, null],
    'capped at 3',
  );
  expectEqual(await claim('2026-11', 4), 4, 'a higher cap allows one more');
  expectEqual(await claim('2026-12', 3), 1, 'a new month starts again');
  expectEqual(await claim('2027-02', 0), null, 'a cap of 0 allows none');
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => claim('2027-01', 5)));
  expectEqual(
    concurrent.filter((n) => n !== null).sort((a, b) => (a as number) - (b as number)),
    [1, 2, 3, 4, 5],
    '20 concurrent claims, cap 5: five counted, once each',
  );
  expectEqual(concurrent.filter((n) => n === null).length, 15, 'the rest refused');
});

billingTest('retryOutbox puts a dead letter back in the queue in id order; anything else is NOT_FOUND', async (h) => {
  const at = h.clock.now();
  const first = await h.store.enqueueOutbox({ topic: 'test.r', payload: '{"n":1}', dedupeKey: 'r1', at });
  const second = await h.store.enqueueOutbox({ topic: 'test.r', payload: '{"n":2}', dedupeKey: 'r2', at });
  const delivered = await h.store.enqueueOutbox({ topic: 'test.r', payload: '{"n":3}', dedupeKey: 'r3', at });
  if (!first || !second || !delivered) throw new ConformanceFailure('enqueue returned null for new keys');
  const claim = async (limit = 10) =>
    (await h.store.claimOutbox({ limit, leaseUntil: h.later(30 * SECOND), at: h.clock.now(), topics: ['test.r'] })).map((m) => m.id);
  expectEqual((await claim()).length, 3, 'all claimed');
  await h.store.failOutbox(first.id, 'sink rejected it', null, h.clock.now());
  await h.store.completeOutbox(delivered.id, h.clock.now());
  await expectError(h.store.retryOutbox(second.id, h.clock.now()), 'NOT_FOUND', 'a live message');
  await expectError(h.store.retryOutbox(delivered.id, h.clock.now()), 'NOT_FOUND', 'a delivered message');
  await expectError(h.store.retryOutbox('999999', h.clock.now()), 'NOT_FOUND', 'an unknown id');
  await expectError(h.store.retryOutbox('abc', h.clock.now()), 'NOT_FOUND', 'not an id');

  h.clock.advance(MINUTE);
  await h.store.retryOutbox(first.id, h.later(MINUTE));
  const [row] = (await h.store.listOutbox({ limit: 10 })).filter((m) => m.id === first.id);
  expectEqual(
    row && { dead: row.dead, attempts: row.attempts, availableAt: row.availableAt, lastError: row.lastError, deliveredAt: row.deliveredAt },
    { dead: false, attempts: 0, availableAt: h.later(MINUTE), lastError: 'sink rejected it', deliveredAt: null },
    'back in the queue, attempts reset, the last error kept',
  );
  expectEqual(await h.store.listOutbox({ dead: true, limit: 10 }), [], 'no dead letters left');
  await expectError(h.store.retryOutbox(first.id, h.clock.now()), 'NOT_FOUND', 'no longer dead');
  expectEqual(await claim(), [second.id], 'not available before its time');
  h.clock.advance(MINUTE);
  expectEqual(await claim(1), [first.id], 'then claimed first: the queue is in id order');
});

billingTest('transaction(fn) rolls back billing writes with everything else', async (h) => {
  await customers(h, { uma: 'starter' });
  await h.store.createCoupon(creditCoupon('TXN', credits(3n), null, { maxRedemptions: 5 }), h.clock.now());
  const failure = new Error('abort');
  const scope = { customers: ['uma'], coupons: ['TXN', 'TXN2'], payments: ['pi_tx'] };
  const before = await observeBilling(h, scope);
  const outcome = await h.store
    .transaction(async (tx) => {
      const at = h.clock.now();
      await tx.saveSubscription(subscription(h, 'uma'), null);
      await tx.createCoupon(creditCoupon('TXN2', credits(1n), null), at);
      await tx.setCouponActive('TXN', false);
      await tx.setCouponActive('TXN', true);
      await tx.redeemCoupon({
        code: 'TXN',
        customerId: 'uma',
        tier: 'starter',
        at,
        idempotencyKey: 'tx-redeem',
        request: canonicalJson({ code: 'TXN', customerId: 'uma', tier: 'starter' }),
      });
      const bought = await tx.purchaseCredits({
        paymentId: 'pi_tx',
        customerId: 'uma',
        packId: 'pack_10',
        priceCents: 100n,
        creditsMicros: credits(1n),
        at,
        idempotencyKey: 'tx-buy',
        request: canonicalJson({ paymentId: 'pi_tx' }),
      });
      await tx.refundPurchase({
        paymentId: 'pi_tx',
        refundedCents: 100n,
        at,
        idempotencyKey: 'tx-refund',
        request: canonicalJson({ n: 1 }),
      });
      await tx.recordProviderEvent({ provider: 'stripe', eventId: 'evt_tx', type: 'invoice.paid', at });
      await tx.saveAutoRecharge({
        customerId: 'uma',
        enabled: true,
        thresholdMicros: 1n,
        packId: 'pack_10',
        maxPerMonth: 2,
        updatedAt: at,
      });
      await tx.claimAutoRecharge({ customerId: 'uma', month: '2026-11', maxPerMonth: 2, at });
      expectEqual(bought.purchase.paymentId, 'pi_tx', 'inside the transaction');
      throw failure;
    })
    .then(
      () => 'committed',
      (error: unknown) => error,
    );
  expectTrue(outcome === failure, 'the transaction rejects with the error fn threw');
  expectEqual(JSON.parse(await observeBilling(h, scope)), JSON.parse(before), 'everything rolled back');
  expectEqual(
    await h.store.recordProviderEvent({ provider: 'stripe', eventId: 'evt_tx', type: 'invoice.paid', at: h.clock.now() }),
    true,
    'the event is new again',
  );
  expectEqual(
    await h.store.claimAutoRecharge({ customerId: 'uma', month: '2026-11', maxPerMonth: 2, at: h.clock.now() }),
    1,
    'the claim was undone',
  );
  const redeemed = await redeem(h, 'TXN', 'uma', 'starter', 'tx-redeem-2');
  expectEqual(redeemed.grant?.balance.balanceMicros, credits(3n), 'the coupon is redeemable again');
  expectEqual((await h.store.getCoupon('TXN'))?.redemptions, 1, 'counted once');
  await expectCleanAudit(h, 'after the rollback');
});

/** Every case, for runners other than `runStoreConformance` (the simulation, a bun or deno harness). */
// ---- spend caps (docs/ledger.md, "Spend caps")

const capCases: ConformanceCase[] = [];
const capTest = (name: string, run: (h: Harness) => Promise<void>) => capCases.push({ name, run: (ctx) => run(harness(ctx)) });

function spendFor(h: Harness, customerId: string, amountMicros: bigint, endUserId?: string, idempotencyKey = key('cap-spend')) {
  return h.tally.spend({ customerId, amountMicros, idempotencyKey, ...(endUserId ? { endUserId } : {}) });
}

/** Caps as `listSpendCaps` reports them, without the update time. */
async function capUsage(h: Harness, customerId: string) {
  return (await h.tally.spendCaps.list(customerId)).map((cap) => ({
    scope: cap.scope,
    daily: cap.dailyMicros,
    monthly: cap.monthlyMicros,
    today: cap.usedTodayMicros,
    month: cap.usedThisMonthMicros,
    held: cap.heldMicros,
  }));
}

capTest('a daily customer cap refuses the spend that would pass it, changes nothing, and resets at 00:00 UTC', async (h) => {
  await customers(h, { alice: 'starter' });
  await grant(h, 'alice', 'purchased', credits(100n));
  const set = await h.tally.spendCaps.set({ customerId: 'alice', dailyMicros: credits(10n) });
  expectEqual(
    { scope: set.scope, daily: set.dailyMicros, monthly: set.monthlyMicros, today: set.usedTodayMicros, updatedAt: set.updatedAt },
    { scope: { kind: 'customer' }, daily: credits(10n), monthly: null, today: 0n, updatedAt: h.clock.now() },
    'the cap as set',
  );
  await spendFor(h, 'alice', credits(6n));
  const before = await observe(h, ['alice']);
  const error = await expectError(spendFor(h, 'alice', credits(5n)), 'SPEND_CAP_EXCEEDED', 'past the daily cap');
  await expectUnchanged(h, ['alice'], before, 'a refused spend');
  expectTrue(/daily/.test(error.message), 'the message names the period');
  await spendFor(h, 'alice', credits(4n));
  expectEqual(
    await capUsage(h, 'alice'),
    [{ scope: { kind: 'customer' }, daily: credits(10n), monthly: null, today: credits(10n), month: credits(10n), held: 0n }],
    'used today',
  );
  await expectError(spendFor(h, 'alice', 1n), 'SPEND_CAP_EXCEEDED', 'one micro past the cap');
  h.clock.set('2026-11-02T00:00:00Z');
  await spendFor(h, 'alice', credits(10n));
  expectEqual((await capUsage(h, 'alice'))[0]?.today, credits(10n), 'a new day starts from zero');
  expectEqual((await capUsage(h, 'alice'))[0]?.month, credits(20n), 'the month keeps counting');
  await expectCleanAudit(h, 'daily cap');
});

capTest('holds count against a cap until they settle; a capture counts what it took', async (h) => {
  await customers(h, { alice: 'starter' });
  await grant(h, 'alice', 'purchased', credits(100n));
  await h.tally.spendCaps.set({ customerId: 'alice', dailyMicros: credits(10n), monthlyMicros: credits(12n) });
  const first = await h.tally.reserve({ customerId: 'alice', amountMicros: credits(8n), ttlMs: HOUR, idempotencyKey: key('r') });
  await expectError(
    h.tally.reserve({ customerId: 'alice', amountMicros: credits(3n), ttlMs: HOUR, idempotencyKey: key('r') }),
    'SPEND_CAP_EXCEEDED',
    'a second hold past the cap',
  );
  await h.tally.release({ holdId: first.hold.id, idempotencyKey: key('rel') });
  const second = await h.tally.reserve({ customerId: 'alice', amountMicros: credits(5n), ttlMs: HOUR, idempotencyKey: key('r') });
  expectEqual((await capUsage(h, 'alice'))[0]?.held, credits(5n), 'the active hold is shown');
  await h.tally.capture({ holdId: second.hold.id, amountMicros: credits(2n), idempotencyKey: key('c') });
  expectEqual(
    await capUsage(h, 'alice'),
    [{ scope: { kind: 'customer' }, daily: credits(10n), monthly: credits(12n), today: credits(2n), month: credits(2n), held: 0n }],
    'a capture counts what it took, not what it held',
  );
  // An expired hold stops counting as soon as it is due, swept or not.
  await h.tally.reserve({ customerId: 'alice', amountMicros: credits(8n), ttlMs: MINUTE, idempotencyKey: key('r') });
  await expectError(spendFor(h, 'alice', credits(1n)), 'SPEND_CAP_EXCEEDED', 'the hold fills the cap');
  h.clock.advance(2 * MINUTE);
  await spendFor(h, 'alice', credits(8n));
  h.clock.set('2026-11-02T12:00:00Z');
  const monthly = await expectError(spendFor(h, 'alice', credits(3n)), 'SPEND_CAP_EXCEEDED', 'the monthly cap of 12');
  expectTrue(/monthly/.test(monthly.message), 'the message names the monthly cap');
  await spendFor(h, 'alice', credits(2n));
  await expectCleanAudit(h, 'caps with holds');
});

capTest('end users: their own caps, else the each-end-user default; the customer total counts them all', async (h) => {
  await customers(h, { acme: 'professional' });
  await grant(h, 'acme', 'purchased', credits(1000n));
  await h.tally.spendCaps.set({ customerId: 'acme', endUserId: '*', dailyMicros: credits(5n) });
  await spendFor(h, 'acme', credits(5n), 'user-a');
  await expectError(spendFor(h, 'acme', 1n, 'user-a'), 'SPEND_CAP_EXCEEDED', 'user-a under the default');
  await spendFor(h, 'acme', credits(5n), 'user-b');
  await spendFor(h, 'acme', credits(50n));
  await h.tally.spendCaps.set({ customerId: 'acme', endUserId: 'user-a', dailyMicros: credits(20n), monthlyMicros: credits(30n) });
  await spendFor(h, 'acme', credits(15n), 'user-a');
  await expectError(spendFor(h, 'acme', 1n, 'user-a'), 'SPEND_CAP_EXCEEDED', 'user-a at its own cap');
  await expectError(spendFor(h, 'acme', 1n, 'user-b'), 'SPEND_CAP_EXCEEDED', 'user-b still under the default');
  expectEqual(
    await capUsage(h, 'acme'),
    [
      { scope: { kind: 'customer' }, daily: null, monthly: null, today: credits(75n), month: credits(75n), held: 0n },
      { scope: { kind: 'each-end-user' }, daily: credits(5n), monthly: null, today: 0n, month: 0n, held: 0n },
      {
        scope: { kind: 'end-user', endUserId: 'user-a' },
        daily: credits(20n),
        monthly: credits(30n),
        today: credits(20n),
        month: credits(20n),
        held: 0n,
      },
      { scope: { kind: 'end-user', endUserId: 'user-b' }, daily: null, monthly: null, today: credits(5n), month: credits(5n), held: 0n },
    ],
    'every scope and its use',
  );
  // Removing user-a's own caps puts it back under the default, which it is already past.
  await h.tally.spendCaps.set({ customerId: 'acme', endUserId: 'user-a', dailyMicros: null, monthlyMicros: null });
  await expectError(spendFor(h, 'acme', 1n, 'user-a'), 'SPEND_CAP_EXCEEDED', 'user-a back under the default');
  h.clock.set('2026-11-02T08:00:00Z');
  await spendFor(h, 'acme', credits(5n), 'user-a');
  // A customer total cap binds every end user together.
  await h.tally.spendCaps.set({ customerId: 'acme', dailyMicros: credits(8n) });
  await spendFor(h, 'acme', credits(3n), 'user-c');
  await expectError(spendFor(h, 'acme', credits(1n), 'user-d'), 'SPEND_CAP_EXCEEDED', 'the customer total');
  await expectCleanAudit(h, 'end-user caps');
});

capTest('recorded usage is never refused by a cap but counts; replays count once; batches count', async (h) => {
  await customers(h, { alice: 'starter' });
  await grant(h, 'alice', 'purchased', credits(100n));
  await h.tally.spendCaps.set({ customerId: 'alice', endUserId: 'bot', monthlyMicros: credits(10n) });
  const usageKey = key('usage');
  await h.tally.recordUsage({ customerId: 'alice', endUserId: 'bot', amountMicros: credits(12n), idempotencyKey: usageKey });
  const replay = await h.tally.recordUsage({ customerId: 'alice', endUserId: 'bot', amountMicros: credits(12n), idempotencyKey: usageKey });
  expectEqual(replay.replayed, true, 'the retry replays');
  await expectError(
    h.tally.recordUsage({ customerId: 'alice', endUserId: 'other', amountMicros: credits(12n), idempotencyKey: usageKey }),
    'IDEMPOTENCY_CONFLICT',
    'the end user is part of the request',
  );
  const results = await h.tally.recordUsageBatch(
    Array.from({ length: 6 }, () => ({ customerId: 'alice', endUserId: 'bot', amountMicros: credits(1n), idempotencyKey: key('b') })),
  );
  expectTrue(
    results.every((result) => result.ok),
    'the batch is recorded',
  );
  const bot = (await capUsage(h, 'alice')).find((cap) => cap.scope.kind === 'end-user');
  expectEqual(bot?.month, credits(18n), 'usage, once, plus the batch');
  await expectError(spendFor(h, 'alice', 1n, 'bot'), 'SPEND_CAP_EXCEEDED', 'a spend past the cap');
  await expectError(
    h.tally.reserve({ customerId: 'alice', endUserId: 'bot', amountMicros: 1n, ttlMs: HOUR, idempotencyKey: key('r') }),
    'SPEND_CAP_EXCEEDED',
    'a reserve past the cap',
  );
  await spendFor(h, 'alice', credits(1n), 'someone-else');
  h.clock.set('2026-12-01T00:00:00Z');
  await spendFor(h, 'alice', credits(10n), 'bot');
  await expectCleanAudit(h, 'usage and caps');
});

capTest('an unlimited customer is still held to its caps', async (h) => {
  await customers(h, { big: 'enterprise' });
  await h.tally.spendCaps.set({ customerId: 'big', dailyMicros: credits(1n) });
  await spendFor(h, 'big', credits(1n));
  await expectError(spendFor(h, 'big', 1n), 'SPEND_CAP_EXCEEDED', 'unlimited but capped');
  await expectCleanAudit(h, 'unlimited');
});

capTest('concurrent spends never pass a cap together', async (h) => {
  await customers(h, { alice: 'starter' });
  await grant(h, 'alice', 'purchased', credits(1000n));
  await h.tally.spendCaps.set({ customerId: 'alice', endUserId: 'u', dailyMicros: credits(5n) });
  const outcomes = await Promise.allSettled(Array.from({ length: 24 }, () => spendFor(h, 'alice', credits(1n), 'u')));
  const refused = outcomes.filter((o) => o.status === 'rejected');
  expectEqual(outcomes.length - refused.length, 5, 'exactly five fit under the cap');
  expectTrue(
    refused.every((o) => o.status === 'rejected' && TallyError.is(o.reason, 'SPEND_CAP_EXCEEDED')),
    'the rest are refused by the cap',
  );
  expectEqual((await h.tally.balance('alice')).balanceMicros, credits(995n), 'five charged');
  await expectCleanAudit(h, 'concurrent caps');
});

capTest('bad cap input gets a typed error and changes nothing', async (h) => {
  await customers(h, { alice: 'starter' });
  await grant(h, 'alice', 'purchased', credits(10n));
  const before = await observe(h, ['alice']);
  await expectError(() => h.tally.spendCaps.set({ customerId: 'alice', dailyMicros: -1n }), 'VALIDATION', 'negative cap');
  await expectError(() => h.tally.spendCaps.set({ customerId: 'alice', dailyMicros: 0n }), 'VALIDATION', 'zero cap');
  await expectError(() => h.tally.spendCaps.set({ customerId: 'alice', monthlyMicros: 10n ** 30n }), 'VALIDATION', 'absurd cap');
  await expectError(
    () => h.tally.spendCaps.set({ customerId: 'alice', endUserId: 'has space', dailyMicros: 1n }),
    'VALIDATION',
    'bad end user',
  );
  await expectError(h.tally.spendCaps.set({ customerId: 'nobody', dailyMicros: 1n }), 'NOT_FOUND', 'unknown customer');
  await expectError(h.tally.spendCaps.list('nobody'), 'NOT_FOUND', 'unknown customer list');
  await expectError(() => spendFor(h, 'alice', 1n, '*'), 'VALIDATION', 'the reserved end user');
  const at = h.clock.now();
  await expectError(
    h.store.setSpendCap({ customerId: 'alice', scope: { kind: 'end-user', endUserId: '*' }, dailyMicros: 1n, monthlyMicros: null, at }),
    'VALIDATION',
    'the store refuses the reserved end user',
  );
  await expectError(
    h.store.setSpendCap({
      customerId: 'alice',
      scope: { kind: 'customer' },
      dailyMicros: 1.5 as unknown as bigint,
      monthlyMicros: null,
      at,
    }),
    'VALIDATION',
    'the store refuses a float',
  );
  await expectError(
    h.store.spend({
      customerId: 'alice',
      endUserId: '',
      amountMicros: 1n,
      description: null,
      usage: null,
      idempotencyKey: key('s'),
      request: '{}',
      at,
    }),
    'VALIDATION',
    'the store refuses an empty end user',
  );
  await expectUnchanged(h, ['alice'], before, 'bad input');
  expectEqual(await h.tally.spendCaps.list('alice'), [], 'no caps were written');
  await expectError(
    h.store.transaction(async (tx) => {
      await tx.setSpendCap({ customerId: 'alice', scope: { kind: 'customer' }, dailyMicros: 1n, monthlyMicros: null, at });
      throw new TallyError('CONFLICT', 'roll back');
    }),
    'CONFLICT',
    'a rolled-back transaction',
  );
  expectEqual(await h.tally.spendCaps.list('alice'), [], 'the rolled-back cap is gone');
  await spendFor(h, 'alice', credits(5n));
});

export const storeConformanceCases: ReadonlyArray<ConformanceCase> = [
  ...cases,
  ...billingCases,
  ...capCases,
  ...providerCases,
  ...notificationCases,
  ...emailCases,
  ...callLogCases,
];

/** Registers one test per case; each gets a fresh store from `factory`, cleaned up afterwards. */
export function runStoreConformance(factory: StoreFactory, runner: ConformanceRunner, timeoutMs = 30_000): void {
  const register = (list: ConformanceCase[]) => {
    for (const conformanceCase of list) {
      runner.it(
        conformanceCase.name,
        async () => {
          const { store, cleanup } = await factory();
          try {
            await conformanceCase.run({ store });
          } finally {
            await cleanup?.();
          }
        },
        timeoutMs,
      );
    }
  };
  runner.describe('store conformance', () => {
    register(cases);
    runner.describe('billing', () => register(billingCases));
    runner.describe('notifications and search', () => register(notificationCases));
    runner.describe('email log and scheduler', () => register(emailCases));
    runner.describe('call log', () => register(callLogCases));
    runner.describe('provider keys', () => register(providerCases));
    runner.describe('spend caps', () => register(capCases));
  });
}
