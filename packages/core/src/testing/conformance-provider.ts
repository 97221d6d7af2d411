import type { ProviderBalance, ProviderKeyRecord, ProviderKeySource } from '../byok/store.js';
import { createKeyVault, type KeyVault } from '../byok/vault.js';
import { TallyError, type TallyErrorCode } from '../errors/index.js';
import { canonicalJson } from '../ledger/canonical.js';
import type { TallyStore } from '../ledger/types.js';
// A type-only import: conformance.ts imports this module, so a value import back would be a cycle.
import type { ConformanceCase, ConformanceContext } from './conformance.js';

/**
 * Provider keys and balance snapshots (docs/byok.md, "Storage") as conformance cases, registered by
 * `runStoreConformance` under "provider keys". The sealed values are real vault output, so a case can
 * also check that what a store gives back still opens.
 */

class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

function expectEqual(actual: unknown, expected: unknown, message: string): void {
  const a = canonicalJson(actual);
  const e = canonicalJson(expected);
  if (a !== e) throw new ConformanceFailure(`${message}\n  expected: ${e}\n  actual:   ${a}`);
}

async function expectError(action: () => Promise<unknown>, code: TallyErrorCode, message: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await action();
  } catch (error) {
    if (TallyError.is(error, code)) return;
    const got = TallyError.is(error) ? `TallyError ${error.code}: ${error.message}` : String(error);
    throw new ConformanceFailure(`${message}: expected TallyError ${code}, got ${got}`);
  }
  throw new ConformanceFailure(`${message}: expected TallyError ${code}, but it succeeded with ${canonicalJson(outcome)}`);
}

const AT = Date.parse('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(AT + minutes * 60_000);
const VAULT_KEY = new Uint8Array(32).fill(7);

interface Ctx {
  store: TallyStore;
  vault: KeyVault;
  key(customerId: string, provider: string, source: ProviderKeySource, secret: string, minute?: number): Promise<ProviderKeyRecord>;
}

function context({ store }: ConformanceContext): Ctx {
  const vault = createKeyVault({ keys: { k1: VAULT_KEY }, activeKeyId: 'k1' });
  return {
    store,
    vault,
    async key(customerId, provider, source, secret, minute = 0) {
      const sealed = await vault.seal(secret, { customerId, provider });
      return {
        customerId,
        provider,
        source,
        sealed: vault.serialize(sealed),
        keyId: sealed.keyId,
        last4: sealed.last4,
        providerKeyHash: source === 'provisioned' ? `hash-${customerId}` : null,
        createdAt: at(minute),
        updatedAt: at(minute),
      };
    },
  };
}

async function customers(store: TallyStore, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await store.upsertCustomer({ customerId: id, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: at(0) });
}

function balance(customerId: string, provider: string, source: ProviderKeySource, fields: Partial<ProviderBalance> = {}): ProviderBalance {
  return {
    customerId,
    provider,
    source,
    limitNanoUsd: 5_000_000_000n,
    usageNanoUsd: 1_000_000_000n,
    remainingNanoUsd: 4_000_000_000n,
    low: false,
    syncedAt: at(60),
    ...fields,
  };
}

export const providerCases: ConformanceCase[] = [];
const test = (name: string, run: (c: Ctx) => Promise<void>) => providerCases.push({ name, run: (ctx) => run(context(ctx)) });

test('putProviderKey inserts, then replaces the sealed value and keeps createdAt', async (c) => {
  await customers(c.store, 'ada');
  const first = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-first-secret-1111', 0);
  expectEqual(await c.store.putProviderKey(first), first, 'the insert returns the record');
  const second = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-second-secret-2222', 30);
  const replaced = await c.store.putProviderKey(second);
  expectEqual(replaced, { ...second, createdAt: first.createdAt }, 'the replacement keeps the first createdAt');
  const read = await c.store.getProviderKey('ada', 'openrouter', 'byok');
  expectEqual(read, replaced, 'get returns the stored record');
  expectEqual(
    await c.vault.open(c.vault.parseSealed(read?.sealed ?? ''), { customerId: 'ada', provider: 'openrouter' }),
    'sk-or-v1-second-secret-2222',
    'the stored sealed value opens to the new secret',
  );
  expectEqual(read?.last4, '2222', 'last4 follows the new secret');
});

test('getProviderKey and deleteProviderKey address one (customer, provider, source); delete drops the snapshot too', async (c) => {
  await customers(c.store, 'ada', 'bob');
  const byok = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-byok-0001');
  const provisioned = await c.key('ada', 'openrouter', 'provisioned', 'sk-or-v1-ada-prov-0002');
  const other = await c.key('bob', 'openrouter', 'byok', 'sk-or-v1-bob-byok-0003');
  for (const record of [byok, provisioned, other]) await c.store.putProviderKey(record);
  await c.store.putProviderBalance(balance('ada', 'openrouter', 'byok'));
  await c.store.putProviderBalance(balance('ada', 'openrouter', 'provisioned'));
  expectEqual(await c.store.getProviderKey('ada', 'openai', 'byok'), null, 'another provider: none');
  expectEqual(await c.store.getProviderKey('nobody', 'openrouter', 'byok'), null, 'an unknown customer: none');
  expectEqual(await c.store.getProviderKey('ada', 'openrouter', 'provisioned'), provisioned, 'the provisioned key');
  expectEqual(await c.store.deleteProviderKey('ada', 'openrouter', 'byok'), true, 'deleted');
  expectEqual(await c.store.deleteProviderKey('ada', 'openrouter', 'byok'), false, 'a second delete finds nothing');
  expectEqual(await c.store.deleteProviderKey('nobody', 'openrouter', 'byok'), false, 'an unknown customer: nothing to delete');
  expectEqual(await c.store.getProviderKey('ada', 'openrouter', 'byok'), null, 'gone');
  expectEqual(await c.store.getProviderKey('ada', 'openrouter', 'provisioned'), provisioned, 'the other source stays');
  expectEqual(await c.store.getProviderKey('bob', 'openrouter', 'byok'), other, 'the other customer stays');
  expectEqual(
    await c.store.listProviderBalances('ada'),
    [balance('ada', 'openrouter', 'provisioned')],
    'the deleted key has no snapshot left; the other one stays',
  );
});

test('listProviderKeys pages through many keys in (customer, provider, source) order, optionally by source', async (c) => {
  const ids = ['cus_10', 'cus_2', 'Cus_3', 'cus-1', 'cus_1'];
  await customers(c.store, ...ids);
  const written: ProviderKeyRecord[] = [];
  for (const id of ids) {
    for (const provider of ['openrouter', 'anthropic', 'openai']) {
      for (const source of ['provisioned', 'byok'] as const) {
        const record = await c.key(id, provider, source, `sk-${id}-${provider}-${source}-secret`);
        await c.store.putProviderKey(record);
        written.push(record);
      }
    }
  }
  // Binary (code point) order, as Postgres sorts with COLLATE "C".
  const order = (r: ProviderKeyRecord) => [r.customerId, r.provider, r.source];
  const compare = (a: ProviderKeyRecord, b: ProviderKeyRecord) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as string) < (y[i] as string) ? -1 : 1;
    return 0;
  };
  const expected = [...written].sort(compare);
  for (const [limit, source] of [
    [7, undefined],
    [1000, undefined],
    [4, 'byok'],
    [5, 'provisioned'],
  ] as const) {
    const seen: ProviderKeyRecord[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await c.store.listProviderKeys({ limit, ...(after ? { after } : {}), ...(source ? { source } : {}) });
      pages++;
      if (page.items.length > limit) throw new ConformanceFailure(`a page of limit ${limit} held ${page.items.length} keys`);
      seen.push(...page.items);
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    const wanted = expected.filter((r) => source === undefined || r.source === source);
    expectEqual(seen, wanted, `every key once, in order (limit ${limit}, source ${source ?? 'any'})`);
    expectEqual(pages, Math.max(1, Math.ceil(wanted.length / limit)), `no empty trailing page (limit ${limit})`);
  }
  await expectError(() => c.store.listProviderKeys({ limit: 5, after: 'not a cursor' }), 'VALIDATION', 'a cursor it did not issue');
  await expectError(() => c.store.listProviderKeys({ limit: 0 }), 'VALIDATION', 'a limit of 0');
});

test('an unknown customer is NOT_FOUND and bad input is VALIDATION; nothing is stored', async (c) => {
  await customers(c.store, 'ada');
  const good = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-valid-0001');
  await expectError(async () => c.store.putProviderKey({ ...good, customerId: 'ghost' }), 'NOT_FOUND', 'putProviderKey, unknown customer');
  await expectError(
    async () => c.store.putProviderBalance(balance('ghost', 'openrouter', 'byok')),
    'NOT_FOUND',
    'putProviderBalance, unknown customer',
  );
  const bad: Array<[string, ProviderKeyRecord]> = [
    ['a provider id that is not a slug', { ...good, provider: 'Open Router' }],
    ['an unknown source', { ...good, source: 'shared' as ProviderKeySource }],
    ['a sealed value that is not one', { ...good, sealed: 'sk-or-v1-plaintext' }],
    ['a key id other than the sealed one', { ...good, keyId: 'k2' }],
    ['a last4 of 5 characters', { ...good, last4: '12345' }],
    ['an invalid date', { ...good, updatedAt: new Date(Number.NaN) }],
  ];
  for (const [label, record] of bad) await expectError(async () => c.store.putProviderKey(record), 'VALIDATION', label);
  await expectError(
    async () => c.store.putProviderBalance(balance('ada', 'openrouter', 'byok', { usageNanoUsd: -1n })),
    'VALIDATION',
    'a negative usage',
  );
  expectEqual((await c.store.listProviderKeys({ limit: 10 })).items, [], 'no key stored');
  expectEqual(await c.store.listProviderBalances('ada'), [], 'no snapshot stored');
  expectEqual(await c.store.listProviderBalances('ghost'), [], 'an unknown customer has no snapshots');
});

test('putProviderKey with expectedSealed replaces only the value it read (else CONFLICT)', async (c) => {
  await customers(c.store, 'ada');
  const first = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-first-0001', 0);
  const second = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-second-0002', 10);
  await expectError(() => c.store.putProviderKey(second, first.sealed), 'CONFLICT', 'nothing stored yet');
  await c.store.putProviderKey(first);
  await expectError(() => c.store.putProviderKey(second, second.sealed), 'CONFLICT', 'another value is stored');
  expectEqual(await c.store.getProviderKey('ada', 'openrouter', 'byok'), first, 'unchanged after the conflict');
  expectEqual(await c.store.putProviderKey(second, first.sealed), { ...second, createdAt: first.createdAt }, 'replaced');
});

test('putProviderBalance returns the snapshot it replaced; listProviderBalances is per customer in (provider, source) order', async (c) => {
  await customers(c.store, 'ada', 'bob');
  const first = balance('ada', 'openrouter', 'provisioned');
  expectEqual(await c.store.putProviderBalance(first), null, 'no earlier snapshot');
  const second = balance('ada', 'openrouter', 'provisioned', {
    usageNanoUsd: 5_200_000_000n,
    remainingNanoUsd: -200_000_000n,
    low: true,
    syncedAt: at(120),
  });
  expectEqual(await c.store.putProviderBalance(second), first, 'the first snapshot comes back');
  const unlimited = balance('ada', 'anthropic', 'byok', { limitNanoUsd: null, remainingNanoUsd: null, usageNanoUsd: 0n });
  await c.store.putProviderBalance(unlimited);
  await c.store.putProviderBalance(balance('bob', 'openrouter', 'byok'));
  expectEqual(await c.store.listProviderBalances('ada'), [unlimited, second], "ada's snapshots, latest of each");
  expectEqual(await c.store.putProviderBalance(second), second, 'writing the same snapshot again returns it');
});

test('provider writes inside a rolled-back transaction leave nothing', async (c) => {
  await customers(c.store, 'ada');
  const kept = await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-kept-0001', 0);
  await c.store.putProviderKey(kept);
  await c.store.putProviderBalance(balance('ada', 'openrouter', 'byok'));
  const failure = new Error('roll back');
  const outcome = await c.store
    .transaction(async (tx) => {
      await tx.putProviderKey(await c.key('ada', 'openrouter', 'byok', 'sk-or-v1-ada-replaced-0002', 5));
      await tx.putProviderKey(await c.key('ada', 'openai', 'byok', 'sk-ada-openai-new-0003', 5));
      await tx.putProviderBalance(balance('ada', 'openrouter', 'byok', { low: true, syncedAt: at(90) }));
      await tx.putProviderBalance(balance('ada', 'openai', 'byok'));
      expectEqual((await tx.listProviderKeys({ limit: 10 })).items.length, 2, 'inside the transaction');
      await tx.deleteProviderKey('ada', 'openrouter', 'byok');
      throw failure;
    })
    .then(
      () => 'committed',
      (error: unknown) => error,
    );
  expectEqual(outcome === failure, true, 'the transaction rejects with the error fn threw');
  expectEqual((await c.store.listProviderKeys({ limit: 10 })).items, [kept], 'the key as before');
  expectEqual(await c.store.listProviderBalances('ada'), [balance('ada', 'openrouter', 'byok')], 'the snapshot as before');
});
