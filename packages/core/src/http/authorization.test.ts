import { describe, expect, it } from 'vitest';
import { ROUTE_SCOPES, type RouteScope } from './route.js';
import { routes } from './routes.js';
import {
  ADA,
  allowedCaller,
  BOB_MARKERS,
  bobSnapshot,
  type Caller,
  callSample,
  createHarness,
  json,
  ROUTE_SAMPLES,
  routePath,
  seedCustomers,
  storeSnapshot,
} from './test-support.js';

/**
 * Who may call what, written out by hand. A route added to the table without a line here fails the
 * first test, so a new route can't slip past these checks.
 */
const EXPECTED_SCOPES: Record<string, RouteScope> = {
  getHealth: 'public',
  getOpenApi: 'public',
  getMe: 'customer',
  getBalance: 'customer',
  getUsage: 'customer',
  listTransactions: 'customer',
  listTiers: 'customer',
  previewTierChange: 'customer',
  changeTier: 'customer',
  cancelSubscription: 'customer',
  resumeSubscription: 'customer',
  openPaymentMethodPortal: 'customer',
  redeemCoupon: 'customer',
  listCreditPacks: 'customer',
  checkoutCreditPack: 'customer',
  getAutoRecharge: 'customer',
  setAutoRecharge: 'customer',
  listSpendCaps: 'customer',
  setSpendCap: 'customer',
  listByokKeys: 'customer',
  setByokKey: 'customer',
  removeByokKey: 'customer',
  getNotificationPreferences: 'customer',
  setNotificationPreferences: 'customer',
  adminListCustomers: 'admin',
  adminGetCustomer: 'admin',
  adminGrantCredits: 'admin',
  adminAdjustCredits: 'admin',
  adminListCoupons: 'admin',
  adminCreateCoupon: 'admin',
  adminUpdateCoupon: 'admin',
  adminAudit: 'admin',
  adminListDeadLetters: 'admin',
  adminRetryDeadLetter: 'admin',
  adminListEmailTemplates: 'admin',
  adminPreviewEmail: 'admin',
  adminSendTestEmail: 'admin',
  adminEmailLog: 'admin',
  adminAnalyticsCustomers: 'admin',
  adminAnalyticsMrr: 'admin',
  adminAnalyticsChurn: 'admin',
  adminAnalyticsRetention: 'admin',
  adminAnalyticsFunnel: 'admin',
  adminAnalyticsUsage: 'admin',
  adminAnalyticsMargin: 'admin',
  adminAnalyticsUtilization: 'admin',
  adminAnalyticsTopCustomers: 'admin',
  unsubscribePage: 'public',
  unsubscribe: 'public',
  stripeWebhook: 'webhook',
  lagoWebhook: 'webhook',
};

/** Who is refused on each scope, and with what. */
const REFUSED: Record<RouteScope, Array<[Caller, number, string]>> = {
  public: [],
  webhook: [],
  customer: [
    ['anonymous', 401, 'UNAUTHENTICATED'],
    ['staff', 403, 'FORBIDDEN'],
    ['admin', 403, 'FORBIDDEN'],
  ],
  admin: [
    ['anonymous', 401, 'UNAUTHENTICATED'],
    ['ada', 403, 'FORBIDDEN'],
    ['staff', 403, 'FORBIDDEN'],
  ],
};

describe('the route table', () => {
  it('holds exactly the routes the expectations list, each with the expected scope', () => {
    expect(Object.fromEntries(routes.map((route) => [route.id, route.scope]))).toEqual(EXPECTED_SCOPES);
    expect(Object.keys(ROUTE_SAMPLES).sort()).toEqual(Object.keys(EXPECTED_SCOPES).sort());
  });

  it('puts every /v1/admin/ path in the admin scope, every /v1/webhooks/ path in the webhook scope, and nothing else there', () => {
    for (const route of routes) {
      expect(ROUTE_SCOPES).toContain(route.scope);
      expect(route.path.startsWith('/v1/admin/'), route.id).toBe(route.scope === 'admin');
      expect(route.path.startsWith('/v1/webhooks/'), route.id).toBe(route.scope === 'webhook');
      expect(route.path.startsWith('/v1/'), route.id).toBe(true);
    }
  });

  it('has unique ids and unique method + path pairs, and no customer route takes a customer id from the client', () => {
    expect(new Set(routes.map((route) => route.id)).size).toBe(routes.length);
    expect(new Set(routes.map((route) => `${route.method} ${route.path}`)).size).toBe(routes.length);
    for (const route of routes.filter((r) => r.scope !== 'admin')) {
      expect(route.path, route.id).not.toMatch(/customer/i);
      const shape = (schema: unknown) => Object.keys((schema as { shape?: object } | undefined)?.shape ?? {});
      for (const field of [...shape(route.params), ...shape(route.query), ...shape(route.body)]) {
        expect(field.toLowerCase(), `${route.id}: ${field}`).not.toContain('customer');
      }
    }
  });

  it('gives every route with a body a JSON schema, and every non-webhook route a query schema', () => {
    for (const route of routes) {
      if (route.scope === 'webhook') continue;
      expect(route.query, route.id).toBeDefined();
      // The one exception: RFC 8058 one-click unsubscribe, whose body is the mail provider's form, not JSON.
      const takesJson = route.method !== 'GET' && route.method !== 'DELETE' && route.id !== 'unsubscribe';
      expect(!!route.body, route.id).toBe(takesJson);
    }
  });

  it('is frozen: nothing can be added to it at run time', () => {
    expect(Object.isFrozen(routes)).toBe(true);
  });
});

describe.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (_name, route) => {
  it('refuses callers its scope does not admit, and changes nothing', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const sample = await ROUTE_SAMPLES[route.id]?.(h);
    if (!sample) throw new Error(`no sample for ${route.id}`);
    const before = await storeSnapshot(h);
    for (const [caller, status, code] of REFUSED[route.scope]) {
      const response = await callSample(h, route, caller, sample);
      expect(response.status, `${caller}`).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect((await json(response)).code).toBe(code);
      if (status === 401) expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('admits its caller; a customer sees and changes only their own data', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const sample = await ROUTE_SAMPLES[route.id]?.(h);
    if (!sample) throw new Error(`no sample for ${route.id}`);
    const bobBefore = await bobSnapshot(h);
    const response = await callSample(h, route, allowedCaller(route), sample);
    const text = await response.text();
    expect(response.status, text).toBeLessThan(300);
    expect(h.errors).toEqual([]);
    if (route.scope === 'customer') {
      for (const marker of BOB_MARKERS) expect(text, `${route.id} leaks ${marker}`).not.toContain(marker);
      expect(await bobSnapshot(h)).toEqual(bobBefore);
    }
  });
});

describe('customer routes act on the caller only', () => {
  it('Bob sees Bob: the same routes answer Bob with his own data', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const me = await json<{ customerId: string; tier: { id: string }; providerBalances: unknown[] }>(
      await h.call('GET', '/v1/me', { as: 'bob' }),
    );
    expect(me.customerId).toBe('cus_bob');
    expect(me.tier.id).toBe('professional');
    expect(me.providerBalances).toHaveLength(1);
    const keys = await h.call('GET', '/v1/byok', { as: 'bob' });
    expect(await keys.text()).toContain('B0B9');
    const ada = await h.call('GET', '/v1/me', { as: 'ada' });
    expect((await json(ada)).customerId).toBe(ADA);
  });

  it('a path or query naming another customer is refused, not obeyed', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const before = await storeSnapshot(h);
    expect((await h.call('GET', '/v1/balance', { as: 'ada', query: { customerId: 'cus_bob' } })).status).toBe(400);
    expect((await h.call('GET', '/v1/me/cus_bob', { as: 'ada' })).status).toBe(404);
    const put = await h.call('PUT', '/v1/spend-caps', {
      as: 'ada',
      body: { customerId: 'cus_bob', dailyMicros: '1', monthlyMicros: null },
    });
    expect(put.status).toBe(400);
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('admin paths refuse a customer even for their own id', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const response = await h.call('GET', routePath(routes.find((r) => r.id === 'adminGetCustomer') as never, { id: ADA }), { as: 'ada' });
    expect(response.status).toBe(403);
  });
});
