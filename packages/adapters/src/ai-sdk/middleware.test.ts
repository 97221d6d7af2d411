import {
  APICallError,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
} from '@ai-sdk/provider';
import {
  createByokKeys,
  createKeyVault,
  createMemoryStore,
  createTally,
  defineCatalog,
  sampleCatalog,
  sampleCatalogInput,
  type Tally,
  TallyError,
} from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { generateText, isStepCount, jsonSchema, streamText, tool, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { type MeteredCall, modelFor, routeModel, type TallyMiddlewareOptions, tallyMiddleware } from './index.js';

// Prices of the sample catalog, in femto-USD per token (1e-15 USD), copied by hand from sample.ts.
const MINI = { input: 150_000_000n, cached: 75_000_000n, output: 600_000_000n };
const FEMTO_PER_MICRO = 1_000_000_000n; // 1 credit = 1 USD, so 1 micro = 1e-6 USD = 1e9 femto-USD
const NANO_PER_MICRO = 1_000n;

/** amount × (1 + bps/10000) in micros, rounded half-up once: the expectation, computed without priceCall. */
function marked(amount: bigint, perMicro: bigint, bps: bigint): bigint {
  const numerator = amount * (10_000n + bps);
  const denominator = perMicro * 10_000n;
  return (numerator * 2n + denominator) / (denominator * 2n);
}

const usage = (input: number, cached: number, output: number, reasoning = 0): LanguageModelV4Usage => ({
  inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: undefined },
  outputTokens: { total: output, text: output - reasoning, reasoning },
});

const stop = { unified: 'stop', raw: 'stop' } as const;

function generated(u: LanguageModelV4Usage, extra: Partial<LanguageModelV4GenerateResult> = {}): LanguageModelV4GenerateResult {
  return { content: [{ type: 'text', text: 'Hello' }], finishReason: stop, usage: u, warnings: [], response: { id: 'gen-abc' }, ...extra };
}

/** A provider stream: the parts, then either the end or (hang) nothing until the consumer cancels. */
function streamOf(parts: LanguageModelV4StreamPart[], options: { hang?: boolean; fail?: Error } = {}) {
  const state = { cancelled: false };
  const stream = new ReadableStream<LanguageModelV4StreamPart>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      if (options.fail) controller.error(options.fail);
      else if (!options.hang) controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

const textParts = (text: string[], u: LanguageModelV4Usage | undefined): LanguageModelV4StreamPart[] => [
  { type: 'stream-start', warnings: [] },
  { type: 'response-metadata', id: 'gen-stream', modelId: 'openai/gpt-4o-mini' },
  { type: 'text-start', id: 't' },
  ...text.map((delta): LanguageModelV4StreamPart => ({ type: 'text-delta', id: 't', delta })),
  { type: 'text-end', id: 't' },
  ...(u ? [{ type: 'finish', finishReason: stop, usage: u } as const] : []),
];

async function setup(tier = 'starter', micros = 10_000_000n, clock = createFakeClock('2026-11-05T00:00:00Z')) {
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore(), clock });
  await tally.customers.upsert({ customerId: 'acme', tier });
  if (micros > 0n) await tally.grant({ customerId: 'acme', kind: 'allowance', amountMicros: micros, idempotencyKey: 'grant' });
  return { tally, clock, start: micros };
}

function metered(tally: Tally, model: MockLanguageModelV4, extra: Partial<TallyMiddlewareOptions> = {}) {
  const calls: MeteredCall[] = [];
  const middleware = tallyMiddleware({ tally, customerId: 'acme', onCharge: (call) => void calls.push(call), ...extra });
  return { model: wrapLanguageModel({ model, middleware }), calls };
}

async function captures(tally: Tally) {
  return (await tally.transactions({ customerId: 'acme', kinds: ['capture', 'usage'] })).items;
}

async function expectClean(tally: Tally) {
  const audit = await tally.audit();
  expect(audit.issues).toEqual([]);
  expect(audit.ok).toBe(true);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

// The prompt `'hi'` as the AI SDK sends it: one user message. By the documented estimate: 2 ASCII
// characters → 1 token, + 4 per message, + 3 per call = 8 tokens.
const HI_TOKENS = 8n;

describe('tallyMiddleware: generate', () => {
  it('reserves the worst case before the call, then captures tokens × price with the tier markup', async () => {
    const { tally, start } = await setup('starter');
    let heldDuringCall = -1n;
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        heldDuringCall = (await tally.balance('acme')).heldMicros;
        return generated(usage(1000, 200, 500));
      },
    });
    const { model, calls } = metered(tally, mock, { endUserId: 'user-7' });
    const result = await generateText({ model, prompt: 'hi', maxOutputTokens: 100 });
    expect(result.text).toBe('Hello');

    // Worst case: 8 prompt tokens at the input price + 100 output tokens at the output price, +10 %.
    expect(heldDuringCall).toBe(marked(HI_TOKENS * MINI.input + 100n * MINI.output, FEMTO_PER_MICRO, 1000n));
    expect(heldDuringCall).toBe(67n);
    // Actual: 800 uncached + 200 cached input, 500 output = 435,000,000,000 femto = 435 micros, +10 % = 478.5 → 479.
    const femto = 800n * MINI.input + 200n * MINI.cached + 500n * MINI.output;
    const expected = marked(femto, FEMTO_PER_MICRO, 1000n);
    expect(expected).toBe(479n);

    const balance = await tally.balance('acme');
    expect(balance.balanceMicros).toBe(start - expected);
    expect(balance.heldMicros).toBe(0n);
    const [entry, ...more] = await captures(tally);
    expect(more).toEqual([]);
    expect(entry?.amountMicros).toBe(expected);
    expect(entry?.description).toBe('ai-sdk generate openai/gpt-4o-mini for user-7');
    expect(entry?.usage).toEqual({
      model: 'openai/gpt-4o-mini',
      inputTokens: 1000n,
      cachedInputTokens: 200n,
      outputTokens: 500n,
      reasoningTokens: 0n,
      providerCostNanoUsd: 435_000n,
      markupBps: 1000,
      catalogVersion: 'sample-2026-11',
      generationId: 'gen-abc',
      keySource: 'managed',
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: 'completed', chargeMicros: expected, costSource: 'computed', estimated: false, step: 0 });
    await expectClean(tally);
  });

  it('prefers the provider-reported cost (OpenRouter usage.cost), converted exactly', async () => {
    const { tally, start } = await setup('professional');
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: generated(usage(1000, 0, 500), { providerMetadata: { openrouter: { usage: { cost: 0.000435 } } } }),
    });
    const { model, calls } = metered(tally, mock);
    await generateText({ model, prompt: 'hi' });
    // $0.000435 = 435,000 nano-USD = 435 micros, +5 % = 456.75 → 457 (tokens × price would be 450 → 472.5).
    const expected = marked(435_000n, NANO_PER_MICRO, 500n);
    expect(expected).toBe(457n);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    expect(calls[0]).toMatchObject({ costSource: 'reported', providerCostNanoUsd: 435_000n, markupBps: 500, chargeMicros: 457n });
    await expectClean(tally);
  });

  it.each([
    ['trial', 1000n],
    ['starter', 1000n],
    ['professional', 500n],
    ['enterprise', 0n],
  ])('charges the %s tier its markup (%i bps)', async (tier, bps) => {
    const { tally } = await setup(tier, tier === 'enterprise' ? 0n : 5_000_000n);
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1000, 200, 500)) });
    const { model, calls } = metered(tally, mock);
    await generateText({ model, prompt: 'hi' });
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, bps);
    const [entry] = await captures(tally);
    expect(entry?.amountMicros).toBe(expected);
    expect(entry?.usage?.markupBps).toBe(Number(bps));
    expect(calls[0]?.chargeMicros).toBe(expected);
    if (tier === 'enterprise') {
      // Unlimited: recorded in full, drawn from system:unlimited, never blocked (no credit was granted).
      expect(entry?.fromAccount).toBe('system:unlimited');
      expect((await tally.balance('acme')).balanceMicros).toBe(0n);
    }
    await expectClean(tally);
  });

  it('refuses with INSUFFICIENT_CREDITS before the provider is called', async () => {
    const { tally } = await setup('starter', 50n);
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1, 0, 1)) });
    const { model, calls } = metered(tally, mock);
    const error = await rejection(generateText({ model, prompt: 'hi', maxOutputTokens: 100 }));
    expect(TallyError.is(error, 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(0);
    expect(calls).toHaveLength(0);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: 50n, heldMicros: 0n });
    await expectClean(tally);
  });

  it('releases the hold when the provider fails: nothing is charged', async () => {
    const { tally, start } = await setup();
    let holdsDuringCall = 0;
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        holdsDuringCall = (await tally.balance('acme')).activeHolds;
        throw new APICallError({
          message: 'Insufficient credits',
          url: 'https://openrouter.ai/api/v1/chat/completions',
          requestBodyValues: {},
          statusCode: 402,
          isRetryable: false,
        });
      },
    });
    const { model, calls } = metered(tally, mock);
    const error = await rejection(generateText({ model, prompt: 'hi' }));
    expect(APICallError.isInstance(error)).toBe(true);
    expect(holdsDuringCall).toBe(1);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n, activeHolds: 0 });
    expect(await captures(tally)).toEqual([]);
    expect(calls).toEqual([]);
    await expectClean(tally);
  });

  it("survives the AI SDK's own retry: the failed attempt is released, the retry charged once", async () => {
    const { tally, start } = await setup();
    let attempt = 0;
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        attempt += 1;
        if (attempt === 1) {
          throw new APICallError({
            message: 'Rate limit exceeded',
            url: 'https://openrouter.ai/api/v1/chat/completions',
            requestBodyValues: {},
            statusCode: 429,
            responseHeaders: { 'retry-after-ms': '0' },
            isRetryable: true,
          });
        }
        return generated(usage(1000, 200, 500));
      },
    });
    const { model, calls } = metered(tally, mock, { idempotencyKey: 'req-retry' });
    await generateText({ model, prompt: 'hi', maxRetries: 1 });
    expect(attempt).toBe(2);
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    expect(await captures(tally)).toHaveLength(1);
    expect(calls.map((call) => call.step)).toEqual([0]);
    await expectClean(tally);
  });

  it('charges a two-step tool loop twice, once per model call', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: [
        generated(usage(300, 0, 40), {
          content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Oslo"}' }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          response: { id: 'gen-step-1' },
        }),
        generated(usage(400, 256, 30), { response: { id: 'gen-step-2' } }),
      ],
    });
    const { model, calls } = metered(tally, mock, { idempotencyKey: 'req-tools' });
    const weather = tool({
      description: 'Weather of a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => `${city}: 4 °C`,
    });
    const result = await generateText({ model, prompt: 'Weather in Oslo?', tools: { weather }, stopWhen: isStepCount(3) });
    expect(result.steps).toHaveLength(2);
    expect(mock.doGenerateCalls).toHaveLength(2);

    // 300 × 150 + 40 × 600 nano = 69 micros, +10 % = 75.9 → 76; 144 × 150 + 256 × 75 + 30 × 600 nano = 58.8 micros → 64.68 → 65.
    const first = marked(300n * MINI.input + 40n * MINI.output, FEMTO_PER_MICRO, 1000n);
    const second = marked(144n * MINI.input + 256n * MINI.cached + 30n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect([first, second]).toEqual([76n, 65n]);
    const entries = await captures(tally);
    expect(entries.map((e) => e.amountMicros).sort()).toEqual([first, second].sort());
    expect(entries.map((e) => e.usage?.generationId).sort()).toEqual(['gen-step-1', 'gen-step-2']);
    expect(new Set(entries.map((e) => e.holdId)).size).toBe(2);
    expect(calls.map((call) => [call.step, call.chargeMicros])).toEqual([
      [0, first],
      [1, second],
    ]);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - first - second);
    await expectClean(tally);
  });

  it('charges nothing for a free model and still reports its usage', async () => {
    const { tally } = await setup('starter', 0n);
    const mock = new MockLanguageModelV4({ modelId: 'meta-llama/llama-3.3-70b-instruct:free', doGenerate: generated(usage(900, 0, 300)) });
    const { model, calls } = metered(tally, mock);
    await generateText({ model, prompt: 'hi' });
    expect(mock.doGenerateCalls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      free: true,
      chargeMicros: 0n,
      markupBps: 0,
      inputTokens: 900,
      outputTokens: 300,
      providerCostNanoUsd: 0n,
      holdId: null,
      ledger: null,
    });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
    await expectClean(tally);
  });

  it('charges BYOK calls 0 credits and reports the cost the customer key paid', async () => {
    const { tally } = await setup('starter', 0n);
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: generated(usage(194, 100, 20, 8), {
        providerMetadata: { openrouter: { usage: { cost: 0.000021, costDetails: { upstreamInferenceCost: 0.00042 } } } },
      }),
    });
    const { model, calls } = metered(tally, mock, { keySource: 'byok' });
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]).toMatchObject({
      keySource: 'byok',
      chargeMicros: 0n,
      providerCostNanoUsd: 420_000n,
      costSource: 'reported',
      inputTokens: 194,
      cachedInputTokens: 100,
      outputTokens: 20,
      reasoningTokens: 8,
      ledger: null,
    });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
    await expectClean(tally);
  });

  it('refuses an unpriced model with UNKNOWN_MODEL before anything is reserved or called', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({ modelId: 'acme/secret-model', doGenerate: generated(usage(1, 0, 1)) });
    const { model } = metered(tally, mock);
    expect(TallyError.is(await rejection(generateText({ model, prompt: 'hi' })), 'UNKNOWN_MODEL')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(0);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n });
  });

  it('takes prices from the `price` option (e.g. a live OpenRouter catalog)', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({ modelId: 'acme/secret-model', doGenerate: generated(usage(1000, 0, 1000)) });
    const asked: string[] = [];
    const { model } = metered(tally, mock, {
      price: async (id) => {
        asked.push(id);
        return { input: 1_000_000_000n, output: 2_000_000_000n };
      },
    });
    await generateText({ model, prompt: 'hi' });
    expect(asked).toEqual(['acme/secret-model']);
    // 1000 × $0.000001 + 1000 × $0.000002 = $0.003 = 3000 micros, +10 % = 3300.
    expect((await tally.balance('acme')).balanceMicros).toBe(start - marked(3_000_000_000_000n, FEMTO_PER_MICRO, 1000n));
  });

  it('records the usage when the call outlives its hold (HOLD_EXPIRED): never lost, never refused', async () => {
    const { tally, clock, start } = await setup();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        clock.advance(61_000);
        return generated(usage(1000, 200, 500));
      },
    });
    const { model, calls } = metered(tally, mock, { holdTtlMs: 60_000 });
    await generateText({ model, prompt: 'hi' });
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    const [entry] = await captures(tally);
    expect(entry?.kind).toBe('usage');
    expect(entry?.amountMicros).toBe(expected);
    expect(calls[0]?.chargeMicros).toBe(expected);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - expected, heldMicros: 0n });
    await expectClean(tally);
  });
});

describe('tallyMiddleware: idempotency', () => {
  it('charges a retried request once: the same key replays, the provider is not called again', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1000, 200, 500)) });
    const first = metered(tally, mock, { idempotencyKey: 'req-42' });
    await generateText({ model: first.model, prompt: 'hi' });
    const retry = metered(tally, mock, { idempotencyKey: 'req-42' });
    const error = await rejection(generateText({ model: retry.model, prompt: 'hi' }));
    expect(TallyError.is(error, 'CONFLICT')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(1);
    expect(await captures(tally)).toHaveLength(1);
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    // Another key is another request.
    await generateText({ model: metered(tally, mock, { idempotencyKey: 'req-43' }).model, prompt: 'hi' });
    expect((await tally.balance('acme')).balanceMicros).toBe(start - 2n * expected);
    await expectClean(tally);
  });

  it('serves and charges the retry of a request whose first attempt failed', async () => {
    const { tally, start } = await setup();
    const failing = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        throw new Error('socket hang up');
      },
    });
    await rejection(generateText({ model: metered(tally, failing, { idempotencyKey: 'req-9' }).model, prompt: 'hi', maxRetries: 0 }));
    const working = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1000, 200, 500)) });
    await generateText({ model: metered(tally, working, { idempotencyKey: 'req-9' }).model, prompt: 'hi' });
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    // A third try with the key finds the step paid.
    const third = await rejection(generateText({ model: metered(tally, working, { idempotencyKey: 'req-9' }).model, prompt: 'hi' }));
    expect(TallyError.is(third, 'CONFLICT')).toBe(true);
    await expectClean(tally);
  });

  it('two concurrent requests with one key share one hold: the step is charged once, the loser gets IDEMPOTENCY_CONFLICT', async () => {
    const { tally, start } = await setup();
    let entered = 0;
    const both = deferred<void>();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        const mine = ++entered;
        if (mine === 2) both.resolve();
        await both.promise;
        // The two answers differ, so the second capture is a different request under the same key.
        return generated(mine === 1 ? usage(1000, 200, 500) : usage(1000, 200, 400));
      },
    });
    const results = await Promise.allSettled([
      generateText({ model: metered(tally, mock, { idempotencyKey: 'req-twice' }).model, prompt: 'hi' }),
      generateText({ model: metered(tally, mock, { idempotencyKey: 'req-twice' }).model, prompt: 'hi' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(TallyError.is(lost.reason, 'IDEMPOTENCY_CONFLICT')).toBe(true);
    const entries = await captures(tally);
    expect(entries).toHaveLength(1);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - (entries[0]?.amountMicros ?? 0n), heldMicros: 0n });
    await expectClean(tally);
  });

  it('refuses a retry under the same key whose worst case differs (another prompt) with IDEMPOTENCY_CONFLICT', async () => {
    const { tally, start } = await setup();
    const failing = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        throw new Error('socket hang up');
      },
    });
    await rejection(generateText({ model: metered(tally, failing, { idempotencyKey: 'req-7' }).model, prompt: 'hi', maxRetries: 0 }));
    const working = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1, 0, 1)) });
    const error = await rejection(
      generateText({ model: metered(tally, working, { idempotencyKey: 'req-7' }).model, prompt: 'a different question' }),
    );
    expect(TallyError.is(error, 'IDEMPOTENCY_CONFLICT')).toBe(true);
    expect(working.doGenerateCalls).toHaveLength(0);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n });
  });

  it('settles the hold of a first attempt that died mid-call exactly once', async () => {
    const { tally, start } = await setup();
    const started = deferred<void>();
    const hanging = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: () => {
        started.resolve();
        return new Promise<never>(() => {});
      },
    });
    void generateText({ model: metered(tally, hanging, { idempotencyKey: 'req-dead' }).model, prompt: 'hi' });
    await started.promise;
    expect((await tally.balance('acme')).activeHolds).toBe(1);
    const working = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1000, 200, 500)) });
    const retry = metered(tally, working, { idempotencyKey: 'req-dead' });
    await generateText({ model: retry.model, prompt: 'hi' });
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - expected, heldMicros: 0n, activeHolds: 0 });
    expect(await captures(tally)).toHaveLength(1);
    await expectClean(tally);
  });
});

describe('tallyMiddleware: stream', () => {
  it('captures the usage of the finish part when the stream is consumed', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doStream: async () => ({ stream: streamOf(textParts(['Hel', 'lo'], usage(1000, 200, 500))).stream }),
    });
    const { model, calls } = metered(tally, mock);
    const result = streamText({ model, prompt: 'hi' });
    expect(await result.text).toBe('Hello');
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - expected, heldMicros: 0n });
    const [entry] = await captures(tally);
    expect(entry?.usage).toMatchObject({ generationId: 'gen-stream', inputTokens: 1000n, outputTokens: 500n });
    expect(calls[0]).toMatchObject({ operation: 'stream', outcome: 'completed', estimated: false });
    await expectClean(tally);
  });

  it('on abort (cancel, no finish) charges the prompt and the output seen, estimated, exactly once', async () => {
    const { tally, start } = await setup();
    const provider = streamOf(textParts(['Hello wor'], undefined), { hang: true });
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: provider.stream }) });
    const settled = deferred<MeteredCall>();
    const calls: MeteredCall[] = [];
    const middleware = tallyMiddleware({
      tally,
      customerId: 'acme',
      onCharge: (call) => {
        calls.push(call);
        settled.resolve(call);
      },
    });
    const controller = new AbortController();
    const result = streamText({ model: wrapLanguageModel({ model: mock, middleware }), prompt: 'hi', abortSignal: controller.signal });
    const seen: string[] = [];
    for await (const part of result.fullStream) {
      seen.push(part.type);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(seen).toContain('abort');
    const call = await settled.promise;
    // 8 prompt tokens (estimated) + "Hello wor": 9 ASCII characters → 3 tokens. 8 × 150 + 3 × 600 nano = 3 micros, +10 % = 3.3 → 3.
    const expected = marked(HI_TOKENS * MINI.input + 3n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(call).toMatchObject({ outcome: 'aborted', estimated: true, inputTokens: 8, outputTokens: 3, chargeMicros: expected });
    expect(provider.state.cancelled).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(1);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - expected, heldMicros: 0n, activeHolds: 0 });
    expect(await captures(tally)).toHaveLength(1);
    await expectClean(tally);
  });

  it('reads at most one part ahead of its consumer: a disconnect is charged for the parts it read, no more', async () => {
    const { tally } = await setup();
    const parts = textParts(['aaa', 'bbb', 'ccc', 'ddd', 'eee'], undefined);
    // A provider that makes each part only when asked, then nothing (the consumer leaves first).
    let made = 0;
    const provider = new ReadableStream<LanguageModelV4StreamPart>(
      {
        pull(controller) {
          const part = parts[made];
          if (part === undefined) return;
          made += 1;
          controller.enqueue(part);
        },
      },
      { highWaterMark: 0 },
    );
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: provider }) });
    const { model, calls } = metered(tally, mock);
    const { stream } = await model.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    const reader = stream.getReader();
    const read: string[] = [];
    for (let i = 0; i < 5; i++) read.push(((await reader.read()).value as LanguageModelV4StreamPart).type);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(read).toEqual(['stream-start', 'response-metadata', 'text-start', 'text-delta', 'text-delta']);
    expect(made, 'the five parts read and one ahead').toBe(6);
    await reader.cancel();
    // Seen: "aaa", "bbb" and the part read ahead, "ccc": 9 ASCII characters → 3 tokens.
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: 'aborted', estimated: true, outputTokens: 3 });
    expect(made).toBe(6);
    await expectClean(tally);
  });

  it('releases on an error part when the provider reported no usage (OpenRouter mid-stream error)', async () => {
    const { tally, start } = await setup();
    const parts: LanguageModelV4StreamPart[] = [
      ...textParts(['Hel'], undefined),
      { type: 'error', error: { code: 429, message: 'Rate limit exceeded' } },
      { type: 'finish', finishReason: { unified: 'error', raw: 'error' }, usage: usageUnknown() },
    ];
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: streamOf(parts).stream }) });
    const { model, calls } = metered(tally, mock);
    const errors: unknown[] = [];
    const result = streamText({ model, prompt: 'hi', onError: ({ error }) => void errors.push(error) });
    await result.consumeStream();
    expect(errors).toHaveLength(1);
    expect(calls).toEqual([]);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n, activeHolds: 0 });
    expect(await captures(tally)).toEqual([]);
    await expectClean(tally);
  });

  it('captures what the provider reported even when the stream also reported an error', async () => {
    const { tally, start } = await setup();
    const parts: LanguageModelV4StreamPart[] = [
      ...textParts(['Hel'], undefined),
      { type: 'error', error: new Error('upstream reset') },
      { type: 'finish', finishReason: { unified: 'error', raw: 'error' }, usage: usage(1000, 200, 500) },
    ];
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: streamOf(parts).stream }) });
    const { model, calls } = metered(tally, mock);
    await streamText({ model, prompt: 'hi', onError: () => {} }).consumeStream();
    const expected = marked(800n * MINI.input + 200n * MINI.cached + 500n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(calls[0]).toMatchObject({ outcome: 'failed', chargeMicros: expected, estimated: false });
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    await expectClean(tally);
  });

  it('releases when the provider stream throws before reporting usage', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doStream: async () => ({ stream: streamOf(textParts(['Hel'], undefined), { fail: new Error('connection reset') }).stream }),
    });
    const { model, calls } = metered(tally, mock);
    const consume = async () => {
      for await (const _ of streamText({ model, prompt: 'hi' }).fullStream);
    };
    expect(await rejection(consume())).toMatchObject({ message: 'connection reset' });
    expect(calls).toEqual([]);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n, activeHolds: 0 });
    await expectClean(tally);
  });

  it('charges a stream that ended without usage on the estimate', async () => {
    const { tally, start } = await setup();
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doStream: async () => ({
        stream: streamOf([...textParts(['Hello, world'], undefined), { type: 'finish', finishReason: stop, usage: usageUnknown() }]).stream,
      }),
    });
    const { model, calls } = metered(tally, mock);
    await streamText({ model, prompt: 'hi' }).consumeStream();
    // "Hello, world": 12 ASCII characters → 4 tokens.
    const expected = marked(HI_TOKENS * MINI.input + 4n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(calls[0]).toMatchObject({ outcome: 'completed', estimated: true, outputTokens: 4, chargeMicros: expected });
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    await expectClean(tally);
  });

  it('refuses with INSUFFICIENT_CREDITS before the provider stream is opened', async () => {
    const { tally } = await setup('starter', 10n);
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: streamOf([]).stream }) });
    const { model } = metered(tally, mock);
    const errors: unknown[] = [];
    await streamText({ model, prompt: 'hi', onError: ({ error }) => void errors.push(error) }).consumeStream();
    expect(errors).toHaveLength(1);
    expect(TallyError.is(errors[0], 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(mock.doStreamCalls).toHaveLength(0);
  });
});

function usageUnknown(): LanguageModelV4Usage {
  return {
    inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: undefined, text: undefined, reasoning: undefined },
  };
}

describe('power levels', () => {
  it('modelFor picks the tier’s model for a level from the catalog and builds it with the provider', () => {
    const made: string[] = [];
    const provider = (id: string) => {
      made.push(id);
      return new MockLanguageModelV4({ modelId: id });
    };
    expect(modelFor({ catalog: sampleCatalog, tier: 'starter', powerLevel: 'balanced', provider }).modelId).toBe('openai/gpt-4o-mini');
    expect(modelFor({ catalog: sampleCatalog, tier: 'professional', powerLevel: 'balanced', provider }).modelId).toBe('openai/gpt-4o');
    expect(
      modelFor({ catalog: sampleCatalog, tier: 'enterprise', powerLevel: 'precision', provider: { languageModel: provider } }).modelId,
    ).toBe('anthropic/claude-sonnet-4');
    expect(made).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o', 'anthropic/claude-sonnet-4']);
    expect(() => modelFor({ catalog: sampleCatalog, tier: 'gold', powerLevel: 'eco', provider })).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_TIER' }),
    );
  });

  it("refuses (FORBIDDEN) a model that is not the power level's model for the customer's tier", async () => {
    const { tally } = await setup('starter');
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o', doGenerate: generated(usage(10, 0, 10)) });
    const { model } = metered(tally, mock, { powerLevel: 'balanced' });
    const error = await rejection(generateText({ model, prompt: 'hi' }));
    expect(TallyError.is(error, 'FORBIDDEN')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(0);
    const allowed = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(10, 0, 10)) });
    await generateText({ model: metered(tally, allowed, { powerLevel: 'balanced' }).model, prompt: 'hi' });
    expect(allowed.doGenerateCalls).toHaveLength(1);
  });
});

describe('tallyMiddleware: BYOK platform fee', () => {
  const FEE_BPS = 500n;
  const feeCatalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps: Number(FEE_BPS) } });
  /** cost × bps / 10000 in micros, rounded half-up once: the expectation, computed without byokFeeForCost. */
  const fee = (nano: bigint) => (nano * FEE_BPS * 2n + NANO_PER_MICRO * 10_000n) / (NANO_PER_MICRO * 20_000n);

  async function setupFee(tier: string, micros: bigint) {
    const tally = createTally({ catalog: feeCatalog, store: createMemoryStore(), clock: createFakeClock('2026-11-05T00:00:00Z') });
    await tally.customers.upsert({ customerId: 'acme', tier });
    if (micros > 0n) await tally.grant({ customerId: 'acme', kind: 'allowance', amountMicros: micros, idempotencyKey: 'grant' });
    return tally;
  }

  it('reserves the fee on the worst case, then captures the fee on the cost the customer key paid, with no markup', async () => {
    const tally = await setupFee('starter', 10_000_000n);
    let heldDuringCall = -1n;
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        heldDuringCall = (await tally.balance('acme')).heldMicros;
        return generated(usage(194, 100, 20), {
          providerMetadata: { openrouter: { usage: { cost: 0.000021, costDetails: { upstreamInferenceCost: 0.00042 } } } },
        });
      },
    });
    const { model, calls } = metered(tally, mock, { keySource: 'byok' });
    await generateText({ model, prompt: 'hi', maxOutputTokens: 100 });
    // Worst case: 8 prompt tokens × 150,000,000 + 100 × 600,000,000 femto-USD = 61,200 nano-USD; 5 % = 3.06 → 3 micros.
    const worstNano = (HI_TOKENS * MINI.input + 100n * MINI.output) / 1_000_000n;
    expect(worstNano).toBe(61_200n);
    expect(heldDuringCall).toBe(fee(worstNano));
    expect(heldDuringCall).toBe(3n);
    // Actual: the upstream provider's $0.00042 = 420,000 nano-USD; 5 % = 21 micros.
    expect(fee(420_000n)).toBe(21n);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: 10_000_000n - 21n, heldMicros: 0n, activeHolds: 0 });
    const entries = await captures(tally);
    expect(entries.map((e) => [e.kind, e.amountMicros])).toEqual([['capture', 21n]]);
    expect(entries[0]?.usage).toMatchObject({ keySource: 'byok', markupBps: 0, providerCostNanoUsd: 420_000n });
    expect(calls[0]).toMatchObject({ keySource: 'byok', chargeMicros: 21n, markupBps: 0, costSource: 'reported' });
    expect(calls[0]?.holdId).not.toBeNull();
    await expectClean(tally);
  });

  it("streams on the customer's own OpenRouter key: the fee on its usage.cost, at least 1 micro", async () => {
    const tally = await setupFee('professional', 1_000_000n);
    const parts: LanguageModelV4StreamPart[] = [
      ...textParts(['Hel', 'lo'], undefined),
      { type: 'finish', finishReason: stop, usage: usage(10, 0, 2), providerMetadata: { openrouter: { usage: { cost: 0.000001 } } } },
    ];
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doStream: async () => ({ stream: streamOf(parts).stream }) });
    const { model, calls } = metered(tally, mock, { keySource: 'byok' });
    expect(await streamText({ model, prompt: 'hi' }).text).toBe('Hello');
    // $0.000001 = 1,000 nano-USD; 5 % = 0.05 micros, and a paid call is never free: 1 micro.
    expect(fee(1_000n)).toBe(0n);
    expect(calls[0]).toMatchObject({ providerCostNanoUsd: 1_000n, chargeMicros: 1n, markupBps: 0, outcome: 'completed' });
    expect((await tally.balance('acme')).balanceMicros).toBe(1_000_000n - 1n);
    await expectClean(tally);
  });

  it('with a fee, a customer without credit is refused before the provider is called; without one, the call is free', async () => {
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(10, 0, 10)) });
    const charged = await setupFee('trial', 0n);
    const refused = await rejection(generateText({ model: metered(charged, mock, { keySource: 'byok' }).model, prompt: 'hi' }));
    expect(TallyError.is(refused, 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(0);
    const { tally: free } = await setup('trial', 0n);
    const { model, calls } = metered(free, mock, { keySource: 'byok' });
    await generateText({ model, prompt: 'hi' });
    expect(mock.doGenerateCalls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ chargeMicros: 0n, holdId: null, ledger: null });
    await expectClean(charged);
  });

  it('charges no fee on a free model', async () => {
    const tally = await setupFee('starter', 0n);
    const mock = new MockLanguageModelV4({ modelId: 'meta-llama/llama-3.3-70b-instruct:free', doGenerate: generated(usage(900, 0, 300)) });
    const { model, calls } = metered(tally, mock, { keySource: 'byok' });
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]).toMatchObject({ free: true, chargeMicros: 0n, holdId: null, ledger: null });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
  });
});

describe('routeModel', () => {
  const vault = createKeyVault({ keys: { k1: new Uint8Array(32).fill(3) }, activeKeyId: 'k1' });

  it("uses the customer's stored key when there is one, else the platform's provider", async () => {
    const { tally } = await setup();
    await tally.customers.upsert({ customerId: 'bea', tier: 'starter' });
    const keys = createByokKeys({ store: tally.store, vault });
    await keys.set('acme', 'openrouter', 'sk-or-v1-acme-own-key-0000000001');
    const made: string[] = [];
    const provider = (label: string) => (id: string) => {
      made.push(`${label} ${id}`);
      return new MockLanguageModelV4({ modelId: id });
    };
    const route = (customerId: string) =>
      routeModel({
        keys,
        customerId,
        provider: 'openrouter',
        modelId: 'openai/gpt-4o-mini',
        managed: provider('platform'),
        byok: provider,
      });
    expect((await route('acme')).keySource).toBe('byok');
    expect((await route('bea')).keySource).toBe('managed');
    await keys.remove('acme', 'openrouter');
    expect((await route('acme')).keySource).toBe('managed');
    expect(made).toEqual([
      'sk-or-v1-acme-own-key-0000000001 openai/gpt-4o-mini',
      'platform openai/gpt-4o-mini',
      'platform openai/gpt-4o-mini',
    ]);
  });

  it('fails rather than falling back to the platform when the stored key does not open', async () => {
    const { tally } = await setup();
    await createByokKeys({ store: tally.store, vault }).set('acme', 'openrouter', 'sk-or-v1-acme-own-key-0000000001');
    const retired = createByokKeys({
      store: tally.store,
      vault: createKeyVault({ keys: { k2: new Uint8Array(32).fill(4) }, activeKeyId: 'k2' }),
    });
    const managed = (id: string) => new MockLanguageModelV4({ modelId: id });
    const error = await rejection(
      routeModel({ keys: retired, customerId: 'acme', provider: 'openrouter', modelId: 'x/y', managed, byok: () => managed }),
    );
    expect(TallyError.is(error, 'NOT_FOUND')).toBe(true);
  });
});

describe('options', () => {
  it.each([
    ['a key with a space', { idempotencyKey: 'req 1' }],
    ['a key longer than 200 characters', { idempotencyKey: 'k'.repeat(201) }],
    ['an unknown key source', { keySource: 'mine' as 'byok' }],
    ['an unknown power level', { powerLevel: 'turbo' as 'eco' }],
    ['a zero hold TTL', { holdTtlMs: 0 }],
    ['a fractional max output', { estimate: { maxOutputTokens: 1.5 } }],
  ])('refuses %s with VALIDATION', async (_, extra) => {
    const { tally } = await setup();
    expect(() => tallyMiddleware({ tally, customerId: 'acme', ...extra })).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('refuses an unknown customer with NOT_FOUND before the provider is called', async () => {
    const { tally } = await setup();
    const mock = new MockLanguageModelV4({ modelId: 'openai/gpt-4o-mini', doGenerate: generated(usage(1, 0, 1)) });
    const model = wrapLanguageModel({ model: mock, middleware: tallyMiddleware({ tally, customerId: 'nobody' }) });
    expect(TallyError.is(await rejection(generateText({ model, prompt: 'hi' })), 'NOT_FOUND')).toBe(true);
    expect(mock.doGenerateCalls).toHaveLength(0);
  });
});

describe('tallyMiddleware: spend caps', () => {
  it("stops an end user's call at its cap before the provider is called, and counts what each call took", async () => {
    const { tally } = await setup('starter');
    // Each call reserves 67 micros (see the first test) and captures 479; a 600-micro daily cap fits one.
    await tally.spendCaps.set({ customerId: 'acme', endUserId: 'user-7', dailyMicros: 600n });
    let providerCalls = 0;
    const mock = new MockLanguageModelV4({
      modelId: 'openai/gpt-4o-mini',
      doGenerate: async () => {
        providerCalls += 1;
        return generated(usage(1000, 200, 500));
      },
    });
    const { model } = metered(tally, mock, { endUserId: 'user-7' });
    await generateText({ model, prompt: 'hi', maxOutputTokens: 100 });
    // 479 used + 67 held = 546 ≤ 600: the second call is reserved and served.
    await generateText({ model, prompt: 'hi', maxOutputTokens: 100 });
    const error = await rejection(generateText({ model, prompt: 'hi', maxOutputTokens: 100, maxRetries: 0 }));
    expect(TallyError.is(error, 'SPEND_CAP_EXCEEDED')).toBe(true);
    expect(providerCalls).toBe(2);
    const [cap] = (await tally.spendCaps.list('acme')).filter((c) => c.scope.kind === 'end-user');
    expect(cap?.usedTodayMicros).toBe(958n);
    expect(cap?.heldMicros).toBe(0n);
    // Another end user of the same customer is not held to user-7's cap.
    const other = metered(tally, mock, { endUserId: 'user-8' });
    await generateText({ model: other.model, prompt: 'hi', maxOutputTokens: 100 });
    expect(providerCalls).toBe(3);
    await expectClean(tally);
  });
});
