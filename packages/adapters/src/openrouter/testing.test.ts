import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { generateText, streamText } from 'ai';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterFake, type OpenRouterFakeOptions } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const USD = 1_000_000_000n;

function setup(options: OpenRouterFakeOptions = {}) {
  const fake = createOpenRouterFake(options);
  server.use(...fake.handlers);
  return fake;
}

async function post(fake: { baseUrl: string; apiKey: string }, body: Record<string, unknown>, key = fake.apiKey) {
  return fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const hello = [{ role: 'user', content: 'Hello there, fake!' }];

describe('chat completions', () => {
  it('answers JSON with usage and an exact cost', async () => {
    const fake = setup();
    fake.nextUsage({ promptTokens: 194, completionTokens: 20, cachedTokens: 100, reasoningTokens: 8 });
    const response = await post(fake, { model: 'openai/gpt-4o-mini', messages: hello });
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(response.headers.get('x-generation-id')).toBe(body.id);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'openai/gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    // 94 × 0.00000015 + 100 × 0.000000075 + 20 × 0.0000006 = 0.0000336 USD.
    expect(text).toContain('"cost":0.0000336,');
    expect(body.usage).toMatchObject({
      prompt_tokens: 194,
      completion_tokens: 20,
      total_tokens: 214,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 8 },
      is_byok: false,
      cost_details: {
        upstream_inference_cost: null,
        upstream_inference_prompt_cost: 0.0000216,
        upstream_inference_completions_cost: 0.000012,
      },
    });
    expect(fake.account().totalUsageNanoUsd).toBe(33_600n);
    expect(fake.generations()[0]).toMatchObject({ id: body.id, costNanoUsd: 33_600n, streamed: false });
  });

  it('streams SSE: a keep-alive comment, content chunks, a final usage chunk with empty choices, then [DONE]', async () => {
    const fake = setup({ reply: () => 'The quick brown fox jumps over the lazy dog.' });
    const response = await post(fake, { model: 'openai/gpt-4o', messages: hello, stream: true });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(events[0]).toBe(': OPENROUTER PROCESSING');
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(1, -1).map((event) => JSON.parse(event.replace(/^data: /, '')));
    const content = chunks.slice(0, -1);
    expect(content.map((c) => c.choices[0].delta.content).join('')).toBe('The quick brown fox jumps over the lazy dog.');
    expect(content[0].choices[0].delta.role).toBe('assistant');
    expect(content.map((c) => c.choices[0].finish_reason)).toEqual([...content.slice(1).map(() => null), 'stop']);
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set([response.headers.get('x-generation-id')]));
    // ⌈18 ÷ 4⌉ = 5 prompt tokens, ⌈44 ÷ 4⌉ = 11 completion tokens on GPT-4o.
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 11, total_tokens: 16, cost: 0.0001225 });
    expect(fake.generations()[0]).toMatchObject({ streamed: true, costNanoUsd: 122_500n });
  });

  it('caps completion tokens at max_tokens and reports length', async () => {
    const fake = setup({ reply: () => 'x'.repeat(400) });
    const body = await (await post(fake, { model: 'openai/gpt-4o-mini', messages: hello, max_tokens: 10 })).json();
    expect(body.usage.completion_tokens).toBe(10);
    expect(body.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'x'.repeat(40) } });
  });

  it('bills the auto router as the model it routes to', async () => {
    const fake = setup();
    fake.nextUsage({ promptTokens: 1_000, completionTokens: 1_000 });
    const body = await (await post(fake, { model: 'openrouter/auto', messages: hello })).json();
    expect(body.model).toBe('openai/gpt-4o-mini');
    expect(body.usage.cost).toBe(0.00075);
  });

  it('refuses bad requests and bad keys', async () => {
    const fake = setup();
    expect((await post(fake, { model: 'acme/none', messages: hello })).status).toBe(400);
    expect((await post(fake, { model: 'openai/gpt-4o' })).status).toBe(400);
    expect((await post(fake, { model: 'openai/gpt-4o', messages: hello }, 'sk-or-v1-nope')).status).toBe(401);
    expect((await post(fake, { model: 'openai/gpt-4o', messages: hello }, fake.managementKey)).status).toBe(401);
    expect(fake.account().totalUsageNanoUsd).toBe(0n);
  });

  it('answers 402 once the account is out of credit; free models keep working until the balance is negative', async () => {
    const fake = setup({ creditsNanoUsd: 1_000_000n }); // $0.001
    // 50 × 0.000003 + 30 × 0.000015 = 0.0006 USD on Claude Sonnet 4: the second call overdraws.
    fake.nextUsage({ promptTokens: 50, completionTokens: 30 });
    expect((await post(fake, { model: 'anthropic/claude-sonnet-4', messages: hello })).status).toBe(200);
    fake.nextUsage({ promptTokens: 50, completionTokens: 30 });
    expect((await post(fake, { model: 'anthropic/claude-sonnet-4', messages: hello })).status).toBe(200);
    expect(fake.account().totalUsageNanoUsd).toBe(1_200_000n);
    const refused = await post(fake, { model: 'openai/gpt-4o-mini', messages: hello });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toEqual({
      error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits' },
    });
    expect((await post(fake, { model: 'meta-llama/llama-3.3-70b-instruct:free', messages: hello })).status).toBe(402);
    fake.addCredits(1n * USD);
    expect((await post(fake, { model: 'meta-llama/llama-3.3-70b-instruct:free', messages: hello })).status).toBe(200);
    expect((await post(fake, { model: 'openai/gpt-4o-mini', messages: hello })).status).toBe(200);
    expect(fake.generations().find((g) => g.model.endsWith(':free'))?.costNanoUsd).toBe(0n);
  });

  it('serves free models on an account with exactly nothing left', async () => {
    const fake = setup({ creditsNanoUsd: 600_000n });
    fake.nextUsage({ promptTokens: 50, completionTokens: 30 });
    expect((await post(fake, { model: 'anthropic/claude-sonnet-4', messages: hello })).status).toBe(200);
    expect(fake.account()).toEqual({ totalCreditsNanoUsd: 600_000n, totalUsageNanoUsd: 600_000n });
    expect((await post(fake, { model: 'openai/gpt-4o-mini', messages: hello })).status).toBe(402);
    expect((await post(fake, { model: 'meta-llama/llama-3.3-70b-instruct:free', messages: hello })).status).toBe(200);
  });
});

describe('the AI SDK provider against the fake', () => {
  it('reads usage and cost from generateText and streamText', async () => {
    const fake = setup();
    const openrouter = createOpenRouter({ apiKey: fake.apiKey, baseURL: fake.baseUrl });
    fake.nextUsage({ promptTokens: 1_000, completionTokens: 1_000 });
    const generated = await generateText({ model: openrouter('openai/gpt-4o-mini'), prompt: 'hi' });
    expect(generated.text).toContain('openai/gpt-4o-mini');
    expect(generated.usage).toMatchObject({ inputTokens: 1_000, outputTokens: 1_000 });
    expect(generated.finalStep.providerMetadata?.openrouter).toMatchObject({ usage: { cost: 0.00075 } });

    fake.nextUsage({ promptTokens: 2_000, completionTokens: 500, cachedTokens: 1_000 });
    const streamed = streamText({ model: openrouter('openai/gpt-4o'), prompt: 'hi' });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toContain('openai/gpt-4o');
    expect(await streamed.usage).toMatchObject({ inputTokens: 2_000, outputTokens: 500, inputTokenDetails: { cacheReadTokens: 1_000 } });
    // 1,000 × 0.0000025 + 1,000 × 0.00000125 + 500 × 0.00001 = 0.00875 USD.
    expect((await streamed.finalStep).providerMetadata?.openrouter).toMatchObject({ usage: { cost: 0.00875 } });
    expect(fake.account().totalUsageNanoUsd).toBe(750_000n + 8_750_000n);
  });
});
