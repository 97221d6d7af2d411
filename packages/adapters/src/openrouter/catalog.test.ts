import { TallyError } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterCatalog, type OpenRouterCatalogOptions, type OpenRouterFallback } from './catalog.js';
import { createOpenRouterClient } from './client.js';
import { createOpenRouterFake } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const GPT_4O_MINI = { input: 150_000_000n, output: 600_000_000n, cachedInput: 75_000_000n, request: 0n };

function setup(options: Partial<OpenRouterCatalogOptions> = {}) {
  const fake = createOpenRouterFake();
  server.use(...fake.handlers);
  const clock = createFakeClock('2026-11-01T00:00:00Z');
  const client = createOpenRouterClient({ apiKey: fake.apiKey, retry: { limit: 0 }, breaker: { failures: 1_000 } });
  const seen: OpenRouterFallback[] = [];
  const catalog = createOpenRouterCatalog({ client, clock, onFallback: (fallback) => seen.push(fallback), ...options });
  const modelRequests = () => fake.requests.filter((r) => r.path === '/models').length;
  return { fake, clock, catalog, seen, modelRequests };
}

describe('createOpenRouterCatalog', () => {
  it('fetches live, then serves the cache within the TTL, then refreshes', async () => {
    const { clock, catalog, modelRequests } = setup();
    const start = clock.now();
    expect(await catalog.price('openai/gpt-4o-mini')).toEqual({
      kind: 'fixed',
      price: GPT_4O_MINI,
      model: 'openai/gpt-4o-mini',
      free: false,
      source: 'live',
      fetchedAt: start,
    });
    clock.advance(HOUR - 1);
    expect(await catalog.price('openai/gpt-4o-mini')).toMatchObject({ source: 'cache', fetchedAt: start });
    expect(modelRequests()).toBe(1);
    clock.advance(1);
    expect(await catalog.price('openai/gpt-4o-mini')).toMatchObject({ source: 'live', fetchedAt: clock.now() });
    expect(modelRequests()).toBe(2);
    expect(catalog.fallbacks()).toEqual({ count: 0, recent: [] });
  });

  it('shares one refresh between concurrent lookups', async () => {
    const { catalog, modelRequests } = setup();
    const answers = await Promise.all([
      catalog.price('openai/gpt-4o'),
      catalog.price('openai/gpt-4o-mini'),
      catalog.price('mistralai/mistral-nemo'),
    ]);
    expect(answers.map((a) => a.source)).toEqual(['live', 'live', 'live']);
    expect(modelRequests()).toBe(1);
  });

  it('falls back to the last known prices in an outage, and records every such answer', async () => {
    const { fake, clock, catalog, seen, modelRequests } = setup({ retryMs: MINUTE });
    const fetchedAt = (await catalog.price('openai/gpt-4o-mini')).fetchedAt;
    fake.outage(true);
    clock.advance(2 * HOUR);

    const stale = await catalog.price('openai/gpt-4o-mini');
    expect(stale).toMatchObject({ kind: 'fixed', price: GPT_4O_MINI, source: 'fallback', fetchedAt });
    expect(modelRequests()).toBe(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ model: 'openai/gpt-4o-mini', at: clock.now(), fetchedAt });
    expect(seen[0]?.error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(seen[0]?.error.details).toMatchObject({ status: 500 });

    // Within retryMs the failed refresh is not repeated, but each answer is still a recorded fallback.
    clock.advance(MINUTE - 1);
    expect((await catalog.price('openai/gpt-4o')).source).toBe('fallback');
    expect(modelRequests()).toBe(2);
    expect(catalog.fallbacks().count).toBe(2);
    expect(catalog.fallbacks().recent.map((f) => f.model)).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o']);

    // Then it tries again; once OpenRouter is back, prices are live and fallbacks stop.
    clock.advance(1);
    await catalog.price('openai/gpt-4o');
    expect(modelRequests()).toBe(3);
    expect(catalog.fallbacks().count).toBe(3);
    fake.outage(false);
    clock.advance(MINUTE);
    expect(await catalog.price('openai/gpt-4o')).toMatchObject({ source: 'live', fetchedAt: clock.now() });
    expect(await catalog.price('openai/gpt-4o')).toMatchObject({ source: 'cache' });
    expect(catalog.fallbacks().count).toBe(3);
    expect(seen).toHaveLength(3);
  });

  it('keeps only the most recent fallbacks but counts them all', async () => {
    const { fake, clock, catalog } = setup({ keep: 2 });
    await catalog.price('openai/gpt-4o');
    fake.outage(true);
    clock.advance(2 * HOUR);
    for (const model of ['openai/gpt-4o', 'openai/gpt-4o-mini', 'mistralai/mistral-nemo']) await catalog.price(model);
    expect(catalog.fallbacks().count).toBe(3);
    expect(catalog.fallbacks().recent.map((f) => f.model)).toEqual(['openai/gpt-4o-mini', 'mistralai/mistral-nemo']);
  });

  it('throws PROVIDER_UNAVAILABLE when no prices were ever fetched and OpenRouter is down', async () => {
    const { fake, catalog, seen } = setup();
    fake.outage(true);
    const error = await catalog.price('openai/gpt-4o-mini').catch((reason: unknown) => reason);
    expect(TallyError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect((error as TallyError).message).toMatch(/No OpenRouter prices are known/);
    expect((error as TallyError).details).toMatchObject({ status: 500, reason: 'PROVIDER_UNAVAILABLE' });
    expect(seen).toHaveLength(0);
    // Without anything cached, every lookup tries again.
    fake.outage(false);
    expect((await catalog.price('openai/gpt-4o-mini')).source).toBe('live');
  });

  it('falls back on a refused refresh too (e.g. a revoked key), and says why', async () => {
    const { fake, clock, catalog } = setup();
    await catalog.price('openai/gpt-4o');
    fake.fail({ status: 401, path: '/models' });
    clock.advance(2 * HOUR);
    const answer = await catalog.price('openai/gpt-4o');
    expect(answer.source).toBe('fallback');
    expect(catalog.fallbacks().recent[0]?.error).toMatchObject({ code: 'PROVIDER_REJECTED', details: { status: 401 } });
  });

  it('reports free and dynamic models, and unknown ones', async () => {
    const { catalog } = setup();
    expect(await catalog.price('meta-llama/llama-3.3-70b-instruct:free')).toMatchObject({ kind: 'fixed', free: true });
    expect(await catalog.price('openrouter/auto')).toMatchObject({ kind: 'dynamic', free: false, source: 'cache' });
    await expect(catalog.modelPrice('openrouter/auto')).rejects.toMatchObject({ code: 'PRICE_UNAVAILABLE', details: { dynamic: true } });
    expect(await catalog.modelPrice('openai/gpt-4o-mini')).toEqual(GPT_4O_MINI);
    await expect(catalog.price('acme/nothing')).rejects.toMatchObject({
      code: 'UNKNOWN_MODEL',
      details: { model: 'acme/nothing', stale: false },
    });
  });

  it('refuses a model whose price cannot be kept exactly', async () => {
    const fake = createOpenRouterFake({ models: [{ id: 'acme/odd', pricing: { prompt: '3e-5', completion: '0' } }] });
    server.use(...fake.handlers);
    const catalog = createOpenRouterCatalog({ client: createOpenRouterClient({ apiKey: fake.apiKey }) });
    await expect(catalog.price('acme/odd')).rejects.toMatchObject({ code: 'PRICE_UNAVAILABLE', details: { model: 'acme/odd' } });
  });

  it('refresh() fetches at once and keeps the cache when it fails', async () => {
    const { fake, catalog, modelRequests } = setup();
    await catalog.price('openai/gpt-4o');
    await catalog.refresh();
    expect(modelRequests()).toBe(2);
    fake.outage(true);
    await expect(catalog.refresh()).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect((await catalog.price('openai/gpt-4o')).source).toBe('cache');
  });
});
