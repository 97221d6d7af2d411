import { PGlite } from '@electric-sql/pglite';
import { createByokKeys, createKeyVault, createMemoryStore, type ProviderBalance, TallyError, type TallyStore } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore } from '../pglite/index.js';
import { createOpenRouterClient } from './client.js';
import { createProviderSync, PROVIDER_BALANCE_LOW, type ProviderSyncOptions } from './sync.js';
import { createOpenRouterFake, type OpenRouterFakeUsage } from './testing.js';

const server = setupServer();
let db: PGlite;
let schemas = 0;
beforeAll(async () => {
  server.listen({ onUnhandledFrame: 'error' });
  db = await PGlite.create();
});
afterEach(() => server.resetHandlers());
afterAll(async () => {
  server.close();
  await db.close();
});

const USD = 1_000_000_000n; // nano-USD
const HOUR = 3_600_000;

const stores: Array<[string, () => Promise<TallyStore>]> = [
  ['memory', async () => createMemoryStore()],
  ['PGlite', async () => createPGliteStore({ db, schema: `provider_sync_${++schemas}` })],
];

describe.each(stores)('provider sync on the %s store', (_, makeStore) => {
  async function setup(extra: Partial<ProviderSyncOptions> = {}) {
    const clock = createFakeClock('2026-11-05T10:00:00Z');
    const fake = createOpenRouterFake({ clock });
    server.use(...fake.handlers);
    const store = await makeStore();
    for (const customerId of ['acme', 'bea', 'cy', 'dan', 'eve']) {
      await store.upsertCustomer({ customerId, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: clock.now() });
    }
    const vault = createKeyVault({ keys: { k1: new Uint8Array(32).fill(5) }, activeKeyId: 'k1' });
    const keys = createByokKeys({ store, vault, clock });
    const options = { baseUrl: fake.baseUrl, retry: { limit: 0 }, sleep: async () => {} };
    const client = createOpenRouterClient({ ...options, managementKey: fake.managementKey });
    const errors: unknown[] = [];
    const clientForKey = (apiKey: string) => createOpenRouterClient({ ...options, apiKey });
    const sync = createProviderSync({
      store,
      keys,
      client,
      clientForKey,
      clock,
      onError: (error) => void errors.push(error),
      ...extra,
    });
    /** A completion on the fake with `apiKey`: charged to that key at the model's price. */
    async function spend(apiKey: string, usage: OpenRouterFakeUsage, model = 'openai/gpt-4o-mini') {
      fake.nextUsage(usage);
      const response = await fetch(`${fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(200);
    }
    /** A key of the customer's own OpenRouter account (on the fake: minted by the management API). */
    async function ownKey(customerId: string, limitNanoUsd: bigint | null) {
      const created = await client.createKey({ name: `${customerId} own`, limitNanoUsd });
      await keys.set(customerId, 'openrouter', created.key);
      return created;
    }
    const lowNotices = async () => (await store.listOutbox({ limit: 100 })).filter((m) => m.topic === PROVIDER_BALANCE_LOW);
    const balances = async (customerId: string) => store.listProviderBalances(customerId);
    return { clock, fake, store, keys, client, clientForKey, sync, errors, spend, ownKey, lowNotices, balances };
  }

  it('provisions a key with a credit limit, stores it sealed with its hash, and writes its first snapshot', async () => {
    const t = await setup();
    const provisioned = await t.sync.provisionCustomerKey({ customerId: 'acme', limitUsd: '5.25' });
    const minted = t.fake.keys().find((key) => key.name === 'tally:acme');
    expect(minted).toMatchObject({ limitNanoUsd: 5_250_000_000n, limitReset: null, disabled: false });
    expect(provisioned.openRouterKey.hash).toBe(minted?.hash);
    expect(provisioned.key).toMatchObject({ provider: 'openrouter', source: 'provisioned', providerKeyHash: minted?.hash });
    expect(await t.keys.resolve('acme', 'openrouter', 'provisioned')).toBe(minted?.key);
    const stored = await t.store.getProviderKey('acme', 'openrouter', 'provisioned');
    expect(stored?.sealed).not.toContain(minted?.key.slice(9));
    const first: ProviderBalance = {
      customerId: 'acme',
      provider: 'openrouter',
      source: 'provisioned',
      limitNanoUsd: 5_250_000_000n,
      usageNanoUsd: 0n,
      remainingNanoUsd: 5_250_000_000n,
      low: false,
      syncedAt: t.clock.now(),
    };
    expect(provisioned.balance).toEqual(first);
    expect(await t.balances('acme')).toEqual([first]);

    const minted1 = t.fake.keys().length;
    const refused = async (input: Parameters<typeof t.sync.provisionCustomerKey>[0]) => {
      try {
        await t.sync.provisionCustomerKey(input);
      } catch (error) {
        return TallyError.is(error) ? error.code : String(error);
      }
      return 'succeeded';
    };
    expect(await refused({ customerId: 'acme', limitUsd: '1' })).toBe('CONFLICT');
    expect(await refused({ customerId: 'ghost', limitUsd: '1' })).toBe('NOT_FOUND');
    expect(await refused({ customerId: 'bea', limitUsd: '0' })).toBe('VALIDATION');
    expect(await refused({ customerId: 'bea', limitUsd: '1e3' })).toBe('INVALID_DECIMAL');
    expect(await refused({ customerId: 'bea', limitUsd: '0.0000000001' })).toBe('INVALID_DECIMAL');
    expect(t.fake.keys()).toHaveLength(minted1);
    expect(await t.keys.get('bea', 'openrouter', 'provisioned')).toBeNull();
  });

  it('mirrors provisioned and BYOK keys; a key that turns low enqueues one notice, once per hour at most', async () => {
    const t = await setup();
    await t.sync.provisionCustomerKey({ customerId: 'acme', limitUsd: '1' });
    const acmeKey = (await t.keys.resolve('acme', 'openrouter', 'provisioned')) as string;
    await t.ownKey('bea', 2n * USD);
    await t.ownKey('cy', null);
    await t.keys.set('dan', 'anthropic', 'sk-ant-dan-000000000000000000001');
    // $0.15 + $0.60 = $0.75 of acme's $1: 25 % left.
    await t.spend(acmeKey, { promptTokens: 1_000_000, completionTokens: 1_000_000 });

    const first = await t.sync.runOnce();
    expect(first).toEqual({ synced: 3, low: 0, notified: 0, failed: 0, skipped: 1, errors: [] });
    const at = t.clock.now();
    expect(await t.balances('acme')).toEqual([
      {
        customerId: 'acme',
        provider: 'openrouter',
        source: 'provisioned',
        limitNanoUsd: USD,
        usageNanoUsd: 750_000_000n,
        remainingNanoUsd: 250_000_000n,
        low: false,
        syncedAt: at,
      },
    ]);
    expect(await t.balances('bea')).toEqual([
      {
        customerId: 'bea',
        provider: 'openrouter',
        source: 'byok',
        limitNanoUsd: 2n * USD,
        usageNanoUsd: 0n,
        remainingNanoUsd: 2n * USD,
        low: false,
        syncedAt: at,
      },
    ]);
    // A key without a limit has nothing "remaining" to run low on.
    expect((await t.balances('cy'))[0]).toMatchObject({ limitNanoUsd: null, remainingNanoUsd: null, low: false });
    expect(await t.balances('dan')).toEqual([]);

    // $0.15 + $0.006 more: $0.094 left, 9.4 % < 10 %.
    await t.spend(acmeKey, { promptTokens: 1_000_000, completionTokens: 10_000 });
    t.clock.advance(60_000);
    const second = await t.sync.runOnce();
    expect(second).toMatchObject({ synced: 3, low: 1, notified: 1, failed: 0 });
    const [notice] = await t.lowNotices();
    expect(JSON.parse(notice?.payload ?? '{}')).toEqual({
      at: '2026-11-05T10:01:00.000Z',
      customerId: 'acme',
      limitNanoUsd: '1000000000',
      provider: 'openrouter',
      remainingNanoUsd: '94000000',
      source: 'provisioned',
    });

    // Still low: no second notice.
    t.clock.advance(60_000);
    expect(await t.sync.runOnce()).toMatchObject({ low: 1, notified: 0 });
    // Another instance that read the snapshot before it turned low, or a redelivered pass, in the same hour: deduplicated.
    await t.store.putProviderBalance({ ...(await t.balances('acme'))[0], low: false } as ProviderBalance);
    const again = createProviderSync({ store: t.store, keys: t.keys, client: t.client, clientForKey: t.clientForKey, clock: t.clock });
    expect(await again.runOnce()).toMatchObject({ low: 1, notified: 0 });
    expect(await t.lowNotices()).toHaveLength(1);

    // Topped up (limit raised), then low again an hour later: a new notice.
    await t.client.updateKey((await t.keys.get('acme', 'openrouter', 'provisioned'))?.providerKeyHash as string, {
      limitNanoUsd: 10n * USD,
    });
    t.clock.advance(HOUR);
    expect(await t.sync.runOnce()).toMatchObject({ low: 0, notified: 0 });
    await t.spend(acmeKey, { promptTokens: 60_000_000, completionTokens: 0 }); // $9 more: $0.094 of $10 left
    t.clock.advance(HOUR);
    expect(await t.sync.runOnce()).toMatchObject({ low: 1, notified: 1 });
    expect(await t.lowNotices()).toHaveLength(2);
  });

  it('the belowNanoUsd rule marks a key low whatever its limit', async () => {
    const t = await setup({ lowBalance: { ratioBps: 0, belowNanoUsd: 3n * USD } });
    await t.ownKey('bea', 100n * USD);
    expect(await t.sync.runOnce()).toMatchObject({ synced: 1, low: 0 });
    const beaKey = (await t.keys.resolve('bea', 'openrouter')) as string;
    // 9,800,000 completion tokens × $0.00001 = $98: $2 of $100 left, 2 % of the limit but under $3.
    await t.spend(beaKey, { promptTokens: 0, completionTokens: 9_800_000 }, 'openai/gpt-4o');
    t.clock.advance(60_000);
    expect(await t.sync.runOnce()).toMatchObject({ synced: 1, low: 1, notified: 1 });
    expect((await t.balances('bea'))[0]).toMatchObject({ remainingNanoUsd: 2n * USD, low: true });
  });

  it('a 404, 402 or 401 for one key is reported, leaves its snapshot as it was, and never stops the others', async () => {
    const t = await setup();
    await t.sync.provisionCustomerKey({ customerId: 'acme', limitUsd: '1' });
    await t.ownKey('bea', USD);
    const dan = await t.ownKey('dan', USD);
    await t.ownKey('eve', USD);
    await t.sync.runOnce();
    const before = { acme: await t.balances('acme'), bea: await t.balances('bea'), dan: await t.balances('dan') };

    await t.client.deleteKey((await t.keys.get('acme', 'openrouter', 'provisioned'))?.providerKeyHash as string); // 404
    t.fake.fail({ status: 402, times: 1, path: '/key' }); // bea's GET /key, the first one of the pass
    await t.client.updateKey(dan.info.hash, { disabled: true }); // 401
    t.clock.advance(HOUR);
    const report = await t.sync.runOnce();
    expect(report).toMatchObject({ synced: 1, failed: 3, low: 0, notified: 0 });
    expect(report.errors.map((e) => [e.customerId, e.source, e.code, e.status])).toEqual([
      ['acme', 'provisioned', 'NOT_FOUND', 404],
      ['bea', 'byok', 'PROVIDER_REJECTED', 402],
      ['dan', 'byok', 'PROVIDER_REJECTED', 401],
    ]);
    expect(t.errors).toHaveLength(3);
    const secrets = await Promise.all(['bea', 'dan'].map((id) => t.keys.resolve(id, 'openrouter')));
    for (const secret of secrets) expect(JSON.stringify(report)).not.toContain(secret?.slice(9));
    expect({ acme: await t.balances('acme'), bea: await t.balances('bea'), dan: await t.balances('dan') }).toEqual(before);
    expect((await t.balances('eve'))[0]?.syncedAt).toEqual(t.clock.now());
  });

  it('start runs a pass at once and then on the interval, one at a time, until stopped', async () => {
    const t = await setup();
    await t.ownKey('bea', USD);
    const lookups = () => t.fake.requests.filter((request) => request.path === '/key').length;
    const stop = t.sync.start({ intervalMs: 15 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    await stop();
    const seen = lookups();
    expect(seen).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(lookups()).toBe(seen);
    expect((await t.balances('bea'))[0]).toMatchObject({ remainingNanoUsd: USD });
    expect(() => t.sync.start({ intervalMs: 0 })).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('createProviderSync options', () => {
  it.each([
    ['a ratio above 100 %', { lowBalance: { ratioBps: 10_001 } }],
    ['a fractional ratio', { lowBalance: { ratioBps: 0.5 } }],
    ['a negative threshold', { lowBalance: { belowNanoUsd: -1n } }],
    ['a page size of 0', { pageSize: 0 }],
  ])('refuses %s with VALIDATION', (_, extra) => {
    const store = createMemoryStore();
    const keys = createByokKeys({ store, vault: createKeyVault({ keys: { k: new Uint8Array(32) }, activeKeyId: 'k' }) });
    const client = createOpenRouterClient();
    expect(() => createProviderSync({ store, keys, client, clientForKey: () => client, ...extra })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
  });
});
