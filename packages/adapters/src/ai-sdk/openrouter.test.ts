import { createOpenRouter } from '@openrouter/ai-sdk-provider';
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
import { generateText, isStepCount, jsonSchema, streamText, tool, wrapLanguageModel } from 'ai';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterClient } from '../openrouter/client.js';
import { createOpenRouterFake } from '../openrouter/testing.js';
import { type MeteredCall, routeModel, type TallyMiddlewareOptions, tallyMiddleware } from './index.js';

// The OpenRouter provider over msw, serving chat completions shaped as in
// /work/shared/reference/openrouter-and-ai-sdk.md §1.6 (the provider's strict parsing rules of §3.5 apply).
const CHAT = 'https://openrouter.ai/api/v1/chat/completions';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const openrouter = createOpenRouter({ apiKey: 'sk-or-v1-test' });

const NANO_PER_MICRO = 1_000n;
const FEMTO_PER_MICRO = 1_000_000_000n;
const MINI = { input: 150_000_000n, output: 600_000_000n }; // openai/gpt-4o-mini in the sample catalog, femto-USD

/** amount × (1 + bps/10000) in micros, rounded half-up once. */
function marked(amount: bigint, perMicro: bigint, bps: bigint): bigint {
  const numerator = amount * (10_000n + bps);
  const denominator = perMicro * 10_000n;
  return (numerator * 2n + denominator) / (denominator * 2n);
}

const wireUsage = (cost: number, extra: Record<string, unknown> = {}) => ({
  prompt_tokens: 194,
  completion_tokens: 20,
  total_tokens: 214,
  prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 8 },
  cost,
  is_byok: false,
  cost_details: { upstream_inference_cost: null, upstream_inference_prompt_cost: 0.0003, upstream_inference_completions_cost: 0.00012 },
  ...extra,
});

function completion(id: string, message: Record<string, unknown>, usage: Record<string, unknown>, finish = 'stop') {
  return {
    id,
    object: 'chat.completion',
    created: 1727282430,
    model: 'openai/gpt-4o-mini',
    provider: 'OpenAI',
    system_fingerprint: null,
    choices: [{ index: 0, finish_reason: finish, native_finish_reason: finish, message: { role: 'assistant', ...message } }],
    usage,
  };
}

const chunk = (id: string, choices: unknown[], extra: Record<string, unknown> = {}) => ({
  id,
  provider: 'OpenAI',
  model: 'openai/gpt-4o-mini',
  object: 'chat.completion.chunk',
  created: 1727282430,
  choices,
  ...extra,
});

/** An SSE body; with `hang`, it stays open after the events until the client goes away. */
function sse(events: unknown[], options: { hang?: boolean; onCancel?: () => void } = {}) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(': OPENROUTER PROCESSING\n\n'));
      for (const event of events)
        controller.enqueue(encoder.encode(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`));
      if (!options.hang) controller.close();
    },
    cancel() {
      options.onCancel?.();
    },
  });
  return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream', 'X-Generation-Id': 'gen-1' } });
}

const helloStream = [
  chunk('gen-1', [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }]),
  chunk('gen-1', [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop', native_finish_reason: 'stop' }]),
  chunk('gen-1', [], { usage: wireUsage(0.00042) }),
  '[DONE]',
];

async function setup(tier = 'starter', micros = 10_000_000n) {
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore() });
  await tally.customers.upsert({ customerId: 'acme', tier });
  if (micros > 0n) await tally.grant({ customerId: 'acme', kind: 'allowance', amountMicros: micros, idempotencyKey: 'grant' });
  return { tally, start: micros };
}

function metered(tally: Tally, modelId: string, extra: Partial<TallyMiddlewareOptions> = {}) {
  const calls: MeteredCall[] = [];
  const middleware = tallyMiddleware({ tally, customerId: 'acme', onCharge: (call) => void calls.push(call), ...extra });
  return { model: wrapLanguageModel({ model: openrouter(modelId), middleware }), calls };
}

async function charges(tally: Tally) {
  return (await tally.transactions({ customerId: 'acme', kinds: ['capture', 'usage'] })).items;
}

async function expectClean(tally: Tally) {
  expect((await tally.audit()).issues).toEqual([]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('tallyMiddleware with the OpenRouter provider', () => {
  it('generateText: charges the reported usage.cost with the markup and keeps the generation id', async () => {
    const { tally, start } = await setup('starter');
    const bodies: unknown[] = [];
    server.use(
      http.post(CHAT, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json(completion('gen-1727282430-aBcD', { content: 'Hello there!' }, wireUsage(0.00042)));
      }),
    );
    const { model } = metered(tally, 'openai/gpt-4o-mini');
    const result = await generateText({ model, prompt: 'hi' });
    expect(result.text).toBe('Hello there!');
    expect(bodies).toHaveLength(1);
    // $0.00042 = 420,000 nano-USD = 420 micros, +10 % = 462.
    const expected = marked(420_000n, NANO_PER_MICRO, 1000n);
    expect(expected).toBe(462n);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    const [entry] = await charges(tally);
    expect(entry?.usage).toEqual({
      model: 'openai/gpt-4o-mini',
      inputTokens: 194n,
      cachedInputTokens: 100n,
      outputTokens: 20n,
      reasoningTokens: 8n,
      providerCostNanoUsd: 420_000n,
      markupBps: 1000,
      catalogVersion: 'sample-2026-11',
      generationId: 'gen-1727282430-aBcD',
      keySource: 'managed',
    });
    await expectClean(tally);
  });

  it('streamText: charges the usage chunk once the stream is consumed', async () => {
    const { tally, start } = await setup('professional');
    server.use(http.post(CHAT, () => sse(helloStream)));
    const { model, calls } = metered(tally, 'openai/gpt-4o-mini');
    const result = streamText({ model, prompt: 'hi' });
    expect(await result.text).toBe('Hello');
    const expected = marked(420_000n, NANO_PER_MICRO, 500n); // 441
    expect((await tally.balance('acme')).balanceMicros).toBe(start - expected);
    expect(calls[0]).toMatchObject({ operation: 'stream', outcome: 'completed', generationId: 'gen-1', chargeMicros: expected });
    expect((await charges(tally))[0]?.usage?.outputTokens).toBe(20n);
    await expectClean(tally);
  });

  it('abort mid-stream: the provider request is cancelled and the output so far is charged once', async () => {
    const { tally, start } = await setup('starter');
    let cancelled = false;
    server.use(
      http.post(CHAT, () =>
        sse([chunk('gen-2', [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }])], {
          hang: true,
          onCancel: () => {
            cancelled = true;
          },
        }),
      ),
    );
    let settle!: (call: MeteredCall) => void;
    const settled = new Promise<MeteredCall>((resolve) => {
      settle = resolve;
    });
    const { model } = metered(tally, 'openai/gpt-4o-mini', { onCharge: (call) => settle(call) });
    const controller = new AbortController();
    const result = streamText({ model, prompt: 'hi', abortSignal: controller.signal });
    for await (const part of result.fullStream) if (part.type === 'text-delta') controller.abort();
    const call = await settled;
    // Estimated: 8 prompt tokens ("hi": 1, + 4 per message, + 3 per call) and "Hel" (1 token):
    // 8 × 150 + 1 × 600 nano-USD = 1.8 micros, +10 % = 1.98 → 2.
    const expected = marked(8n * MINI.input + 1n * MINI.output, FEMTO_PER_MICRO, 1000n);
    expect(expected).toBe(2n);
    expect(call).toMatchObject({ outcome: 'aborted', estimated: true, generationId: 'gen-2', chargeMicros: expected });
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start - expected, heldMicros: 0n, activeHolds: 0 });
    expect(await charges(tally)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cancelled).toBe(true);
    await expectClean(tally);
  });

  it('HTTP 402 from OpenRouter: the hold is released, nothing charged', async () => {
    const { tally, start } = await setup();
    server.use(
      http.post(CHAT, () =>
        HttpResponse.json(
          { error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits' } },
          { status: 402 },
        ),
      ),
    );
    const { model, calls } = metered(tally, 'openai/gpt-4o-mini');
    const error = await rejection(generateText({ model, prompt: 'hi' }));
    expect(error).toMatchObject({ statusCode: 402, isRetryable: false });
    expect(calls).toEqual([]);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n, activeHolds: 0 });
    expect(await charges(tally)).toEqual([]);
    await expectClean(tally);
  });

  it('429 then 200: the AI SDK retries through the middleware, charged once', async () => {
    const { tally, start } = await setup();
    let requests = 0;
    server.use(
      http.post(CHAT, () => {
        requests += 1;
        if (requests === 1) {
          return HttpResponse.json(
            { error: { code: 429, message: 'Rate limit exceeded', metadata: { error_type: 'rate_limit_exceeded' } } },
            { status: 429, headers: { 'retry-after-ms': '0' } },
          );
        }
        return HttpResponse.json(completion('gen-retry', { content: 'ok' }, wireUsage(0.00042)));
      }),
    );
    const { model } = metered(tally, 'openai/gpt-4o-mini', { idempotencyKey: 'req-429' });
    await generateText({ model, prompt: 'hi', maxRetries: 1 });
    expect(requests).toBe(2);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - marked(420_000n, NANO_PER_MICRO, 1000n));
    expect(await charges(tally)).toHaveLength(1);
    await expectClean(tally);
  });

  it('a mid-stream error event without usage releases the hold', async () => {
    const { tally, start } = await setup();
    server.use(
      http.post(CHAT, () =>
        sse([
          chunk('gen-e', [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }]),
          chunk('gen-e', [{ index: 0, delta: { content: '' }, finish_reason: 'error' }], {
            error: { code: 429, message: 'Rate limit exceeded', metadata: { error_type: 'rate_limit_exceeded' } },
          }),
        ]),
      ),
    );
    const { model, calls } = metered(tally, 'openai/gpt-4o-mini');
    const errors: unknown[] = [];
    await streamText({ model, prompt: 'hi', onError: ({ error }) => void errors.push(error) }).consumeStream();
    expect(errors.length).toBeGreaterThan(0);
    expect(calls).toEqual([]);
    expect(await tally.balance('acme')).toMatchObject({ balanceMicros: start, heldMicros: 0n, activeHolds: 0 });
    await expectClean(tally);
  });

  it('a tool loop of two model calls is charged twice, each from its own reported cost', async () => {
    const { tally, start } = await setup();
    let requests = 0;
    server.use(
      http.post(CHAT, () => {
        requests += 1;
        if (requests === 1) {
          return HttpResponse.json(
            completion(
              'gen-tool-1',
              {
                content: '',
                tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
              },
              wireUsage(0.0001),
              'tool_calls',
            ),
          );
        }
        return HttpResponse.json(completion('gen-tool-2', { content: 'Oslo: 4 °C' }, wireUsage(0.000055)));
      }),
    );
    const { model, calls } = metered(tally, 'openai/gpt-4o-mini', { idempotencyKey: 'req-tools' });
    const weather = tool({
      description: 'Weather of a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => `${city}: 4 °C`,
    });
    const result = await generateText({ model, prompt: 'Weather in Oslo?', tools: { weather }, stopWhen: isStepCount(3) });
    expect(result.text).toBe('Oslo: 4 °C');
    expect(requests).toBe(2);
    // $0.0001 → 100 micros → 110; $0.000055 → 55 micros → 60.5 → 61.
    const first = marked(100_000n, NANO_PER_MICRO, 1000n);
    const second = marked(55_000n, NANO_PER_MICRO, 1000n);
    expect([first, second]).toEqual([110n, 61n]);
    expect(calls.map((call) => [call.step, call.generationId, call.chargeMicros])).toEqual([
      [0, 'gen-tool-1', first],
      [1, 'gen-tool-2', second],
    ]);
    expect((await tally.balance('acme')).balanceMicros).toBe(start - first - second);
    expect(await charges(tally)).toHaveLength(2);
    await expectClean(tally);
  });

  it('BYOK: 0 credits, the upstream cost recorded for analytics', async () => {
    const { tally } = await setup('starter', 0n);
    server.use(
      http.post(CHAT, () =>
        HttpResponse.json(
          completion(
            'gen-byok',
            { content: 'Hi' },
            wireUsage(0.000021, {
              is_byok: true,
              cost_details: {
                upstream_inference_cost: 0.00042,
                upstream_inference_prompt_cost: 0.0003,
                upstream_inference_completions_cost: 0.00012,
              },
            }),
          ),
        ),
      ),
    );
    const { model, calls } = metered(tally, 'openai/gpt-4o-mini', { keySource: 'byok' });
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]).toMatchObject({
      keySource: 'byok',
      chargeMicros: 0n,
      providerCostNanoUsd: 420_000n,
      generationId: 'gen-byok',
      ledger: null,
    });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
    await expectClean(tally);
  });

  it('a :free model charges 0 and reports its usage', async () => {
    const { tally } = await setup('trial', 0n);
    server.use(http.post(CHAT, () => HttpResponse.json(completion('gen-free', { content: 'Hi' }, wireUsage(0)))));
    const { model, calls } = metered(tally, 'meta-llama/llama-3.3-70b-instruct:free');
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]).toMatchObject({ free: true, chargeMicros: 0n, inputTokens: 194, outputTokens: 20, ledger: null });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
    await expectClean(tally);
  });

  it('a paid model with no credit never reaches OpenRouter', async () => {
    const { tally } = await setup('trial', 0n);
    let requests = 0;
    server.use(
      http.post(CHAT, () => {
        requests += 1;
        return HttpResponse.json(completion('gen-x', { content: 'Hi' }, wireUsage(0.00042)));
      }),
    );
    const { model } = metered(tally, 'openai/gpt-4o-mini');
    expect(TallyError.is(await rejection(generateText({ model, prompt: 'hi' })), 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(requests).toBe(0);
  });
});

describe('BYOK routing over the OpenRouter fake', () => {
  const FEE_BPS = 500n;
  const feeCatalog = defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps: Number(FEE_BPS) } });
  const vault = createKeyVault({ keys: { k1: new Uint8Array(32).fill(9) }, activeKeyId: 'k1' });

  it("routes a customer's call on the key they stored (their account pays, Tally takes the fee); others use the platform key", async () => {
    const fake = createOpenRouterFake();
    server.use(...fake.handlers);
    // The customer's own key: minted on the fake by its management API, so the fake can tell it apart.
    const own = await createOpenRouterClient({ managementKey: fake.managementKey }).createKey({ name: 'acme own key' });
    const tally = createTally({ catalog: feeCatalog, store: createMemoryStore() });
    const keys = createByokKeys({ store: tally.store, vault });
    for (const customerId of ['acme', 'bea']) {
      await tally.customers.upsert({ customerId, tier: 'starter' });
      await tally.grant({ customerId, kind: 'allowance', amountMicros: 10_000_000n, idempotencyKey: `grant-${customerId}` });
    }
    await keys.set('acme', 'openrouter', own.key);
    const platform = createOpenRouter({ apiKey: fake.apiKey });

    async function call(customerId: string) {
      const { model, keySource } = await routeModel({
        keys,
        customerId,
        provider: 'openrouter',
        modelId: 'openai/gpt-4o-mini',
        managed: platform,
        byok: (apiKey) => createOpenRouter({ apiKey }),
      });
      const calls: MeteredCall[] = [];
      const middleware = tallyMiddleware({ tally, customerId, keySource, onCharge: (metered) => void calls.push(metered) });
      // 1,000 prompt × $0.00000015 + 500 completion × $0.0000006 = $0.00045 = 450,000 nano-USD.
      fake.nextUsage({ promptTokens: 1000, completionTokens: 500 });
      await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: 'hi' });
      return calls[0];
    }

    const acme = await call('acme');
    const bea = await call('bea');
    const completions = fake.requests.filter((request) => request.path === '/chat/completions');
    expect(completions.map((request) => request.authorization)).toEqual([`Bearer ${own.key}`, `Bearer ${fake.apiKey}`]);
    const spent = new Map(fake.keys().map((key) => [key.key, key.spend.reduce((sum, entry) => sum + entry.nanoUsd, 0n)]));
    expect(spent.get(own.key)).toBe(450_000n);
    expect(spent.get(fake.apiKey)).toBe(450_000n);

    // acme: 5 % of 450,000 nano-USD = 22,500 nano = 22.5 micros → 23, no markup.
    const fee = (450_000n * FEE_BPS * 2n + NANO_PER_MICRO * 10_000n) / (NANO_PER_MICRO * 20_000n);
    expect(fee).toBe(23n);
    expect(acme).toMatchObject({
      keySource: 'byok',
      providerCostNanoUsd: 450_000n,
      costSource: 'reported',
      markupBps: 0,
      chargeMicros: fee,
    });
    expect((await tally.balance('acme')).balanceMicros).toBe(10_000_000n - fee);
    // bea: the platform paid; 450 micros + 10 % starter markup = 495.
    const marked495 = marked(450_000n, NANO_PER_MICRO, 1000n);
    expect(marked495).toBe(495n);
    expect(bea).toMatchObject({ keySource: 'managed', providerCostNanoUsd: 450_000n, markupBps: 1000, chargeMicros: marked495 });
    expect((await tally.balance('bea')).balanceMicros).toBe(10_000_000n - marked495);
    await expectClean(tally);
  });

  it('charges 0 credits on a BYOK call when the catalog sets no fee', async () => {
    const fake = createOpenRouterFake();
    server.use(...fake.handlers);
    const own = await createOpenRouterClient({ managementKey: fake.managementKey }).createKey({ name: 'acme own key' });
    const { tally } = await setup('trial', 0n);
    const keys = createByokKeys({ store: tally.store, vault });
    await keys.set('acme', 'openrouter', own.key);
    const { model, keySource } = await routeModel({
      keys,
      customerId: 'acme',
      provider: 'openrouter',
      modelId: 'openai/gpt-4o',
      managed: createOpenRouter({ apiKey: fake.apiKey }),
      byok: (apiKey) => createOpenRouter({ apiKey }),
    });
    const calls: MeteredCall[] = [];
    const middleware = tallyMiddleware({ tally, customerId: 'acme', keySource, onCharge: (metered) => void calls.push(metered) });
    fake.nextUsage({ promptTokens: 100, completionTokens: 10 });
    await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: 'hi' });
    expect(fake.requests.find((request) => request.path === '/chat/completions')?.authorization).toBe(`Bearer ${own.key}`);
    // 100 × $0.0000025 + 10 × $0.00001 = $0.00035, on the customer's key; nothing in the ledger.
    expect(calls[0]).toMatchObject({ keySource: 'byok', providerCostNanoUsd: 350_000n, chargeMicros: 0n, ledger: null });
    expect((await tally.transactions({ customerId: 'acme' })).items).toEqual([]);
    await expectClean(tally);
  });
});
