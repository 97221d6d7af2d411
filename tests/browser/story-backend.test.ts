/**
 * The stories' backend (.storybook/tally-backend.ts): each scenario seeds what its name promises, the
 * data is the same on every run (stable screenshots), the msw handlers route by scenario, and in
 * Chromium a story shows exactly what the real handler answers for its scenario.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStoryBackend,
  SCENARIO_HEADER,
  STORY_COUPONS,
  STORY_CUSTOMER_ID,
  type StoryScenario,
  tallyScenario,
} from '../../.storybook/tally-backend.js';
import { closeStories, openStory, storybookStatic, storyErrors } from './harness.js';

const auth = { authorization: `Bearer ${STORY_CUSTOMER_ID}` };

async function get(scenario: StoryScenario, path: string) {
  const backend = await createStoryBackend(scenario);
  const response = await backend.handle(new Request(`http://story.test${path}`, { headers: auth }));
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe('story scenarios, over the real handler', () => {
  it('healthy: an active Starter customer with most of the allowance left, a pack, a coupon and usage', async () => {
    const me = await get('healthy', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.subscription).toMatchObject({ tier: 'starter', status: 'active' });
    const allowance = me.body.balance.allowance;
    expect(allowance.grantedMicros).toBe('20000000');
    expect(BigInt(allowance.remainingMicros) * 2n).toBeGreaterThan(BigInt(allowance.grantedMicros));
    expect(BigInt(allowance.remainingMicros)).toBeLessThan(BigInt(allowance.grantedMicros));
    expect(me.body.balance.buckets.map((b: { kind: string }) => b.kind).sort()).toEqual(['allowance', 'coupon', 'purchased']);
    expect(me.body.providerBalances).toHaveLength(1);

    const history = await get('healthy', '/v1/transactions?limit=50');
    const kinds = history.body.items.map((entry: { kind: string }) => entry.kind);
    expect(kinds.filter((kind: string) => kind === 'usage')).toHaveLength(7);
    expect((await get('healthy', '/v1/byok')).body).toEqual([expect.objectContaining({ provider: 'openrouter', last4: '4e2a' })]);
  });

  it('low-balance: under 10 % of the allowance left', async () => {
    const { body } = await get('low-balance', '/v1/balance');
    const { grantedMicros, remainingMicros } = body.allowance;
    expect(BigInt(remainingMicros)).toBeGreaterThan(0n);
    expect(BigInt(remainingMicros) * 10n).toBeLessThan(BigInt(grantedMicros));
  });

  it('past-due: the declined renewal left the subscription past due, in its grace period', async () => {
    const { body } = await get('past-due', '/v1/me');
    expect(body.subscription).toMatchObject({ tier: 'starter', status: 'past_due', pastDueSince: '2026-11-16T09:00:01.000Z' });
    expect(body.balance.allowance).toBeNull();
  });

  it('unlimited: Enterprise, unlimited, with usage on record', async () => {
    const { body } = await get('unlimited', '/v1/me');
    expect(body).toMatchObject({ tier: { id: 'enterprise' }, unlimited: true, subscription: { status: 'active' } });
    const history = await get('unlimited', '/v1/transactions');
    expect(history.body.items.some((entry: { kind: string }) => entry.kind === 'usage')).toBe(true);
  });

  it('new-customer: a fresh trial with its grant and no usage', async () => {
    const me = await get('new-customer', '/v1/me');
    expect(me.body.subscription).toMatchObject({ tier: 'trial', status: 'trialing' });
    const history = await get('new-customer', '/v1/transactions');
    expect(history.body.items.map((entry: { kind: string }) => entry.kind)).toEqual(['grant']);
  });

  it('empty-history: no subscription and no ledger entries', async () => {
    expect((await get('empty-history', '/v1/me')).body.subscription).toBeNull();
    expect((await get('empty-history', '/v1/transactions')).body).toEqual({ items: [], nextCursor: null });
  });

  it('server-error: the handler itself answers 500 problem+json', async () => {
    for (const path of ['/v1/me', '/v1/balance', '/v1/tiers', '/v1/transactions']) {
      const response = await get('server-error', path);
      expect(response.status).toBe(500);
      expect(response.type).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status: 500, code: 'INTERNAL' });
    }
  });

  it('coupons: every scenario knows the documented codes', async () => {
    const backend = await createStoryBackend('new-customer');
    const redeem = (code: string) =>
      backend.handle(
        new Request('http://story.test/v1/coupons/redeem', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ code }),
        }),
      );
    expect((await (await redeem(STORY_COUPONS.expired)).json()).code).toBe('COUPON_EXPIRED');
    const granted = await redeem(STORY_COUPONS.credits);
    expect(granted.status).toBe(200);
    expect((await granted.json()).grantedMicros).toBe('5000000');
  });

  it('keeps each history in calendar order, newest first', async () => {
    for (const scenario of ['healthy', 'low-balance', 'past-due', 'unlimited'] as const) {
      const times = (await get(scenario, '/v1/transactions?limit=100')).body.items.map((entry: { createdAt: string }) => entry.createdAt);
      expect(times.length, scenario).toBeGreaterThan(1);
      expect(times, scenario).toEqual([...times].sort().reverse());
    }
  });

  it('is the same data on every run', async () => {
    for (const scenario of ['healthy', 'past-due', 'unlimited'] as const) {
      for (const path of ['/v1/me', '/v1/transactions', '/v1/usage']) {
        expect((await get(scenario, path)).body, `${scenario} ${path}`).toEqual((await get(scenario, path)).body);
      }
    }
  });
});

describe('tallyScenario (msw handlers)', () => {
  const server = setupServer(...tallyScenario('healthy'));
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
  afterAll(() => server.close());

  it("answers /v1/* on any origin with the scenario's handler, or with the scenario a request names", async () => {
    const own = await (await fetch('https://app.example/v1/balance', { headers: auth })).json();
    expect(own.allowance.grantedMicros).toBe('20000000');
    expect(BigInt(own.allowance.remainingMicros) * 2n).toBeGreaterThan(20_000_000n);

    const named = await fetch('https://app.example/v1/balance', { headers: { ...auth, [SCENARIO_HEADER]: 'low-balance' } });
    const low = await named.json();
    expect(BigInt(low.allowance.remainingMicros) * 10n).toBeLessThan(20_000_000n);

    expect((await fetch('https://app.example/v1/balance')).status).toBe(401);
  });
});

const built = existsSync(join(storybookStatic, 'index.json'));

describe.skipIf(!built && !process.env.CI)('a story shows what the handler answers (Chromium)', { timeout: 120_000 }, () => {
  afterAll(closeStories);

  it.each([
    ['healthy', 'creditamount-live-balance--healthy'],
    ['low-balance', 'creditamount-live-balance--low-balance'],
    ['unlimited', 'creditamount-live-balance--unlimited'],
    ['past-due', 'creditamount-live-balance--past-due'],
  ] as const)('%s', async (scenario, storyId) => {
    const expected = (await get(scenario, '/v1/me')).body;
    const page = await openStory(storyId, { width: 375, theme: 'light' });
    try {
      const [plan, available] = [page.getByRole('definition').nth(0), page.getByRole('definition').nth(1)];
      await expect(plan.textContent()).resolves.toContain(expected.tier.name);
      if (expected.balance.unlimited) {
        await expect(available.textContent()).resolves.toBe('Unlimited');
      } else {
        await expect(available.locator('data').getAttribute('value')).resolves.toBe(expected.balance.availableMicros);
      }
      if (scenario === 'past-due') await expect(plan.textContent()).resolves.toContain('past due');
      expect(storyErrors(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('server-error: the client surfaces the problem code', async () => {
    const page = await openStory('creditamount-live-balance--server-error', { width: 375, theme: 'dark' });
    try {
      await expect(page.getByRole('alert').textContent()).resolves.toContain('INTERNAL');
    } finally {
      await page.close();
    }
  });

  it('slow: the loading state stays on screen', async () => {
    const page = await openStory('creditamount-live-balance--loading', { width: 1280, theme: 'light', loading: true });
    try {
      await expect(page.locator('[aria-busy="true"]').textContent()).resolves.toContain('Loading');
    } finally {
      await page.close();
    }
  });
});
