import { describe, expect, it } from 'vitest';
import type { SubscriptionRecord } from '../billing/types.js';
import { defineCatalog, sampleCatalog, sampleCatalogInput } from '../catalog/index.js';
import type { Catalog } from '../catalog/schema.js';
import type { UnchargedCallRecord } from '../ledger/calls.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { Entry } from '../ledger/types.js';
import { isFreeModel } from '../pricing/cost.js';
import { addInterval } from '../time/index.js';
import { createFakeClock } from './index.js';
import { applySampleData, generateSampleData, type SampleEvent } from './sample-data.js';

type UsageEvent = Extract<SampleEvent, { type: 'usage' }>;
type SubscriptionEvent = Extract<SampleEvent, { type: 'subscription' }>;

const DAY = 86_400_000;

async function everyLogged(tally: Tally): Promise<UnchargedCallRecord[]> {
  const all: UnchargedCallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await tally.listUncharged({
      from: '2000-01-01T00:00:00Z',
      to: '2100-01-01T00:00:00Z',
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

async function everyUsageEntry(tally: Tally): Promise<Entry[]> {
  const all: Entry[] = [];
  let cursor: string | undefined;
  do {
    const page = await tally.transactions({ kinds: ['usage'], limit: 500, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

// Enough customers that some bring their own keys (15 % of them) and use free models.
async function apply(catalog: Catalog, days = 20) {
  const clock = createFakeClock();
  const tally = createTally({ catalog, store: createMemoryStore(), clock });
  const events = generateSampleData({ seed: 7, customers: 40, days, catalog });
  const summary = await applySampleData(tally, events, (at) => clock.set(at));
  const calls = events.filter((e): e is UsageEvent => e.type === 'usage');
  return { tally, events, summary, calls, logged: await everyLogged(tally), entries: await everyUsageEntry(tally) };
}

const byTime = (a: Date, b: Date) => a.getTime() - b.getTime();

describe('generateSampleData', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = generateSampleData({ seed: 11, customers: 30, days: 40 });
    expect(generateSampleData({ seed: 11, customers: 30, days: 40 })).toEqual(a);
    expect(generateSampleData({ seed: 12, customers: 30, days: 40 })).not.toEqual(a);
    expect(a.every((e, i) => i === 0 || e.at.getTime() >= (a[i - 1] as SampleEvent).at.getTime())).toBe(true);
  });

  it('tells a subscription story: trials convert or end at the trial end, paid periods renew, changes keep the period', () => {
    const start = new Date('2026-08-01T00:00:00Z');
    const events = generateSampleData({ seed: 3, customers: 2000, days: 60, start });
    const end = start.getTime() + 60 * DAY;
    const stories = new Map<string, SubscriptionEvent[]>();
    for (const event of events) {
      if (event.type === 'subscription') stories.set(event.customerId, [...(stories.get(event.customerId) ?? []), event]);
    }
    expect((events[0] as SampleEvent).at.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect((events.at(-1) as SampleEvent).at.getTime()).toBeLessThan(end);
    expect(stories.size).toBe(2000);
    let trials = 0;
    let converted = 0;
    for (const story of stories.values()) {
      const [first, second] = story as [SubscriptionEvent, SubscriptionEvent | undefined];
      expect(first.change).toBe('start');
      if (first.status === 'trialing') {
        expect(first.trialEnd?.getTime()).toBe(first.at.getTime() + 14 * DAY);
        if (second) {
          trials++;
          // Within six hours after the trial's end: paying on the next tier, or canceled onto the first.
          expect(second.at.getTime() - (first.trialEnd as Date).getTime()).toBeGreaterThanOrEqual(0);
          expect(second.at.getTime() - (first.trialEnd as Date).getTime()).toBeLessThanOrEqual(6 * 3_600_000);
          if (second.change === 'conversion') {
            converted++;
            expect({ tier: second.tier, status: second.status }).toEqual({ tier: 'starter', status: 'active' });
          } else {
            expect({ change: second.change, tier: second.tier, status: second.status }).toEqual({
              change: 'cancellation',
              tier: 'trial',
              status: 'canceled',
            });
          }
        }
      }
      for (const [i, event] of story.entries()) {
        const before = story[i - 1];
        if (!before) continue;
        expect(event.at.getTime()).toBeGreaterThanOrEqual(before.at.getTime());
        if (event.change === 'renewal' || event.change === 'payment-failed') {
          // The next period starts where the last one ended, one month later.
          expect(event.at).toEqual(before.currentPeriodEnd);
          expect(event.currentPeriodStart).toEqual(before.currentPeriodEnd);
          expect(event.currentPeriodEnd).toEqual(addInterval(event.currentPeriodStart, 'month'));
          expect(event.tier).toBe(before.tier);
        }
        if (event.change === 'upgrade' || event.change === 'downgrade' || event.change === 'cancel-scheduled') {
          expect([event.currentPeriodStart, event.currentPeriodEnd]).toEqual([before.currentPeriodStart, before.currentPeriodEnd]);
          expect(before.status).toBe('active');
        }
        if (event.change === 'cancellation' && before.change === 'cancel-scheduled') expect(event.at).toEqual(before.currentPeriodEnd);
        if (event.change === 'reactivation') expect(before.status).toBe('canceled');
        if (event.change === 'recovery' || (event.change === 'cancellation' && before.status === 'past_due')) {
          // Paid within the grace (7 days in the sample catalog), or canceled when it ends.
          const since = (before.pastDueSince as Date).getTime();
          expect(event.at.getTime() - since).toBeLessThanOrEqual(7 * DAY);
          if (event.change === 'cancellation') expect(event.at.getTime() - since).toBe(7 * DAY);
        }
        if (event.status === 'canceled') expect(event.tier).toBe('trial');
      }
    }
    // About 60 % of the trials that ended convert.
    expect(trials).toBeGreaterThan(400);
    expect(converted / trials).toBeGreaterThan(0.55);
    expect(converted / trials).toBeLessThan(0.65);
    const changes = new Set([...stories.values()].flat().map((e) => e.change));
    expect([...changes].sort()).toEqual(
      [
        'cancel-scheduled',
        'cancellation',
        'conversion',
        'downgrade',
        'payment-failed',
        'reactivation',
        'recovery',
        'renewal',
        'start',
        'upgrade',
      ].sort(),
    );
  });
});

describe('applySampleData', () => {
  it('puts every call in one place: charged calls in the journal, free and BYOK calls in the call log at their own time', async () => {
    const { tally, summary, calls, logged, entries } = await apply(sampleCatalog);
    const byKey = new Map(calls.map((c) => [c.key, c]));
    expect(summary.usageFree).toBeGreaterThan(0);
    expect(summary.usageByok).toBeGreaterThan(0);
    expect(summary.usageCharged + summary.usageFree + summary.usageByok).toBe(calls.length);
    // The sample catalog has no BYOK fee: every BYOK call and every free call is logged, nothing else.
    expect(logged).toHaveLength(summary.usageFree + summary.usageByok);
    expect(new Set(logged.map((c) => c.idempotencyKey)).size).toBe(logged.length);
    for (const row of logged) {
      const call = byKey.get(row.idempotencyKey) as UsageEvent;
      expect(row).toMatchObject({
        customerId: call.customerId,
        model: call.model,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        keySource: call.keySource,
        free: isFreeModel(call.model, sampleCatalog.models[call.model]),
        at: call.at,
      });
      expect(row.free || row.keySource === 'byok').toBe(true);
    }
    // One usage entry per charged call here (no bucket split shows in the count of operations).
    expect(new Set(entries.map((e) => e.operationId)).size).toBe(summary.usageCharged);
    expect(entries.every((e) => e.usage?.keySource === 'managed')).toBe(true);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('stamps every call, charged or logged, with its own time', async () => {
    const { calls, logged, entries } = await apply(sampleCatalog);
    const operations = new Map(entries.map((e) => [e.operationId, e.createdAt]));
    expect([...operations.values(), ...logged.map((c) => c.at)].sort(byTime)).toEqual(calls.map((c) => c.at).sort(byTime));
    // Calls happen between 08:00 and 23:00, not at the time of the batch that wrote them.
    expect(new Set([...operations.values()].map((at) => at.getUTCHours())).size).toBeGreaterThan(10);
  });

  it("saves each customer's subscription history as billing would, with the customer's tier in step", async () => {
    const { tally, events, summary } = await apply(sampleCatalog, 75);
    const stories = events.filter((e): e is SubscriptionEvent => e.type === 'subscription');
    expect(summary.subscriptions).toBe(stories.length);
    expect(summary.tierChanges).toBe(stories.filter((e) => e.change === 'upgrade' || e.change === 'downgrade').length);
    expect(summary.paymentsFailed).toBeGreaterThan(0);
    const customers = new Set(events.filter((e) => e.type === 'customer').map((e) => e.customerId));
    for (const customerId of customers) {
      const story = stories.filter((e) => e.customerId === customerId);
      const history: SubscriptionRecord[] = await tally.store.subscriptionHistory(customerId);
      expect(history.map((r) => r.version)).toEqual(story.map((_, i) => i + 1));
      expect(history.map((r) => [r.updatedAt, r.tier, r.status, r.currentPeriodStart, r.currentPeriodEnd])).toEqual(
        story.map((e) => [e.at, e.tier, e.status, e.currentPeriodStart, e.currentPeriodEnd]),
      );
      expect(history.every((r) => r.provider === 'sandbox' && r.createdAt.getTime() === story[0]?.at.getTime())).toBe(true);
      expect(await tally.store.getSubscription(customerId)).toEqual(history.at(-1));
      expect((await tally.customers.get(customerId)).tier).toBe(history.at(-1)?.tier);
    }
    // Each kind of change happens in these 40 customers' 75 days.
    expect(new Set(stories.map((e) => e.change)).size).toBe(10);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('charges BYOK calls the platform fee when the catalog sets one, and logs only the free calls', async () => {
    const catalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps: 500 } });
    const { summary, logged, entries } = await apply(catalog);
    expect(summary.usageByok).toBeGreaterThan(0);
    expect(logged).toHaveLength(summary.usageFree);
    expect(logged.every((c) => c.free && c.keySource === 'managed')).toBe(true);
    const byok = entries.filter((e) => e.usage?.keySource === 'byok');
    expect(new Set(byok.map((e) => e.operationId)).size).toBe(summary.usageByok);
    expect(byok.every((e) => e.usage?.markupBps === 0)).toBe(true);
  });
});
