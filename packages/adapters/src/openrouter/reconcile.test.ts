import {
  createMemoryStore,
  createTally,
  defineCatalog,
  type ModelPrice,
  sampleCatalogInput,
  TallyError,
  type TallyStore,
} from '@tally/core';

// A BYOK platform fee, so a BYOK call writes a (fee) entry that carries its provider cost.
const catalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps: 500 } });

import { tallyRejection } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterClient, type OpenRouterClient } from './client.js';
import { type ReconcileOptions, type ReconcileProgress, type ReconcileReport, reconcileProviderCosts } from './reconcile.js';
import { createOpenRouterFake, type OpenRouterFakeOptions } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const START = Date.parse('2026-03-01T00:00:00Z');
const SECOND = 1_000;

interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
}

function setup(fakeOptions: OpenRouterFakeOptions = {}) {
  const fake = createOpenRouterFake({ generationNotFoundPolls: 0, ...fakeOptions });
  server.use(...fake.handlers);
  const client = createOpenRouterClient({
    apiKey: fake.apiKey,
    baseUrl: fake.baseUrl,
    retry: { limit: 0 },
    generation: { attempts: 2, baseMs: 1, maxMs: 1 },
    sleep: async () => {},
  });
  let now = START;
  const clock = { now: () => new Date(now) };
  const store = createMemoryStore();
  const tally = createTally({ catalog, store, clock });
  let sequence = 0;

  /** Runs a completion on the fake (unless `generationId` is given) and meters it; the clock then moves 1 s. */
  async function call(
    customerId: string,
    model: string,
    usage: Usage,
    extra: { price?: ModelPrice; keySource?: 'managed' | 'byok'; generationId?: string | null } = {},
  ): Promise<{ generationId: string | null; operationId: string }> {
    await tally.customers.upsert({ customerId, tier: 'starter' });
    let generationId = extra.generationId === undefined ? null : extra.generationId;
    if (extra.generationId === undefined) {
      fake.nextUsage(usage);
      const response = await fetch(`${fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fake.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(200);
      generationId = (await response.json()).id as string;
    }
    const { charge } = await tally.meter({
      customerId,
      model,
      usage: { inputTokens: usage.promptTokens, cachedInputTokens: usage.cachedTokens ?? 0, outputTokens: usage.completionTokens },
      ...(extra.price ? { price: extra.price } : {}),
      ...(generationId !== null ? { generationId } : {}),
      ...(extra.keySource ? { keySource: extra.keySource } : {}),
      idempotencyKey: `call-${++sequence}`,
    });
    if (!charge) throw new Error('the call was not charged');
    now += SECOND;
    return { generationId, operationId: charge.operationId };
  }

  const generationLookups = () => fake.requests.filter((request) => request.path === '/generation');
  const run = (options: Partial<ReconcileOptions> = {}) =>
    reconcileProviderCosts({ store, client, from: new Date(START), to: new Date(START + 3_600 * SECOND), ...options });

  return {
    fake,
    client,
    store,
    tally,
    call,
    run,
    generationLookups,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const GPT_4O = catalog.models['openai/gpt-4o'] as ModelPrice;

describe('reconcileProviderCosts', () => {
  it('finds zero drift when every call was charged what OpenRouter billed', async () => {
    const t = setup();
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 194, completionTokens: 20, cachedTokens: 100 });
    await t.call('acme', 'openai/gpt-4o', { promptTokens: 1000, completionTokens: 100 });
    await t.call('globex', 'anthropic/claude-sonnet-4', { promptTokens: 3000, completionTokens: 250, cachedTokens: 1000 });

    const report = await t.run();
    // 94 × 0.00000015 + 100 × 0.000000075 + 20 × 0.0000006 = 0.0000336 USD
    // 1000 × 0.0000025 + 100 × 0.00001 = 0.0035 USD
    // 2000 × 0.000003 + 1000 × 0.0000003 + 250 × 0.000015 = 0.01005 USD
    const billed = 33_600n + 3_500_000n + 10_050_000n;
    expect(t.fake.generations().reduce((sum, generation) => sum + generation.costNanoUsd, 0n)).toBe(billed);
    expect(report.complete).toBe(true);
    expect(report.totals).toMatchObject({
      entriesScanned: 3,
      compared: 3,
      chargedNanoUsd: billed,
      reportedNanoUsd: billed,
      driftNanoUsd: 0n,
      driftPpm: 0n,
      beyondTolerance: 0,
      missing: 0,
      failed: 0,
      pending: 0,
      byokCalls: 0,
      withoutGenerationId: 0,
    });
    expect(report.mismatches).toEqual([]);
    expect(report.byModel.map((group) => [group.key, group.calls, group.driftNanoUsd])).toEqual([
      ['anthropic/claude-sonnet-4', 1, 0n],
      ['openai/gpt-4o', 1, 0n],
      ['openai/gpt-4o-mini', 1, 0n],
    ]);
    expect(report.byCustomer.map((group) => [group.key, group.calls, group.chargedNanoUsd])).toEqual([
      ['acme', 2, 3_533_600n],
      ['globex', 1, 10_050_000n],
    ]);
    expect(t.generationLookups()).toHaveLength(3);
  });

  it('reports the drift of a call charged from a stale price on its model and customer', async () => {
    const t = setup();
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 500, completionTokens: 50 });
    // Charged at an old input price of $2 per million tokens; OpenRouter billed $2.50.
    const stale = await t.call(
      'globex',
      'openai/gpt-4o',
      { promptTokens: 1000, completionTokens: 100 },
      { price: { ...GPT_4O, input: 2_000_000_000n } },
    );
    await t.call('globex', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 });

    const report = await t.run();
    expect(report.totals).toMatchObject({ compared: 3, driftNanoUsd: 500_000n, beyondTolerance: 1 });
    expect(report.totals.reportedNanoUsd - report.totals.chargedNanoUsd).toBe(500_000n);
    expect(report.mismatches).toEqual([
      {
        operationId: stale.operationId,
        customerId: 'globex',
        model: 'openai/gpt-4o',
        reportedModel: 'openai/gpt-4o',
        generationId: stale.generationId,
        createdAt: new Date(START + SECOND),
        chargedNanoUsd: 3_000_000n,
        reportedNanoUsd: 3_500_000n,
        driftNanoUsd: 500_000n,
        duplicateOf: null,
      },
    ]);
    // Largest |drift| first.
    expect(report.byModel[0]).toEqual({
      key: 'openai/gpt-4o',
      calls: 1,
      chargedNanoUsd: 3_000_000n,
      reportedNanoUsd: 3_500_000n,
      driftNanoUsd: 500_000n,
      driftPpm: 166_667n, // 500,000 ÷ 3,000,000 = 0.1666… → 166,666.67 ppm, rounded
      beyondTolerance: 1,
    });
    expect(report.byModel[1]).toMatchObject({ key: 'openai/gpt-4o-mini', calls: 2, driftNanoUsd: 0n, beyondTolerance: 0 });
    expect(report.byCustomer.map((group) => [group.key, group.driftNanoUsd, group.beyondTolerance])).toEqual([
      ['globex', 500_000n, 1],
      ['acme', 0n, 0],
    ]);
  });

  it('applies the tolerance to the absolute drift', async () => {
    const t = setup();
    // Charged more than billed: negative drift.
    await t.call('acme', 'openai/gpt-4o', { promptTokens: 1000, completionTokens: 100 }, { price: { ...GPT_4O, input: 3_000_000_000n } });
    const within = await t.run({ toleranceNanoUsd: 500_000n });
    expect(within.totals).toMatchObject({ driftNanoUsd: -500_000n, beyondTolerance: 0 });
    expect(within.mismatches).toEqual([]);
    expect(within.byModel[0]).toMatchObject({ driftNanoUsd: -500_000n, driftPpm: -125_000n, beyondTolerance: 0 });
    const beyond = await t.run({ toleranceNanoUsd: 499_999n });
    expect(beyond.totals.beyondTolerance).toBe(1);
    expect(beyond.mismatches.map((call) => call.driftNanoUsd)).toEqual([-500_000n]);
  });

  it('lists a generation OpenRouter does not know as missing, and other failed lookups as failed', async () => {
    const t = setup();
    const known = await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 });
    const unknown = await t.call('acme', 'openai/gpt-4o', { promptTokens: 1000, completionTokens: 100 }, { generationId: 'gen-unknown-1' });

    const report = await t.run();
    expect(report.totals).toMatchObject({ compared: 1, missing: 1, failed: 0, uncheckedChargedNanoUsd: 3_500_000n });
    expect(report.totals.chargedNanoUsd).toBe(report.byModel[0]?.chargedNanoUsd);
    expect(report.missing).toEqual([
      {
        operationId: unknown.operationId,
        customerId: 'acme',
        model: 'openai/gpt-4o',
        generationId: 'gen-unknown-1',
        createdAt: new Date(START + SECOND),
        chargedNanoUsd: 3_500_000n,
        error: { code: 'NOT_FOUND', message: expect.stringContaining('gen-unknown-1') },
      },
    ]);
    // Polled (2 attempts) before it was given up.
    expect(t.generationLookups().filter((request) => request.query.id === 'gen-unknown-1')).toHaveLength(2);

    // A rejected lookup is listed too, and the run goes on. With one lookup at a time the newest
    // call goes first: the 403 answers the unknown generation's lookup.
    t.fake.fail({ status: 403, times: 1, path: '/generation' });
    const again = await t.run({ concurrency: 1 });
    expect(again.complete).toBe(true);
    expect(again.totals).toMatchObject({ compared: 1, missing: 0, failed: 1, uncheckedChargedNanoUsd: 3_500_000n });
    expect(again.failed).toEqual([
      expect.objectContaining({ operationId: unknown.operationId, error: { code: 'PROVIDER_REJECTED', message: expect.any(String) } }),
    ]);
    expect(again.byModel.map((group) => group.key)).toEqual(['openai/gpt-4o-mini']);
    expect(known.generationId).not.toBeNull();
  });

  it('counts BYOK calls and calls without a generation id without comparing them', async () => {
    const t = setup();
    const byok = await t.call('acme', 'openai/gpt-4o', { promptTokens: 1000, completionTokens: 100 }, { keySource: 'byok' });
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 }, { generationId: null });
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 });

    const report = await t.run();
    expect(report.totals).toMatchObject({
      entriesScanned: 3,
      compared: 1,
      byokCalls: 1,
      byokProviderCostNanoUsd: 3_500_000n,
      withoutGenerationId: 1,
      driftNanoUsd: 0n,
    });
    expect(report.byModel.map((group) => group.key)).toEqual(['openai/gpt-4o-mini']);
    expect(t.generationLookups().map((request) => request.query.id)).not.toContain(byok.generationId);
    expect(t.generationLookups()).toHaveLength(1);
  });

  it('pages through the ledger, counts a call that wrote several entries once, and keeps to [from, to) and the customer', async () => {
    const t = setup();
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 }); // before `from`
    t.advance(60 * SECOND);
    const from = START + 61 * SECOND;
    // Drains two buckets, then runs into debt: three entries of one operation.
    await t.tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
    await t.tally.grant({ customerId: 'acme', kind: 'purchased', amountMicros: 1, idempotencyKey: 'grant-1' });
    await t.tally.grant({ customerId: 'acme', kind: 'coupon', amountMicros: 1, idempotencyKey: 'grant-2' });
    const split = await t.call(
      'acme',
      'openai/gpt-4o',
      { promptTokens: 1000, completionTokens: 100 },
      { price: { ...GPT_4O, input: 2_000_000_000n } },
    );
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 200, completionTokens: 20 });
    await t.call('globex', 'openai/gpt-4o-mini', { promptTokens: 300, completionTokens: 30 });
    await t.call('acme', 'google/gemini-2.0-flash-lite', { promptTokens: 400, completionTokens: 40 });
    const to = START + 65 * SECOND;
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 }); // at `to`: excluded

    const entries = await t.store.listEntries({ kinds: ['usage'], limit: 100 });
    expect(entries.items.filter((entry) => entry.operationId === split.operationId)).toHaveLength(3);

    const pages: number[] = [];
    const store: Pick<TallyStore, 'listEntries'> = {
      listEntries: async (query) => {
        const page = await t.store.listEntries(query);
        pages.push(page.items.length);
        return page;
      },
    };
    const progress: ReconcileProgress[] = [];
    const report = await t.run({ store, from: new Date(from), to: new Date(to), pageSize: 2, onProgress: (p) => progress.push(p) });
    // Six entries newest first: gemini, globex, mini, then the split call's three (across pages 2 and 3).
    expect(pages).toEqual([2, 2, 2]);
    expect(report.totals).toMatchObject({ entriesScanned: 6, compared: 4, driftNanoUsd: 500_000n, beyondTolerance: 1 });
    expect(report.mismatches.map((call) => call.operationId)).toEqual([split.operationId]);
    expect(report.byCustomer.map((group) => [group.key, group.calls])).toEqual([
      ['acme', 3],
      ['globex', 1],
    ]);
    expect(progress.at(-1)).toEqual({ pages: 3, entriesScanned: 6, calls: 4, checked: 4 });

    const acme = await t.run({ from: new Date(from), to: new Date(to), pageSize: 1, customerId: 'acme' });
    expect(acme.customerId).toBe('acme');
    expect(acme.totals).toMatchObject({ entriesScanned: 5, compared: 3, driftNanoUsd: 500_000n });
    expect(acme.byCustomer.map((group) => group.key)).toEqual(['acme']);
  });

  it('compares a generation charged by two operations once and shows the second charge as drift', async () => {
    const t = setup();
    const first = await t.call('acme', 'openai/gpt-4o', { promptTokens: 1000, completionTokens: 100 });
    // The same generation metered again under another idempotency key: a double charge.
    const second = await t.call(
      'acme',
      'openai/gpt-4o',
      { promptTokens: 1000, completionTokens: 100 },
      { generationId: first.generationId },
    );

    const report = await t.run();
    expect(report.totals).toMatchObject({
      compared: 2,
      chargedNanoUsd: 7_000_000n,
      reportedNanoUsd: 3_500_000n,
      driftNanoUsd: -3_500_000n,
      beyondTolerance: 1,
    });
    // The ledger lists newest first: the second operation is compared, the first is the duplicate.
    expect(report.mismatches).toEqual([
      expect.objectContaining({
        operationId: first.operationId,
        reportedNanoUsd: 0n,
        driftNanoUsd: -3_500_000n,
        duplicateOf: second.operationId,
      }),
    ]);
    expect(t.generationLookups()).toHaveLength(1);
  });

  it('keeps at most `concurrency` lookups in flight', async () => {
    for (const concurrency of [1, 3]) {
      const t = setup();
      for (let i = 0; i < 8; i++) await t.call(`customer-${i}`, 'openai/gpt-4o-mini', { promptTokens: 100 + i, completionTokens: 10 });
      t.fake.delay({ ms: 20, times: 8, path: '/generation' });
      let inFlight = 0;
      let most = 0;
      const client: Pick<OpenRouterClient, 'getGeneration'> = {
        async getGeneration(id) {
          inFlight++;
          most = Math.max(most, inFlight);
          try {
            return await t.client.getGeneration(id);
          } finally {
            inFlight--;
          }
        },
      };
      const report = await t.run({ client, concurrency });
      expect(report.totals.compared).toBe(8);
      expect(most).toBe(concurrency);
    }
  });

  it('stops on an outage with PROVIDER_UNAVAILABLE and the partial report', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100 + i, completionTokens: 10 });
    let answered = 0;
    const client: Pick<OpenRouterClient, 'getGeneration'> = {
      async getGeneration(id) {
        const generation = await t.client.getGeneration(id);
        if (++answered === 2) t.fake.outage(true);
        return generation;
      },
    };

    const error = await tallyRejection(t.run({ client, concurrency: 1 }));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(TallyError.is(error.cause) && error.cause.code).toBe('PROVIDER_UNAVAILABLE');
    const partial = error.details.report as ReconcileReport;
    expect(partial.complete).toBe(false);
    expect(partial.totals).toMatchObject({ compared: 2, pending: 3, missing: 0, failed: 0 });
    expect(partial.missing).toEqual([]);
    expect(partial.failed).toEqual([]);
    // Two answered lookups and the one that failed; none started after the outage was seen.
    expect(t.generationLookups().map((request) => request.status)).toEqual([200, 200, 500]);

    t.fake.outage(false);
    const report = await t.run();
    expect(report.complete).toBe(true);
    expect(report.totals).toMatchObject({ compared: 5, pending: 0, driftNanoUsd: 0n });
  });

  it('rejects bad options before reading anything', async () => {
    const t = setup();
    await t.call('acme', 'openai/gpt-4o-mini', { promptTokens: 100, completionTokens: 10 });
    const cases: Partial<ReconcileOptions>[] = [
      { concurrency: 0 },
      { concurrency: 1.5 },
      { toleranceNanoUsd: -1n },
      { pageSize: 0 },
      { pageSize: 501 },
      { from: new Date(START), to: new Date(START) },
      { from: new Date(Number.NaN) },
      { customerId: '' },
    ];
    for (const options of cases) {
      expect((await tallyRejection(t.run(options))).code).toBe('VALIDATION');
    }
    expect(t.generationLookups()).toHaveLength(0);
  });
});
