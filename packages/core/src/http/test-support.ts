/**
 * A handler over the memory store and the sandbox payment provider, with two customers whose data
 * differ in every way a leak could show, for the HTTP tests. Not part of the build (tsup skips it).
 */
import { createSandboxProvider } from '../billing/sandbox.js';
import { createBilling } from '../billing/service.js';
import type { PaymentEvent } from '../billing/types.js';
import { createByokKeys } from '../byok/keys.js';
import { createKeyVault } from '../byok/vault.js';
import { sampleCatalog } from '../catalog/sample.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
import { SAMPLE_EMAIL_BRAND } from '../notifications/email-samples.js';
import { createNotifier } from '../notifications/notifier.js';
import type { NotificationCategory } from '../notifications/preferences.js';
import { createFakeClock, createMemoryEmailTransport, createTextEmailRenderer } from '../testing/index.js';
import { createTallyHandler, type TallyHandlerOptions } from './handler.js';
import type { AnyRoute, TallyPrincipal } from './route.js';

export const ADA = 'cus_ada';
export const BOB = 'cus_bob';
export const ADA_KEY = 'sk-or-v1-ada-0000000000000000000000000000000000000000000000ADA1';
export const BOB_KEY = 'sk-or-v1-bob-0000000000000000000000000000000000000000000000B0B9';

/** Bearer tokens the test `authenticate` knows. */
export const PRINCIPALS: Record<string, TallyPrincipal> = {
  ada: { customerId: ADA, roles: [] },
  bob: { customerId: BOB, roles: [] },
  admin: { customerId: null, roles: ['admin'] },
  // Signed in, but neither a customer nor an admin (e.g. a support viewer).
  staff: { customerId: null, roles: ['support'] },
};
export type Caller = keyof typeof PRINCIPALS | 'anonymous';

export interface CallOptions {
  as?: Caller;
  body?: unknown;
  /** Sent as is (no JSON encoding), e.g. garbage. */
  rawBody?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  query?: Record<string, string> | string;
}

export const LAGO_SIGNATURE = 'lago-test-signature';

/** Stands in for the Lago adapter's webhook handler: a fixed signature header, else a 400 problem. */
async function lagoStub(request: Request): Promise<Response> {
  if (request.headers.get('x-lago-signature') !== LAGO_SIGNATURE) {
    return new Response(
      JSON.stringify({
        type: 'about:blank',
        title: 'Bad request',
        status: 400,
        code: 'WEBHOOK_SIGNATURE_INVALID',
        detail: 'bad signature',
      }),
      {
        status: 400,
        headers: { 'content-type': 'application/problem+json' },
      },
    );
  }
  await request.text();
  return Response.json({ received: true });
}

export async function createHarness(overrides: Partial<TallyHandlerOptions> = {}) {
  const clock = createFakeClock('2026-11-02T00:00:00Z');
  const store = createMemoryStore();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  // Provider events arrive after the call that caused them, as webhooks do (not inside it).
  const pending: PaymentEvent[] = [];
  const sandbox = createSandboxProvider({
    catalog: sampleCatalog,
    clock,
    pagesUrl: 'https://pay.example.com',
    onEvent: (event) => pending.push(event),
  });
  const billing = createBilling({ catalog: sampleCatalog, store, provider: sandbox, clock });
  async function deliverEvents(): Promise<void> {
    for (let event = pending.shift(); event; event = pending.shift()) await billing.applyEvent(event);
  }
  const vault = createKeyVault({ keys: { k1: Uint8Array.from({ length: 32 }, (_, i) => i + 7) }, activeKeyId: 'k1' });
  const byok = createByokKeys({ store, vault, clock });
  const emails = createMemoryEmailTransport();
  const notifier = createNotifier({
    tally,
    billing,
    render: createTextEmailRenderer(),
    transport: emails,
    from: { address: 'billing@example.com', name: 'Tally' },
    recipients: async (customerId) => ({ address: `${customerId}@example.com`, name: null }),
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: 'test-secret-0123456789-abcdefghijklmnop', url: 'https://api.example.com/v1/unsubscribe' },
    clock,
  });
  const errors: unknown[] = [];
  const handler = createTallyHandler({
    tally,
    billing,
    byok,
    notifier,
    clock,
    authenticate: async (request) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '');
      return (token && PRINCIPALS[token]) || null;
    },
    onError: (error) => errors.push(error),
    checkoutUrls: { portalReturnUrl: 'https://app.example.com/billing' },
    webhooks: { lago: lagoStub },
    ...overrides,
  });

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
    const query = typeof options.query === 'string' ? options.query : new URLSearchParams(options.query ?? {}).toString();
    const url = `https://api.example.com${path}${query ? `?${query}` : ''}`;
    const headers = new Headers(options.headers);
    const as = options.as ?? 'anonymous';
    if (as !== 'anonymous') headers.set('authorization', `Bearer ${as}`);
    let body: string | Uint8Array<ArrayBuffer> | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const response = await handler(new Request(url, { method, headers, ...(body !== undefined ? { body } : {}) }));
    await deliverEvents();
    return response;
  }

  return { clock, store, tally, billing, sandbox, vault, byok, notifier, emails, handler, call, errors, deliverEvents };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/**
 * Ada on Starter and Bob on Professional, each with usage on a different model, spend caps, a
 * provider key, auto-recharge, notification preferences and a coupon, all with distinct amounts.
 */
export async function seedCustomers(h: Harness): Promise<void> {
  const { billing, sandbox, tally, byok, store, clock } = h;
  for (const [customerId, tier] of [
    [ADA, 'starter'],
    [BOB, 'professional'],
  ] as const) {
    const started = await billing.subscribe({ customerId, tier });
    if (started.status !== 'checkout') throw new Error(`expected a checkout for ${customerId}`);
    await sandbox.completeCheckout(started.checkoutId);
    await h.deliverEvents();
  }
  clock.advance(3_600_000);
  await billing.createCoupon({
    code: 'WELCOME10',
    benefit: { type: 'credits', amountMicros: 10_000_000n, expiresInDays: 30 },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  });
  await billing.createCoupon({
    code: 'BOBONLY77',
    benefit: { type: 'credits', amountMicros: 7_770_000n, expiresInDays: null },
    maxRedemptions: 5,
    expiresAt: null,
    tiers: ['professional'],
  });
  await billing.redeemCoupon({ customerId: BOB, code: 'BOBONLY77', idempotencyKey: 'seed-bob-coupon' });
  await tally.meter({
    customerId: ADA,
    model: 'openai/gpt-4o-mini',
    usage: { inputTokens: 1200, outputTokens: 350 },
    idempotencyKey: 'seed-ada-call-1',
  });
  await tally.spend({ customerId: ADA, amountMicros: 123_000, description: 'ada-lunch', idempotencyKey: 'seed-ada-spend' });
  await tally.meter({
    customerId: BOB,
    model: 'anthropic/claude-sonnet-4',
    usage: { inputTokens: 31_337, outputTokens: 4_321 },
    idempotencyKey: 'seed-bob-call-1',
  });
  await tally.spend({ customerId: BOB, amountMicros: 4_444_444, description: 'bob-private-spend', idempotencyKey: 'seed-bob-spend' });
  await tally.spendCaps.set({ customerId: ADA, dailyMicros: 5_000_000, monthlyMicros: 50_000_000 });
  await tally.spendCaps.set({ customerId: BOB, endUserId: 'bob-enduser-42', dailyMicros: 9_191_919, monthlyMicros: null });
  await byok.set(ADA, 'openrouter', ADA_KEY);
  await byok.set(BOB, 'openrouter', BOB_KEY);
  await billing.setAutoRecharge({ customerId: BOB, enabled: true, thresholdMicros: 3_141_592n, packId: 'credits-50', maxPerMonth: 7 });
  await store.setNotificationPreferences({ customerId: BOB, changes: { low_balance: false, welcome: false }, at: clock.now() });
  await store.putProviderBalance({
    customerId: BOB,
    provider: 'openrouter',
    source: 'byok',
    limitNanoUsd: 55_555_000_000n,
    usageNanoUsd: 1_000_000_000n,
    remainingNanoUsd: 54_555_000_000n,
    low: false,
    syncedAt: clock.now(),
  });
  clock.advance(60_000);
}

/** Strings that must never appear in an answer to Ada (they are Bob's). */
export const BOB_MARKERS = [
  BOB,
  'bob',
  'anthropic/claude-sonnet-4',
  '31337',
  '4444444',
  '9191919',
  'bob-enduser-42',
  'B0B9',
  '3141592',
  '55555000000',
  'BOBONLY77',
  '7770000',
];

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** A request that succeeds for the route on a seeded harness (as the caller its scope allows). */
export interface RouteSample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Fills `{param}`s of a route path. */
export function routePath(route: AnyRoute, params: Record<string, string> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} of ${route.id}`);
    return encodeURIComponent(value);
  });
}

/**
 * One valid request per route id; a route missing here fails the authorization test, so no route
 * joins the table untested. `prepare` runs on the seeded harness first (state the request needs).
 */
export const ROUTE_SAMPLES: Record<string, (h: Harness) => Promise<RouteSample>> = {
  getHealth: async () => ({}),
  getOpenApi: async () => ({}),
  getMe: async () => ({}),
  getBalance: async () => ({}),
  getUsage: async () => ({ query: { groupBy: 'day' } }),
  listTransactions: async () => ({ query: { limit: '2', kind: 'spend,usage,grant' } }),
  listTiers: async () => ({}),
  previewTierChange: async () => ({ body: { tier: 'professional' } }),
  changeTier: async () => ({ body: { tier: 'trial' } }),
  cancelSubscription: async () => ({}),
  resumeSubscription: async (h) => {
    await h.billing.cancel(ADA);
    await h.deliverEvents();
    return {};
  },
  openPaymentMethodPortal: async () => ({ body: { returnUrl: 'https://app.example.com/settings' } }),
  redeemCoupon: async () => ({ body: { code: 'welcome10' } }),
  listCreditPacks: async () => ({}),
  checkoutCreditPack: async () => ({ params: { packId: 'credits-10' } }),
  getAutoRecharge: async () => ({}),
  setAutoRecharge: async () => ({ body: { enabled: true, thresholdMicros: '1000000', packId: 'credits-10', maxPerMonth: 2 } }),
  listSpendCaps: async () => ({}),
  setSpendCap: async () => ({ body: { endUserId: 'ada-app', dailyMicros: '1000000', monthlyMicros: null } }),
  listByokKeys: async () => ({}),
  setByokKey: async () => ({ params: { provider: 'openrouter' }, body: { apiKey: 'sk-or-v1-ada-new-key-7Q2x' } }),
  removeByokKey: async () => ({ params: { provider: 'openrouter' } }),
  getNotificationPreferences: async () => ({}),
  setNotificationPreferences: async () => ({ body: { categories: [{ id: 'monthly_reset', enabled: false }] } }),
  adminListCustomers: async () => ({ query: { search: 'ADA', limit: '10' } }),
  adminGetCustomer: async () => ({ params: { id: ADA } }),
  adminGrantCredits: async () => ({ params: { id: ADA }, body: { amountMicros: '2500000', description: 'Goodwill' } }),
  adminAdjustCredits: async () => ({ params: { id: ADA }, body: { amountMicros: '-1000', reason: 'Rounding fix' } }),
  adminListCoupons: async () => ({ query: { limit: '5' } }),
  adminCreateCoupon: async () => ({
    body: { code: 'spring20', benefit: { kind: 'percent_off', percentOffBps: 2000, durationPeriods: 2 }, tiers: ['starter'] },
  }),
  adminUpdateCoupon: async () => ({ params: { code: 'welcome10' }, body: { active: false } }),
  adminAudit: async () => ({}),
  adminListDeadLetters: async () => ({}),
  adminRetryDeadLetter: async (h) => ({ params: { id: await deadLetter(h) } }),
  adminListEmailTemplates: async () => ({}),
  adminPreviewEmail: async () => ({ params: { template: 'low_balance' }, query: { format: 'json', locale: 'de' } }),
  adminSendTestEmail: async () => ({ body: { template: 'payment_failed', to: 'ops@example.com' } }),
  adminEmailLog: async () => ({ query: { status: 'sent', limit: '5' } }),
  adminAnalyticsCustomers: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsMrr: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsChurn: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsRetention: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsFunnel: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsUsage: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsMargin: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsUtilization: async () => ({ query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week' } }),
  adminAnalyticsTopCustomers: async () => ({
    query: { from: '2026-10-01T00:00:00Z', to: '2026-11-27T00:00:00Z', granularity: 'week', limit: '5' },
  }),
  unsubscribePage: async (h) => ({ query: { token: await unsubscribeToken(h, ADA, 'low_balance') } }),
  unsubscribe: async (h) => ({
    query: { token: await unsubscribeToken(h, ADA, 'low_balance') },
    rawBody: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }),
  stripeWebhook: async (h) => {
    const event = { id: 'evt_ping_1', provider: 'sandbox', created: h.clock.now(), type: 'ignored', providerType: 'ping' } as const;
    const signed = await h.sandbox.webhook(event);
    return { rawBody: signed.rawBody, headers: Object.fromEntries(signed.headers) };
  },
  lagoWebhook: async () => ({
    rawBody: '{"webhook_type":"invoice.created"}',
    headers: { 'content-type': 'application/json', 'x-lago-signature': LAGO_SIGNATURE },
  }),
};

/** The token of a customer's signed unsubscribe link for `category`. */
export async function unsubscribeToken(h: Harness, customerId: string, category: NotificationCategory): Promise<string> {
  const url = await h.notifier.unsubscribeUrl(customerId, category);
  const token = url === null ? null : new URL(url).searchParams.get('token');
  if (!token) throw new Error(`no unsubscribe link for ${category}`);
  return token;
}

/** A dead outbox message; returns its id. */
export async function deadLetter(h: Harness): Promise<string> {
  const message = await h.store.enqueueOutbox({
    topic: 'test.dead',
    payload: '{}',
    dedupeKey: `test.dead:${h.clock.now().getTime()}`,
    at: h.clock.now(),
  });
  if (!message) throw new Error('enqueue refused');
  await h.store.failOutbox(message.id, 'sink down', null, h.clock.now());
  return message.id;
}

/** Calls the route with its sample request. */
export async function callSample(h: Harness, route: AnyRoute, as: Caller, sample: RouteSample): Promise<Response> {
  return h.call(route.method, routePath(route, sample.params), {
    as,
    ...(sample.query ? { query: sample.query } : {}),
    ...(sample.body !== undefined ? { body: sample.body } : {}),
    ...(sample.rawBody !== undefined ? { rawBody: sample.rawBody } : {}),
    ...(sample.headers ? { headers: sample.headers } : {}),
  });
}

/** The caller a route's scope admits (customer routes: Ada). */
export function allowedCaller(route: AnyRoute): Caller {
  return route.scope === 'customer' ? 'ada' : route.scope === 'admin' ? 'admin' : 'anonymous';
}

const plain = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? `${item}n` : item)));

/** Everything a request could change, as plain JSON: compare two snapshots to prove nothing changed. */
export async function storeSnapshot(h: Harness): Promise<unknown> {
  const { store, clock } = h;
  const customers: Record<string, unknown> = {};
  for (const id of [ADA, BOB]) {
    customers[id] = {
      customer: await store.getCustomer(id),
      balance: await store.balance(id, clock.now()),
      subscription: await store.getSubscription(id),
      history: await store.subscriptionHistory(id),
      entries: await store.listEntries({ customerId: id, limit: 1000 }),
      caps: await store.listSpendCaps(id, clock.now()),
      autoRecharge: await store.getAutoRecharge(id),
      preferences: await store.getNotificationPreferences(id),
      key: await store.getProviderKey(id, 'openrouter', 'byok'),
      redemptions: await store.listRedemptions({ customerId: id, limit: 100 }),
    };
  }
  return plain({
    audit: await store.audit(),
    customers,
    allCustomers: await store.listCustomers({ limit: 500 }),
    outbox: await store.listOutbox({ limit: 10_000 }),
    coupons: await store.listCoupons({ limit: 500 }),
  });
}

/** Bob's side of the store only: what Ada's requests must never change. */
export async function bobSnapshot(h: Harness): Promise<unknown> {
  const all = (await storeSnapshot(h)) as { customers: Record<string, unknown> };
  return all.customers[BOB];
}
