import type { ScheduledChange, SubscriptionRecord, SubscriptionStatus } from '../billing/types.js';
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
  | {
      /** A new state of the customer's subscription, saved as the next version of its history. */
      type: 'subscription';
      at: Date;
      customerId: string;
      change:
        | 'start'
        | 'conversion'
        | 'renewal'
        | 'upgrade'
        | 'downgrade'
        | 'cancel-scheduled'
        | 'cancellation'
        | 'reactivation'
        | 'payment-failed'
        | 'recovery';
      tier: string;
      status: SubscriptionStatus;
      currentPeriodStart: Date;
      currentPeriodEnd: Date;
      trialEnd: Date | null;
      scheduledChange: ScheduledChange | null;
      pastDueSince: Date | null;
    }
  | { type: 'payment-failed'; at: Date; customerId: string; amountCents: bigint };

type SubscriptionEvent = Extract<SampleEvent, { type: 'subscription' }>;

export interface SampleDataOptions {
  seed: number;
  customers?: number;
  days?: number;
  /** First day of the data. Default: `days` before 2026-11-01. */
  start?: Date;
  catalog?: Catalog;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const CREDIT = 1_000_000n;

// How often each part of the subscription story happens: per day, or per trial, renewal or cancellation.
const CONVERSION = 0.6; // trials that become paying at the trial's end
const UPGRADE_PER_DAY = 0.003;
const DOWNGRADE_PER_DAY = 0.002;
const CANCEL_PER_DAY = 0.0015;
const COMEBACK = 0.35; // cancellations that come back later
const RENEWAL_FAILS = 0.02;
const RECOVERS = 0.6; // failed payments paid within the grace

function tierFor(random: SeededRandom, tiers: Tier[]): Tier {
  // Most customers are small: trial 30 %, starter 40 %, professional 22 %, enterprise 8 %.
  const roll = random.next();
  const index = roll < 0.3 ? 0 : roll < 0.7 ? 1 : roll < 0.92 ? 2 : 3;
  return tiers[Math.min(index, tiers.length - 1)] as Tier;
}

/** What a customer's subscription is now, and the next thing that happens to it by itself. */
interface Life {
  tier: Tier;
  status: SubscriptionStatus;
  periodStart: Date;
  periodEnd: Date;
  trialEnd: Date | null;
  pastDueSince: Date | null;
  cancelAtPeriodEnd: boolean;
  /** The tier a canceled customer left (and comes back to). */
  paidTier: Tier;
  /** When a trial ends, a canceled customer comes back, or a past-due one pays or runs out of grace; null: at period end. */
  nextAt: number | null;
  /** For past_due: whether `nextAt` is the payment (true) or the end of the grace (false). */
  recovers: boolean;
  /** Allowance grants so far (each has a key of its own). */
  grants: number;
}

/**
 * Realistic sample data, the same for the same seed: customers across the tiers, daily LLM usage on
 * free and paid models (some on the customer's own key), credit purchases, coupons, and a subscription
 * history as billing writes it: trials that convert or end, monthly renewals with their allowances,
 * upgrades and downgrades, cancellations at period end (some come back), and failed payments that are
 * paid within the grace or end it. Customers 1–4 play fixed parts (an upgrade, a downgrade, a failed
 * payment, a cancellation and return) so every kind of change happens in any data of five customers
 * and a couple of months. Events come sorted by time.
 */
export function generateSampleData(options: SampleDataOptions): SampleEvent[] {
  const catalog = options.catalog ?? sampleCatalog;
  const random = createSeededRandom(options.seed);
  const days = options.days ?? 90;
  const start = options.start ?? new Date(Date.UTC(2026, 10, 1) - days * DAY);
  const end = start.getTime() + days * DAY;
  const models = Object.keys(catalog.models);
  const tiers = catalog.tiers;
  const fallback = tiers.find((t) => t.id === catalog.dunning.downgradeTo) ?? (tiers[0] as Tier);
  const graceMs = Math.max(catalog.dunning.graceDays * DAY, HOUR);
  const events: SampleEvent[] = [];
  const count = options.customers ?? 300;

  for (let c = 0; c < count; c++) {
    const customerId = `cus_${options.seed.toString(36)}_${c.toString().padStart(4, '0')}`;
    const drawn = tierFor(random, tiers);
    const part = c >= 1 && c <= 4 ? c : 0;
    // The fixed parts need a paid tier with one below it (downgrade) or above it (the others).
    const first = part === 0 ? drawn : (tiers[Math.min(part === 2 ? 2 : 1, tiers.length - 1)] as Tier);
    const joined = new Date(start.getTime() + random.int(0, Math.floor(days / 3)) * DAY + random.int(0, DAY - 1));
    events.push({ type: 'customer', at: joined, customerId, tier: first.id });
    const byok = random.next() < 0.15;
    const activity = 0.5 + random.next() * 4;
    const trial = first.trialDays > 0 ? joined.getTime() + first.trialDays * DAY : null;
    const life: Life = {
      tier: first,
      status: trial === null ? 'active' : 'trialing',
      periodStart: joined,
      periodEnd: trial === null ? addInterval(joined, first.interval) : new Date(trial),
      trialEnd: trial === null ? null : new Date(trial),
      pastDueSince: null,
      cancelAtPeriodEnd: false,
      paidTier: trial === null ? first : (tiers[tiers.indexOf(first) + 1] ?? first),
      // Around the trial's end: the first invoice is paid, or the trial just ends.
      nextAt: trial === null ? null : trial + random.int(0, 6 * HOUR),
      recovers: false,
      grants: 0,
    };
    let failNextRenewal = part === 3;
    let leaves = part === 4;

    const save = (at: number, change: SubscriptionEvent['change']) => {
      events.push({
        type: 'subscription',
        at: new Date(at),
        customerId,
        change,
        tier: life.tier.id,
        status: life.status,
        currentPeriodStart: life.periodStart,
        currentPeriodEnd: life.periodEnd,
        trialEnd: life.trialEnd,
        scheduledChange: life.cancelAtPeriodEnd ? { tier: null, at: life.periodEnd } : null,
        pastDueSince: life.pastDueSince,
      });
    };
    // The period's allowance, as billing grants it once the period is paid (a trial's for the trial).
    const grantAllowance = (at: number) => {
      const allowance = life.tier.allowance;
      if (allowance === 'unlimited' || allowance === 0n) return;
      events.push({
        type: 'grant',
        at: new Date(at),
        customerId,
        kind: 'allowance',
        amountMicros: allowance,
        expiresAt: life.periodEnd,
        key: `seed:${customerId}:allowance:${life.grants++}`,
        note: `${life.tier.name} allowance`,
      });
    };
    const newPeriod = (at: number) => {
      life.periodStart = new Date(at);
      life.periodEnd = addInterval(life.periodStart, life.tier.interval);
    };
    const cancel = (at: number) => {
      life.paidTier = life.status === 'trialing' ? life.paidTier : life.tier;
      life.tier = fallback;
      life.status = 'canceled';
      life.cancelAtPeriodEnd = false;
      life.pastDueSince = null;
      save(at, 'cancellation');
      // Some come back within a few weeks, on the tier they left.
      life.nextAt = part === 4 ? at + random.int(2 * DAY, 5 * DAY) : random.next() < COMEBACK ? at + random.int(2 * DAY, 25 * DAY) : null;
    };

    /** Runs what happens by itself before `until`: trial ends, renewals, payments, returns. */
    const advance = (until: number) => {
      for (;;) {
        const due = life.status === 'active' ? life.periodEnd.getTime() : life.nextAt;
        if (due === null || due >= until || due >= end) return;
        if (life.status === 'trialing') {
          if (part !== 0 || random.next() < CONVERSION) {
            life.tier = life.paidTier;
            life.status = 'active';
            life.nextAt = null;
            newPeriod(due);
            save(due, 'conversion');
            grantAllowance(due);
          } else {
            cancel(due);
          }
        } else if (life.status === 'canceled') {
          life.tier = life.paidTier;
          life.status = 'active';
          life.trialEnd = null;
          life.nextAt = null;
          newPeriod(due);
          save(due, 'reactivation');
          grantAllowance(due);
        } else if (life.status === 'past_due') {
          if (life.recovers) {
            life.status = 'active';
            life.pastDueSince = null;
            life.nextAt = null;
            save(due, 'recovery');
            grantAllowance(due);
          } else {
            cancel(due);
          }
        } else if (life.cancelAtPeriodEnd) {
          cancel(due);
        } else {
          newPeriod(due);
          if (failNextRenewal || (part === 0 && random.next() < RENEWAL_FAILS)) {
            failNextRenewal = false;
            life.status = 'past_due';
            life.pastDueSince = new Date(due);
            life.recovers = random.next() < RECOVERS;
            life.nextAt = life.recovers ? due + random.int(HOUR, Math.min(5 * DAY, graceMs - 1)) : due + graceMs;
            save(due, 'payment-failed');
            events.push({ type: 'payment-failed', at: new Date(due), customerId, amountCents: life.tier.price });
          } else {
            save(due, 'renewal');
            grantAllowance(due);
          }
        }
      }
    };

    save(joined.getTime(), 'start');
    grantAllowance(joined.getTime());

    for (let day = Math.ceil((joined.getTime() - start.getTime()) / DAY); day < days; day++) {
      const dayStart = new Date(start.getTime() + day * DAY);
      advance(dayStart.getTime());
      // Canceled customers have left: no calls, no purchases.
      if (life.status !== 'canceled') {
        const calls = Math.floor(activity * (0.5 + random.next()));
        for (let n = 0; n < calls; n++) {
          const model = random.pick(models);
          events.push({
            type: 'usage',
            at: new Date(dayStart.getTime() + random.int(8, 22) * HOUR + random.int(0, HOUR - 1)),
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
            at: new Date(dayStart.getTime() + 10 * HOUR),
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
            at: new Date(dayStart.getTime() + 11 * HOUR),
            customerId,
            kind: 'coupon',
            amountMicros: 5n * CREDIT,
            expiresAt: new Date(dayStart.getTime() + 30 * DAY),
            key: `seed:${customerId}:coupon:${day}`,
            note: 'coupon WELCOME5',
          });
        }
      }
      const noon = dayStart.getTime() + 12 * HOUR;
      advance(noon);
      // Decisions a paying customer makes, at noon: another tier (at once), or to leave (at period end).
      if (life.status === 'active' && !life.cancelAtPeriodEnd) {
        const rank = tiers.indexOf(life.tier);
        const roll = random.next();
        const upgrade = part === 0 ? roll < UPGRADE_PER_DAY : part === 1 && day === days - 20;
        const downgrade = part === 0 ? roll > 1 - DOWNGRADE_PER_DAY : part === 2 && day === days - 15;
        if (upgrade && rank < tiers.length - 1) {
          life.tier = tiers[rank + 1] as Tier;
          save(noon, 'upgrade');
        } else if (downgrade && rank > 0) {
          life.tier = tiers[rank - 1] as Tier;
          save(noon, 'downgrade');
        } else if (part === 0 ? random.next() < CANCEL_PER_DAY : leaves) {
          leaves = false;
          life.cancelAtPeriodEnd = true;
          save(noon, 'cancel-scheduled');
        }
      }
      advance(dayStart.getTime() + DAY);
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
  /** Subscription versions saved. */
  subscriptions: number;
  tierChanges: number;
  paymentsFailed: number;
}

/**
 * Writes sample events into a ledger through its public API, in time order, with `setTime` moving
 * the clock the Tally was built with. Calls are priced as `tally.meter` prices them: a call with a
 * charge (managed paid models, BYOK with a platform fee) is recorded as usage, one that charges
 * nothing (free models, BYOK without a fee) goes to the call log; both in batches, each call at its
 * own time (a batch waits while other customers' events go ahead). Subscription states are saved as billing saves them (provider `sandbox`, versions 1, 2, 3…),
 * with the customer record's tier kept in step.
 */
export async function applySampleData(
  tally: Tally,
  events: SampleEvent[],
  setTime: (at: Date) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<ApplySummary> {
  const summary: ApplySummary = {
    customers: 0,
    grants: 0,
    usageCharged: 0,
    usageFree: 0,
    usageByok: 0,
    subscriptions: 0,
    tierChanges: 0,
    paymentsFailed: 0,
  };
  const tiers = new Map<string, string>();
  const subscriptions = new Map<string, SubscriptionRecord>();
  let batch: ChargeInput[] = [];
  let uncharged: UnchargedCallInput[] = [];
  // Customers with charges in the batch: their grants and tier changes must wait for those charges.
  const charging = new Set<string>();
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
    charging.clear();
  };
  for (const [index, event] of events.entries()) {
    // A charge depends only on its own customer's credit and tier, and runs at its own time, so the
    // batch runs on past other customers' events: fewer, larger batches, and the same entries.
    const changesCharges =
      charging.has(event.customerId) &&
      (event.type === 'grant' || (event.type === 'subscription' && event.tier !== tiers.get(event.customerId)));
    if (changesCharges) await flush();
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
          charging.add(event.customerId);
          batch.push({
            customerId: event.customerId,
            amountMicros: chargeMicros,
            idempotencyKey: event.key,
            at: event.at,
            usage: {
              model: event.model,
              inputTokens: event.inputTokens,
              outputTokens: event.outputTokens,
              keySource: event.keySource,
              providerCostNanoUsd: priced.providerCostNanoUsd,
              markupBps: byok ? 0 : priced.markupBps,
              catalogVersion: priced.catalogVersion,
            },
          });
        }
        if (batch.length + uncharged.length >= 500) await flush();
        break;
      }
      case 'subscription': {
        const previous = subscriptions.get(event.customerId) ?? null;
        const tier = tally.catalog.tiers.find((t) => t.id === event.tier);
        if (!tier) throw new Error(`sample subscription on unknown tier "${event.tier}"`);
        const paid = event.status === 'active' || event.status === 'past_due';
        const record: SubscriptionRecord = {
          customerId: event.customerId,
          tier: tier.id,
          status: event.status,
          interval: tier.interval,
          currentPeriodStart: event.currentPeriodStart,
          currentPeriodEnd: event.currentPeriodEnd,
          trialEnd: event.trialEnd,
          scheduledChange: event.scheduledChange,
          pastDueSince: event.pastDueSince,
          provider: 'sandbox',
          providerCustomerId: `cus_sbx_${event.customerId}`,
          // The provider's subscription exists from the first paid period on (a trial needs no card).
          providerSubscriptionId: previous?.providerSubscriptionId ?? (paid ? `sub_sbx_${event.customerId}` : null),
          providerStateAt: null,
          version: (previous?.version ?? 0) + 1,
          createdAt: previous?.createdAt ?? event.at,
          updatedAt: event.at,
        };
        subscriptions.set(event.customerId, await tally.store.saveSubscription(record, previous?.version ?? null));
        summary.subscriptions++;
        if (event.change === 'upgrade' || event.change === 'downgrade') summary.tierChanges++;
        // The customer record's tier follows the subscription's, as billing keeps it.
        if (tiers.get(event.customerId) !== tier.id) {
          await tally.customers.upsert({ customerId: event.customerId, tier: tier.id });
          tiers.set(event.customerId, tier.id);
        }
        break;
      }
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
