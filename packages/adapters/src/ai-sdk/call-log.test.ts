import {
  APICallError,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { type Catalog, createMemoryStore, createTally, defineCatalog, sampleCatalog, sampleCatalogInput, type Tally } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { generateText, isStepCount, jsonSchema, streamText, tool, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { type MeteredCall, type TallyMiddlewareOptions, tallyMiddleware } from './index.js';

// Calls that charge nothing go to the call log (docs/ledger.md, "Calls that charge nothing"): one row per
// model call, under the key its charge would have had, and never a row for a call that was charged.

const FREE = 'meta-llama/llama-3.3-70b-instruct:free';
const MINI = 'openai/gpt-4o-mini';
const NOW = new Date('2026-11-05T00:00:00Z');
// The prompt `'hi'`: 8 tokens by the documented estimate (see middleware.test.ts).
const HI_TOKENS = 8;

const usage = (input: number, cached: number, output: number, reasoning = 0): LanguageModelV4Usage => ({
  inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: undefined },
  outputTokens: { total: output, text: output - reasoning, reasoning },
});
const stop = { unified: 'stop', raw: 'stop' } as const;

function generated(u: LanguageModelV4Usage, extra: Partial<LanguageModelV4GenerateResult> = {}): LanguageModelV4GenerateResult {
  return { content: [{ type: 'text', text: 'Hello' }], finishReason: stop, usage: u, warnings: [], response: { id: 'gen-abc' }, ...extra };
}

/** OpenRouter's BYOK report: its own fee in `cost`, what the customer's key paid upstream. */
const byokCost = (cost: number, upstream: number) => ({
  openrouter: { usage: { cost, costDetails: { upstreamInferenceCost: upstream } } },
});

function streamOf(parts: LanguageModelV4StreamPart[], options: { hang?: boolean } = {}): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      if (!options.hang) controller.close();
    },
  });
}

const textParts = (text: string[], u: LanguageModelV4Usage | undefined): LanguageModelV4StreamPart[] => [
  { type: 'stream-start', warnings: [] },
  { type: 'response-metadata', id: 'gen-stream', modelId: FREE },
  { type: 'text-start', id: 't' },
  ...text.map((delta): LanguageModelV4StreamPart => ({ type: 'text-delta', id: 't', delta })),
  { type: 'text-end', id: 't' },
  ...(u ? [{ type: 'finish', finishReason: stop, usage: u } as const] : []),
];

async function setup(catalog: Catalog = sampleCatalog, micros = 10_000_000n) {
  const tally = createTally({ catalog, store: createMemoryStore(), clock: createFakeClock(NOW) });
  await tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
  if (micros > 0n) await tally.grant({ customerId: 'acme', kind: 'allowance', amountMicros: micros, idempotencyKey: 'grant' });
  return tally;
}

function metered(tally: Tally, model: MockLanguageModelV4, extra: Partial<TallyMiddlewareOptions> = {}) {
  const calls: MeteredCall[] = [];
  const middleware = tallyMiddleware({ tally, customerId: 'acme', onCharge: (call) => void calls.push(call), ...extra });
  return { model: wrapLanguageModel({ model, middleware }), calls };
}

async function logged(tally: Tally) {
  return (await tally.listUncharged({ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', limit: 500 })).items;
}

async function usageEntries(tally: Tally) {
  return (await tally.transactions({ customerId: 'acme', kinds: ['capture', 'usage'] })).items;
}

describe('tallyMiddleware: the call log', () => {
  it('logs a free-model call once with its tokens, and a retried request adds no second row', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({ modelId: FREE, doGenerate: generated(usage(900, 100, 300, 40)) });
    await generateText({ model: metered(tally, mock, { idempotencyKey: 'req-1', endUserId: 'key_7' }).model, prompt: 'hi' });
    expect(await logged(tally)).toEqual([
      {
        id: '1',
        customerId: 'acme',
        endUserId: 'key_7',
        model: FREE,
        inputTokens: 900,
        cachedInputTokens: 100,
        outputTokens: 300,
        reasoningTokens: 40,
        providerCostNanoUsd: 0n,
        keySource: 'managed',
        free: true,
        catalogVersion: sampleCatalog.version,
        generationId: 'gen-abc',
        idempotencyKey: 'req-1:ai:0.0:usage',
        at: NOW,
      },
    ]);
    // The retry runs (nothing was charged, so nothing refuses it) but is the same call: still one row.
    await generateText({ model: metered(tally, mock, { idempotencyKey: 'req-1', endUserId: 'key_7' }).model, prompt: 'hi' });
    expect(mock.doGenerateCalls).toHaveLength(2);
    expect(await logged(tally)).toHaveLength(1);
    expect(await usageEntries(tally)).toEqual([]);
    // Another request is another call.
    await generateText({ model: metered(tally, mock, { idempotencyKey: 'req-2' }).model, prompt: 'hi' });
    expect((await logged(tally)).map((c) => [c.idempotencyKey, c.endUserId])).toEqual([
      ['req-1:ai:0.0:usage', 'key_7'],
      ['req-2:ai:0.0:usage', null],
    ]);
  });

  it('logs a BYOK call without a platform fee with the cost the customer key paid, once per request', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({
      modelId: MINI,
      doGenerate: generated(usage(194, 100, 20, 8), { providerMetadata: byokCost(0.000021, 0.00042) }),
    });
    for (let i = 0; i < 2; i++) {
      await generateText({ model: metered(tally, mock, { keySource: 'byok', idempotencyKey: 'req-byok' }).model, prompt: 'hi' });
    }
    const rows = await logged(tally);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      model: MINI,
      keySource: 'byok',
      free: false,
      inputTokens: 194,
      cachedInputTokens: 100,
      outputTokens: 20,
      reasoningTokens: 8,
      providerCostNanoUsd: 420_000n,
      idempotencyKey: 'req-byok:ai:0.0:usage',
    });
    expect(await usageEntries(tally)).toEqual([]);
    expect((await tally.audit()).ok).toBe(true);
  });

  it('logs nothing for a charged call: it is a usage entry in the journal', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({
      modelId: MINI,
      doGenerate: generated(usage(1000, 200, 500)),
      doStream: async () => ({ stream: streamOf(textParts(['Hello'], usage(600, 0, 80))) }),
    });
    const { model, calls } = metered(tally, mock);
    await generateText({ model, prompt: 'hi' });
    expect(await streamText({ model, prompt: 'hi' }).text).toBe('Hello');
    expect(calls.map((c) => c.chargeMicros > 0n)).toEqual([true, true]);
    expect(await usageEntries(tally)).toHaveLength(2);
    expect(await logged(tally)).toEqual([]);
  });

  it('logs a BYOK call whose fee came to 0 (the upstream cost was 0) after capturing its hold at 0', async () => {
    const tally = await setup(defineCatalog({ ...sampleCatalogInput, byok: { platformFeeBps: 500 } }));
    const mock = new MockLanguageModelV4({ modelId: MINI, doGenerate: generated(usage(50, 0, 10), { providerMetadata: byokCost(0, 0) }) });
    const { model, calls } = metered(tally, mock, { keySource: 'byok', idempotencyKey: 'req-zero' });
    await generateText({ model, prompt: 'hi' });
    expect(calls[0]?.holdId).not.toBeNull();
    expect(calls[0]).toMatchObject({ chargeMicros: 0n, providerCostNanoUsd: 0n });
    expect((await tally.store.getHold(calls[0]?.holdId as string))?.status).toBe('captured');
    expect(await usageEntries(tally)).toEqual([]);
    expect((await logged(tally)).map((c) => [c.keySource, c.free, c.providerCostNanoUsd, c.idempotencyKey])).toEqual([
      ['byok', false, 0n, 'req-zero:ai:0.0:usage'],
    ]);
    expect(await tally.balance('acme')).toMatchObject({ heldMicros: 0n, activeHolds: 0 });
  });

  it('logs each step of a free tool loop under its own step key', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({
      modelId: FREE,
      doGenerate: [
        generated(usage(300, 0, 40), {
          content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Oslo"}' }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          response: { id: 'gen-step-1' },
        }),
        generated(usage(400, 256, 30), { response: { id: 'gen-step-2' } }),
      ],
    });
    const weather = tool({
      description: 'Weather of a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => `${city}: 4 °C`,
    });
    const { model } = metered(tally, mock, { idempotencyKey: 'req-tools' });
    await generateText({ model, prompt: 'Weather in Oslo?', tools: { weather }, stopWhen: isStepCount(3) });
    expect((await logged(tally)).map((c) => [c.idempotencyKey, c.generationId, c.inputTokens, c.cachedInputTokens])).toEqual([
      ['req-tools:ai:0.0:usage', 'gen-step-1', 300, 0],
      ['req-tools:ai:1.0:usage', 'gen-step-2', 400, 256],
    ]);
  });

  it('logs nothing for a failed call, and once for the retry that succeeded', async () => {
    const tally = await setup();
    let attempt = 0;
    const mock = new MockLanguageModelV4({
      modelId: FREE,
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
        return generated(usage(120, 0, 30));
      },
    });
    const failing = metered(tally, mock, { idempotencyKey: 'req-fail' });
    await expect(generateText({ model: failing.model, prompt: 'hi', maxRetries: 0 })).rejects.toSatisfy(APICallError.isInstance);
    expect(await logged(tally)).toEqual([]);
    await generateText({ model: failing.model, prompt: 'hi', maxRetries: 0 });
    expect((await logged(tally)).map((c) => [c.idempotencyKey, c.inputTokens, c.outputTokens])).toEqual([
      ['req-fail:ai:0.0:usage', 120, 30],
    ]);
  });

  it('logs a free stream with the usage of its finish part', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({
      modelId: FREE,
      doStream: async () => ({ stream: streamOf(textParts(['Hel', 'lo'], usage(700, 0, 90))) }),
    });
    const { model } = metered(tally, mock, { idempotencyKey: 'req-stream' });
    expect(await streamText({ model, prompt: 'hi' }).text).toBe('Hello');
    expect(await logged(tally)).toMatchObject([
      { idempotencyKey: 'req-stream:ai:0.0:usage', inputTokens: 700, outputTokens: 90, generationId: 'gen-stream', free: true },
    ]);
  });

  it('logs an aborted free stream with what was produced (estimated), exactly once', async () => {
    const tally = await setup();
    const mock = new MockLanguageModelV4({
      modelId: FREE,
      doStream: async () => ({ stream: streamOf(textParts(['Hello wor'], undefined), { hang: true }) }),
    });
    let onSettled: (call: MeteredCall) => void = () => {};
    const settled = new Promise<MeteredCall>((resolve) => {
      onSettled = resolve;
    });
    const middleware = tallyMiddleware({ tally, customerId: 'acme', idempotencyKey: 'req-abort', onCharge: (call) => onSettled(call) });
    const controller = new AbortController();
    const result = streamText({ model: wrapLanguageModel({ model: mock, middleware }), prompt: 'hi', abortSignal: controller.signal });
    for await (const part of result.fullStream) if (part.type === 'text-delta') controller.abort();
    expect(await settled).toMatchObject({ outcome: 'aborted', estimated: true });
    // 8 prompt tokens (estimated) and "Hello wor": 9 ASCII characters → 3 tokens.
    expect(await logged(tally)).toMatchObject([
      { idempotencyKey: 'req-abort:ai:0.0:usage', inputTokens: HI_TOKENS, outputTokens: 3, generationId: 'gen-stream' },
    ]);
  });

  it('logs nothing for a free stream that failed before reporting usage', async () => {
    const tally = await setup();
    // The finish part of an OpenRouter mid-stream error carries no token counts.
    const unknown: LanguageModelV4Usage = {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    };
    const parts: LanguageModelV4StreamPart[] = [
      ...textParts(['Hel'], undefined),
      { type: 'error', error: { code: 502, message: 'upstream failed' } },
      { type: 'finish', finishReason: { unified: 'error', raw: 'error' }, usage: unknown },
    ];
    const mock = new MockLanguageModelV4({ modelId: FREE, doStream: async () => ({ stream: streamOf(parts) }) });
    const { model, calls } = metered(tally, mock);
    await streamText({ model, prompt: 'hi', onError: () => {} }).consumeStream();
    expect(calls).toEqual([]);
    expect(await logged(tally)).toEqual([]);
  });
});
