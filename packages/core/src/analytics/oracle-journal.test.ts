import { describe, expect, it } from 'vitest';
import type { SubscriptionRecord } from '../billing/types.js';
import type { UnchargedCallRecord } from '../ledger/calls.js';
import type { CustomerRecord, Entry, EntryKind, UsageDetails } from '../ledger/types.js';
import { usageDetails } from '../testing/usage-details.js';
import type { AnalyticsCatalog, MetricQuery } from './metrics.js';
import { type AnalyticsSnapshot, computeMetric } from './oracle.js';

// A hand-built journal, November 2026 (Sunday the 1st, Monday the 2nd). 1 credit = 1,000,000 micros,
// and 3,000,000 micros buy a dollar, so m micros are worth round(m × 1000 / 3) nano-USD.
//   ada  starter record; history: starter (Oct 30), pro (Nov 2 12:00).
//        Nov 1 00:00 allowance A1 10 cr (expires Nov 5) and purchased A2 5 cr.
//        C1 Sun Nov 1 23:30 usage 12,000,000 on m-a: A1 10 cr + A2 2 cr, two entries, one call.
//        C2 Mon Nov 2 00:15 usage 3,000,001 on m-b: A2 3 cr + 1 micro of debt, two entries.
//        C3 Mon Nov 2 13:00 usage 1 on m-a, all debt (tier pro by then).
//   bob  pro record, unlimited, no history. C4 Nov 2 09:00 usage 2,000,000 on m-a from system:unlimited.
//   cy   starter record, no history. Nov 1 06:00 allowance C 6 cr (expires Nov 3); Nov 2 10:00 a spend
//        of 2 cr without usage (not a call); Nov 3 00:00 the other 4 cr expire. A free logged call
//        on Nov 5, after the range.
//   dan  "legacy" record (a tier the catalog lacks), no history. Nov 1 12:00 allowance D 0.5 cr
//        (expires Nov 10) and purchased 1 cr.
//        C5 Nov 2 14:00 BYOK usage with a platform fee of 100,000 on m-b (from D).
//        C6 Nov 2 15:00 logged BYOK call on m-b; C7 Nov 2 16:00 logged free call on free-m.
//        C8 Nov 2 17:05 capture of 600,000 on m-a: D's last 400,000 and 200,000 of the purchase.
// Call   tokens  provider cost    credits      platform cost
// C1     1,500   3,000,000,000    12,000,000   3,000,000,000
// C2       150   1,000,000,000     3,000,001   1,000,000,000
// C3        20             500             1             500
// C4       500     700,000,000     2,000,000     700,000,000
// C5     3,000   4,000,000,000       100,000               0 (BYOK)
// C6       500     800,000,000             0               0 (BYOK)
// C7        75               0             0               0
// C8       200     150,000,000       600,000     150,000,000

const CATALOG: AnalyticsCatalog = {
  currency: 'USD',
  microsPerUsd: 3_000_000n,
  tiers: [
    { id: 'starter', price: 1900n, interval: 'month' },
    { id: 'pro', price: 4900n, interval: 'month' },
    { id: 'team', price: 9900n, interval: 'month' },
  ],
};

const t = (iso: string) => new Date(`${iso}Z`);

function usage(
  model: string,
  inputTokens: bigint,
  outputTokens: bigint,
  providerCostNanoUsd: bigint,
  keySource: 'managed' | 'byok' = 'managed',
): UsageDetails {
  return usageDetails({ model, inputTokens, outputTokens, providerCostNanoUsd, keySource });
}

let nextEntry = 0;
function entry(
  operationId: string,
  customerId: string,
  kind: EntryKind,
  fromAccount: string,
  amountMicros: bigint,
  at: string,
  bucket: { id: string; delta: bigint } | null = null,
  details: UsageDetails | null = null,
): Entry {
  const toAccount = kind === 'grant' ? `customer:${customerId}` : kind === 'expire' ? 'system:expired' : 'system:revenue';
  return {
    id: String(++nextEntry),
    operationId,
    customerId,
    kind,
    fromAccount,
    toAccount,
    amountMicros,
    bucketId: bucket?.id ?? null,
    bucketDeltaMicros: bucket?.delta ?? 0n,
    holdId: kind === 'capture' ? 'h1' : null,
    description: null,
    usage: details,
    createdAt: t(at),
  };
}

function logged(
  id: string,
  customerId: string,
  model: string,
  tokens: [number, number],
  cost: bigint,
  keySource: 'managed' | 'byok',
  free: boolean,
  at: string,
): UnchargedCallRecord {
  return {
    id,
    customerId,
    endUserId: null,
    model,
    inputTokens: tokens[0],
    cachedInputTokens: 0,
    outputTokens: tokens[1],
    reasoningTokens: 0,
    providerCostNanoUsd: cost,
    keySource,
    free,
    catalogVersion: 'v1',
    generationId: null,
    idempotencyKey: `call-${id}`,
    at: t(at),
  };
}

function record(customerId: string, tier: string, version: number, at: string): SubscriptionRecord {
  return {
    customerId,
    tier,
    status: 'active',
    interval: 'month',
    currentPeriodStart: t(at),
    currentPeriodEnd: t('2026-12-30T00:00'),
    trialEnd: null,
    scheduledChange: null,
    pastDueSince: null,
    provider: 'sandbox',
    providerCustomerId: null,
    providerSubscriptionId: null,
    providerStateAt: null,
    version,
    createdAt: t('2026-10-30T00:00'),
    updatedAt: t(at),
  };
}

const customer = (id: string, tier: string, unlimited = false): CustomerRecord => ({
  id,
  tier,
  overdraftLimitMicros: 0n,
  unlimited,
  createdAt: t('2026-10-30T00:00'),
});

const mA = usage('m-a', 1000n, 500n, 3_000_000_000n);
const mB = usage('m-b', 100n, 50n, 1_000_000_000n);
const SNAPSHOT: AnalyticsSnapshot = {
  customers: [customer('ada', 'starter'), customer('bob', 'pro', true), customer('cy', 'starter'), customer('dan', 'legacy')],
  entries: [
    entry('1', 'ada', 'grant', 'system:grants', 10_000_000n, '2026-11-01T00:00', { id: 'A1', delta: 10_000_000n }),
    entry('2', 'ada', 'grant', 'system:purchases', 5_000_000n, '2026-11-01T00:00', { id: 'A2', delta: 5_000_000n }),
    entry('3', 'cy', 'grant', 'system:grants', 6_000_000n, '2026-11-01T06:00', { id: 'C', delta: 6_000_000n }),
    entry('4', 'dan', 'grant', 'system:grants', 500_000n, '2026-11-01T12:00', { id: 'D', delta: 500_000n }),
    entry('5', 'dan', 'grant', 'system:purchases', 1_000_000n, '2026-11-01T12:00', { id: 'D2', delta: 1_000_000n }),
    entry('6', 'ada', 'usage', 'customer:ada', 10_000_000n, '2026-11-01T23:30', { id: 'A1', delta: -10_000_000n }, mA),
    entry('6', 'ada', 'usage', 'customer:ada', 2_000_000n, '2026-11-01T23:30', { id: 'A2', delta: -2_000_000n }, mA),
    entry('7', 'ada', 'usage', 'customer:ada', 3_000_000n, '2026-11-02T00:15', { id: 'A2', delta: -3_000_000n }, mB),
    entry('7', 'ada', 'usage', 'debt:ada', 1n, '2026-11-02T00:15', null, mB),
    entry('8', 'bob', 'usage', 'system:unlimited', 2_000_000n, '2026-11-02T09:00', null, usage('m-a', 300n, 200n, 700_000_000n)),
    entry('9', 'cy', 'spend', 'customer:cy', 2_000_000n, '2026-11-02T10:00', { id: 'C', delta: -2_000_000n }),
    entry('10', 'ada', 'usage', 'debt:ada', 1n, '2026-11-02T13:00', null, usage('m-a', 10n, 10n, 500n)),
    entry(
      '11',
      'dan',
      'usage',
      'customer:dan',
      100_000n,
      '2026-11-02T14:00',
      { id: 'D', delta: -100_000n },
      usage('m-b', 2000n, 1000n, 4_000_000_000n, 'byok'),
    ),
    entry(
      '12',
      'dan',
      'capture',
      'customer:dan',
      400_000n,
      '2026-11-02T17:05',
      { id: 'D', delta: -400_000n },
      usage('m-a', 120n, 80n, 150_000_000n),
    ),
    entry(
      '12',
      'dan',
      'capture',
      'customer:dan',
      200_000n,
      '2026-11-02T17:05',
      { id: 'D2', delta: -200_000n },
      usage('m-a', 120n, 80n, 150_000_000n),
    ),
    entry('13', 'cy', 'expire', 'customer:cy', 4_000_000n, '2026-11-03T00:00', { id: 'C', delta: -4_000_000n }),
  ],
  uncharged: [
    logged('1', 'dan', 'm-b', [400, 100], 800_000_000n, 'byok', false, '2026-11-02T15:00'),
    logged('2', 'dan', 'free-m', [50, 25], 0n, 'managed', true, '2026-11-02T16:00'),
    logged('3', 'cy', 'free-m', [10, 10], 0n, 'managed', true, '2026-11-05T10:00'),
  ],
  subscriptions: new Map([['ada', [record('ada', 'starter', 1, '2026-10-30T00:00'), record('ada', 'pro', 2, '2026-11-02T12:00')]]]),
};

const RANGE = { from: t('2026-11-01T00:00'), to: t('2026-11-04T00:00'), granularity: 'day' as const };
const run = <M extends MetricQuery['metric']>(query: MetricQuery<M>) => computeMetric(SNAPSHOT, query, CATALOG);
const calls = (n: number, tokens: bigint) => ({ calls: n, tokens });

describe('journal oracle', () => {
  it('usage: calls and tokens per hour of the week, per model, split and per day', () => {
    const result = run({ metric: 'usage', ...RANGE });
    const cells = result.heatmap.flatMap((row, day) => row.map((cell, hour) => ({ day, hour, ...cell }))).filter((cell) => cell.calls > 0);
    // Sunday (row 6) 23:00 holds C1; Monday (row 0) 00:00 holds C2 — the week starts on Monday.
    expect(cells).toEqual([
      { day: 0, hour: 0, ...calls(1, 150n) },
      { day: 0, hour: 9, ...calls(1, 500n) },
      { day: 0, hour: 13, ...calls(1, 20n) },
      { day: 0, hour: 14, ...calls(1, 3000n) },
      { day: 0, hour: 15, ...calls(1, 500n) },
      { day: 0, hour: 16, ...calls(1, 75n) },
      { day: 0, hour: 17, ...calls(1, 200n) },
      { day: 6, hour: 23, ...calls(1, 1500n) },
    ]);
    expect(result.byModel).toEqual([
      // C1 + C3 + C4 + C8: 1500 + 20 + 500 + 200 tokens; 3e9 + 500 + 7e8 + 1.5e8 cost; 12e6 + 1 + 2e6 + 6e5 credits.
      { model: 'm-a', calls: 4, tokens: 2220n, providerCostNanoUsd: 3_850_000_500n, creditsMicros: 14_600_001n },
      // C2 + C5 + C6: 150 + 3000 + 500; 1e9 + 4e9 + 8e8 (BYOK cost counts here); 3,000,001 + 100,000 + 0.
      { model: 'm-b', calls: 3, tokens: 3650n, providerCostNanoUsd: 5_800_000_000n, creditsMicros: 3_100_001n },
      { model: 'free-m', calls: 1, tokens: 75n, providerCostNanoUsd: 0n, creditsMicros: 0n },
    ]);
    // 5,945 tokens in all; free: C7; BYOK: C5 and C6 (3,500).
    expect(result.split).toEqual({ free: calls(1, 75n), paid: calls(7, 5870n), byok: calls(2, 3500n), managed: calls(6, 2445n) });
    expect(result.series.map(({ start, calls, tokens }) => ({ day: start.toISOString().slice(0, 10), calls, tokens }))).toEqual([
      { day: '2026-11-01', calls: 1, tokens: 1500n },
      { day: '2026-11-02', calls: 7, tokens: 4445n },
      { day: '2026-11-03', calls: 0, tokens: 0n },
    ]);
  });

  it('usage: a range is [from, to), so a call at from counts and one at to does not', () => {
    const result = run({ metric: 'usage', from: t('2026-11-02T00:15'), to: t('2026-11-02T13:00'), granularity: 'week' });
    // C2 (00:15), C4 (09:00); C3 at 13:00 is out.
    expect(result.split.paid).toEqual(calls(2, 650n));
    expect(result.series).toEqual([{ start: t('2026-11-02T00:15'), end: t('2026-11-02T13:00'), ...calls(2, 650n) }]);
  });

  it('margin: revenue converted once per line, platform cost without BYOK, tier at the call', () => {
    const result = run({ metric: 'margin', ...RANGE });
    // Total: 8 calls, 17,700,002 micros → round(17,700,002,000 / 3) = 5,900,000,667 nano-USD.
    // Cost 3e9 + 1e9 + 500 + 7e8 + 1.5e8 = 4,850,000,500; margin 1,050,000,167 → 1779.66… → 1780 bps.
    expect(result.total).toEqual({
      calls: 8,
      creditsMicros: 17_700_002n,
      revenueNanoUsd: 5_900_000_667n,
      costNanoUsd: 4_850_000_500n,
      marginNanoUsd: 1_050_000_167n,
      marginBps: 1780,
    });
    expect(result.byModel).toEqual([
      // 14,600,001,000 / 3 = 4,866,667,000 exactly; margin 1,016,666,500 → 2089.04… → 2089 bps.
      {
        model: 'm-a',
        calls: 4,
        creditsMicros: 14_600_001n,
        revenueNanoUsd: 4_866_667_000n,
        costNanoUsd: 3_850_000_500n,
        marginNanoUsd: 1_016_666_500n,
        marginBps: 2089,
      },
      // 3,100,001,000 / 3 = 1,033,333,666.67 → …667 (by call it would be 1,000,000,333 + 33,333,333 = …666);
      // cost only C2's, the BYOK calls cost the platform nothing; 33,333,667 → 322.58… → 323 bps.
      {
        model: 'm-b',
        calls: 3,
        creditsMicros: 3_100_001n,
        revenueNanoUsd: 1_033_333_667n,
        costNanoUsd: 1_000_000_000n,
        marginNanoUsd: 33_333_667n,
        marginBps: 323,
      },
      { model: 'free-m', calls: 1, creditsMicros: 0n, revenueNanoUsd: 0n, costNanoUsd: 0n, marginNanoUsd: 0n, marginBps: null },
    ]);
    expect(result.byTier).toEqual([
      // ada's C1 and C2 before her pro record of Nov 2 12:00: 15,000,001 → 5,000,000,333.33 → …333.
      {
        tier: 'starter',
        calls: 2,
        creditsMicros: 15_000_001n,
        revenueNanoUsd: 5_000_000_333n,
        costNanoUsd: 4_000_000_000n,
        marginNanoUsd: 1_000_000_333n,
        marginBps: 2000,
      },
      // ada's C3 (pro since 12:00) and bob's C4 (no history: his record's pro): 2,000,001 → 666,667,000;
      // cost 700,000,500 → a loss of 33,333,500 → −500.0024… → −500 bps.
      {
        tier: 'pro',
        calls: 2,
        creditsMicros: 2_000_001n,
        revenueNanoUsd: 666_667_000n,
        costNanoUsd: 700_000_500n,
        marginNanoUsd: -33_333_500n,
        marginBps: -500,
      },
      // dan's C5–C8: 700,000 → 233,333,333.33 → …333; cost C8's 150,000,000; 83,333,333 → 3571.43… → 3571.
      {
        tier: 'legacy',
        calls: 4,
        creditsMicros: 700_000n,
        revenueNanoUsd: 233_333_333n,
        costNanoUsd: 150_000_000n,
        marginNanoUsd: 83_333_333n,
        marginBps: 3571,
      },
    ]);
    expect(result.byCustomer).toEqual([
      // 15,000,002,000 / 3 = 5,000,000,666.67 → …667; cost 4,000,000,500; 1,000,000,167 → 2000.0 bps.
      {
        customerId: 'ada',
        calls: 3,
        creditsMicros: 15_000_002n,
        revenueNanoUsd: 5_000_000_667n,
        costNanoUsd: 4_000_000_500n,
        marginNanoUsd: 1_000_000_167n,
        marginBps: 2000,
      },
      // 2,000,000,000 / 3 → 666,666,667; a loss of 33,333,333 → −500.0 bps.
      {
        customerId: 'bob',
        calls: 1,
        creditsMicros: 2_000_000n,
        revenueNanoUsd: 666_666_667n,
        costNanoUsd: 700_000_000n,
        marginNanoUsd: -33_333_333n,
        marginBps: -500,
      },
      {
        customerId: 'dan',
        calls: 4,
        creditsMicros: 700_000n,
        revenueNanoUsd: 233_333_333n,
        costNanoUsd: 150_000_000n,
        marginNanoUsd: 83_333_333n,
        marginBps: 3571,
      },
    ]);
  });

  it('utilization: allowances granted in the range, what charges and expiry took from them before to', () => {
    const result = run({ metric: 'utilization', ...RANGE });
    expect(result.tiers).toEqual([
      // ada's A1 (10 cr, all of it taken by C1) and cy's 6 cr (2 spent, 4 expired): 12 of 16 → 7500 bps.
      { tier: 'starter', grantedMicros: 16_000_000n, consumedMicros: 12_000_000n, expiredMicros: 4_000_000n, utilizationBps: 7500 },
      { tier: 'pro', grantedMicros: 0n, consumedMicros: 0n, expiredMicros: 0n, utilizationBps: null },
      { tier: 'team', grantedMicros: 0n, consumedMicros: 0n, expiredMicros: 0n, utilizationBps: null },
      // dan's D: C5's 100,000 and 400,000 of the capture. A tier the catalog lacks comes after.
      { tier: 'legacy', grantedMicros: 500_000n, consumedMicros: 500_000n, expiredMicros: 0n, utilizationBps: 10_000 },
    ]);
    // Up to Nov 2 12:00: the expiry and dan's calls are later; cy's spend at 10:00 is in.
    const early = run({ metric: 'utilization', from: t('2026-11-01T00:00'), to: t('2026-11-02T12:00') });
    expect(early.tiers.map((line) => [line.tier, line.grantedMicros, line.consumedMicros, line.expiredMicros])).toEqual([
      ['starter', 16_000_000n, 12_000_000n, 0n],
      ['pro', 0n, 0n, 0n],
      ['team', 0n, 0n, 0n],
      ['legacy', 500_000n, 0n, 0n],
    ]);
    // From Nov 1 06:00: ada's grant at 00:00 is out, though C1 drew on it inside the range.
    const later = run({ metric: 'utilization', from: t('2026-11-01T06:00'), to: t('2026-11-04T00:00') });
    expect(later.tiers[0]).toEqual({
      tier: 'starter',
      grantedMicros: 6_000_000n,
      consumedMicros: 2_000_000n,
      expiredMicros: 4_000_000n,
      utilizationBps: 3333,
    });
  });

  it('top-customers: credits of every charge (with or without a call), calls and cost, tier now', () => {
    const result = run({ metric: 'top-customers', ...RANGE });
    expect(result.customers).toEqual([
      // 12,000,000 + 3,000,001 + 1; cost 3e9 + 1e9 + 500; pro now (her newest record).
      { customerId: 'ada', tier: 'pro', creditsMicros: 15_000_002n, calls: 3, providerCostNanoUsd: 4_000_000_500n },
      // bob and cy both 2 credits: bob's call puts him first; cy's spend is no call.
      { customerId: 'bob', tier: 'pro', creditsMicros: 2_000_000n, calls: 1, providerCostNanoUsd: 700_000_000n },
      { customerId: 'cy', tier: 'starter', creditsMicros: 2_000_000n, calls: 0, providerCostNanoUsd: 0n },
      // 100,000 + 600,000; four calls, BYOK cost included: 4e9 + 8e8 + 0 + 1.5e8.
      { customerId: 'dan', tier: 'legacy', creditsMicros: 700_000n, calls: 4, providerCostNanoUsd: 4_950_000_000n },
    ]);
    const two = run({ metric: 'top-customers', ...RANGE, limit: 2 });
    expect(two.customers.map((c) => c.customerId)).toEqual(['ada', 'bob']);
    // Nov 5: cy's free logged call alone — a customer with calls but no credits is listed.
    const after = run({ metric: 'top-customers', from: t('2026-11-04T00:00'), to: t('2026-11-06T00:00') });
    expect(after.customers).toEqual([{ customerId: 'cy', tier: 'starter', creditsMicros: 0n, calls: 1, providerCostNanoUsd: 0n }]);
  });

  it('answers with the query it was asked, and refuses a bad one with VALIDATION', () => {
    const result = run({ metric: 'top-customers', from: t('2026-11-01T00:00'), to: t('2026-11-02T00:00') });
    expect([result.metric, result.from, result.to, result.granularity]).toEqual([
      'top-customers',
      t('2026-11-01T00:00'),
      t('2026-11-02T00:00'),
      'day',
    ]);
    expect(() => run({ metric: 'usage', from: t('2026-11-02T00:00'), to: t('2026-11-01T00:00') })).toThrow(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(() => run({ metric: 'top-customers', ...RANGE, limit: 101 })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});
