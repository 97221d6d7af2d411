import { sampleCatalog } from '../catalog/sample.js';
import type { Catalog } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { canonicalJson } from '../ledger/canonical.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { AuditReport, Hold, TallyStore } from '../ledger/types.js';
import { addInterval } from '../time/index.js';
import { createFakeClock } from './index.js';
import { createSeededRandom } from './random.js';

export interface SimulationOptions {
  store: TallyStore;
  seed: number;
  operations: number;
  customers?: number;
  catalog?: Catalog;
  /** Called every `progressEvery` operations (default 10,000). */
  onProgress?: (done: number) => void;
  progressEvery?: number;
  /** Receives each operation's outcome line (the digest's input): compare two runs to find where they part. */
  trace?: (line: string) => void;
}

export interface SimulationResult {
  seed: number;
  operations: number;
  /** How many operations of each kind ran, and how many faults were injected. */
  counts: Record<string, number>;
  /** A hash of every operation's outcome: two stores that agree give the same digest. */
  digest: string;
  audit: AuditReport;
}

/** Thrown when an invariant breaks; the message carries the seed and operation number to replay it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly operation: number,
    detail: string,
  ) {
    super(`ledger simulation failed at operation ${operation} (seed ${seed}; replay with TALLY_SIM_SEED=${seed}): ${detail}`);
    this.name = 'SimulationFailure';
  }
}

const CREDIT = 1_000_000n;
// Stores number their rows differently (Postgres sequences skip values on rollback), so the digest
// that compares two stores leaves ids out.
const ID_FIELDS = new Set(['id', 'operationId', 'bucketId', 'holdId']);
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !ID_FIELDS.has(key))
        .map(([key, item]) => [key, withoutIds(item)]),
    );
  }
  return value;
}

/** A compact, id-free fingerprint of a reply, for the digest. */
function outcome(result: unknown): string {
  if (result === null || typeof result !== 'object') return String(result);
  const r = result as Record<string, unknown> & {
    entries?: Array<{ kind: string; fromAccount: string; toAccount: string; amountMicros: bigint; bucketDeltaMicros: bigint }>;
    balance?: { balanceMicros: bigint; heldMicros: bigint; debtMicros: bigint };
    bucket?: { remainingMicros: bigint };
    hold?: { status: string; amountMicros: bigint; capturedMicros: bigint | null };
  };
  const parts = [String(r.replayed), String(r.chargedMicros), String(r.debtMicros)];
  if (r.balance) parts.push(`${r.balance.balanceMicros}/${r.balance.heldMicros}/${r.balance.debtMicros}`);
  for (const e of r.entries ?? []) parts.push(`${e.kind}:${e.fromAccount}>${e.toAccount}:${e.amountMicros}:${e.bucketDeltaMicros}`);
  if (r.bucket) parts.push(`bucket:${r.bucket.remainingMicros}`);
  if (r.hold) parts.push(`hold:${r.hold.status}:${r.hold.amountMicros}:${r.hold.capturedMicros}`);
  return parts.join('|');
}
const MINUTE = 60_000;
const EXPECTED_ERRORS = new Set(['INSUFFICIENT_CREDITS', 'SPEND_CAP_EXCEEDED', 'HOLD_NOT_ACTIVE', 'HOLD_EXPIRED']);

/**
 * A seeded, deterministic run of random ledger operations with faults injected: aborted
 * transactions, duplicate and conflicting deliveries, clock jumps over period ends, captures of
 * expired holds. Every reply is checked as it comes; the run ends with `audit()`, which must be clean.
 * Operations run one after another, so the same seed gives the same outcomes on any correct store.
 */
export async function runLedgerSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const { store, seed, operations } = options;
  const catalog = options.catalog ?? sampleCatalog;
  const random = createSeededRandom(seed);
  const clock = createFakeClock('2026-01-01T00:00:00Z');
  const tally = createTally({ catalog, store, clock });
  const counts: Record<string, number> = {};
  const count = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  let hash = 0x811c9dc5;
  const record = (text: string) => {
    options.trace?.(`${op} ${text}`);
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  };

  const tiers = catalog.tiers;
  const customerIds = Array.from({ length: options.customers ?? 50 }, (_, i) => `sim-${i}`);
  const tierOf = (index: number) => tiers[index % tiers.length] ?? tiers[0];
  // Unlimited customers never drain buckets, so credit granted to them would only pile up.
  const limited = new Set(customerIds.filter((_, i) => tierOf(i)?.allowance !== 'unlimited'));
  let periodStart = clock.now();
  let periodEnd = addInterval(periodStart, 'month');
  let period = 0;
  const holds: Hold[] = [];
  /** Earlier successful calls, to deliver again (same key and payload) and expect the same reply. */
  const delivered: Array<{ replay: () => Promise<unknown>; first: string }> = [];
  let keySeq = 0;
  const key = (kind: string) => `${kind}-${seed}-${++keySeq}`;
  let op = 0;
  const fail = (detail: string): never => {
    throw new SimulationFailure(seed, op, detail);
  };

  async function grantAllowances() {
    for (const customerId of customerIds) {
      const record = await tally.customers.get(customerId);
      const tier = tiers.find((t) => t.id === record.tier);
      if (!tier || tier.allowance === 'unlimited' || tier.allowance === 0n) continue;
      // One allowance per customer and period, whoever triggers it and however often.
      await tally.grant({
        customerId,
        kind: 'allowance',
        amountMicros: tier.allowance,
        expiresAt: periodEnd,
        idempotencyKey: `allowance:${customerId}:${period}`,
      });
    }
  }

  for (const [i, customerId] of customerIds.entries()) {
    await tally.customers.upsert({ customerId, tier: tierOf(i)?.id ?? 'starter' });
  }
  await grantAllowances();

  async function attempt(name: string, run: () => Promise<unknown>, replayable = true) {
    count(name);
    try {
      const result = await run();
      record(`${name}:ok:${outcome(result)}`);
      if (replayable && delivered.length < 5000) delivered.push({ replay: run, first: canonicalJson(result) });
      return result;
    } catch (error) {
      if (TallyError.is(error) && EXPECTED_ERRORS.has(error.code)) {
        record(`${name}:${error.code}`);
        return null;
      }
      return fail(`${name} threw ${error instanceof Error ? `${(error as TallyError).code ?? ''} ${error.message}` : String(error)}`);
    }
  }

  const amount = (maxCredits: number) => BigInt(random.int(1, maxCredits * 1000)) * 1000n;

  // Spend caps on some customers: a total, an each-end-user default, or one end user's own.
  const endUsers = [undefined, 'eu-0', 'eu-1', 'eu-2'] as const;
  const capAmount = () => (random.next() < 0.3 ? null : amount(40));
  async function setRandomCap(customerId: string) {
    const scope = random.pick([undefined, '*', 'eu-1'] as const);
    const input = { customerId, dailyMicros: capAmount(), monthlyMicros: capAmount(), ...(scope ? { endUserId: scope } : {}) };
    await attempt('cap', () => tally.spendCaps.set(input), false);
  }
  for (const [i, customerId] of customerIds.entries()) if (i % 4 === 0) await setRandomCap(customerId);
  const endUser = () => {
    const picked = random.pick(endUsers);
    return picked ? { endUserId: picked } : {};
  };

  for (op = 1; op <= operations; op++) {
    const customerId = random.pick(customerIds);
    const roll = random.next();
    if (roll < 0.3) {
      const input = { customerId, amountMicros: amount(3), idempotencyKey: key('spend'), ...endUser() };
      await attempt('spend', () => tally.spend(input));
    } else if (roll < 0.45) {
      const input = { customerId, amountMicros: amount(2), idempotencyKey: key('usage'), ...endUser() };
      await attempt('usage', () => tally.recordUsage(input));
    } else if (roll < 0.55 && limited.has(customerId)) {
      const kind = random.pick(['purchased', 'coupon', 'adjustment'] as const);
      const expiresAt = kind === 'coupon' ? new Date(clock.now().getTime() + random.int(1, 60 * 24 * 20) * MINUTE) : null;
      const input = { customerId, kind, amountMicros: amount(5), expiresAt, idempotencyKey: key('grant') };
      await attempt(`grant-${kind}`, () => tally.grant(input));
    } else if (roll < 0.65) {
      const input = {
        customerId,
        amountMicros: amount(2),
        ttlMs: random.int(1, 30) * MINUTE,
        idempotencyKey: key('reserve'),
        ...endUser(),
      };
      const result = (await attempt('reserve', () => tally.reserve(input), false)) as { hold: Hold } | null;
      if (result) holds.push(result.hold);
    } else if (roll < 0.75 && holds.length > 0) {
      const hold = holds.splice(random.int(0, holds.length - 1), 1)[0] as Hold;
      const actual = (hold.amountMicros * BigInt(random.int(0, 150))) / 100n;
      if (random.next() < 0.7) {
        const input = { holdId: hold.id, amountMicros: actual, idempotencyKey: key('capture') };
        await attempt('capture', () => tally.capture(input), false);
      } else {
        await attempt('release', () => tally.release({ holdId: hold.id }), false);
      }
    } else if (roll < 0.78) {
      const sign = random.next() < 0.5 ? -1n : 1n;
      const input = { customerId, amountMicros: sign * amount(2), reason: 'simulated correction', idempotencyKey: key('adjust') };
      await attempt('adjust', () => tally.adjust(input));
    } else if (roll < 0.84 && delivered.length > 0) {
      // Fault: the same request delivered again must give the first reply, changing nothing.
      count('fault:duplicate');
      const earlier = random.pick(delivered);
      const again = (await earlier.replay().catch((error: unknown) => fail(`a duplicate delivery threw ${String(error)}`))) as {
        replayed?: boolean;
      };
      const { replayed, ...rest } = again;
      const { replayed: _first, ...firstRest } = JSON.parse(earlier.first) as { replayed?: boolean };
      if (replayed !== true || canonicalJson(rest) !== canonicalJson(firstRest))
        fail('a duplicate delivery did not replay the first result');
      record('duplicate:ok');
    } else if (roll < 0.86) {
      // Fault: a transaction that fails halfway must leave no trace.
      count('fault:abort');
      const before = await tally.balance(customerId);
      const aborted = store
        .transaction(async (tx) => {
          const inner = createTally({ catalog, store: tx, clock });
          await inner.grant({ customerId, kind: 'purchased', amountMicros: amount(3), idempotencyKey: key('aborted') });
          await inner.recordUsage({ customerId, amountMicros: amount(3), idempotencyKey: key('aborted') });
          throw new Error('injected abort');
        })
        .then(
          () => fail('the aborted transaction committed'),
          (error: unknown) => {
            if (!(error instanceof Error) || error.message !== 'injected abort') fail(`abort raised ${String(error)}`);
          },
        );
      await aborted;
      const after = await tally.balance(customerId);
      if (canonicalJson(before) !== canonicalJson(after)) fail('an aborted transaction changed the balance');
      record('abort:ok');
    } else if (roll < 0.87 && holds.length > 0) {
      // Fault: the caller is late; the hold's time is up.
      count('fault:expired-hold');
      const hold = holds.splice(random.int(0, holds.length - 1), 1)[0] as Hold;
      clock.set(new Date(Math.max(clock.now().getTime(), hold.expiresAt.getTime()) + MINUTE));
      try {
        await tally.capture({ holdId: hold.id, amountMicros: hold.amountMicros, idempotencyKey: key('late') });
        fail('captured an expired hold');
      } catch (error) {
        if (!TallyError.is(error, 'HOLD_EXPIRED') && !TallyError.is(error, 'HOLD_NOT_ACTIVE')) throw error;
        record(`late:${(error as TallyError).code}`);
      }
    } else if (roll < 0.875) {
      // Fault: the clock jumps over the period end; allowances expire and the next ones are granted.
      count('fault:period-jump');
      clock.set(new Date(periodEnd.getTime() + random.int(0, 3 * 24 * 60) * MINUTE));
      while (periodEnd <= clock.now()) {
        periodStart = periodEnd;
        periodEnd = addInterval(periodStart, 'month');
        period++;
      }
      await grantAllowances();
      record(`period:${period}`);
    } else if (roll < 0.88) {
      count('sweep');
      record(`sweep:${await tally.sweepHolds()}:${await tally.expireBuckets()}`);
    } else if (roll < 0.885) {
      // Fault: a key reused for a different request is refused and changes nothing.
      count('fault:conflict');
      const reused = key('conflict');
      await tally.grant({ customerId, kind: 'purchased', amountMicros: CREDIT, idempotencyKey: reused });
      try {
        await tally.grant({ customerId, kind: 'purchased', amountMicros: 2n * CREDIT, idempotencyKey: reused });
        fail('a reused key with a different payload was accepted');
      } catch (error) {
        if (!TallyError.is(error, 'IDEMPOTENCY_CONFLICT')) throw error;
      }
      record('conflict:ok');
    } else if (roll < 0.8865) {
      // Caps change while holds are open and counters are mid-window.
      await setRandomCap(customerId);
    } else {
      count('tick');
      clock.advance(random.int(1, 120) * MINUTE);
    }
    if (options.onProgress && op % (options.progressEvery ?? 10_000) === 0) options.onProgress(op);
  }

  const audit = await tally.audit();
  if (!audit.ok) fail(`audit found ${audit.issues.length} issue(s): ${canonicalJson(audit.issues.slice(0, 5))}`);
  for (const customerId of customerIds) {
    record(canonicalJson(withoutIds(await tally.balance(customerId))));
    record(canonicalJson(await tally.spendCaps.list(customerId)));
  }
  return { seed, operations, counts, digest: hash.toString(16).padStart(8, '0'), audit };
}

/** `TALLY_SIM_SEED` when set (to replay a failure), else a fresh seed; print it with the run. */
export function simulationSeed(fromEnv: string | undefined): number {
  const parsed = fromEnv === undefined ? Number.NaN : Number(fromEnv);
  return Number.isSafeInteger(parsed) ? parsed : Math.floor(Math.random() * 2 ** 31);
}

export type { Tally };
