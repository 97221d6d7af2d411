import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally } from '../ledger/tally.js';
import type { TallyStore } from '../ledger/types.js';
import { createFakeClock, type FakeClock } from '../testing/index.js';
import { createSandboxProvider } from './sandbox.js';
import { createBilling } from './service.js';

const CREDIT = 1_000_000n;

/** One "process": a sandbox (in memory) and billing over a store that outlives it. */
function boot(store: TallyStore, clock: FakeClock, idTag?: string) {
  let billing: ReturnType<typeof createBilling> | null = null;
  const sandbox = createSandboxProvider({
    catalog: sampleCatalog,
    clock,
    ...(idTag === undefined ? {} : { idTag }),
    onEvent: async (event) => {
      await billing?.applyEvent(event);
    },
  });
  billing = createBilling({ catalog: sampleCatalog, store, provider: sandbox, clock });
  return { sandbox, billing };
}

describe('a sandbox started again over the same store', () => {
  it('tags every id it makes, and refuses a tag that is not 1-16 lower-case letters and digits', async () => {
    const clock = createFakeClock('2026-03-01T00:00:00Z');
    const { sandbox, billing } = boot(createMemoryStore(), clock, 'b2');
    const started = await billing.subscribe({ customerId: 'ada', tier: 'starter' });
    if (started.status !== 'checkout') throw new Error('a paid tier without trial subscribes through checkout');
    expect(started.checkoutId).toMatch(/^cs_sbx_b2_\d+$/);
    expect(started.url).toBe(`/sandbox/checkout/${started.checkoutId}`);
    await sandbox.completeCheckout(started.checkoutId);
    expect(sandbox.events().map((event) => event.id)).toEqual(sandbox.events().map((_, i) => `evt_sbx_b2_${i + 1}`));
    expect(sandbox.subscriptionOf('ada')?.id).toMatch(/^sub_sbx_b2_\d+$/);
    for (const idTag of ['', 'B2', 'b-2', 'x'.repeat(17)]) {
      expect(() => createSandboxProvider({ catalog: sampleCatalog, idTag })).toThrow(TallyError);
    }
  });

  it('restores what an earlier process left: upgrades, downgrades and checkouts work, and no event is taken for a replay', async () => {
    const clock = createFakeClock('2026-03-01T00:00:00Z');
    const store = createMemoryStore();
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    const first = boot(store, clock, 'one');
    // Ada pays for Starter through checkout; Bob starts a trial (no provider subscription, no card).
    const ada = await first.billing.subscribe({ customerId: 'ada', tier: 'starter' });
    if (ada.status !== 'checkout') throw new Error('expected a checkout');
    await first.sandbox.completeCheckout(ada.checkoutId);
    await first.billing.subscribe({ customerId: 'bob', tier: 'trial' });

    // A new process: a new sandbox knows nothing until it is given the stored subscriptions.
    clock.set('2026-03-11T00:00:00Z');
    const second = boot(store, clock, 'two');
    const stored = [await store.getSubscription('ada'), await store.getSubscription('bob')];
    for (const record of stored) if (record) second.sandbox.restore(record);
    second.sandbox.restore(stored[0] as NonNullable<(typeof stored)[0]>); // again: changes nothing

    const before = (await tally.balance('ada')).balanceMicros;
    const upgrade = await second.billing.changeTier({ customerId: 'ada', tier: 'professional' });
    expect(upgrade).toMatchObject({ status: 'charged', paid: true });
    expect((await second.billing.getSubscription('ada'))?.tier).toBe('professional');
    // The allowance difference (60 − 20 credits), prorated for the 21 of 31 days left, is granted.
    const granted = (await tally.balance('ada')).balanceMicros - before;
    expect(granted).toBeGreaterThan(0n);
    expect(granted).toBeLessThan(40n * CREDIT);

    // Bob (trial, no card): an upgrade goes through a checkout of the new sandbox.
    const bob = await second.billing.changeTier({ customerId: 'bob', tier: 'starter' });
    if (bob.status !== 'checkout') throw new Error(`expected a checkout, got ${bob.status}`);
    await second.sandbox.completeCheckout(bob.checkoutId);
    expect((await second.billing.getSubscription('bob'))?.tier).toBe('starter');

    // A downgrade of Ada is scheduled at the sandbox too.
    const down = await second.billing.changeTier({ customerId: 'ada', tier: 'starter' });
    expect(down.status).toBe('scheduled');
    expect(second.sandbox.subscriptionOf('ada')?.tier).toBe('professional');
    expect((await tally.audit()).ok).toBe(true);

    expect(() => second.sandbox.restore({ ...(stored[0] as NonNullable<(typeof stored)[0]>), provider: 'stripe' })).toThrow(TallyError);
  });
});
