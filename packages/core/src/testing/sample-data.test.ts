import { describe, expect, it } from 'vitest';
import { defineCatalog, sampleCatalog, sampleCatalogInput } from '../catalog/index.js';
import type { Catalog } from '../catalog/schema.js';
import type { UnchargedCallRecord } from '../ledger/calls.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { Entry } from '../ledger/types.js';
import { isFreeModel } from '../pricing/cost.js';
import { createFakeClock } from './index.js';
import { applySampleData, generateSampleData, type SampleEvent } from './sample-data.js';

type UsageEvent = Extract<SampleEvent, { type: 'usage' }>;

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

async function apply(catalog: Catalog) {
  const clock = createFakeClock();
  const tally = createTally({ catalog, store: createMemoryStore(), clock });
  // Enough customers that some bring their own keys (15 % of them) and use free models.
  const events = generateSampleData({ seed: 7, customers: 40, days: 20, catalog });
  const summary = await applySampleData(tally, events, (at) => clock.set(at));
  const calls = events.filter((e): e is UsageEvent => e.type === 'usage');
  return { tally, summary, calls, logged: await everyLogged(tally), entries: await everyUsageEntry(tally) };
}

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
