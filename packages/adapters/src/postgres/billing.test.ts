import { createBilling, createSandboxProvider, createTally, type PaymentEvent, sampleCatalog, type TallyStore } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore } from '../pglite/index.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createPostgresStore } from './index.js';

const CREDIT = 1_000_000n;
let db: TestDatabase;
let schemas = 0;

beforeAll(async () => {
  db = await createTestDatabase('billing');
});
afterAll(async () => {
  await db.drop();
});

const engines: Array<[string, () => Promise<TallyStore>]> = [
  [
    'Postgres',
    async () => {
      const store = createPostgresStore({ connectionString: db.url, schema: `billing_${++schemas}`, max: 4 });
      await store.migrate();
      return store;
    },
  ],
  ['PGlite', () => createPGliteStore()],
];

describe.each(engines)('the billing service on %s', (_engine, open) => {
  it('runs trial → checkout → upgrade → failed renewal → recovery, applying each event once, audit clean', async () => {
    const store = await open();
    try {
      const clock = createFakeClock('2026-02-01T00:00:00Z');
      const tally = createTally({ catalog: sampleCatalog, store, clock });
      const delivered: PaymentEvent[] = [];
      let billing: ReturnType<typeof createBilling> | null = null;
      const sandbox = createSandboxProvider({
        catalog: sampleCatalog,
        clock,
        onEvent: async (event) => {
          delivered.push(event);
          await billing?.applyEvent(event);
        },
      });
      billing = createBilling({ catalog: sampleCatalog, store, provider: sandbox, clock });
      const balance = async () => (await tally.balance('ada')).balanceMicros;

      await billing.subscribe({ customerId: 'ada', tier: 'trial' });
      expect(await balance()).toBe(5n * CREDIT);
      clock.set('2026-02-02T00:00:00Z');
      const checkout = await billing.changeTier({ customerId: 'ada', tier: 'starter' });
      if (checkout.status !== 'checkout') throw new Error('expected a checkout');
      await sandbox.completeCheckout(checkout.checkoutId);
      expect(await balance()).toBe(25n * CREDIT);

      // Halfway through the 28-day period (14 days left): (60 − 20) × ½ = 20 credits.
      clock.set('2026-02-16T00:00:00Z');
      expect(await billing.changeTier({ customerId: 'ada', tier: 'professional' })).toMatchObject({ status: 'charged', paid: true });
      expect(await balance()).toBe(40n * CREDIT); // the trial's 5 expired on Feb 15

      clock.set('2026-03-02T00:00:00Z');
      sandbox.declineNextCharges('cus_sbx_ada', 1);
      await sandbox.runBilling();
      expect(await billing.getSubscription('ada')).toMatchObject({ status: 'past_due', tier: 'professional' });
      expect(await balance()).toBe(0n);
      clock.set('2026-03-05T00:00:00Z');
      await sandbox.runBilling(); // the retry three days later goes through
      expect(await billing.getSubscription('ada')).toMatchObject({ status: 'active', pastDueSince: null });
      expect(await balance()).toBe(60n * CREDIT);

      // Every event again, as a provider would redeliver them: nothing changes.
      for (const event of delivered) expect((await billing.applyEvent(event)).applied).toBe(false);
      expect(await balance()).toBe(60n * CREDIT);
      const report = await store.audit();
      expect(report.issues).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
