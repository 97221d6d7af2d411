/**
 * The dashboard server end to end, in process, on PGlite in a temporary folder, with OpenRouter played
 * by the adapters' fake (msw): sign-in, the playground at every power level against the ledger, the
 * sandbox checkout, the health score's signals and the live events.
 */
import { createOpenRouterFake, type OpenRouterFake } from '@tally/adapters/openrouter/testing';
import { type Entry, sampleCatalog, TallyError } from '@tally/core';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from './app.ts';
import { DEMO_CUSTOMER } from './seed.ts';
import { caller, readEvents, TEST_SAMPLE, tempDataDir, tokenOf } from './test-support.ts';

const CREDIT = 1_000_000n;
let dashboard: Dashboard;
let fake: OpenRouterFake;
let call: ReturnType<typeof caller>;
let folder: Awaited<ReturnType<typeof tempDataDir>>;
const server = setupServer();
const errors: unknown[] = [];

beforeAll(async () => {
  fake = createOpenRouterFake({ generationNotFoundPolls: 0 });
  server.use(...fake.handlers);
  server.listen({ onUnhandledFrame: 'bypass' });
  folder = await tempDataDir('main');
  dashboard = await createDashboard({
    dataDir: folder.dir,
    sample: TEST_SAMPLE,
    background: false,
    openRouter: { apiKey: fake.apiKey },
    log: () => {},
    onError: (error) => errors.push(error),
  });
  call = caller(dashboard.app);
});

afterAll(async () => {
  await dashboard?.close();
  server.close();
  await folder?.remove();
});

async function signIn(as: string): Promise<string> {
  const response = await call('POST', '/demo/sign-in', { json: { as } });
  expect(response.status).toBe(204);
  return tokenOf(response);
}

async function json<T = Record<string, unknown>>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** The sample customer (not unlimited) with the most credit available. */
async function richestCustomer(): Promise<string> {
  const page = await dashboard.store.listCustomers({ limit: 100 });
  let best: { id: string; available: bigint } | null = null;
  for (const customer of page.items) {
    if (customer.unlimited || customer.id === DEMO_CUSTOMER) continue;
    const { availableMicros } = await dashboard.tally.balance(customer.id);
    if (!best || availableMicros > best.available) best = { id: customer.id, available: availableMicros };
  }
  if (!best) throw new Error('the sample has no limited customer');
  return best.id;
}

describe('demo sign-in', () => {
  it('lists the customers to sign in as, the demo customer first', async () => {
    const { customers } = await json<{ customers: Array<{ id: string; tier: string; name: string }> }>(
      await call('GET', '/demo/customers'),
    );
    expect(customers[0]).toMatchObject({ id: DEMO_CUSTOMER, tier: 'trial' });
    expect(customers).toHaveLength(TEST_SAMPLE.customers + 1);
    for (const customer of customers) {
      expect((await dashboard.store.getCustomer(customer.id))?.tier).toBe(customer.tier);
      expect(customer.name).toMatch(/^\S+ \S+$/);
    }
  });

  it('signs a sample customer in with an HttpOnly cookie that /v1 accepts; customers get 403 on admin routes', async () => {
    const customerId = await richestCustomer();
    const response = await call('POST', '/demo/sign-in', { json: { as: customerId } });
    expect(response.status).toBe(204);
    expect(response.headers.get('set-cookie')).toMatch(/^tally_demo=v1\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const token = tokenOf(response);
    expect(await json(await call('GET', '/v1/me', { token }))).toMatchObject({ customerId });
    expect(await json(await call('GET', '/demo/session', { token }))).toEqual({ principal: { customerId, roles: [] } });
    expect(await json(await call('GET', '/v1/admin/customers', { token }), 403)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await json(await call('GET', '/demo/health', { token }), 403)).toMatchObject({ code: 'FORBIDDEN' });

    const admin = await signIn('admin');
    expect(await json(await call('GET', '/demo/session', { token: admin }))).toEqual({ principal: { customerId: null, roles: ['admin'] } });
    expect((await call('GET', '/v1/admin/customers', { token: admin })).status).toBe(200);
    expect((await call('GET', '/v1/admin/customers', { bearer: dashboard.tokens.admin })).status).toBe(200);
    expect(await json(await call('GET', '/v1/me', { bearer: dashboard.tokens.customer }))).toMatchObject({ customerId: DEMO_CUSTOMER });

    const signedOut = await call('POST', '/demo/sign-out', { token });
    expect(signedOut.status).toBe(204);
    expect(signedOut.headers.get('set-cookie')).toMatch(/^tally_demo=; .*Max-Age=0/);
  });

  it('answers 401 to a forged or altered cookie, and refuses bad sign-ins without setting one', async () => {
    const token = await signIn(await richestCustomer());
    const [version, payload, mac] = token.split('.') as [string, string, string];
    const adminPayload = Buffer.from(JSON.stringify({ c: null, r: ['admin'] })).toString('base64url');
    const flipped = `${mac.slice(0, -2)}${mac.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const forged of [`${version}.${adminPayload}.${mac}`, `${version}.${payload}.${flipped}`, 'v1.e30.e30', 'not-a-token']) {
      expect(await json(await call('GET', '/v1/me', { token: forged }), 401)).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(await json(await call('GET', '/v1/admin/customers', { token: forged }), 401)).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(await json(await call('GET', '/demo/session', { token: forged }))).toEqual({ principal: null });
    }
    const refusals: Array<[Parameters<typeof call>[2], number, string]> = [
      [{ json: { as: 'cus_nobody' } }, 404, 'NOT_FOUND'],
      [{ json: { as: 42 } }, 400, 'VALIDATION'],
      [{ json: { as: 'admin', role: 'root' } }, 400, 'VALIDATION'],
      [{ json: ['admin'] }, 400, 'VALIDATION'],
      [{ headers: { 'content-type': 'text/plain' }, form: { as: 'admin' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [options, status, code] of refusals) {
      const response = await call('POST', '/demo/sign-in', options);
      expect(await json(response, status)).toMatchObject({ code });
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });
});

/** Half-up division of non-negative bigints, written out here rather than taken from the code under test. */
const halfUp = (numerator: bigint, denominator: bigint) => (2n * numerator + denominator) / (2n * denominator);

describe('POST /demo/playground', () => {
  it('charges each power level exactly what the ledger shows, OpenRouter’s reported cost with the tier’s markup', async () => {
    const customerId = await richestCustomer();
    const token = await signIn(customerId);
    const tier = (await dashboard.store.getCustomer(customerId))?.tier as string;
    const markupBps = sampleCatalog.markup.find((rule) => rule.tier === tier && rule.model === '*')?.bps as number;
    const models: string[] = [];
    for (const [powerLevel, stream] of [
      ['eco', false],
      ['balanced', false],
      ['precision', false],
      ['balanced', true],
    ] as const) {
      const before = (await dashboard.tally.balance(customerId)).balanceMicros;
      const answer = await json<{
        text: string;
        model: string;
        inputTokens: number;
        outputTokens: number;
        chargedMicros: string;
        balanceMicros: string;
      }>(
        await call('POST', '/demo/playground', {
          token,
          json: { prompt: `What does ${powerLevel} mean for my bill?`, powerLevel, stream },
        }),
      );
      const after = (await dashboard.tally.balance(customerId)).balanceMicros;
      expect(answer.model).toBe(sampleCatalog.powerLevels[powerLevel]?.[tier] ?? sampleCatalog.powerLevels[powerLevel]?.['*']);
      expect(answer.text).toContain(answer.model);
      expect(BigInt(answer.balanceMicros)).toBe(after);
      expect(before - after).toBe(BigInt(answer.chargedMicros));

      const generation = fake.generations().at(-1);
      if (!generation) throw new Error('the fake saw no completion');
      expect(generation.model).toBe(answer.model);
      expect([answer.inputTokens, answer.outputTokens]).toEqual([generation.promptTokens, generation.completionTokens]);
      // 1 credit = $1: a micro is 1,000 nano-USD of marked-up cost, rounded once, half-up; free models charge 0.
      const expected = generation.costNanoUsd === 0n ? 0n : halfUp(generation.costNanoUsd * BigInt(10_000 + markupBps), 10_000n * 1_000n);
      expect(BigInt(answer.chargedMicros)).toBe(expected > 0n || generation.costNanoUsd === 0n ? expected : 1n);
      if (expected > 0n) {
        const [entry] = (await dashboard.store.listEntries({ customerId, limit: 1 })).items as Entry[];
        expect(entry?.usage?.generationId).toBe(generation.id);
        expect(entry?.amountMicros).toBe(expected);
      }
      models.push(answer.model);
    }
    expect(new Set(models).size).toBeGreaterThan(1);
    const audit = await json<{ ok: boolean }>(await call('GET', '/v1/admin/audit', { bearer: dashboard.tokens.admin }));
    expect(audit.ok).toBe(true);
  });

  it('refuses what it cannot do, as problem+json, and charges nothing for it', async () => {
    const customerId = await richestCustomer();
    const token = await signIn(customerId);
    const admin = await signIn('admin');
    const before = (await dashboard.tally.balance(customerId)).balanceMicros;
    const cases: Array<[Parameters<typeof call>[2], number, string]> = [
      [{ json: { prompt: 'hi', powerLevel: 'eco' } }, 401, 'UNAUTHENTICATED'],
      [{ token: admin, json: { prompt: 'hi', powerLevel: 'eco' } }, 403, 'FORBIDDEN'],
      [{ token, json: { prompt: 'hi', powerLevel: 'turbo' } }, 400, 'VALIDATION'],
      [{ token, json: { prompt: '   ', powerLevel: 'eco' } }, 400, 'VALIDATION'],
      [{ token, json: { prompt: 'x'.repeat(4001), powerLevel: 'eco' } }, 400, 'VALIDATION'],
      [{ token, json: { prompt: 'hi', powerLevel: 'eco', model: 'openai/gpt-4o' } }, 400, 'VALIDATION'],
      [{ token, json: { prompt: 'hi', powerLevel: 'eco', stream: 'yes' } }, 400, 'VALIDATION'],
    ];
    for (const [options, status, code] of cases) {
      const response = await call('POST', '/demo/playground', options);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await json(response, status)).toMatchObject({ code, status });
    }
    expect((await dashboard.tally.balance(customerId)).balanceMicros).toBe(before);

    // OpenRouter down: 503, nothing charged, the hold released.
    fake.outage(true);
    try {
      const down = await call('POST', '/demo/playground', { token, json: { prompt: 'hi', powerLevel: 'balanced' } });
      expect(await json(down, 503)).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    } finally {
      fake.outage(false);
    }
    const balance = await dashboard.tally.balance(customerId);
    expect(balance.balanceMicros).toBe(before);
    expect(balance.heldMicros).toBe(0n);

    // With nothing left to spend, a paid model is refused before OpenRouter is called.
    await json(
      await call('POST', `/v1/admin/customers/${customerId}/adjust`, {
        bearer: dashboard.tokens.admin,
        json: { amountMicros: (-balance.availableMicros).toString(), reason: 'test: spend it all' },
      }),
    );
    const completions = () => fake.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
    const sent = completions();
    const refused = await call('POST', '/demo/playground', { token, json: { prompt: 'hi', powerLevel: 'precision' } });
    expect(await json(refused, 402)).toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    expect(completions()).toBe(sent);
    expect((await dashboard.tally.balance(customerId)).heldMicros).toBe(0n);
  });
});

describe('the sandbox checkout', () => {
  it('takes the trial customer to Starter: change → checkout page → Pay → tier and credits changed', async () => {
    const token = await signIn(DEMO_CUSTOMER);
    const before = (await dashboard.tally.balance(DEMO_CUSTOMER)).balanceMicros;
    const change = await json<{ status: string; url: string }>(
      await call('POST', '/v1/subscription/change', { token, json: { tier: 'starter' } }),
    );
    expect(change.status).toBe('checkout');
    expect(change.url).toMatch(/^\/sandbox\/checkout\/cs_sbx_[a-z0-9]+_\d+$/);

    const page = await call('GET', change.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('Subscribe to Starter');
    expect(html).toContain('Pay $19.00');
    expect(html).toContain('prefers-color-scheme:dark');
    expect(html).toContain('min-height:44px');

    const paid = await call('POST', change.url, { form: { action: 'pay' } });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe('/app/account?checkout=done');
    const me = await json<{ tier: { id: string }; subscription: { status: string } }>(await call('GET', '/v1/me', { token }));
    expect(me.tier.id).toBe('starter');
    expect(me.subscription.status).toBe('active');
    expect((await dashboard.tally.balance(DEMO_CUSTOMER)).balanceMicros - before).toBe(20n * CREDIT);

    // Paid once only; unknown checkouts are 404; Cancel goes back to the plan page.
    expect((await call('POST', change.url, { form: { action: 'pay' } })).status).toBe(409);
    expect((await call('GET', '/sandbox/checkout/cs_sbx_nope_1')).status).toBe(404);
    const pack = await json<{ url: string }>(await call('POST', '/v1/credit-packs/credits-10/checkout', { token }));
    const canceled = await call('POST', pack.url, { form: { action: 'cancel' } });
    expect(canceled.headers.get('location')).toBe('/app/plan?checkout=canceled');
    expect((await call('GET', pack.url)).status).toBe(200);
  });
});

describe('GET /demo/health', () => {
  async function drain() {
    for (let round = 0; round < 200; round++) if ((await dashboard.deliverOutbox()).claimed === 0) return;
    throw new Error('the outbox did not drain');
  }
  const admin = () => call('GET', '/demo/health', { bearer: dashboard.tokens.admin });
  type Report = {
    score: number;
    status: string;
    signals: Array<{ id: string; value: number | null; penalty: number; weight: number; explanation: string }>;
  };
  const signal = (report: Report, id: string) => report.signals.find((s) => s.id === id) as Report['signals'][number];
  const expectScore = (report: Report) => {
    const score = Math.max(0, 100 - report.signals.reduce((sum, s) => sum + s.penalty, 0));
    expect(report.score).toBe(score);
    expect(report.status).toBe(score >= 85 ? 'healthy' : score >= 50 ? 'degraded' : 'failing');
  };

  it('moves with each real signal: outbox lag, failed webhooks, dead letters, reconciliation drift; latency is measured', async () => {
    expect(await json(await call('GET', '/demo/health'), 401)).toMatchObject({ code: 'UNAUTHENTICATED' });
    await drain();
    await dashboard.reconciler.run();
    const start = await json<Report>(await admin());
    expect(start.signals.map((s) => s.id)).toEqual([
      'outbox_lag',
      'failed_webhooks',
      'dead_letters',
      'reconciliation_drift',
      'database_latency',
    ]);
    expect(signal(start, 'outbox_lag')).toMatchObject({ value: 0, penalty: 0 });
    expect(signal(start, 'dead_letters')).toMatchObject({ value: 0, penalty: 0 });
    expect(signal(start, 'failed_webhooks')).toMatchObject({ value: 0, penalty: 0 });
    // The playground's calls were charged exactly what OpenRouter reported: no drift.
    expect(signal(start, 'reconciliation_drift')).toMatchObject({ value: 0, penalty: 0 });
    expect(signal(start, 'reconciliation_drift').explanation).toMatch(/[1-9]\d* calls? compared/);
    const latency = signal(start, 'database_latency');
    expect(latency.value).toBeGreaterThan(0);
    expect(Number.isFinite(latency.value)).toBe(true);
    expectScore(start);
    for (const s of start.signals) expect(s.explanation.length).toBeGreaterThan(40);
    const latencyPenalty = latency.penalty;

    // A message two hours old that nobody delivered: critical lag.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await dashboard.store.enqueueOutbox({
      topic: 'customer.created',
      payload: JSON.stringify({ customerId: DEMO_CUSTOMER, at: twoHoursAgo.toISOString() }),
      dedupeKey: 'test:late-welcome',
      at: twoHoursAgo,
    });
    const lagging = await json<Report>(await admin());
    expect(signal(lagging, 'outbox_lag').value).toBeGreaterThanOrEqual(7200);
    expect(signal(lagging, 'outbox_lag').penalty).toBe(25);
    expectScore(lagging);

    // A webhook with a bad signature: refused and counted.
    const refused = await call('POST', '/v1/webhooks/stripe', {
      headers: { 'tally-sandbox-signature': 't=1,v1=00' },
      json: { id: 'evt_forged' },
    });
    expect(refused.status).toBe(400);
    const webhooks = await json<Report>(await admin());
    expect(signal(webhooks, 'failed_webhooks')).toMatchObject({ value: 1, penalty: 10 });

    // A message its sink gave up on.
    const message = await dashboard.store.enqueueOutbox({ topic: 'test.sink', payload: '{}', dedupeKey: 'test:dead', at: new Date() });
    await dashboard.store.failOutbox(message?.id as string, 'the test sink is down', null, new Date());
    const dead = await json<Report>(await admin());
    expect(signal(dead, 'dead_letters')).toMatchObject({ value: 1, penalty: 10 });

    // The same generation charged twice: reconciliation sees the double charge as drift.
    // The costliest call, so the double charge is a large share of what was charged.
    const [charged] = (await dashboard.store.listEntries({ kinds: ['usage', 'capture'], limit: 50 })).items
      .filter((entry) => entry.usage?.generationId && entry.usage.providerCostNanoUsd > 0n)
      .sort((a, b) => Number((b.usage?.providerCostNanoUsd ?? 0n) - (a.usage?.providerCostNanoUsd ?? 0n)));
    if (!charged?.usage) throw new Error('no charged model call to charge again');
    await dashboard.tally.recordUsage({
      customerId: charged.customerId,
      amountMicros: charged.amountMicros,
      idempotencyKey: 'test:double-charge',
      usage: { ...charged.usage, generationId: charged.usage.generationId },
    });
    await dashboard.reconciler.run();
    const drift = await json<Report>(await admin());
    expect(signal(drift, 'reconciliation_drift').value).toBeGreaterThan(200);
    expect(signal(drift, 'reconciliation_drift').penalty).toBe(20);
    expect(drift.score).toBe(Math.max(0, 100 - 25 - 10 - 10 - 20 - latencyPenalty));
    expectScore(drift);

    // Delivered: the lag is gone again.
    await drain();
    expect(signal(await json<Report>(await admin()), 'outbox_lag')).toMatchObject({ value: 0, penalty: 0 });
  });
});

describe('GET /demo/events', () => {
  it('sends a customer a ledger event for their own grant, not for another customer’s', async () => {
    expect(await json(await call('GET', '/demo/events'), 401)).toMatchObject({ code: 'UNAUTHENTICATED' });
    const customers = (await dashboard.store.listCustomers({ limit: 3 })).items.map((c) => c.id);
    const [mine, other] = customers as [string, string];
    const token = await signIn(mine);
    const controller = new AbortController();
    const response = await dashboard.app.request('http://localhost/demo/events', {
      headers: { cookie: `tally_demo=${token}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const grant = (customerId: string, key: string) =>
      call('POST', `/v1/admin/customers/${customerId}/grant`, {
        bearer: dashboard.tokens.admin,
        headers: { 'idempotency-key': key },
        json: { amountMicros: '1000000', kind: 'adjustment', description: 'test: live event' },
      });
    expect((await grant(other, 'sse-other')).status).toBe(200);
    expect((await grant(mine, 'sse-mine')).status).toBe(200);
    const events = await Promise.race([
      readEvents(
        response.body as ReadableStream<Uint8Array>,
        (event) => event.event === 'ledger' && JSON.parse(event.data).customerId === mine,
      ),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no ledger event within 20 s')), 20_000)),
    ]);
    controller.abort();
    const ledger = events.filter((event) => event.event === 'ledger').map((event) => JSON.parse(event.data));
    expect(ledger.at(-1)).toMatchObject({ customerId: mine });
    expect(Number.isNaN(Date.parse(ledger.at(-1).at))).toBe(false);
    expect(ledger.every((event) => event.customerId === mine)).toBe(true);
  });

  it('sends an admin the health report on connect', async () => {
    const controller = new AbortController();
    const response = await dashboard.app.request('http://localhost/demo/events', {
      headers: { authorization: `Bearer ${dashboard.tokens.admin}` },
      signal: controller.signal,
    });
    const events = await Promise.race([
      readEvents(response.body as ReadableStream<Uint8Array>, (event) => event.event === 'health'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no health event within 20 s')), 20_000)),
    ]);
    controller.abort();
    const health = JSON.parse(events.at(-1)?.data ?? '{}');
    expect(health.signals).toHaveLength(5);
    expect(health.score).toBeGreaterThanOrEqual(0);
  });

  it('had no server errors but the outage the playground test caused', () => {
    expect(errors.filter((error) => !TallyError.is(error, 'PROVIDER_UNAVAILABLE'))).toEqual([]);
  });
});
