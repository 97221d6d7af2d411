/**
 * The backend stories talk to: the real `createTallyHandler` from `@tally/core/http` over a memory
 * store, the ledger, billing with the sandbox payment provider and the BYOK key vault, seeded per
 * scenario and served through msw in the browser. Widgets in stories therefore see exactly the JSON,
 * problems and status codes the HTTP API gives an app, not hand-written fixtures.
 *
 *   parameters: { msw: { handlers: tallyScenario('low-balance') } },
 *   render: () => <TallyProvider client={storyClient('low-balance')}>…</TallyProvider>,
 *
 * Every scenario's clock stands at STORY_NOW once seeded, so dates and amounts never change between runs.
 */
import {
  type Billing,
  type ByokKeys,
  createBilling,
  createByokKeys,
  createKeyVault,
  createMemoryStore,
  createSandboxProvider,
  createTally,
  type SandboxProvider,
  sampleCatalog,
  type Tally,
  type TallyStore,
} from '@tally/core';
import { createTallyClient } from '@tally/core/client';
import { createTallyHandler } from '@tally/core/http';
import { applySampleData, createFakeClock, type FakeClock, generateSampleData } from '@tally/core/testing';
import { delay, type HttpHandler, http } from 'msw';
import { STORY_NOW } from './story-clock.js';

export { STORY_NOW } from './story-clock.js';

export const STORY_SCENARIOS = [
  'healthy',
  'low-balance',
  'past-due',
  'unlimited',
  'new-customer',
  'empty-history',
  'server-error',
  'slow',
  'analytics',
] as const;

/**
 * - `healthy`: Starter, active; about a fifth of the month's 20 credits used over the last two weeks,
 *   a 10-credit pack bought, a coupon redeemed, auto-recharge on, a monthly spend cap, an OpenRouter key.
 * - `low-balance`: Starter, active; under 10 % of the allowance left, auto-recharge off.
 * - `past-due`: Starter; the renewal on 16 Nov was declined twice, so the subscription is past due (in
 *   its grace period) and last period's allowance has expired.
 * - `unlimited`: Enterprise (unlimited credits), active, with usage.
 * - `new-customer`: started a 14-day Trial two hours ago; no usage.
 * - `empty-history`: a customer on Starter with no subscription and not a single ledger entry.
 * - `server-error`: every authenticated route answers 500 `INTERNAL` problem+json, produced by the handler's
 *   own error path (authentication itself fails unexpectedly). Public routes (`/v1/health`) still answer.
 * - `slow`: the `healthy` data, but responses never arrive (unless `delayMs` says otherwise), so loading
 *   states stay on screen.
 * - `analytics`: a business for the admin analytics widgets: `generateSampleData` (seed 7, 60 customers,
 *   the 90 days up to STORY_NOW's day) applied through the ledger. Read it with `storyAdminClient`.
 *
 * Every scenario also lets an operator in: `storyAdminClient()` signs in with the `admin` role.
 */
export type StoryScenario = (typeof STORY_SCENARIOS)[number];

/** The customer every scenario is about; `storyClient()` signs in as it. */
export const STORY_CUSTOMER_ID = 'cus_story';

/** The bearer token of the stories' operator (the `admin` role, no customer); `storyAdminClient()` sends it. */
export const STORY_ADMIN_TOKEN = 'story-admin';

/** The analytics scenario's sample data: 60 customers over the 90 UTC days up to STORY_NOW's day. */
export const STORY_ANALYTICS = { seed: 7, customers: 60, days: 90 } as const;

/**
 * Coupons present in every scenario. `credits` (5 credits) and `percentOff` (20 % for 3 periods) redeem;
 * `expired` answers `COUPON_EXPIRED`; `redeemed` was already used by the customer in `healthy`.
 */
export const STORY_COUPONS = { credits: 'WELCOME5', percentOff: 'SAVE20', expired: 'SUMMER2026', redeemed: 'BETA3' } as const;

/**
 * Names the scenario a request is for. The msw handlers route on it before their own scenario, because
 * a docs page renders several stories at once while only one story's handlers are installed.
 */
export const SCENARIO_HEADER = 'x-tally-story-scenario';

const DAY_MS = 86_400_000;
/** The longest delay a browser timer takes (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;
const HOUR_MS = 3_600_000;
const CREDIT = 1_000_000n;
const USD_NANO = 1_000_000_000n;
/** A fixed vault key (32 bytes, base64): stories seal their demo provider key with it. Not a secret. */
const STORY_VAULT_KEY = 'c3Rvcnktb25seSB2YXVsdCBrZXksIG5vdCBzZWNyZXQ=';

export interface StoryBackend {
  scenario: StoryScenario;
  clock: FakeClock;
  store: TallyStore;
  tally: Tally;
  billing: Billing;
  sandbox: SandboxProvider;
  byok: ByokKeys;
  /** The real HTTP handler (`Request → Response`) for this scenario. */
  handle(request: Request): Promise<Response>;
}

/** `days` (and `hours`) before STORY_NOW. */
function ago(days: number, hours = 0): Date {
  return new Date(Date.parse(STORY_NOW) - days * DAY_MS - hours * HOUR_MS);
}

interface Call {
  daysAgo: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

// Token counts of realistic calls; the catalog prices them (with the tier's markup) into credit micros.
const LIGHT_USAGE: Call[] = [
  { daysAgo: 14, model: 'openai/gpt-4o-mini', inputTokens: 420_000, outputTokens: 96_000 },
  { daysAgo: 12, model: 'openai/gpt-4o', inputTokens: 310_000, outputTokens: 64_000 },
  { daysAgo: 9, model: 'anthropic/claude-sonnet-4', inputTokens: 180_000, outputTokens: 42_000 },
  { daysAgo: 6, model: 'google/gemini-2.0-flash-lite', inputTokens: 900_000, outputTokens: 150_000 },
  { daysAgo: 4, model: 'openai/gpt-4o', inputTokens: 120_000, outputTokens: 30_000 },
  { daysAgo: 1, model: 'mistralai/mistral-nemo', inputTokens: 2_000_000, outputTokens: 400_000 },
  { daysAgo: 0.125, model: 'anthropic/claude-sonnet-4', inputTokens: 60_000, outputTokens: 12_000 },
];

const HEAVY_USAGE: Call[] = [
  { daysAgo: 13, model: 'anthropic/claude-sonnet-4', inputTokens: 1_000_000, outputTokens: 250_000 },
  { daysAgo: 8, model: 'openai/gpt-4o', inputTokens: 600_000, outputTokens: 120_000 },
  { daysAgo: 5, model: 'anthropic/claude-sonnet-4', inputTokens: 1_000_000, outputTokens: 250_000 },
  { daysAgo: 2, model: 'openai/gpt-4o-mini', inputTokens: 2_000_000, outputTokens: 500_000 },
];

/** Builds and seeds one scenario's backend. Each call starts from an empty store. */
export async function createStoryBackend(scenario: StoryScenario): Promise<StoryBackend> {
  const catalog = sampleCatalog;
  const clock = createFakeClock(ago(120));
  const store = createMemoryStore();
  const tally = createTally({ catalog, store, clock });
  // The sandbox reports payments as events; billing applies them as a webhook would.
  let billing: Billing | null = null;
  const sandbox = createSandboxProvider({ catalog, clock, onEvent: (event) => billing?.applyEvent(event) });
  billing = createBilling({ catalog, store, provider: sandbox, clock });
  const byok = createByokKeys({ store, vault: createKeyVault({ keys: { story: STORY_VAULT_KEY }, activeKeyId: 'story' }), clock });
  const customerId = STORY_CUSTOMER_ID;
  const service = billing;

  /** Meters the calls oldest first, so the ledger's order (what the history lists) is the calendar's. */
  async function usage(calls: Call[]) {
    for (const call of [...calls].sort((a, b) => b.daysAgo - a.daysAgo)) {
      clock.set(ago(call.daysAgo));
      await tally.meter({
        customerId,
        model: call.model,
        usage: { inputTokens: call.inputTokens, outputTokens: call.outputTokens },
        idempotencyKey: `story:usage:${call.daysAgo}`,
      });
    }
  }
  const between = (calls: Call[], olderThan: number, newerThan: number) =>
    calls.filter((call) => call.daysAgo < olderThan && call.daysAgo >= newerThan);

  async function subscribePaid(tier: string, at: Date) {
    clock.set(at);
    const started = await service.subscribe({ customerId, tier });
    if (started.status !== 'checkout') throw new Error(`a paid tier without trial subscribes through checkout, got ${started.status}`);
    await sandbox.completeCheckout(started.checkoutId);
  }

  // Created 120 days back, so SUMMER2026 (ended 1 Sep) is expired by STORY_NOW.
  await service.createCoupon({
    code: STORY_COUPONS.credits,
    benefit: { type: 'credits', amountMicros: 5n * CREDIT, expiresInDays: 30 },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  });
  await service.createCoupon({
    code: STORY_COUPONS.percentOff,
    benefit: { type: 'percent_off', percentOffBps: 2000, durationPeriods: 3 },
    maxRedemptions: 500,
    expiresAt: null,
    tiers: [],
  });
  await service.createCoupon({
    code: STORY_COUPONS.expired,
    benefit: { type: 'credits', amountMicros: 10n * CREDIT, expiresInDays: null },
    maxRedemptions: null,
    expiresAt: new Date('2026-09-01T00:00:00.000Z'),
    tiers: [],
  });
  await service.createCoupon({
    code: STORY_COUPONS.redeemed,
    benefit: { type: 'credits', amountMicros: 3n * CREDIT, expiresInDays: null },
    maxRedemptions: null,
    expiresAt: null,
    tiers: [],
  });

  switch (scenario) {
    case 'healthy':
    case 'slow':
    case 'server-error': {
      await subscribePaid('starter', ago(15, 6));
      await usage(between(LIGHT_USAGE, 15, 11.5));
      clock.set(ago(11));
      const pack = await service.buyCredits({ customerId, packId: 'credits-10' });
      await sandbox.completeCheckout(pack.id);
      clock.set(ago(10));
      await service.redeemCoupon({ customerId, code: STORY_COUPONS.redeemed, idempotencyKey: 'story:coupon' });
      await usage(between(LIGHT_USAGE, 10, 3.5));
      clock.set(ago(3));
      await service.setAutoRecharge({ customerId, enabled: true, thresholdMicros: 5n * CREDIT, packId: 'credits-10', maxPerMonth: 2 });
      await tally.spendCaps.set({ customerId, monthlyMicros: 40n * CREDIT });
      await byok.set(customerId, 'openrouter', 'sk-or-v1-story-demo-key-4e2a');
      await store.putProviderBalance({
        customerId,
        provider: 'openrouter',
        source: 'byok',
        limitNanoUsd: 25n * USD_NANO,
        usageNanoUsd: 7_450_000_000n,
        remainingNanoUsd: 17_550_000_000n,
        low: false,
        syncedAt: ago(0, 1),
      });
      await usage(between(LIGHT_USAGE, 3, 0));
      break;
    }
    case 'low-balance':
      await subscribePaid('starter', ago(15, 6));
      await usage(HEAVY_USAGE);
      break;
    case 'past-due': {
      await subscribePaid('starter', new Date('2026-10-16T09:00:00.000Z'));
      await usage(LIGHT_USAGE.map((call) => ({ ...call, daysAgo: call.daysAgo + 10 })));
      const record = await service.getSubscription(customerId);
      if (!record?.providerCustomerId) throw new Error('the past-due scenario needs a subscription paid through the sandbox');
      sandbox.declineNextCharges(record.providerCustomerId, 3);
      clock.set(new Date('2026-11-16T09:00:01.000Z'));
      await sandbox.runBilling();
      clock.set(new Date('2026-11-19T09:00:05.000Z'));
      await sandbox.runBilling();
      break;
    }
    case 'unlimited':
      await subscribePaid('enterprise', ago(19, 3));
      await usage([...LIGHT_USAGE, ...HEAVY_USAGE]);
      break;
    case 'new-customer':
      clock.set(ago(0, 2));
      await service.subscribe({ customerId, tier: 'trial' });
      break;
    case 'empty-history':
      clock.set(ago(1));
      await tally.customers.upsert({ customerId, tier: 'starter' });
      break;
    case 'analytics': {
      const today = Date.parse(STORY_NOW.slice(0, 10));
      const start = new Date(today - STORY_ANALYTICS.days * DAY_MS);
      await applySampleData(tally, generateSampleData({ ...STORY_ANALYTICS, start, catalog }), (at) => clock.set(at));
      break;
    }
  }
  clock.set(STORY_NOW);

  const handle = createTallyHandler({
    tally,
    billing: service,
    byok,
    clock,
    // A 5xx is logged as `[tally/http] …` (the browser tests fail a story on it) except where it is the point.
    ...(scenario === 'server-error' ? { onError: () => {} } : {}),
    async authenticate(request: Request) {
      if (scenario === 'server-error') throw new Error('story scenario "server-error": the identity service is down');
      const authorization = request.headers.get('authorization');
      if (authorization === `Bearer ${STORY_ADMIN_TOKEN}`) return { customerId: null, roles: ['admin'] };
      return authorization === `Bearer ${customerId}` ? { customerId, roles: [] } : null;
    },
  });
  return { scenario, clock, store, tally, billing: service, sandbox, byok, handle };
}

const backends = new Map<StoryScenario, Promise<StoryBackend>>();

/** The scenario's backend, seeded on first use and shared until `resetStoryBackends()`. */
export function storyBackend(scenario: StoryScenario): Promise<StoryBackend> {
  let backend = backends.get(scenario);
  if (!backend) {
    backend = createStoryBackend(scenario);
    backends.set(scenario, backend);
  }
  return backend;
}

/** Drops every seeded backend, so the next request starts the scenario afresh (called before each story). */
export function resetStoryBackends(): void {
  backends.clear();
}

function isScenario(value: string | null): value is StoryScenario {
  return value !== null && (STORY_SCENARIOS as readonly string[]).includes(value);
}

export interface TallyScenarioOptions {
  /** Holds every response this long first; `'infinite'` never answers. Default: `'infinite'` for `slow`, else 0. */
  delayMs?: number | 'infinite';
}

/** msw handlers (for `parameters.msw.handlers`) that answer `/v1/*` on any origin with the scenario's real handler. */
export function tallyScenario(scenario: StoryScenario, options: TallyScenarioOptions = {}): HttpHandler[] {
  if (!isScenario(scenario)) throw new Error(`Unknown story scenario "${String(scenario)}"; one of ${STORY_SCENARIOS.join(', ')}`);
  return [
    http.all('*/v1/*', async ({ request }) => {
      const requested = request.headers.get(SCENARIO_HEADER);
      const target = isScenario(requested) ? requested : scenario;
      const wait = options.delayMs ?? (target === 'slow' ? 'infinite' : 0);
      if (wait === 'infinite' || wait > 0) await delay(wait);
      const backend = await storyBackend(target);
      return backend.handle(request);
    }),
  ];
}

/**
 * A `@tally/core/client` client for the story's own origin, signed in as STORY_CUSTOMER_ID. Pass the
 * scenario when a docs page may show the story next to others (see SCENARIO_HEADER); without it the
 * requests go to whichever scenario the current story installed.
 */
export function storyClient(scenario?: StoryScenario) {
  const headers: Record<string, string> = { authorization: `Bearer ${STORY_CUSTOMER_ID}` };
  if (scenario) headers[SCENARIO_HEADER] = scenario;
  return createTallyClient({
    baseUrl: globalThis.location.origin,
    headers: () => headers,
    // `slow` never answers; without this the client would give up after 10 s and the story would show an error.
    ...(scenario === 'slow' ? { timeoutMs: MAX_TIMER_MS } : {}),
  });
}

/**
 * A `@tally/core/client` client for the story's own origin, signed in as the stories' operator (the
 * `admin` role): what the admin analytics widgets read through. `scenario` as for `storyClient`.
 */
export function storyAdminClient(scenario?: StoryScenario) {
  const headers: Record<string, string> = { authorization: `Bearer ${STORY_ADMIN_TOKEN}` };
  if (scenario) headers[SCENARIO_HEADER] = scenario;
  return createTallyClient({
    baseUrl: globalThis.location.origin,
    headers: () => headers,
    ...(scenario === 'slow' ? { timeoutMs: MAX_TIMER_MS } : {}),
  });
}
