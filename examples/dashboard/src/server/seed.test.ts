/**
 * First run and the runs after it, on one PGlite data folder: seeded once, the same data on every
 * later start, customers of earlier runs still able to change tier through the sandbox, and an
 * interrupted first run started over.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from './app.ts';
import { mockReply } from './llm.ts';
import { DEMO_COUPONS, DEMO_CUSTOMER } from './seed.ts';
import { caller, TEST_SAMPLE, tempDataDir, tokenOf } from './test-support.ts';

let folder: Awaited<ReturnType<typeof tempDataDir>>;
const start = (sample = TEST_SAMPLE) => createDashboard({ dataDir: folder.dir, sample, background: false, log: () => {} });

beforeAll(async () => {
  folder = await tempDataDir('seed');
});

afterAll(async () => {
  await folder?.remove();
});

async function counts(dashboard: Dashboard) {
  const [row] = await dashboard.db.query<{ customers: string; entries: string; subscriptions: string; coupons: string; outbox: string }>(
    `select (select count(*) from tally_customers)::text as customers, (select count(*) from tally_entries)::text as entries,
            (select count(*) from tally_subscription_history)::text as subscriptions, (select count(*) from tally_coupons)::text as coupons,
            (select count(*) from tally_outbox)::text as outbox`,
  );
  return row;
}

describe('the data folder', () => {
  it('is seeded on the first start and not again on the next; earlier customers still change tier', async () => {
    const first = await start();
    let firstCounts: Awaited<ReturnType<typeof counts>>;
    let paying: string;
    try {
      expect(first.seeded).toMatchObject({ customers: TEST_SAMPLE.customers + 1, auditOk: true });
      expect(existsSync(join(folder.dir, 'secrets.json'))).toBe(true);
      firstCounts = await counts(first);
      expect(Number(firstCounts?.customers)).toBe(TEST_SAMPLE.customers + 1);
      expect(Number(firstCounts?.coupons)).toBe(DEMO_COUPONS.length);
      expect(Number(firstCounts?.entries)).toBeGreaterThan(100);
      // The sample's history was delivered; what the demo customer's trial wrote is waiting for the worker.
      const waiting = await first.db.query<{ topic: string }>('select topic from tally_outbox where delivered_at is null');
      expect(waiting.length).toBeGreaterThan(0);
      expect((await first.store.getSubscription(DEMO_CUSTOMER))?.status).toBe('trialing');
      // A sample customer paying through the sandbox, for the restart below.
      const page = await first.store.listCustomers({ limit: 100 });
      const candidates = [];
      for (const customer of page.items) {
        const subscription = await first.store.getSubscription(customer.id);
        if (subscription?.status === 'active' && subscription.providerSubscriptionId && ['trial', 'starter'].includes(subscription.tier)) {
          candidates.push(customer.id);
        }
      }
      paying = candidates[0] as string;
      expect(paying).toBeDefined();
    } finally {
      await first.close();
    }

    const second = await start();
    try {
      expect(second.seeded).toBeNull();
      expect(await counts(second)).toEqual(firstCounts);
      const call = caller(second.app);
      // The bearer tokens are signed with the folder's key: the same on every start.
      expect(second.tokens.admin).toBe(first.tokens.admin);

      // The sandbox of this process never saw the sample's subscription, yet the upgrade is charged to the card on file.
      const token = tokenOf(await call('POST', '/demo/sign-in', { json: { as: paying } }));
      const before = (await second.tally.balance(paying)).balanceMicros;
      const change = await call('POST', '/v1/subscription/change', { token, json: { tier: 'professional' } });
      expect(await change.json()).toMatchObject({ status: 'charged', paid: true });
      expect((await second.store.getSubscription(paying))?.tier).toBe('professional');
      expect((await second.tally.balance(paying)).balanceMicros).toBeGreaterThan(before);

      // The mock model (no OpenRouter key): a deterministic answer, ⌈characters ÷ 4⌉ tokens each way.
      const demo = tokenOf(await call('POST', '/demo/sign-in', { json: { as: DEMO_CUSTOMER } }));
      const prompt = 'How many credits does a balanced call take?';
      const response = await call('POST', '/demo/playground', { token: demo, json: { prompt, powerLevel: 'balanced' } });
      const answer = (await response.json()) as {
        text: string;
        model: string;
        inputTokens: number;
        outputTokens: number;
        chargedMicros: string;
      };
      expect(response.status).toBe(200);
      expect(answer.model).toBe('openai/gpt-4o-mini');
      expect(answer.text).toBe(mockReply(answer.model, prompt));
      expect(answer.outputTokens).toBe(Math.ceil(answer.text.length / 4));
      expect(BigInt(answer.chargedMicros)).toBeGreaterThan(0n);
      expect((await second.tally.audit()).ok).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('starts an interrupted first run over', async () => {
    const dashboard = await start();
    try {
      // As if the first run had stopped before its last step: customers, but no completion mark.
      await dashboard.db.query('delete from demo_state');
      await dashboard.tally.customers.upsert({ customerId: 'cus_left_over', tier: 'starter' });
    } finally {
      await dashboard.close();
    }
    const again = await start({ ...TEST_SAMPLE, customers: 3 });
    try {
      expect(again.seeded).toMatchObject({ customers: 4 });
      expect(await again.store.getCustomer('cus_left_over')).toBeNull();
    } finally {
      await again.close();
    }
  });
});
