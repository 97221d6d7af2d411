import { describe, expect, it } from 'vitest';
import { defineCatalog, sampleCatalogInput } from '../catalog/index.js';
import { createMemoryStore } from './memory-store.js';
import { createTally } from './tally.js';

// gpt-4o-mini in the sample catalog: $0.15 / M input, $0.60 / M output. 1,000 in + 500 out = $0.00045 = 450 micros.
const usage = { inputTokens: 1000, outputTokens: 500 };

async function setup(platformFeeBps: number) {
  const catalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps } });
  const tally = createTally({ catalog, store: createMemoryStore() });
  await tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
  await tally.grant({ customerId: 'acme', kind: 'purchased', amountMicros: 1_000_000n, idempotencyKey: 'g' });
  return tally;
}

describe('tally.meter', () => {
  it('charges a managed call its cost with the tier markup (starter +10 %)', async () => {
    const tally = await setup(0);
    const { priced, charge } = await tally.meter({ customerId: 'acme', model: 'openai/gpt-4o-mini', usage, idempotencyKey: 'm1' });
    expect(priced.providerCostNanoUsd).toBe(450_000n);
    expect(charge?.entries[0]?.amountMicros).toBe(495n);
    expect(charge?.entries[0]?.usage?.markupBps).toBe(1000);
  });

  it('charges a BYOK call nothing without a platform fee, and only the fee (unmarked) with one', async () => {
    const free = await setup(0);
    const none = await free.meter({ customerId: 'acme', model: 'openai/gpt-4o-mini', usage, keySource: 'byok', idempotencyKey: 'm2' });
    expect(none.charge).toBeNull();
    expect((await free.balance('acme')).balanceMicros).toBe(1_000_000n);

    const feed = await setup(500);
    const { charge } = await feed.meter({
      customerId: 'acme',
      model: 'openai/gpt-4o-mini',
      usage,
      keySource: 'byok',
      idempotencyKey: 'm3',
    });
    // 5 % of 450 micros = 22.5 → 23, half-up.
    expect(charge?.entries[0]?.amountMicros).toBe(23n);
    expect(charge?.entries[0]?.usage).toMatchObject({ keySource: 'byok', markupBps: 0, providerCostNanoUsd: 450_000n });
    expect((await feed.audit()).ok).toBe(true);
  });
});
