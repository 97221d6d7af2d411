/**
 * The playground's models: the mock's deterministic answers, and the OpenRouter chat model against
 * the adapters' fake of OpenRouter (msw), JSON and SSE, with its errors as TallyErrors.
 */
import { createOpenRouterFake } from '@tally/adapters/openrouter/testing';
import { TallyError } from '@tally/core';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockModel, createOpenRouterChat, type LanguageModelV4, mockReply } from './llm.ts';

type Options = Parameters<LanguageModelV4['doGenerate']>[0];
/** OpenRouter's cost as the model reports it in `providerMetadata.openrouter.usage.cost`. */
const reportedCost = (metadata: unknown): number | undefined =>
  (metadata as { openrouter?: { usage?: { cost?: number } } } | undefined)?.openrouter?.usage?.cost;

type Part = Awaited<ReturnType<LanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

const prompt = (text: string, extra: Partial<Options> = {}): Options => ({
  prompt: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text }] },
  ],
  ...extra,
});

async function parts(stream: ReadableStream<Part>): Promise<Part[]> {
  const all: Part[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return all;
    all.push(value);
  }
}

const textOf = (all: Part[]) => all.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');

describe('the mock model', () => {
  it('answers the same way each time, with usage of ⌈characters ÷ 4⌉ each way', async () => {
    const model = createMockModel('openai/gpt-4o');
    const result = await model.doGenerate(prompt('What is Tally?'));
    const text = mockReply('openai/gpt-4o', 'What is Tally?');
    expect(result.content).toEqual([{ type: 'text', text }]);
    expect(result.usage.inputTokens.total).toBe(Math.ceil(('Be brief.'.length + 'What is Tally?'.length) / 4));
    expect(result.usage.outputTokens.total).toBe(Math.ceil(text.length / 4));
    expect(result.finishReason.unified).toBe('stop');
    expect((await model.doGenerate(prompt('What is Tally?'))).content).toEqual(result.content);

    const streamed = await parts((await model.doStream(prompt('What is Tally?'))).stream);
    expect(textOf(streamed)).toBe(text);
    expect(streamed.at(-1)).toMatchObject({ type: 'finish', usage: result.usage });
  });

  it('stops at maxOutputTokens, and takes text only', async () => {
    const model = createMockModel('openai/gpt-4o-mini');
    const short = await model.doGenerate(prompt('Tell me everything.', { maxOutputTokens: 5 }));
    expect(short.usage.outputTokens.total).toBe(5);
    expect(short.finishReason.unified).toBe('length');
    const withFile: Options = {
      prompt: [{ role: 'user', content: [{ type: 'file', data: new Uint8Array([1]), mediaType: 'image/png' }] }],
    } as unknown as Options;
    await expect(model.doGenerate(withFile)).rejects.toSatisfy((error: unknown) => TallyError.is(error, 'VALIDATION'));
  });
});

describe('the OpenRouter chat model, against the fake', () => {
  const fake = createOpenRouterFake({ generationNotFoundPolls: 0 });
  const server = setupServer(...fake.handlers);
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
  afterAll(() => server.close());
  const model = createOpenRouterChat({ apiKey: fake.apiKey })('openai/gpt-4o-mini');

  it('returns the reply, the usage, the generation id and OpenRouter’s cost', async () => {
    fake.nextUsage({ promptTokens: 120, completionTokens: 30, cachedTokens: 20, reasoningTokens: 4 });
    const result = await model.doGenerate(prompt('Hello', { maxOutputTokens: 64 }));
    const generation = fake.generations().at(-1);
    expect(result.response?.id).toBe(generation?.id);
    expect(result.usage.inputTokens).toMatchObject({ total: 120, cacheRead: 20, noCache: 100 });
    expect(result.usage.outputTokens).toMatchObject({ total: 30, reasoning: 4, text: 26 });
    const cost = reportedCost(result.providerMetadata);
    // The fake reports nano-USD exactly as a decimal number of USD.
    expect(BigInt(Math.round((cost ?? Number.NaN) * 1e9))).toBe(generation?.costNanoUsd);
    expect(result.content[0]).toMatchObject({ type: 'text' });
    const sent = JSON.parse(fake.requests.at(-1)?.body ?? '{}');
    expect(sent).toMatchObject({ model: 'openai/gpt-4o-mini', stream: false, max_completion_tokens: 64 });
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('streams the same reply, ending with the usage and cost', async () => {
    const generated = await model.doGenerate(prompt('Stream me'));
    const all = await parts((await model.doStream(prompt('Stream me'))).stream);
    const generation = fake.generations().at(-1);
    expect(generation?.streamed).toBe(true);
    expect(textOf(all)).toBe((generated.content[0] as { text: string }).text);
    expect(all[0]).toMatchObject({ type: 'stream-start' });
    expect(all.find((part) => part.type === 'response-metadata')).toMatchObject({ id: generation?.id });
    const finish = all.at(-1);
    if (finish?.type !== 'finish') throw new Error('the stream did not finish');
    expect(finish.usage.inputTokens.total).toBe(generation?.promptTokens);
    expect(finish.usage.outputTokens.total).toBe(generation?.completionTokens);
    expect(reportedCost(finish.providerMetadata)).toBeGreaterThan(0);
  });

  it('says whether a failure may pass: PROVIDER_UNAVAILABLE for 5xx and 429, PROVIDER_REJECTED for a bad key', async () => {
    const code = async (run: () => PromiseLike<unknown>) => {
      try {
        await run();
      } catch (error) {
        return TallyError.is(error) ? { code: error.code, details: error.details } : { code: String(error), details: {} };
      }
      return { code: 'none', details: {} };
    };
    fake.outage(true);
    expect((await code(() => model.doGenerate(prompt('hi')))).code).toBe('PROVIDER_UNAVAILABLE');
    fake.outage(false);
    fake.rateLimit({ times: 1, retryAfterSeconds: 7 });
    expect(await code(() => model.doGenerate(prompt('hi')))).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      details: { status: 429, retryAfterMs: 7000 },
    });
    const wrongKey = createOpenRouterChat({ apiKey: 'sk-or-v1-wrong' })('openai/gpt-4o-mini');
    expect(await code(() => wrongKey.doGenerate(prompt('hi')))).toMatchObject({ code: 'PROVIDER_REJECTED', details: { status: 401 } });
    const unreachable = createOpenRouterChat({
      apiKey: fake.apiKey,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    })('openai/gpt-4o-mini');
    expect((await code(() => unreachable.doGenerate(prompt('hi')))).code).toBe('PROVIDER_UNAVAILABLE');
  });
});
