/**
 * First run: the sample business (`generateSampleData` from `@tally/core/testing`, the same data
 * `tally seed` writes, ending today), a few coupons, and the demo's own customer `cus_demo` on a fresh
 * trial. A mark in `demo_state`, written last, says the seed is complete: a later start seeds nothing.
 */
import { type Billing, type Catalog, type CouponDefinition, createTally, formatCredits } from '@tally/core';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';
import type { DemoDatabase } from './database.ts';

/** The demo's own customer: starts a trial on the first run, so there is always one to upgrade through checkout. */
export const DEMO_CUSTOMER = 'cus_demo';

export interface SampleSize {
  /** The random seed: the same seed gives the same business. */
  seed: number;
  customers: number;
  /** Days of history, ending at the start of today (UTC). */
  days: number;
}

/** Small enough that the first start takes seconds: 60 customers over 60 days (about 6,000 events). */
export const DEFAULT_SAMPLE: SampleSize = { seed: 42, customers: 60, days: 60 };

const CREDIT = 1_000_000n;
const DAY_MS = 86_400_000;

export const DEMO_COUPONS: readonly CouponDefinition[] = [
  {
    code: 'WELCOME5',
    benefit: { type: 'credits', amountMicros: 5n * CREDIT, expiresInDays: 30 },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  },
  {
    code: 'SAVE20',
    benefit: { type: 'percent_off', percentOffBps: 2000, durationPeriods: 3 },
    maxRedemptions: 500,
    expiresAt: null,
    tiers: [],
  },
  {
    code: 'PRO10',
    benefit: { type: 'credits', amountMicros: 10n * CREDIT, expiresInDays: null },
    maxRedemptions: 100,
    expiresAt: null,
    tiers: ['professional'],
  },
];

const SEEDED = 'seeded';

/** `seeded`: a complete seed is there. `empty`: no customers at all. `unfinished`: customers but no mark (an interrupted first run, or a database of another app). */
export async function seedState(db: DemoDatabase): Promise<'seeded' | 'empty' | 'unfinished'> {
  const mark = await db.query<{ value: string }>('select value from demo_state where key = $1', [SEEDED]);
  if (mark.length > 0) return 'seeded';
  const page = await db.store.listCustomers({ limit: 1 });
  return page.items.length === 0 ? 'empty' : 'unfinished';
}

export interface SeedSummary {
  customers: number;
  events: number;
  entries: number;
  auditOk: boolean;
}

export interface SeedInput {
  db: DemoDatabase;
  catalog: Catalog;
  /** Billing on the real clock: the demo customer's trial and the coupons are made now. */
  billing: Billing;
  sample: SampleSize;
  now: Date;
  log: (line: string) => void;
}

export async function seedDemoData({ db, catalog, billing, sample, now, log }: SeedInput): Promise<SeedSummary> {
  // The sample carries its own timestamps: the ledger it is written through follows them.
  const clock = createFakeClock(now);
  const tally = createTally({ catalog, store: db.store, clock });
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const events = generateSampleData({ ...sample, start: new Date(today - sample.days * DAY_MS), catalog });
  log(
    `Seeding sample data: ${sample.customers} customers over ${sample.days} days (${events.length.toLocaleString('en-US')} events), a few seconds…`,
  );
  const started = performance.now();
  const summary = await applySampleData(tally, events, (at) => clock.set(at));
  // The sample's outbox messages (welcome mails, low-balance checks, …) are history: in a running
  // business they went out when they happened. Only what happens from now on is delivered.
  await db.query('update tally_outbox set delivered_at = $1 where delivered_at is null and not dead', [now]);

  for (const coupon of DEMO_COUPONS) await billing.createCoupon(coupon);
  const trial = await billing.subscribe({ customerId: DEMO_CUSTOMER, tier: 'trial' });
  if (trial.status !== 'started') throw new Error('the demo customer’s trial needs no checkout');

  const audit = await tally.audit();
  log(
    `  ${summary.customers + 1} customers, ${audit.entries.toLocaleString('en-US')} ledger entries, revenue ${formatCredits(
      audit.systemBalances['system:revenue'] ?? 0n,
    )} credits, audit ${audit.ok ? 'clean' : `FAILED (${audit.issues.length} issues)`}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await db.query('insert into demo_state (key, value, updated_at) values ($1, $2, $3) on conflict (key) do nothing', [
    SEEDED,
    JSON.stringify({ ...sample, at: now.toISOString() }),
    now,
  ]);
  return { customers: summary.customers + 1, events: events.length, entries: audit.entries, auditOk: audit.ok };
}
