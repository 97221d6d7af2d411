import { sampleCatalog } from '../catalog/sample.js';
import type { Catalog, Tier } from '../catalog/schema.js';
import type { UnchargedCallInput } from '../ledger/calls.js';
import type { ChargeInput, Tally } from '../ledger/tally.js';
import type { BucketKind } from '../ledger/types.js';
import { chargeForKeySource, isFreeModel, priceCall } from '../pricing/cost.js';
import { addInterval } from '../time/index.js';
import { createSeededRandom, type SeededRandom } from './random.js';

export type SampleEvent =
  | { type: 'customer'; at: Date; customerId: string; tier: string }
  | {
      type: 'grant';
      at: Date;
      customerId: string;
      kind: BucketKind;
      amountMicros: bigint;
      expiresAt: Date | null;
      key: string;
      note: string;
    }
  | {
      type: 'usage';
      at: Date;
      customerId: string;
      model: string;
      inputTokens: number;
      outputTokens: number;
      keySource: 'managed' | 'byok';
      key: string;
    }
  | { type: 'tier-change'; at: Date; customerId: string; from: string; to: string }
  | { type: 'payment-failed'; at: Date; customerId: string; amountCents: bigint };

export interface SampleDataOptions {
  seed: number;
  customers?: number;
  days?: number;
  /** First day of the data. Default: `days` before 2026-11-01. */
  start?: Date;
  catalog?: Catalog;
}

const DAY = 86_400_000;
const CREDIT = 1_000_000n;

function tierFor(random: SeededRandom, tiers: Tier[]): Tier {
  // Most customers are small: trial 30 %, starter 40 %, professional 22 %, enterprise 8 %.
  const roll = random.next();
  const index = roll < 0.3 ? 0 : roll < 0.7 ? 1 : roll < 0.92 ? 2 : 3;
  return tiers[Math.min(index, tiers.length - 1)] as Tier;
}

/**
 * Realistic sample data, the same for the same seed: customers across the tiers, daily LLM usage on
 * free and paid models (some on the customer's own key), monthly allowances, credit purchases,
 * coupons, upgrades and downgrades, and a failed payment. Events come sorted by time.
 */
export function generateSampleData(options: SampleDataOptions): SampleEvent[] {
  const catalog = options.catalog ?? sampleCatalog;
  const random = createSeededRandom(options.seed);
  const days = options.days ?? 90;
  const start = options.start ?? new Date(Date.UTC(2026, 10, 1) - days * DAY);
  const models = Object.keys(catalog.models);
  const events: SampleEvent[] = [];
  const count = options.customers ?? 300;
  let upgrades = 0;
  let downgrades = 0;

  for (let c = 0; c < count; c++) {
    const customerId = `cus_${options.seed.toString(36)}_${c.toString().padStart(4, '0')}`;
    let tier = tierFor(random, catalog.tiers);
    const joined = new Date(start.getTime() + random.int(0, Math.floor(days / 3)) * DAY + random.int(0, DAY - 1));
    events.push({ type: 'customer', at: joined, customerId, tier: tier.id });
    const byok = random.next() < 0.15;
    const activity = 0.5 + random.next() * 4;
    let periodStart = joined;
    let period = 0;
    const grantAllowance = (at: Date) => {
      if (tier.allowance === 'unlimited' || tier.allowance === 0n) return;
      events.push({
        type: 'grant',
        at,
        customerId,
        kind: 'allowance',
        amountMicros: tier.allowance,
        expiresAt: addInterval(periodStart, tier.interval),
        key: `seed:${customerId}:allowance:${period}`,
        note: `${tier.name} allowance`,
      });
    };
    grantAllowance(joined);

    for (let day = Math.ceil((joined.getTime() - start.getTime()) / DAY); day < days; day++) {
      const dayStart = new Date(start.getTime() + day * DAY);
      while (addInterval(periodStart, tier.interval) <= dayStart) {
        periodStart = addInterval(periodStart, tier.interval);
        period++;
        grantAllowance(periodStart);
      }
      const calls = Math.floor(activity * (0.5 + random.next()));
      for (let n = 0; n < calls; n++) {
        const model = random.pick(models);
        events.push({
          type: 'usage',
          at: new Date(dayStart.getTime() + random.int(8, 22) * 3_600_000 + random.int(0, 3_599_999)),
          customerId,
          model,
          inputTokens: random.int(200, 6_000),
          outputTokens: random.int(50, 1_500),
          keySource: byok && !isFreeModel(model, catalog.models[model]) && random.next() < 0.7 ? 'byok' : 'managed',
          key: `seed:${customerId}:call:${day}:${n}`,
        });
      }
      if (random.next() < 0.004) {
        events.push({
          type: 'grant',
          at: new Date(dayStart.getTime() + 10 * 3_600_000),
          customerId,
          kind: 'purchased',
          amountMicros: BigInt(random.pick([10, 25, 50])) * CREDIT,
          expiresAt: null,
          key: `seed:${customerId}:pack:${day}`,
          note: 'credit pack',
        });
      }
      if (random.next() < 0.002) {
        events.push({
          type: 'grant',
          at: new Date(dayStart.getTime() + 11 * 3_600_000),
          customerId,
          kind: 'coupon',
          amountMicros: 5n * CREDIT,
          expiresAt: new Date(dayStart.getTime() + 30 * DAY),
          key: `seed:${customerId}:coupon:${day}`,
          note: 'coupon WELCOME5',
        });
      }
      const rank = catalog.tiers.indexOf(tier);
      const change = random.next();
      if ((change < 0.003 || (upgrades < 2 && c === 1 && day === days - 20)) && rank < catalog.tiers.length - 1) {
        const next = catalog.tiers[rank + 1] as Tier;
        events.push({ type: 'tier-change', at: new Date(dayStart.getTime() + 12 * 3_600_000), customerId, from: tier.id, to: next.id });
        tier = next;
        upgrades++;
      } else if ((change > 0.998 || (downgrades < 1 && c === 2 && day === days - 15)) && rank > 0) {
        const next = catalog.tiers[rank - 1] as Tier;
        events.push({ type: 'tier-change', at: new Date(dayStart.getTime() + 12 * 3_600_000), customerId, from: tier.id, to: next.id });
        tier = next;
        downgrades++;
      }
    }
    if (c === 3) {
      events.push({ type: 'payment-failed', at: new Date(start.getTime() + (days - 5) * DAY), customerId, amountCents: tier.price });
    }
  }
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

export interface ApplySummary {
  customers: number;
  grants: number;
  usageCharged: number;
  usageFree: number;
  usageByok: number;
  tierChanges: number;
  paymentsFailed: number;
}

/**
 * Writes sample events into a ledger through its public API, in time order, with `setTime` moving
 * the clock the Tally was built with. Calls are priced as `tally.meter` prices them: a call with a
 * charge (managed paid models, BYOK with a platform fee) is recorded as usage, one that charges
 * nothing (free models, BYOK without a fee) goes to the call log at its own time. Both in batches.
 */
export async function applySampleData(
  tally: Tally,
  events: SampleEvent[],
  setTime: (at: Date) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<ApplySummary> {
  const summary: ApplySummary = { customers: 0, grants: 0, usageCharged: 0, usageFree: 0, usageByok: 0, tierChanges: 0, paymentsFailed: 0 };
  const tiers = new Map<string, string>();
  let batch: ChargeInput[] = [];
  let uncharged: UnchargedCallInput[] = [];
  const flush = async () => {
    if (uncharged.length > 0) {
      await tally.recordUncharged(uncharged);
      uncharged = [];
    }
    if (batch.length === 0) return;
    const results = await tally.recordUsageBatch(batch);
    const failed = results.find((result) => !result.ok);
    if (failed && !failed.ok) throw new Error(`sample usage failed: ${failed.code} ${failed.message}`);
    batch = [];
  };
  for (const [index, event] of events.entries()) {
    if (event.type !== 'usage') await flush();
    setTime(event.at);
    switch (event.type) {
      case 'customer':
        await tally.customers.upsert({ customerId: event.customerId, tier: event.tier });
        tiers.set(event.customerId, event.tier);
        summary.customers++;
        break;
      case 'grant':
        await tally.grant({
          customerId: event.customerId,
          kind: event.kind,
          amountMicros: event.amountMicros,
          expiresAt: event.expiresAt,
          description: event.note,
          idempotencyKey: event.key,
        });
        summary.grants++;
        break;
      case 'usage': {
        const tier = tiers.get(event.customerId) ?? 'starter';
        const priced = priceCall({ catalog: tally.catalog, tier, model: event.model, usage: event });
        const byok = event.keySource === 'byok';
        const chargeMicros = chargeForKeySource(tally.catalog, priced, event.keySource);
        if (byok) summary.usageByok++;
        else if (chargeMicros === 0n) summary.usageFree++;
        else summary.usageCharged++;
        if (chargeMicros === 0n) {
          uncharged.push({
            customerId: event.customerId,
            model: event.model,
            inputTokens: event.inputTokens,
            outputTokens: event.outputTokens,
            providerCostNanoUsd: priced.providerCostNanoUsd,
            keySource: event.keySource,
            free: priced.free,
            catalogVersion: priced.catalogVersion,
            idempotencyKey: event.key,
            at: event.at,
          });
        } else {
          batch.push({
            customerId: event.customerId,
            amountMicros: chargeMicros,
            idempotencyKey: event.key,
            usage: {
              ...event,
              providerCostNanoUsd: priced.providerCostNanoUsd,
              markupBps: byok ? 0 : priced.markupBps,
              catalogVersion: priced.catalogVersion,
            },
          });
        }
        if (batch.length + uncharged.length >= 500) await flush();
        break;
      }
      case 'tier-change':
        await tally.customers.upsert({ customerId: event.customerId, tier: event.to });
        tiers.set(event.customerId, event.to);
        summary.tierChanges++;
        break;
      case 'payment-failed':
        await tally.store.enqueueOutbox({
          topic: 'payment.failed',
          payload: JSON.stringify({ customerId: event.customerId, amountCents: event.amountCents.toString() }),
          dedupeKey: `payment.failed:${event.customerId}:${event.at.toISOString()}`,
          at: event.at,
        });
        summary.paymentsFailed++;
        break;
    }
    if (onProgress && index % 5000 === 0) onProgress(index, events.length);
  }
  await flush();
  return summary;
}
