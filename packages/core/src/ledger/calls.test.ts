import { describe, expect, it } from 'vitest';
import { defineCatalog, sampleCatalogInput } from '../catalog/index.js';
import { TallyError } from '../errors/index.js';
import { createFakeClock } from '../testing/index.js';
import { createMemoryStore } from './memory-store.js';
import { createTally } from './tally.js';

// tally.meter and the Tally facade of the call log (docs/ledger.md, "Calls that charge nothing"); the
// store semantics are conformance cases (testing/conformance-calls.ts).

const NOW = '2026-11-05T10:00:00.000Z';
const usage = { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 500, reasoningTokens: 20 };
const FREE = 'meta-llama/llama-3.3-70b-instruct:free';

async function setup(platformFeeBps = 0) {
  const catalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps } });
  const clock = createFakeClock(NOW);
  const tally = createTally({ catalog, store: createMemoryStore(), clock });
  await tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
  await tally.grant({ customerId: 'acme', kind: 'purchased', amountMicros: 1_000_000n, idempotencyKey: 'g' });
  const all = async () => (await tally.listUncharged({ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', limit: 500 })).items;
  const usageEntries = async () => (await tally.transactions({ customerId: 'acme', kinds: ['usage'] })).items;
  return { tally, clock, catalog, all, usageEntries };
}

describe('tally.meter and the call log', () => {
  it('logs a free-model call once, with its tokens; a retry under the same key adds nothing', async () => {
    const { tally, catalog, all, usageEntries } = await setup();
    const first = await tally.meter({
      customerId: 'acme',
      model: FREE,
      usage,
      generationId: 'gen-1',
      endUserId: 'key_7',
      idempotencyKey: 'm1',
    });
    expect(first).toMatchObject({ charge: null, priced: { free: true, chargeMicros: 0n } });
    const expected = {
      id: '1',
      customerId: 'acme',
      endUserId: 'key_7',
      model: FREE,
      inputTokens: 1000,
      cachedInputTokens: 100,
      outputTokens: 500,
      reasoningTokens: 20,
      providerCostNanoUsd: 0n,
      keySource: 'managed',
      free: true,
      catalogVersion: catalog.version,
      generationId: 'gen-1',
      idempotencyKey: 'm1',
      at: new Date(NOW),
    };
    expect(await all()).toEqual([expected]);
    await tally.meter({ customerId: 'acme', model: FREE, usage: { ...usage, outputTokens: 900 }, idempotencyKey: 'm1' });
    expect(await all()).toEqual([expected]);
    expect(await usageEntries()).toEqual([]);
    expect((await tally.balance('acme')).balanceMicros).toBe(1_000_000n);
  });

  it('logs a BYOK call without a platform fee with its provider cost, not free', async () => {
    const { tally, all, usageEntries } = await setup(0);
    // gpt-4o-mini: 900 uncached × 150 + 100 cached × 75 + 500 output (reasoning at the output price) × 600 nano-USD.
    const { priced, charge } = await tally.meter({
      customerId: 'acme',
      model: 'openai/gpt-4o-mini',
      usage,
      keySource: 'byok',
      idempotencyKey: 'b1',
    });
    expect(charge).toBeNull();
    expect(priced.providerCostNanoUsd).toBe(900n * 150n + 100n * 75n + 500n * 600n);
    await tally.meter({ customerId: 'acme', model: 'openai/gpt-4o-mini', usage, keySource: 'byok', idempotencyKey: 'b1' });
    expect(await all()).toMatchObject([
      { keySource: 'byok', free: false, providerCostNanoUsd: priced.providerCostNanoUsd, inputTokens: 1000, idempotencyKey: 'b1' },
    ]);
    expect(await usageEntries()).toEqual([]);
  });

  it('logs nothing for a charged call: managed, or BYOK with a platform fee', async () => {
    const managed = await setup(0);
    const charged = await managed.tally.meter({ customerId: 'acme', model: 'openai/gpt-4o-mini', usage, idempotencyKey: 'c1' });
    expect(charged.charge?.entries[0]?.usage?.model).toBe('openai/gpt-4o-mini');
    expect(await managed.all()).toEqual([]);
    const feed = await setup(500);
    const fee = await feed.tally.meter({ customerId: 'acme', model: 'openai/gpt-4o-mini', usage, keySource: 'byok', idempotencyKey: 'c2' });
    expect(fee.charge?.chargedMicros).toBeGreaterThan(0n);
    expect(await feed.all()).toEqual([]);
    expect(await feed.usageEntries()).toHaveLength(1);
  });

  it('refuses an unknown customer before logging anything', async () => {
    const { tally, all } = await setup();
    await expect(tally.meter({ customerId: 'ghost', model: FREE, usage, idempotencyKey: 'x' })).rejects.toSatisfy((e) =>
      TallyError.is(e, 'NOT_FOUND'),
    );
    expect(await all()).toEqual([]);
  });
});

describe('tally.recordUncharged and tally.listUncharged', () => {
  it('fills defaults (now, managed, the catalog version, no cache or reasoning) and takes token counts as apps have them', async () => {
    const { tally, catalog, clock, all } = await setup();
    const n = await tally.recordUncharged([
      { customerId: 'acme', model: FREE, inputTokens: '12', outputTokens: 3n, providerCostNanoUsd: 0, free: true, idempotencyKey: 'r1' },
      {
        customerId: 'acme',
        model: 'openai/gpt-4o-mini',
        inputTokens: 10,
        outputTokens: 5,
        providerCostNanoUsd: '4500',
        keySource: 'byok',
        free: false,
        catalogVersion: 'older',
        generationId: 'gen-9',
        idempotencyKey: 'r2',
        at: '2026-11-04T23:59:59.999Z',
      },
    ]);
    expect(n).toBe(2);
    clock.advance(60_000);
    expect(await tally.recordUncharged([])).toBe(0);
    expect(await all()).toMatchObject([
      {
        idempotencyKey: 'r2',
        keySource: 'byok',
        catalogVersion: 'older',
        providerCostNanoUsd: 4500n,
        at: new Date('2026-11-04T23:59:59.999Z'),
      },
      {
        idempotencyKey: 'r1',
        inputTokens: 12,
        cachedInputTokens: 0,
        outputTokens: 3,
        reasoningTokens: 0,
        keySource: 'managed',
        endUserId: null,
        generationId: null,
        catalogVersion: catalog.version,
        at: new Date(NOW),
      },
    ]);
  });

  it('refuses bad input with VALIDATION and writes nothing', async () => {
    const { tally, all } = await setup();
    const good = {
      customerId: 'acme',
      model: FREE,
      inputTokens: 1,
      outputTokens: 1,
      providerCostNanoUsd: 0,
      free: true,
      idempotencyKey: 'ok',
    };
    for (const bad of [
      { inputTokens: 2n ** 53n },
      { outputTokens: -1 },
      { inputTokens: '1.5' },
      { providerCostNanoUsd: -1 },
      { at: 'yesterday' },
      { free: undefined },
    ]) {
      await expect(tally.recordUncharged([good, { ...good, idempotencyKey: 'bad', ...bad } as typeof good])).rejects.toSatisfy((e) =>
        TallyError.is(e, 'VALIDATION'),
      );
    }
    await expect(tally.recordUncharged('x' as unknown as [])).rejects.toSatisfy((e) => TallyError.is(e, 'VALIDATION'));
    await expect(tally.listUncharged({ from: 'soon', to: NOW })).rejects.toSatisfy((e) => TallyError.is(e, 'VALIDATION'));
    expect(await all()).toEqual([]);
  });

  it('pages with a default limit of 50', async () => {
    const { tally } = await setup();
    const calls = Array.from({ length: 51 }, (_, i) => ({
      customerId: 'acme',
      model: FREE,
      inputTokens: i,
      outputTokens: 0,
      providerCostNanoUsd: 0,
      free: true,
      idempotencyKey: `p${i}`,
      at: new Date(Date.parse(NOW) + i),
    }));
    await tally.recordUncharged(calls);
    const first = await tally.listUncharged({ from: NOW, to: '2026-11-06T00:00:00Z' });
    expect(first.items.map((c) => c.inputTokens)).toEqual(calls.slice(0, 50).map((c) => c.inputTokens));
    const rest = await tally.listUncharged({ from: NOW, to: '2026-11-06T00:00:00Z', cursor: first.nextCursor as string });
    expect(rest).toMatchObject({ items: [{ idempotencyKey: 'p50' }], nextCursor: null });
  });
});
