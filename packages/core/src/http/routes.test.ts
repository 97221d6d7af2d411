import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { routes } from './routes.js';
import * as s from './schemas.js';
import { ADA, ADA_KEY, BOB, createHarness, deadLetter, type Harness, LAGO_SIGNATURE, seedCustomers } from './test-support.js';
import type {
  WireBalance,
  WireEntry,
  WireLedgerOperation,
  WirePage,
  WireProblem,
  WireSubscription,
  WireTierChangePreview,
  WireTierChangeResult,
  WireUsage,
} from './wire.js';

const CREDIT = 1_000_000n;
/** Ada after seeding: 20 starter credits − 429 micros for the metered call − the 123,000 micros spend. */
const ADA_BALANCE = 20n * CREDIT - 429n - 123_000n;

async function seeded(): Promise<Harness> {
  const h = await createHarness();
  await seedCustomers(h);
  return h;
}

/** The body, checked against the route's own response schema. */
async function ok<T>(response: Response, schema: z.ZodType<T>, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  return schema.parse(JSON.parse(text));
}

async function refused(response: Response, status: number, code: string): Promise<WireProblem> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = s.problemSchema.parse(JSON.parse(text)) as WireProblem;
  expect(body.code).toBe(code);
  return body;
}

describe('public routes', () => {
  it('GET /v1/health answers with the clock’s time', async () => {
    const h = await createHarness();
    const body = await ok(await h.call('GET', '/v1/health'), s.healthSchema);
    expect(body).toEqual({ status: 'ok', time: '2026-11-02T00:00:00.000Z' });
  });

  it('GET /v1/openapi.json describes every route', async () => {
    const h = await createHarness();
    const doc = (await ok(await h.call('GET', '/v1/openapi.json'), s.openApiDocumentSchema)) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths).sort()).toEqual([...new Set(routes.map((r) => r.path))].sort());
  });
});

describe('customer: account', () => {
  it('GET /v1/me and /v1/balance: tier, subscription, exact balance, the period’s allowance', async () => {
    const h = await seeded();
    const me = await ok(await h.call('GET', '/v1/me', { as: 'ada' }), s.meSchema);
    expect(me.tier).toEqual({ id: 'starter', name: 'Starter' });
    expect(me.subscription).toMatchObject({
      tier: 'starter',
      status: 'active',
      currentPeriodStart: '2026-11-02T00:00:00.000Z',
      currentPeriodEnd: '2026-12-02T00:00:00.000Z',
    });
    expect(me.providerBalances).toEqual([]);
    const balance = await ok(await h.call('GET', '/v1/balance', { as: 'ada' }), s.balanceSchema);
    expect(balance).toEqual(me.balance);
    expect(balance.balanceMicros).toBe(String(ADA_BALANCE));
    expect(balance.availableMicros).toBe(String(ADA_BALANCE));
    expect(balance.allowance).toEqual({
      grantedMicros: '20000000',
      remainingMicros: String(ADA_BALANCE),
      expiresAt: '2026-12-02T00:00:00.000Z',
    });
    const bob = await ok(await h.call('GET', '/v1/me', { as: 'bob' }), s.meSchema);
    expect(bob.providerBalances).toEqual([
      {
        provider: 'openrouter',
        source: 'byok',
        limitNanoUsd: '55555000000',
        usageNanoUsd: '1000000000',
        remainingNanoUsd: '54555000000',
        low: false,
        syncedAt: '2026-11-02T01:00:00.000Z',
      },
    ]);
  });

  it('an authenticated customer unknown to the ledger gets 404', async () => {
    const h = await createHarness({
      authenticate: async () => ({ customerId: 'cus_nobody', roles: [] }),
    });
    await refused(await h.call('GET', '/v1/me', { as: 'ada' }), 404, 'NOT_FOUND');
    await refused(await h.call('GET', '/v1/balance', { as: 'ada' }), 404, 'NOT_FOUND');
  });

  it('GET /v1/usage groups charges per model and per day; one call counts once', async () => {
    const h = await seeded();
    // A spend that drains two buckets writes two entries of one operation: still one call.
    await h.tally.grant({ customerId: ADA, kind: 'purchased', amountMicros: 1000, idempotencyKey: 'small' });
    await h.tally.meter({
      customerId: ADA,
      model: 'openai/gpt-4o-mini',
      usage: { inputTokens: 1200, outputTokens: 350 },
      idempotencyKey: 'call-2',
    });
    const byModel = await ok(await h.call('GET', '/v1/usage', { as: 'ada' }), s.usageSchema);
    expect(byModel).toEqual({
      from: '2026-10-04T00:00:00.000Z',
      to: '2026-11-03T00:00:00.000Z',
      groupBy: 'model',
      rows: [
        { key: '(none)', calls: 1, inputTokens: '0', outputTokens: '0', chargedMicros: '123000', providerCostNanoUsd: '0' },
        // 1200 × $0.15/M + 350 × $0.60/M = $0.00039 = 390,000 nano-USD per call; +10 % starter markup = 429 micros.
        {
          key: 'openai/gpt-4o-mini',
          calls: 2,
          inputTokens: '2400',
          outputTokens: '700',
          chargedMicros: '858',
          providerCostNanoUsd: '780000',
        },
      ],
      totalChargedMicros: '123858',
    } satisfies WireUsage);
    const byDay = await ok(
      await h.call('GET', '/v1/usage', { as: 'ada', query: { groupBy: 'day', from: '2026-11-01T00:00:00Z' } }),
      s.usageSchema,
    );
    expect(byDay.rows).toEqual([
      { key: '2026-11-02', calls: 3, inputTokens: '2400', outputTokens: '700', chargedMicros: '123858', providerCostNanoUsd: '780000' },
    ]);
    const empty = await ok(
      await h.call('GET', '/v1/usage', { as: 'ada', query: { from: '2026-10-01T00:00:00Z', to: '2026-11-02T00:00:00Z' } }),
      s.usageSchema,
    );
    expect(empty.rows).toEqual([]);
    expect(empty.totalChargedMicros).toBe('0');
  });

  it('GET /v1/usage refuses an empty, reversed or too long range', async () => {
    const h = await seeded();
    const range = (from: string, to: string) => h.call('GET', '/v1/usage', { as: 'ada', query: { from, to } });
    await refused(await range('2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z'), 400, 'VALIDATION');
    await refused(await range('2026-11-03T00:00:00Z', '2026-11-02T00:00:00Z'), 400, 'VALIDATION');
    await refused(await range('2025-01-01T00:00:00Z', '2026-01-03T00:00:00Z'), 400, 'VALIDATION');
    await ok(await range('2025-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), s.usageSchema);
    await refused(await h.call('GET', '/v1/usage', { as: 'ada', query: { groupBy: 'week' } }), 400, 'VALIDATION');
  });

  it('GET /v1/transactions pages newest first with a cursor, filters by kind, signs amounts from the customer’s side', async () => {
    const h = await seeded();
    const first = (await ok(
      await h.call('GET', '/v1/transactions', { as: 'ada', query: { limit: '2' } }),
      s.entryPageSchema,
    )) as WirePage<WireEntry>;
    expect(first.items.map((e) => [e.kind, e.amountMicros, e.bucketKind])).toEqual([
      ['spend', '-123000', 'allowance'],
      ['usage', '-429', 'allowance'],
    ]);
    expect(first.items[1]?.usage).toMatchObject({
      model: 'openai/gpt-4o-mini',
      inputTokens: '1200',
      markupBps: 1000,
      keySource: 'managed',
    });
    expect(first.nextCursor).not.toBeNull();
    const second = (await ok(
      await h.call('GET', '/v1/transactions', { as: 'ada', query: { limit: '2', cursor: first.nextCursor as string } }),
      s.entryPageSchema,
    )) as WirePage<WireEntry>;
    expect(second.items.map((e) => [e.kind, e.amountMicros, e.bucketKind])).toEqual([['grant', '20000000', 'allowance']]);
    expect(second.nextCursor).toBeNull();
    const grants = await ok(await h.call('GET', '/v1/transactions', { as: 'ada', query: { kind: 'grant' } }), s.entryPageSchema);
    expect(grants.items.map((e) => e.kind)).toEqual(['grant']);
    await refused(await h.call('GET', '/v1/transactions', { as: 'ada', query: { kind: 'refund' } }), 400, 'VALIDATION');
    await refused(await h.call('GET', '/v1/transactions', { as: 'ada', query: { limit: '0' } }), 400, 'VALIDATION');
    await refused(await h.call('GET', '/v1/transactions', { as: 'ada', query: { limit: '101' } }), 400, 'VALIDATION');
    await refused(await h.call('GET', '/v1/transactions', { as: 'ada', query: { cursor: 'not-a-cursor' } }), 400, 'VALIDATION');
  });
});

describe('customer: subscription', () => {
  it('GET /v1/tiers lists the catalog with the caller’s tier and default markups', async () => {
    const h = await seeded();
    const body = await ok(await h.call('GET', '/v1/tiers', { as: 'ada' }), s.tiersSchema);
    expect(body.current).toBe('starter');
    expect(body.tiers.map((t) => [t.id, t.priceCents, t.allowanceMicros, t.unlimited, t.markupBps, t.trialDays])).toEqual([
      ['trial', '400', '5000000', false, 1000, 14],
      ['starter', '1900', '20000000', false, 1000, 0],
      ['professional', '4900', '60000000', false, 500, 0],
      ['enterprise', '9900', null, true, 0, 0],
    ]);
  });

  it('POST /v1/subscription/preview prorates an upgrade and changes nothing', async () => {
    const h = await seeded();
    const before = await h.call('GET', '/v1/me', { as: 'ada' }).then((r) => r.text());
    const preview = (await ok(
      await h.call('POST', '/v1/subscription/preview', { as: 'ada', body: { tier: 'professional' } }),
      s.tierChangePreviewSchema,
    )) as WireTierChangePreview;
    // 2,591,940 of 2,592,000 seconds left in the period (1 h 1 min gone).
    const left = 2_592_000n - 3_660n;
    const share = (cents: bigint) => (2n * cents * left + 2_592_000n) / (2n * 2_592_000n);
    expect(preview).toMatchObject({ from: 'starter', to: 'professional', direction: 'upgrade', timing: 'immediate', currency: 'USD' });
    expect(preview.lines.map((l) => l.amountCents)).toEqual([String(-share(1900n)), String(share(4900n))]);
    expect(preview.totalCents).toBe(String(share(4900n) - share(1900n)));
    expect(preview.amountDueCents).toBe(preview.totalCents);
    expect(preview.creditsGrantedMicros).toBe(String((2n * 40n * CREDIT * left + 2_592_000n) / (2n * 2_592_000n)));
    expect(await h.call('GET', '/v1/me', { as: 'ada' }).then((r) => r.text())).toBe(before);
    await refused(await h.call('POST', '/v1/subscription/preview', { as: 'ada', body: { tier: 'gold' } }), 400, 'UNKNOWN_TIER');
    await refused(await h.call('POST', '/v1/subscription/preview', { as: 'ada', body: {} }), 400, 'VALIDATION');
  });

  it('POST /v1/subscription/change: a downgrade is scheduled, an upgrade with a card is charged and granted', async () => {
    const h = await seeded();
    const down = (await ok(
      await h.call('POST', '/v1/subscription/change', { as: 'ada', body: { tier: 'trial' } }),
      s.tierChangeResultSchema,
    )) as WireTierChangeResult;
    expect(down).toMatchObject({ status: 'scheduled', effectiveAt: '2026-12-02T00:00:00.000Z' });
    const resumed = await ok(await h.call('POST', '/v1/subscription/resume', { as: 'ada' }), s.subscriptionSchema);
    expect(resumed.scheduledChange).toBeNull();
    const up = (await ok(
      await h.call('POST', '/v1/subscription/change', { as: 'ada', body: { tier: 'professional' } }),
      s.tierChangeResultSchema,
    )) as WireTierChangeResult;
    expect(up).toMatchObject({ status: 'charged', paid: true, hostedInvoiceUrl: null });
    const me = await ok(await h.call('GET', '/v1/me', { as: 'ada' }), s.meSchema);
    expect(me.tier.id).toBe('professional');
    expect(BigInt(me.balance.balanceMicros)).toBeGreaterThan(ADA_BALANCE + 39n * CREDIT);
    await refused(await h.call('POST', '/v1/subscription/change', { as: 'ada', body: { tier: 'professional' } }), 400, 'VALIDATION');
  });

  it('POST /v1/subscription/change subscribes a customer without a subscription', async () => {
    const h = await seeded();
    await h.tally.customers.upsert({ customerId: 'cus_new', tier: 'trial' });
    const h2 = await createHarness({
      tally: h.tally,
      billing: h.billing,
      authenticate: async () => ({ customerId: 'cus_new', roles: [] }),
    });
    const paid = await ok(
      await h2.call('POST', '/v1/subscription/change', { as: 'ada', body: { tier: 'starter' } }),
      s.tierChangeResultSchema,
    );
    expect(paid).toEqual({ status: 'checkout', url: expect.stringMatching(/^https:\/\/pay\.example\.com\/checkout\//) });
    const trial = (await ok(
      await h2.call('POST', '/v1/subscription/change', { as: 'ada', body: { tier: 'trial' } }),
      s.tierChangeResultSchema,
    )) as WireTierChangeResult;
    expect(trial.status).toBe('started');
    if (trial.status === 'started') expect(trial.subscription).toMatchObject({ tier: 'trial', status: 'trialing' });
  });

  it('POST /v1/subscription/cancel schedules the cancel; resume takes it back; resume with nothing scheduled is 409', async () => {
    const h = await seeded();
    const canceled = (await ok(await h.call('POST', '/v1/subscription/cancel', { as: 'ada' }), s.subscriptionSchema)) as WireSubscription;
    expect(canceled.scheduledChange).toEqual({ tier: null, at: '2026-12-02T00:00:00.000Z' });
    expect(canceled.status).toBe('active');
    const resumed = await ok(await h.call('POST', '/v1/subscription/resume', { as: 'ada', body: {} }), s.subscriptionSchema);
    expect(resumed.scheduledChange).toBeNull();
    await refused(await h.call('POST', '/v1/subscription/resume', { as: 'ada' }), 409, 'CONFLICT');
    await refused(await h.call('POST', '/v1/subscription/cancel', { as: 'ada', body: { now: true } }), 400, 'VALIDATION');
  });

  it('POST /v1/payment-method/portal returns to an allowed origin only', async () => {
    const h = await seeded();
    const portal = await ok(await h.call('POST', '/v1/payment-method/portal', { as: 'ada' }), s.checkoutSchema);
    expect(portal.url).toContain(encodeURIComponent('https://app.example.com/billing'));
    const own = await ok(
      await h.call('POST', '/v1/payment-method/portal', { as: 'ada', body: { returnUrl: 'https://api.example.com/done' } }),
      s.checkoutSchema,
    );
    expect(own.url).toContain(encodeURIComponent('https://api.example.com/done'));
    const evil = await refused(
      await h.call('POST', '/v1/payment-method/portal', { as: 'ada', body: { returnUrl: 'https://evil.example.net/' } }),
      400,
      'VALIDATION',
    );
    expect(evil.issues).toEqual([{ path: ['returnUrl'], message: 'not on an allowed origin' }]);
    await refused(
      await h.call('POST', '/v1/payment-method/portal', { as: 'ada', body: { returnUrl: 'javascript:alert(1)' } }),
      400,
      'VALIDATION',
    );
  });

  it('POST /v1/coupons/redeem grants once; the same key replays, another key is refused', async () => {
    const h = await seeded();
    const redeem = (code: string, key: string) =>
      h.call('POST', '/v1/coupons/redeem', { as: 'ada', body: { code }, headers: { 'idempotency-key': key } });
    const first = await ok(await redeem('welcome10', 'k-1'), s.redemptionSchema);
    expect(first).toMatchObject({ code: 'WELCOME10', grantedMicros: '10000000', benefit: { kind: 'credits', expiresInDays: 30 } });
    expect(await ok(await redeem('welcome10', 'k-1'), s.redemptionSchema)).toEqual(first);
    const balance = await ok(await h.call('GET', '/v1/balance', { as: 'ada' }), s.balanceSchema);
    expect(balance.balanceMicros).toBe(String(ADA_BALANCE + 10n * CREDIT));
    await refused(await redeem('BOBONLY77', 'k-1'), 409, 'IDEMPOTENCY_CONFLICT');
    await refused(await redeem('WELCOME10', 'k-2'), 409, 'COUPON_ALREADY_REDEEMED');
    await refused(await redeem('NOPE123', 'k-3'), 404, 'COUPON_NOT_FOUND');
    await refused(await redeem('BOBONLY77', 'k-4'), 409, 'COUPON_NOT_APPLICABLE');
    // Bob may use the key Ada used: keys are scoped to the caller.
    const bob = await h.call('POST', '/v1/coupons/redeem', {
      as: 'bob',
      body: { code: 'WELCOME10' },
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(bob.status).toBe(200);
  });
});

describe('customer: credits', () => {
  it('GET /v1/credit-packs and POST …/{packId}/checkout', async () => {
    const h = await seeded();
    const packs = await ok(await h.call('GET', '/v1/credit-packs', { as: 'ada' }), s.creditPacksSchema);
    expect(packs).toEqual([
      { id: 'credits-10', name: '10 credits', priceCents: '1000', currency: 'USD', creditsMicros: '10000000' },
      { id: 'credits-50', name: '50 credits', priceCents: '4500', currency: 'USD', creditsMicros: '50000000' },
    ]);
    const checkout = await ok(await h.call('POST', '/v1/credit-packs/credits-10/checkout', { as: 'ada' }), s.checkoutSchema);
    expect(checkout.url).toMatch(/^https:\/\/pay\.example\.com\/checkout\//);
    await h.sandbox.completeCheckout(decodeURIComponent(checkout.url.split('/').pop() as string));
    await h.deliverEvents();
    const balance = await ok(await h.call('GET', '/v1/balance', { as: 'ada' }), s.balanceSchema);
    expect(balance.balanceMicros).toBe(String(ADA_BALANCE + 10n * CREDIT));
    await refused(await h.call('POST', '/v1/credit-packs/credits-99/checkout', { as: 'ada' }), 404, 'NOT_FOUND');
  });

  it('GET and PUT /v1/auto-recharge', async () => {
    const h = await seeded();
    expect(await ok(await h.call('GET', '/v1/auto-recharge', { as: 'ada' }), s.autoRechargeSchema)).toEqual({
      enabled: false,
      thresholdMicros: '0',
      packId: 'credits-10',
      maxPerMonth: 1,
    });
    const settings = { enabled: true, thresholdMicros: '2500000', packId: 'credits-50', maxPerMonth: 4 };
    expect(await ok(await h.call('PUT', '/v1/auto-recharge', { as: 'ada', body: settings }), s.autoRechargeSchema)).toEqual(settings);
    expect(await ok(await h.call('GET', '/v1/auto-recharge', { as: 'ada' }), s.autoRechargeSchema)).toEqual(settings);
    await refused(await h.call('PUT', '/v1/auto-recharge', { as: 'ada', body: { ...settings, packId: 'credits-99' } }), 404, 'NOT_FOUND');
    await refused(await h.call('PUT', '/v1/auto-recharge', { as: 'ada', body: { ...settings, maxPerMonth: 0 } }), 400, 'VALIDATION');
    await refused(await h.call('PUT', '/v1/auto-recharge', { as: 'ada', body: { ...settings, thresholdMicros: '-1' } }), 400, 'VALIDATION');
    await refused(
      await h.call('PUT', '/v1/auto-recharge', { as: 'ada', body: { ...settings, thresholdMicros: 2500000 } }),
      400,
      'VALIDATION',
    );
  });

  it('GET and PUT /v1/spend-caps', async () => {
    const h = await seeded();
    const set = await ok(
      await h.call('PUT', '/v1/spend-caps', { as: 'ada', body: { endUserId: 'ada-app', dailyMicros: '1000000', monthlyMicros: null } }),
      s.spendCapSchema,
    );
    expect(set).toEqual({
      scope: { kind: 'end-user', endUserId: 'ada-app' },
      dailyMicros: '1000000',
      monthlyMicros: null,
      usedTodayMicros: '0',
      usedThisMonthMicros: '0',
      heldMicros: '0',
    });
    const caps = await ok(await h.call('GET', '/v1/spend-caps', { as: 'ada' }), s.spendCapsSchema);
    expect(caps.map((c) => [c.scope, c.dailyMicros, c.monthlyMicros])).toEqual(
      expect.arrayContaining([
        [{ kind: 'customer' }, '5000000', '50000000'],
        [{ kind: 'end-user', endUserId: 'ada-app' }, '1000000', null],
      ]),
    );
    const each = await ok(
      await h.call('PUT', '/v1/spend-caps', { as: 'ada', body: { endUserId: '*', dailyMicros: null, monthlyMicros: '7000000' } }),
      s.spendCapSchema,
    );
    expect(each.scope).toEqual({ kind: 'each-end-user' });
    await refused(await h.call('PUT', '/v1/spend-caps', { as: 'ada', body: { dailyMicros: '0', monthlyMicros: null } }), 400, 'VALIDATION');
    await refused(
      await h.call('PUT', '/v1/spend-caps', { as: 'ada', body: { dailyMicros: '1.5', monthlyMicros: null } }),
      400,
      'VALIDATION',
    );
  });
});

describe('customer: provider keys and notifications', () => {
  it('PUT, GET and DELETE /v1/byok/{provider}: the secret never comes back', async () => {
    const h = await seeded();
    const listed = await h.call('GET', '/v1/byok', { as: 'ada' });
    const text = await listed.clone().text();
    expect(text).not.toContain(ADA_KEY.slice(0, 20));
    expect(await ok(listed, s.byokKeysSchema)).toEqual([
      { provider: 'openrouter', last4: 'ADA1', keyId: 'k1', createdAt: '2026-11-02T01:00:00.000Z', updatedAt: '2026-11-02T01:00:00.000Z' },
    ]);
    const put = await h.call('PUT', '/v1/byok/openrouter', { as: 'ada', body: { apiKey: 'sk-or-v1-replaced-Zz9q' } });
    const stored = await ok(put, s.byokKeySchema);
    expect(stored).toMatchObject({ provider: 'openrouter', last4: 'Zz9q', createdAt: '2026-11-02T01:00:00.000Z' });
    expect(await h.byok.resolve(ADA, 'openrouter')).toBe('sk-or-v1-replaced-Zz9q');
    expect(await ok(await h.call('DELETE', '/v1/byok/openrouter', { as: 'ada' }), s.byokRemovedSchema)).toEqual({
      provider: 'openrouter',
      removed: true,
    });
    expect(await ok(await h.call('DELETE', '/v1/byok/openrouter', { as: 'ada' }), s.byokRemovedSchema)).toEqual({
      provider: 'openrouter',
      removed: false,
    });
    expect(await ok(await h.call('GET', '/v1/byok', { as: 'ada' }), s.byokKeysSchema)).toEqual([]);
    await refused(await h.call('PUT', '/v1/byok/openai', { as: 'ada', body: { apiKey: 'sk-x' } }), 404, 'NOT_FOUND');
    await refused(await h.call('PUT', '/v1/byok/openrouter', { as: 'ada', body: { apiKey: ' sk-x ' } }), 400, 'VALIDATION');
    await refused(await h.call('PUT', '/v1/byok/OpenRouter', { as: 'ada', body: { apiKey: 'sk-x' } }), 400, 'VALIDATION');
  });

  it('GET and PUT /v1/notifications/preferences', async () => {
    const h = await seeded();
    const initial = await ok(await h.call('GET', '/v1/notifications/preferences', { as: 'ada' }), s.notificationPreferencesSchema);
    expect(initial.categories.every((c) => c.enabled)).toBe(true);
    expect(initial.categories.find((c) => c.id === 'payment_failed')).toMatchObject({ required: true, reason: expect.any(String) });
    const changed = await ok(
      await h.call('PUT', '/v1/notifications/preferences', { as: 'ada', body: { categories: [{ id: 'low_balance', enabled: false }] } }),
      s.notificationPreferencesSchema,
    );
    expect(changed.categories.filter((c) => !c.enabled).map((c) => c.id)).toEqual(['low_balance']);
    const put = (categories: unknown) => h.call('PUT', '/v1/notifications/preferences', { as: 'ada', body: { categories } });
    await refused(await put([{ id: 'payment_failed', enabled: false }]), 400, 'VALIDATION');
    await refused(await put([{ id: 'newsletter', enabled: false }]), 400, 'VALIDATION');
    await refused(
      await put([
        { id: 'welcome', enabled: false },
        { id: 'welcome', enabled: true },
      ]),
      400,
      'VALIDATION',
    );
    expect(await ok(await h.call('GET', '/v1/notifications/preferences', { as: 'ada' }), s.notificationPreferencesSchema)).toEqual(changed);
  });
});

describe('admin routes', () => {
  it('GET /v1/admin/customers searches and pages; GET /v1/admin/customers/{id}', async () => {
    const h = await seeded();
    const all = await ok(await h.call('GET', '/v1/admin/customers', { as: 'admin', query: { limit: '1' } }), s.adminCustomerPageSchema);
    expect(all.items.map((c) => c.id)).toEqual([ADA]);
    const next = await ok(
      await h.call('GET', '/v1/admin/customers', { as: 'admin', query: { limit: '1', cursor: all.nextCursor as string } }),
      s.adminCustomerPageSchema,
    );
    expect(next.items).toEqual([
      { id: BOB, tier: 'professional', unlimited: false, createdAt: '2026-11-02T00:00:00.000Z', subscriptionStatus: 'active' },
    ]);
    const found = await ok(
      await h.call('GET', '/v1/admin/customers', { as: 'admin', query: { search: 'BOB' } }),
      s.adminCustomerPageSchema,
    );
    expect(found.items.map((c) => c.id)).toEqual([BOB]);
    const detail = await ok(await h.call('GET', `/v1/admin/customers/${BOB}`, { as: 'admin' }), s.adminCustomerDetailSchema);
    expect(detail.customer.id).toBe(BOB);
    expect(detail.subscription?.tier).toBe('professional');
    await refused(await h.call('GET', '/v1/admin/customers/cus_nobody', { as: 'admin' }), 404, 'NOT_FOUND');
    await refused(await h.call('GET', '/v1/admin/customers/bad%20id', { as: 'admin' }), 400, 'VALIDATION');
  });

  it('POST …/grant and …/adjust: idempotent by key, reason required', async () => {
    const h = await seeded();
    const grant = (key: string, amountMicros = '2500000') =>
      h.call('POST', `/v1/admin/customers/${ADA}/grant`, {
        as: 'admin',
        body: { amountMicros, kind: 'purchased' },
        headers: { 'idempotency-key': key },
      });
    const first = (await ok(await grant('g-1'), s.ledgerOperationSchema)) as WireLedgerOperation;
    expect(first.replayed).toBe(false);
    expect(first.entries).toEqual([expect.objectContaining({ kind: 'grant', amountMicros: '2500000', bucketKind: 'purchased' })]);
    expect(first.balance.balanceMicros).toBe(String(ADA_BALANCE + 2_500_000n));
    const again = (await ok(await grant('g-1'), s.ledgerOperationSchema)) as WireLedgerOperation;
    expect(again.replayed).toBe(true);
    expect(again.balance.balanceMicros).toBe(String(ADA_BALANCE + 2_500_000n));
    await refused(await grant('g-1', '1'), 409, 'IDEMPOTENCY_CONFLICT');
    await refused(await grant('g-2', '0'), 400, 'VALIDATION');
    await refused(await grant('g-3', '1000000000000000001'), 400, 'VALIDATION');

    const adjust = (body: unknown) => h.call('POST', `/v1/admin/customers/${ADA}/adjust`, { as: 'admin', body });
    const taken = (await ok(
      await adjust({ amountMicros: '-1000', reason: 'Rounding fix' }),
      s.ledgerOperationSchema,
    )) as WireLedgerOperation;
    expect(taken.entries.map((e) => [e.kind, e.amountMicros])).toEqual([['adjust', '-1000']]);
    expect((taken.balance as WireBalance).balanceMicros).toBe(String(ADA_BALANCE + 2_500_000n - 1000n));
    await refused(await adjust({ amountMicros: '-1000' }), 400, 'VALIDATION');
    await refused(await adjust({ amountMicros: '-1000', reason: '   ' }), 400, 'VALIDATION');
    await refused(await adjust({ amountMicros: '-999999999999', reason: 'too much' }), 402, 'INSUFFICIENT_CREDITS');
    await refused(
      await h.call('POST', '/v1/admin/customers/cus_nobody/grant', { as: 'admin', body: { amountMicros: '1' } }),
      404,
      'NOT_FOUND',
    );
  });

  it('coupons: create (201), list, deactivate; a deactivated coupon can’t be redeemed', async () => {
    const h = await seeded();
    const created = await ok(
      await h.call('POST', '/v1/admin/coupons', {
        as: 'admin',
        body: {
          code: 'spring20',
          benefit: { kind: 'credits', amountMicros: '3000000', expiresInDays: null },
          maxRedemptions: 2,
          expiresAt: '2027-01-01T00:00:00Z',
        },
      }),
      s.couponSchema,
      201,
    );
    expect(created).toMatchObject({
      code: 'SPRING20',
      maxRedemptions: 2,
      expiresAt: '2027-01-01T00:00:00.000Z',
      tiers: [],
      redemptions: 0,
      active: true,
    });
    await refused(
      await h.call('POST', '/v1/admin/coupons', {
        as: 'admin',
        body: { code: 'SPRING20', benefit: { kind: 'percent_off', percentOffBps: 100, durationPeriods: 1 } },
      }),
      409,
      'CONFLICT',
    );
    await refused(
      await h.call('POST', '/v1/admin/coupons', {
        as: 'admin',
        body: { code: 'HUGE', benefit: { kind: 'credits', amountMicros: '10000000000000000', expiresInDays: null } },
      }),
      400,
      'VALIDATION',
    );
    await refused(
      await h.call('POST', '/v1/admin/coupons', {
        as: 'admin',
        body: { code: 'TIERX', benefit: { kind: 'percent_off', percentOffBps: 100, durationPeriods: 1 }, tiers: ['gold'] },
      }),
      400,
      'UNKNOWN_TIER',
    );
    const listed = await ok(await h.call('GET', '/v1/admin/coupons', { as: 'admin' }), s.couponsSchema);
    expect(listed.map((c) => c.code).sort()).toEqual(['BOBONLY77', 'SPRING20', 'WELCOME10']);
    const off = await ok(await h.call('PATCH', '/v1/admin/coupons/spring20', { as: 'admin', body: { active: false } }), s.couponSchema);
    expect(off.active).toBe(false);
    await refused(await h.call('POST', '/v1/coupons/redeem', { as: 'ada', body: { code: 'SPRING20' } }), 404, 'COUPON_NOT_FOUND');
    await refused(await h.call('PATCH', '/v1/admin/coupons/NOPE123', { as: 'admin', body: { active: false } }), 404, 'COUPON_NOT_FOUND');
  });

  it('GET /v1/admin/audit, dead letters and their retry', async () => {
    const h = await seeded();
    const audit = await ok(await h.call('GET', '/v1/admin/audit', { as: 'admin' }), s.auditReportSchema);
    expect(audit).toMatchObject({ ok: true, customers: 2, totalMicros: '0', issues: [] });
    const id = await deadLetter(h);
    const dead = await ok(await h.call('GET', '/v1/admin/outbox/dead-letters', { as: 'admin' }), s.outboxMessagesSchema);
    expect(dead).toEqual([expect.objectContaining({ id, topic: 'test.dead', lastError: 'sink down', dead: true })]);
    expect(await ok(await h.call('POST', `/v1/admin/outbox/dead-letters/${id}/retry`, { as: 'admin' }), s.outboxRetriedSchema)).toEqual({
      id,
      retried: true,
    });
    expect(await ok(await h.call('GET', '/v1/admin/outbox/dead-letters', { as: 'admin' }), s.outboxMessagesSchema)).toEqual([]);
    await refused(await h.call('POST', `/v1/admin/outbox/dead-letters/${id}/retry`, { as: 'admin' }), 404, 'NOT_FOUND');
  });
});

describe('webhooks', () => {
  it('POST /v1/webhooks/stripe applies a signed event once; a bad signature is 400 and changes nothing', async () => {
    const h = await seeded();
    const start = await h.billing.subscribe({ customerId: 'cus_new', tier: 'starter' });
    if (start.status !== 'checkout') throw new Error('expected a checkout');
    // Take the checkout's events off the harness' queue and send them as the provider would: signed webhooks.
    await h.sandbox.completeCheckout(start.checkoutId);
    const events = h.sandbox.events().slice(-3);
    for (const event of events) {
      const signed = await h.sandbox.webhook(event);
      const response = await h.handler(
        new Request('https://api.example.com/v1/webhooks/stripe', { method: 'POST', headers: signed.headers, body: signed.rawBody }),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ received: true, applied: true });
    }
    expect((await h.billing.getSubscription('cus_new'))?.tier).toBe('starter');
    const replay = await h.sandbox.webhook(events[0] as never);
    const again = await h.handler(
      new Request('https://api.example.com/v1/webhooks/stripe', { method: 'POST', headers: replay.headers, body: replay.rawBody }),
    );
    expect(await again.json()).toMatchObject({ received: true, applied: false });
    const forged = await h.handler(
      new Request('https://api.example.com/v1/webhooks/stripe', { method: 'POST', headers: replay.headers, body: `${replay.rawBody} ` }),
    );
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as WireProblem).code).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it('POST /v1/webhooks/stripe prefers the `webhooks.stripe` option', async () => {
    const seen: string[] = [];
    const h = await createHarness({
      webhooks: {
        stripe: async (request) => {
          seen.push(await request.text());
          return Response.json({ received: true });
        },
      },
    });
    const response = await h.call('POST', '/v1/webhooks/stripe', {
      rawBody: '{"id":"evt_1"}',
      headers: { 'stripe-signature': 't=1,v1=x' },
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual(['{"id":"evt_1"}']);
  });

  it('POST /v1/webhooks/lago passes the raw request to `webhooks.lago`', async () => {
    const h = await createHarness();
    const good = await h.call('POST', '/v1/webhooks/lago', { rawBody: '{}', headers: { 'x-lago-signature': LAGO_SIGNATURE } });
    expect(await good.json()).toEqual({ received: true });
    expect((await h.call('POST', '/v1/webhooks/lago', { rawBody: '{}' })).status).toBe(400);
  });
});
