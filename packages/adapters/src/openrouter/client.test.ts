import { TallyError } from '@tally/core';
import { createFakeClock, tallyRejection } from '@tally/core/testing';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterClient, type OpenRouterClientOptions } from './client.js';
import { createOpenRouterFake, type OpenRouterFakeOptions } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const USD = 1_000_000_000n;

function setup(client: Partial<OpenRouterClientOptions> = {}, fakeOptions: OpenRouterFakeOptions = {}) {
  const fake = createOpenRouterFake(fakeOptions);
  server.use(...fake.handlers);
  const sleeps: number[] = [];
  const openrouter = createOpenRouterClient({
    apiKey: fake.apiKey,
    managementKey: fake.managementKey,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...client,
  });
  return { fake, openrouter, sleeps };
}

/** A chat completion made with `key`, straight over HTTP like an app's LLM call. */
async function complete(baseUrl: string, key: string, model = 'openai/gpt-4o-mini', stream = false) {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello to the test suite.' }], stream }),
  });
  const text = await response.text();
  return { status: response.status, id: response.headers.get('x-generation-id'), text };
}

describe('requests', () => {
  it('sends the right key to each endpoint, with attribution headers', async () => {
    const { fake, openrouter } = setup({ appUrl: 'https://app.example.com', appTitle: 'Tally demo' });
    await openrouter.listModels();
    await openrouter.getKey();
    await openrouter.getCredits();
    await openrouter.listKeys();
    expect(fake.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([
      ['GET', '/models', `Bearer ${fake.apiKey}`],
      ['GET', '/key', `Bearer ${fake.apiKey}`],
      ['GET', '/credits', `Bearer ${fake.managementKey}`],
      ['GET', '/keys', `Bearer ${fake.managementKey}`],
    ]);
    const seen: Headers[] = [];
    server.use(
      http.get(`${fake.baseUrl}/key`, ({ request }) => {
        seen.push(request.headers);
        return HttpResponse.json({ error: { code: 401, message: 'x' } }, { status: 401 });
      }),
    );
    await tallyRejection(openrouter.getKey());
    expect(seen[0]?.get('http-referer')).toBe('https://app.example.com');
    expect(seen[0]?.get('x-openrouter-title')).toBe('Tally demo');
  });

  it('lists models without a key and refuses management calls without a management key, before any request', async () => {
    const fake = createOpenRouterFake();
    server.use(...fake.handlers);
    const anonymous = createOpenRouterClient();
    await anonymous.listModels();
    expect(fake.requests[0]?.authorization).toBeNull();
    const error = await tallyRejection(anonymous.getCredits());
    expect(error.code).toBe('VALIDATION');
    await expect(anonymous.getGeneration('gen-1')).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(fake.requests).toHaveLength(1);
  });

  it('sends query parameters and exact limits in bodies', async () => {
    const { fake, openrouter } = setup();
    await openrouter.listKeys({ includeDisabled: true, offset: 0, workspaceId: 'ws-1' });
    expect(fake.requests[0]?.query).toEqual({ include_disabled: 'true', offset: '0', workspace_id: 'ws-1' });
    await openrouter.createKey({ name: 'customer-42', limitNanoUsd: 100_000_000n, limitReset: 'monthly', includeByokInLimit: false });
    expect(fake.requests[1]?.body).toBe('{"name":"customer-42","limit":0.1,"limit_reset":"monthly","include_byok_in_limit":false}');
  });
});

describe('models', () => {
  it('lists models with exact prices, free and dynamic ones, and leaves out prices it cannot keep', async () => {
    const { openrouter } = setup(
      {},
      {
        models: [
          { id: 'openai/gpt-4o-mini', pricing: { prompt: '0.00000015', completion: '0.0000006', input_cache_read: '0.000000075' } },
          { id: 'meta-llama/llama-3.3-70b-instruct:free', pricing: { prompt: '0', completion: '0' } },
          { id: 'acme/zero', pricing: { prompt: '0', completion: '0', request: '0' } },
          { id: 'openrouter/auto', pricing: { prompt: '-1', completion: '-1' }, routesTo: 'openai/gpt-4o-mini' },
          { id: 'acme/odd', pricing: { prompt: '0.0000000000000001', completion: '0' } },
        ],
      },
    );
    const { models, rejected } = await openrouter.listModels();
    expect(models.map((m) => [m.id, m.free])).toEqual([
      ['openai/gpt-4o-mini', false],
      ['meta-llama/llama-3.3-70b-instruct:free', true],
      ['acme/zero', true],
      ['openrouter/auto', false],
    ]);
    expect(models[0]?.price).toEqual({ kind: 'fixed', price: { input: 150_000_000n, output: 600_000_000n, cachedInput: 75_000_000n } });
    expect(models[0]?.contextLength).toBe(131_072);
    expect(models[3]?.price).toEqual({ kind: 'dynamic' });
    expect(rejected.map((r) => [r.id, r.error.code])).toEqual([['acme/odd', 'INVALID_DECIMAL']]);
  });
});

describe('retries', () => {
  it('retries 5xx with full-jitter exponential backoff, then succeeds', async () => {
    const { fake, openrouter, sleeps } = setup({ retry: { limit: 3, baseMs: 100, maxMs: 1_000 } });
    fake.fail({ status: 502, times: 3 });
    const key = await openrouter.getKey();
    expect(key.label).toMatch(/^sk-or-v1-/);
    expect(fake.requests.map((r) => r.status)).toEqual([502, 502, 502, 200]);
    // random() = 0.5 → half of min(maxMs, baseMs × 2ⁿ).
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('caps the backoff at maxMs', async () => {
    const { fake, openrouter, sleeps } = setup({ retry: { limit: 4, baseMs: 400, maxMs: 1_000 }, random: () => 0.999 });
    fake.fail({ times: 4 });
    await openrouter.getKey();
    expect(sleeps).toEqual([399, 799, 999, 999]);
  });

  it('honours Retry-After on 429, and gives up at once when it exceeds maxMs', async () => {
    const { fake, openrouter, sleeps } = setup({ retry: { limit: 2, baseMs: 100, maxMs: 5_000 } });
    fake.rateLimit({ retryAfterSeconds: 3 });
    await openrouter.getKey();
    expect(sleeps).toEqual([3_000]);
    fake.rateLimit({ retryAfterSeconds: 60 });
    const error = await tallyRejection(openrouter.getKey());
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ status: 429, message: 'Rate limit exceeded', retryAfterMs: 60_000, attempts: 1 });
    expect(sleeps).toEqual([3_000]);
  });

  it('never retries a 402 and types it as the OpenRouter account being out of credit', async () => {
    const { fake, openrouter } = setup();
    fake.fail({ status: 402, path: '/key' });
    const error = await tallyRejection(openrouter.getKey());
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.message).toMatch(/out of credit/);
    expect(error.details).toMatchObject({ status: 402, code: 402, message: 'Request failed', outOfCredit: true });
    expect(fake.requests).toHaveLength(1);
  });

  it('does not retry other 4xx: a bad key is PROVIDER_REJECTED with OpenRouter code and message', async () => {
    const { fake, openrouter } = setup({ apiKey: 'sk-or-v1-wrong' });
    const error = await tallyRejection(openrouter.getKey());
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ status: 401, code: 401, message: 'Invalid credentials' });
    expect(fake.requests).toHaveLength(1);
  });

  it('turns exhausted retries into PROVIDER_UNAVAILABLE with the last status', async () => {
    const { fake, openrouter } = setup({ retry: { limit: 2 } });
    fake.outage(true);
    const error = await tallyRejection(openrouter.getCredits());
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({
      status: 500,
      code: 500,
      message: 'Internal Server Error',
      attempts: 3,
      reason: 'retries exhausted',
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('times out slow answers and retries them', async () => {
    const { fake, openrouter, sleeps } = setup({ timeoutMs: 50, retry: { limit: 1, baseMs: 10 } });
    fake.delay({ ms: 300, path: '/credits' });
    const credits = await openrouter.getCredits();
    expect(credits.totalCreditsNanoUsd).toBe(100n * USD);
    expect(sleeps).toEqual([5]);
    fake.delay({ ms: 300, times: 2, path: '/credits' });
    const error = await tallyRejection(openrouter.getCredits());
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ status: null, attempts: 2, reason: 'no answer' });
  });

  it('retries network errors', async () => {
    const { fake, openrouter } = setup({ retry: { limit: 1 } });
    let calls = 0;
    server.use(
      http.get(`${fake.baseUrl}/key`, () => {
        calls++;
        return calls === 1 ? HttpResponse.error() : undefined;
      }),
    );
    await openrouter.getKey();
    expect(calls).toBe(2);
  });

  it('does not repeat a key creation after a 5xx (it may have happened), but does after a 429', async () => {
    const { fake, openrouter } = setup();
    fake.fail({ status: 500, path: '/keys' });
    const error = await tallyRejection(openrouter.createKey({ name: 'once' }));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details.reason).toMatch(/may have taken effect/);
    expect(fake.requests).toHaveLength(1);
    fake.rateLimit({ path: '/keys', retryAfterSeconds: 0 });
    await openrouter.createKey({ name: 'once' });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 429, 201]);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, fails fast, then lets one probe through', async () => {
    const clock = createFakeClock('2026-11-01T00:00:00Z');
    const { fake, openrouter } = setup({ clock, retry: { limit: 1 }, breaker: { failures: 3, cooldownMs: 10_000 } });
    fake.outage(true);
    await tallyRejection(openrouter.getKey()); // 2 failed attempts
    expect(openrouter.circuit()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    const third = await tallyRejection(openrouter.getKey()); // 1 more → open; its retry is refused
    expect(third.details).toMatchObject({ reason: 'circuit open', status: 500 });
    expect(fake.requests).toHaveLength(3);
    expect(openrouter.circuit()).toEqual({ state: 'open', consecutiveFailures: 3, openUntil: new Date('2026-11-01T00:00:10Z') });

    const fast = await tallyRejection(openrouter.getKey());
    expect(fast.code).toBe('PROVIDER_UNAVAILABLE');
    expect(fast.details).toMatchObject({ reason: 'circuit open', attempts: 0 });
    expect(fake.requests).toHaveLength(3);

    // Cooldown over, still down: the single probe fails and the circuit reopens.
    clock.advance(10_000);
    await tallyRejection(openrouter.getKey());
    expect(fake.requests).toHaveLength(4);
    expect(openrouter.circuit().state).toBe('open');
    await tallyRejection(openrouter.getKey());
    expect(fake.requests).toHaveLength(4);

    // Cooldown over, back up: one probe goes, a concurrent call fails fast, then all is well.
    clock.advance(10_000);
    fake.outage(false);
    fake.delay({ ms: 30 });
    const [probe, concurrent] = await Promise.allSettled([openrouter.getKey(), openrouter.getCredits()]);
    expect(probe.status).toBe('fulfilled');
    expect(concurrent.status === 'rejected' && TallyError.is(concurrent.reason, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(openrouter.circuit()).toEqual({ state: 'closed', consecutiveFailures: 0, openUntil: null });
    await openrouter.getCredits();
    expect(fake.requests.slice(4).map((r) => [r.path, r.status])).toEqual([
      ['/key', 200],
      ['/credits', 200],
    ]);
  });

  it('is not tripped by 4xx answers or rate limits', async () => {
    const { fake, openrouter } = setup({ retry: { limit: 0 }, breaker: { failures: 2 } });
    fake.fail({ status: 500 });
    await tallyRejection(openrouter.getKey());
    fake.fail({ status: 403 });
    await tallyRejection(openrouter.getKey());
    fake.rateLimit();
    await tallyRejection(openrouter.getKey());
    fake.fail({ status: 500 });
    await tallyRejection(openrouter.getKey());
    expect(openrouter.circuit().state).toBe('closed');
    await openrouter.getKey();
  });
});

describe('generations', () => {
  it('polls a generation that still answers 404, with backoff, and reads its cost exactly', async () => {
    const { fake, openrouter, sleeps } = setup({ generation: { attempts: 5, baseMs: 200, maxMs: 1_000 } }, { generationNotFoundPolls: 3 });
    fake.nextUsage({ promptTokens: 1_000, completionTokens: 500, cachedTokens: 200 });
    const call = await complete(fake.baseUrl, fake.apiKey);
    expect(call.status).toBe(200);
    const generation = await openrouter.getGeneration(call.id ?? '');
    // 800 × 0.00000015 + 200 × 0.000000075 + 500 × 0.0000006 = 0.000435 USD.
    expect(generation).toMatchObject({
      id: call.id,
      model: 'openai/gpt-4o-mini',
      totalCostNanoUsd: 435_000n,
      tokensPrompt: 1_000,
      tokensCompletion: 500,
      nativeTokensCached: 200,
      isByok: false,
      streamed: false,
    });
    expect(fake.requests.filter((r) => r.path === '/generation').map((r) => r.status)).toEqual([404, 404, 404, 200]);
    // random() = 0.5 → ¾ of min(maxMs, baseMs × 2ⁿ).
    expect(sleeps).toEqual([150, 300, 600]);
  });

  it('gives up with NOT_FOUND after the configured lookups', async () => {
    const { fake, openrouter, sleeps } = setup({ generation: { attempts: 3, baseMs: 100 } });
    const error = await tallyRejection(openrouter.getGeneration('gen-missing'));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.details).toMatchObject({ status: 404, id: 'gen-missing', attempts: 3 });
    expect(fake.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });
});

describe('exact amounts', () => {
  it('reads key and credit amounts from the JSON digits, never through a float', async () => {
    const base = 'https://or.test/api/v1';
    server.use(
      http.get(
        `${base}/key`,
        () =>
          new HttpResponse(
            '{"data":{"label":"sk-or-v1-abc...1234","limit":0.1,"limit_remaining":0.30000000000000004,"limit_reset":null,' +
              '"include_byok_in_limit":false,"usage":25.5,"usage_daily":1e-7,"usage_weekly":0.00042,"usage_monthly":25.5,' +
              '"byok_usage":17.38,"is_free_tier":false,"is_management_key":false,"expires_at":"2027-12-31T23:59:59Z"}}',
            { headers: { 'Content-Type': 'application/json' } },
          ),
      ),
      http.get(`${base}/credits`, () => new HttpResponse('{"data":{"total_credits":100.5,"total_usage":25.75}}')),
    );
    const openrouter = createOpenRouterClient({ apiKey: 'k', managementKey: 'm', baseUrl: base });
    const key = await openrouter.getKey();
    expect(key.limitNanoUsd).toBe(100_000_000n); // 0.1 USD = 100,000 micro-USD, exactly
    expect((key.limitNanoUsd ?? 0n) / 1_000n).toBe(100_000n);
    expect(key.limitRemainingNanoUsd).toBe(300_000_000n);
    expect(key.usage).toEqual({ total: 25_500_000_000n, daily: 100n, weekly: 420_000n, monthly: 25_500_000_000n });
    expect(key.byokUsage).toEqual({ total: 17_380_000_000n, daily: 0n, weekly: 0n, monthly: 0n });
    expect(key.expiresAt).toEqual(new Date('2027-12-31T23:59:59Z'));
    expect(await openrouter.getCredits()).toEqual({
      totalCreditsNanoUsd: 100_500_000_000n,
      totalUsageNanoUsd: 25_750_000_000n,
      remainingNanoUsd: 74_750_000_000n,
    });
  });

  it('refuses a body of the wrong shape as PROVIDER_UNAVAILABLE', async () => {
    const base = 'https://or.test/api/v1';
    server.use(
      http.get(`${base}/credits`, () => HttpResponse.json({ data: { total_credits: '100', total_usage: 1 } })),
      http.get(`${base}/key`, () => new HttpResponse('<html>gateway</html>', { status: 200 })),
    );
    const openrouter = createOpenRouterClient({ apiKey: 'k', managementKey: 'm', baseUrl: base });
    await expect(openrouter.getCredits()).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { reason: 'invalid_response' } });
    await expect(openrouter.getKey()).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { reason: 'invalid_response' } });
  });
});

describe('key provisioning', () => {
  it('creates a key with a limit, tracks its usage, stops it at the limit, raises, disables and deletes it', async () => {
    const { fake, openrouter } = setup();
    const created = await openrouter.createKey({ name: 'customer-42', limitNanoUsd: 1_000_000n }); // $0.001
    expect(created.key).toMatch(/^sk-or-v1-[0-9a-f]{64}$/);
    expect(created.info).toMatchObject({
      name: 'customer-42',
      disabled: false,
      limitNanoUsd: 1_000_000n,
      limitRemainingNanoUsd: 1_000_000n,
      limitReset: null,
    });
    expect(created.info.usage.total).toBe(0n);

    const spent: bigint[] = [];
    for (;;) {
      const call = await complete(fake.baseUrl, created.key, 'openai/gpt-4o');
      if (call.status === 402) {
        expect(JSON.parse(call.text).error.code).toBe(402);
        break;
      }
      expect(call.status).toBe(200);
      spent.push(fake.generations().find((g) => g.id === call.id)?.costNanoUsd ?? -1n);
    }
    const total = spent.reduce((sum, cost) => sum + cost, 0n);
    expect(total).toBeGreaterThanOrEqual(1_000_000n);
    const used = await openrouter.getKeyByHash(created.info.hash);
    expect(used.usage.total).toBe(total);
    expect(used.limitRemainingNanoUsd).toBe(1_000_000n - total);
    expect((await openrouter.getCredits()).totalUsageNanoUsd).toBe(total);

    const raised = await openrouter.updateKey(created.info.hash, { limitNanoUsd: 1n * USD, name: 'customer-42b' });
    expect(raised).toMatchObject({ name: 'customer-42b', limitNanoUsd: USD, limitRemainingNanoUsd: USD - total });
    expect((await complete(fake.baseUrl, created.key, 'openai/gpt-4o')).status).toBe(200);

    expect((await openrouter.listKeys()).map((k) => k.hash)).toContain(created.info.hash);
    await openrouter.updateKey(created.info.hash, { disabled: true });
    expect((await complete(fake.baseUrl, created.key)).status).toBe(401);
    expect((await openrouter.listKeys()).map((k) => k.hash)).not.toContain(created.info.hash);
    expect((await openrouter.listKeys({ includeDisabled: true })).map((k) => k.hash)).toContain(created.info.hash);

    await openrouter.deleteKey(created.info.hash);
    await expect(openrouter.getKeyByHash(created.info.hash)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { status: 404 } });
    await expect(openrouter.deleteKey(created.info.hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(openrouter.updateKey(created.info.hash, { disabled: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('treats a 404 on a retried delete as done (the first attempt deleted it)', async () => {
    // The first attempt times out at the client but deletes the key at OpenRouter; the retry, sent
    // after that, finds nothing.
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const { fake, openrouter } = setup({ timeoutMs: 50, retry: { limit: 1 }, sleep: () => wait(300) });
    const created = await openrouter.createKey({ name: 'slow-delete' });
    fake.delay({ ms: 150, path: '/keys/{hash}' });
    await openrouter.deleteKey(created.info.hash);
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([200, 404]);
    expect(fake.keys().some((k) => k.hash === created.info.hash)).toBe(false);
  });

  it('validates input before calling OpenRouter', async () => {
    const { fake, openrouter } = setup();
    await expect(openrouter.createKey({ name: '' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(openrouter.createKey({ name: 'x', limitNanoUsd: -1n })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(openrouter.createKey({ name: 'x', limitReset: 'hourly' as 'daily' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(openrouter.updateKey('abc', {})).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(openrouter.getKeyByHash('../credits')).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(fake.requests).toHaveLength(0);
  });

  it('rotates a key: new key first, stored, then the old one disabled; remaining credit moves over', async () => {
    const { fake, openrouter } = setup();
    const old = await openrouter.createKey({ name: 'customer-7', limitNanoUsd: 2n * USD });
    fake.nextUsage({ promptTokens: 10_000, completionTokens: 10_000 });
    expect((await complete(fake.baseUrl, old.key, 'openai/gpt-4o')).status).toBe(200);
    // 10,000 × 0.0000025 + 10,000 × 0.00001 = 0.125 USD.
    const remaining = 2n * USD - 125_000_000n;

    const during: number[] = [];
    let stored = '';
    const rotation = await openrouter.rotateKey(old.info.hash, {
      onCreated: async (created) => {
        stored = created.key;
        // Both keys work while the app switches over.
        during.push((await complete(fake.baseUrl, old.key)).status, (await complete(fake.baseUrl, created.key)).status);
      },
    });
    expect(during).toEqual([200, 200]);
    expect(stored).toBe(rotation.created.key);
    expect(rotation.retired).toBe('disabled');
    expect(rotation.previous.hash).toBe(old.info.hash);
    expect(rotation.created.info).toMatchObject({ name: 'customer-7', limitNanoUsd: remaining, limitReset: null, disabled: false });
    expect(
      fake.requests.filter((r) => r.path.startsWith('/keys')).map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, '{hash}')}`),
    ).toEqual(['POST /keys', 'GET /keys/{hash}', 'POST /keys', 'PATCH /keys/{hash}']);
    expect((await complete(fake.baseUrl, old.key)).status).toBe(401);
    expect((await complete(fake.baseUrl, rotation.created.key)).status).toBe(200);
    expect((await openrouter.getKeyByHash(old.info.hash)).disabled).toBe(true);
  });

  it('copies a resetting limit as is, and deletes the old key when asked', async () => {
    const { openrouter } = setup();
    const old = await openrouter.createKey({ name: 'monthly', limitNanoUsd: 5n * USD, limitReset: 'monthly', includeByokInLimit: true });
    const rotation = await openrouter.rotateKey(old.info.hash, { retire: 'delete', name: 'monthly-2' });
    expect(rotation.retired).toBe('deleted');
    expect(rotation.created.info).toMatchObject({
      name: 'monthly-2',
      limitNanoUsd: 5n * USD,
      limitReset: 'monthly',
      includeByokInLimit: true,
    });
    await expect(openrouter.getKeyByHash(old.info.hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('leaves the old key working when storing the new one fails, and removes the new one', async () => {
    const { fake, openrouter } = setup();
    const old = await openrouter.createKey({ name: 'customer-8' });
    let created = '';
    const failure = new Error('vault is down');
    await expect(
      openrouter.rotateKey(old.info.hash, {
        onCreated: (key) => {
          created = key.info.hash;
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
    expect(fake.keys().some((k) => k.hash === created)).toBe(false);
    expect((await complete(fake.baseUrl, old.key)).status).toBe(200);
  });

  it('reports a failed retirement without losing the new key', async () => {
    const { fake, openrouter } = setup({ retry: { limit: 0 } });
    const old = await openrouter.createKey({ name: 'customer-9' });
    let patched = false;
    server.use(
      http.patch(`${fake.baseUrl}/keys/:hash`, () => {
        patched = true;
        return HttpResponse.json({ error: { code: 500, message: 'Internal Server Error' } }, { status: 500 });
      }),
    );
    const rotation = await openrouter.rotateKey(old.info.hash);
    expect(patched).toBe(true);
    expect(rotation.retired).toBe('failed');
    expect(rotation.retireError?.code).toBe('PROVIDER_UNAVAILABLE');
    expect((await complete(fake.baseUrl, rotation.created.key)).status).toBe(200);
  });

  it('refuses to rotate a disabled key', async () => {
    const { openrouter } = setup();
    const old = await openrouter.createKey({ name: 'revoked' });
    await openrouter.updateKey(old.info.hash, { disabled: true });
    await expect(openrouter.rotateKey(old.info.hash)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await openrouter.listKeys({ includeDisabled: true })).filter((k) => k.name === 'revoked')).toHaveLength(1);
  });
});

describe('the current key and the account', () => {
  it('reports the key limit and remaining credit, and the account credits after spend', async () => {
    const { fake, openrouter } = setup({}, { creditsNanoUsd: 10n * USD });
    const created = await openrouter.createKey({ name: 'metered', limitNanoUsd: 100_000_000n });
    fake.nextUsage({ promptTokens: 1_000, completionTokens: 1_000 });
    await complete(fake.baseUrl, created.key);
    // 1,000 × 0.00000015 + 1,000 × 0.0000006 = 0.00075 USD.
    const metered = createOpenRouterClient({ apiKey: created.key, baseUrl: fake.baseUrl });
    const key = await metered.getKey();
    expect(key).toMatchObject({ limitNanoUsd: 100_000_000n, limitRemainingNanoUsd: 99_250_000n, isManagementKey: false });
    expect(key.usage).toEqual({ total: 750_000n, daily: 750_000n, weekly: 750_000n, monthly: 750_000n });
    expect(await openrouter.getCredits()).toEqual({
      totalCreditsNanoUsd: 10n * USD,
      totalUsageNanoUsd: 750_000n,
      remainingNanoUsd: 10n * USD - 750_000n,
    });
    const management = createOpenRouterClient({ managementKey: fake.managementKey, baseUrl: fake.baseUrl });
    expect((await management.getKey()).isManagementKey).toBe(true);
  });

  it('answers 403 to /credits with an API key', async () => {
    const { fake } = setup();
    const wrong = createOpenRouterClient({ managementKey: fake.apiKey });
    const error = await tallyRejection(wrong.getCredits());
    expect(error).toMatchObject({
      code: 'PROVIDER_REJECTED',
      details: { status: 403, message: 'Only management keys can perform this operation' },
    });
  });
});
