import { TallyError } from '../errors/index.js';
import type { UnchargedCall, UnchargedCallQuery, UnchargedCallRecord } from '../ledger/calls.js';
import type { TallyStore } from '../ledger/types.js';
import { type ConformanceCase, expectEqual, expectError, expectTrue } from './conformance.js';

/**
 * The call log of metered calls that charged nothing (docs/ledger.md, "Calls that charge nothing") as
 * conformance cases, registered by `runStoreConformance` under "call log".
 */

const AT = Date.parse('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(AT + minutes * 60_000);
const ALL = { from: at(-100_000), to: at(100_000) };

async function customers(store: TallyStore, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await store.upsertCustomer({ customerId: id, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: at(-200_000) });
}

/** A free-model call of ada's; `changes` makes it another. */
function call(changes: Partial<UnchargedCall> = {}): UnchargedCall {
  return {
    customerId: 'ada',
    endUserId: null,
    model: 'meta-llama/llama-3.3-70b-instruct:free',
    inputTokens: 1200,
    cachedInputTokens: 200,
    outputTokens: 300,
    reasoningTokens: 0,
    providerCostNanoUsd: 0n,
    keySource: 'managed',
    free: true,
    catalogVersion: '2026-11',
    generationId: 'gen-1',
    idempotencyKey: 'req-1:ai:0.0:usage',
    at: at(0),
    ...changes,
  };
}

/** Every page of a listing, checking each page's size; the calls in the order they came. */
async function listAll(
  store: TallyStore,
  query: Omit<UnchargedCallQuery, 'cursor'>,
): Promise<{ items: UnchargedCallRecord[]; pages: number }> {
  const items: UnchargedCallRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await store.listUncharged({ ...query, ...(cursor ? { cursor } : {}) });
    pages++;
    expectTrue(page.items.length <= query.limit, `a page of limit ${query.limit} held ${page.items.length} calls`);
    if (page.nextCursor !== null) expectEqual(page.items.length, query.limit, 'a page with a next cursor is full');
    items.push(...page.items);
    if (page.nextCursor === null) return { items, pages };
    if (pages > 1000) throw new Error('the listing does not end');
    cursor = page.nextCursor;
  }
}

/** The calls without their ids, for comparing with what was recorded. */
const bare = (records: UnchargedCallRecord[]): UnchargedCall[] => records.map(({ id: _, ...rest }) => rest);

const oldestFirst = (a: UnchargedCallRecord, b: UnchargedCallRecord) =>
  a.at.getTime() - b.at.getTime() || (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

export const callLogCases: ConformanceCase[] = [];
const test = (name: string, run: (store: TallyStore) => Promise<void>) => callLogCases.push({ name, run: ({ store }) => run(store) });

test('recordUncharged logs each call as given, and listUncharged reads them back oldest first', async (store) => {
  await customers(store, 'ada', 'bob');
  const byok = call({
    customerId: 'bob',
    endUserId: 'key_42',
    model: 'openai/gpt-4o-mini',
    inputTokens: Number.MAX_SAFE_INTEGER,
    cachedInputTokens: Number.MAX_SAFE_INTEGER,
    outputTokens: 500,
    reasoningTokens: 120,
    providerCostNanoUsd: 2n ** 63n - 1n,
    keySource: 'byok',
    free: false,
    generationId: null,
    idempotencyKey: 'byok-1',
    at: at(-5),
  });
  expectEqual(await store.recordUncharged([call(), byok]), 2, 'two new calls');
  const page = await store.listUncharged({ ...ALL, limit: 10 });
  expectEqual(page.nextCursor, null, 'one page');
  expectEqual(bare(page.items), [byok, call()], 'every field as recorded, oldest first');
  expectTrue(
    page.items.every((c) => /^[1-9]\d*$/.test(c.id)),
    'decimal ids',
  );
  expectTrue(page.items[0]?.id !== page.items[1]?.id, 'every call has its own id');
  expectEqual(await store.recordUncharged([]), 0, 'an empty batch logs nothing');
});

test('a retried call is logged once: the same customer and key are skipped, in a later batch or the same one', async (store) => {
  await customers(store, 'ada', 'bob');
  expectEqual(await store.recordUncharged([call()]), 1, 'the first time');
  // The retry's tokens differ (the provider answered again): the first record stands.
  expectEqual(await store.recordUncharged([call({ outputTokens: 999, at: at(1) })]), 0, 'the retry adds nothing');
  expectEqual(
    await store.recordUncharged([call(), call({ idempotencyKey: 'req-2' }), call({ idempotencyKey: 'req-2', outputTokens: 7 })]),
    1,
    'a batch with one logged call and a key twice adds one',
  );
  expectEqual(await store.recordUncharged([call({ customerId: 'bob' })]), 1, 'the same key for another customer is another call');
  const all = await store.listUncharged({ ...ALL, limit: 10 });
  expectEqual(
    all.items.map((c) => [c.customerId, c.idempotencyKey, c.outputTokens]),
    [
      ['ada', 'req-1:ai:0.0:usage', 300],
      ['ada', 'req-2', 300],
      ['bob', 'req-1:ai:0.0:usage', 300],
    ],
    'one row per (customer, key), the first of each kept',
  );
});

test('20 concurrent copies of one batch log each call once', async (store) => {
  await customers(store, 'ada', 'bob');
  // Large enough that the copies overlap in the database, not just in the event loop.
  const batch = Array.from({ length: 2000 }, (_, i) =>
    call({ customerId: i % 2 === 0 ? 'ada' : 'bob', idempotencyKey: `k${i}`, at: at(i % 4) }),
  );
  // Each copy in its own order, so a store that locks keys in batch order would deadlock.
  const copies = Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? batch : [...batch].reverse()));
  const added = await Promise.all(copies.map((copy) => store.recordUncharged(copy)));
  expectEqual(
    added.reduce((sum, n) => sum + n, 0),
    2000,
    'the new calls counted across the copies add up to the batch',
  );
  const all = await listAll(store, { ...ALL, limit: 500 });
  expectEqual(all.items.length, 2000, 'one row per call');
  expectEqual(new Set(all.items.map((c) => `${c.customerId}/${c.idempotencyKey}`)).size, 2000, 'no call twice');
});

test('a bad call is VALIDATION naming the field, and nothing of its batch is written', async (store) => {
  await customers(store, 'ada');
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['negative input tokens', { inputTokens: -1 }, 'calls[1].inputTokens'],
    ['fractional output tokens', { outputTokens: 1.5 }, 'calls[1].outputTokens'],
    ['tokens beyond the safe integers', { inputTokens: 2 ** 53, cachedInputTokens: 0 }, 'calls[1].inputTokens'],
    ['tokens as text', { reasoningTokens: '5' }, 'calls[1].reasoningTokens'],
    ['tokens as a bigint', { cachedInputTokens: 5n }, 'calls[1].cachedInputTokens'],
    ['more cached than input tokens', { inputTokens: 10, cachedInputTokens: 11 }, 'calls[1].cachedInputTokens'],
    ['more reasoning than output tokens', { outputTokens: 10, reasoningTokens: 11 }, 'calls[1].reasoningTokens'],
    ['a negative cost', { providerCostNanoUsd: -1n }, 'calls[1].providerCostNanoUsd'],
    ['a cost as a number', { providerCostNanoUsd: 5 }, 'calls[1].providerCostNanoUsd'],
    ['a cost beyond a bigint column', { providerCostNanoUsd: 2n ** 63n }, 'calls[1].providerCostNanoUsd'],
    ['an unknown key source', { keySource: 'shared' }, 'calls[1].keySource'],
    ['free as text', { free: 'true' }, 'calls[1].free'],
    ['a model with a space', { model: 'gpt 4' }, 'calls[1].model'],
    ['an empty model', { model: '' }, 'calls[1].model'],
    ['an empty catalog version', { catalogVersion: '' }, 'calls[1].catalogVersion'],
    ['a catalog version of 65 characters', { catalogVersion: 'v'.repeat(65) }, 'calls[1].catalogVersion'],
    ['NUL in the generation id', { generationId: 'gen\0' }, 'calls[1].generationId'],
    ['an unpaired surrogate in the generation id', { generationId: 'gen \uD83D' }, 'calls[1].generationId'],
    ['an empty generation id', { generationId: '' }, 'calls[1].generationId'],
    ['a customer id with a space', { customerId: 'a b' }, 'calls[1].customerId'],
    ['an empty end user', { endUserId: '' }, 'calls[1].endUserId'],
    ['the reserved end user "*"', { endUserId: '*' }, 'calls[1].endUserId'],
    ['a key of 256 characters', { idempotencyKey: 'k'.repeat(256) }, 'calls[1].idempotencyKey'],
    ['an invalid date', { at: new Date(Number.NaN) }, 'calls[1].at'],
    ['a date past the year 9999', { at: new Date('+010000-01-01T00:00:00Z') }, 'calls[1].at'],
    ['a time as text', { at: '2026-11-01T00:00:00Z' }, 'calls[1].at'],
  ];
  for (const [label, changes, field] of bad) {
    const batch = [call({ idempotencyKey: 'good' }), call({ idempotencyKey: 'bad', ...(changes as Partial<UnchargedCall>) })];
    const error = await expectError(store.recordUncharged(batch), 'VALIDATION', label);
    expectEqual(error.details.field, field, `${label}: the details name the field`);
  }
  await expectError(store.recordUncharged([null as unknown as UnchargedCall]), 'VALIDATION', 'no call');
  await expectError(store.recordUncharged('calls' as unknown as UnchargedCall[]), 'VALIDATION', 'no list');
  const tooMany = Array.from({ length: 10_001 }, (_, i) => call({ idempotencyKey: `many-${i}` }));
  await expectError(store.recordUncharged(tooMany), 'VALIDATION', 'more than 10,000 calls');
  expectEqual((await store.listUncharged({ ...ALL, limit: 10 })).items, [], 'nothing was written');
  // The limits themselves are allowed.
  const last = new Date('9999-12-31T23:59:59.999Z');
  const edge = call({
    idempotencyKey: 'k'.repeat(255),
    model: 'm'.repeat(255),
    endUserId: 'u'.repeat(255),
    catalogVersion: 'v'.repeat(64),
    generationId: 'g'.repeat(500),
    at: new Date(last.getTime() - 1),
  });
  expectEqual(await store.recordUncharged([edge]), 1, 'the longest values, a millisecond before the last one');
  expectEqual(bare((await store.listUncharged({ from: at(0), to: last, limit: 10 })).items), [edge], 'read back exactly');
});

test('an unknown customer anywhere in a batch is NOT_FOUND, and nothing of the batch is written', async (store) => {
  await customers(store, 'ada');
  const error = await expectError(
    store.recordUncharged([call(), call({ customerId: 'ghost', idempotencyKey: 'g1' }), call({ idempotencyKey: 'req-2' })]),
    'NOT_FOUND',
    'a batch with an unknown customer',
  );
  expectEqual(error.details.customerId, 'ghost', 'the details name the customer');
  expectEqual((await store.listUncharged({ ...ALL, limit: 10 })).items, [], 'nothing was written');
  expectEqual(await store.recordUncharged([call()]), 1, 'the good call alone is logged afterwards');
});

test('listUncharged pages oldest first, stable across equal times, without gaps or repeats', async (store) => {
  await customers(store, 'ada', 'bob');
  // 40 calls at 7 distinct times, recorded out of time order over several batches.
  const batches = [0, 1, 2, 3].map((b) =>
    Array.from({ length: 10 }, (_, i) => {
      const n = b * 10 + i;
      return call({ customerId: n % 3 === 0 ? 'bob' : 'ada', idempotencyKey: `k${n}`, at: at((n * 3) % 7) });
    }),
  );
  for (const batch of batches) await store.recordUncharged(batch);
  const wanted = (await listAll(store, { ...ALL, limit: 500 })).items;
  expectEqual(wanted.length, 40, 'every call');
  expectEqual(wanted, [...wanted].sort(oldestFirst), 'oldest first, the smaller id first at equal times');
  for (const [limit, pages] of [
    [1, 40],
    [7, 6],
    [10, 4],
    [40, 1],
  ] as const) {
    const all = await listAll(store, { ...ALL, limit });
    expectEqual(all.items, wanted, `limit ${limit}: every call once, in order`);
    expectEqual(all.pages, pages, `limit ${limit}: the number of pages`);
  }
  const bob = await listAll(store, { ...ALL, customerId: 'bob', limit: 3 });
  expectEqual(
    bob.items,
    wanted.filter((c) => c.customerId === 'bob'),
    'one customer, paged with its cursor',
  );
  // The cursor is a position, not a snapshot: a later call shows up behind it, an earlier one does not.
  const first = await store.listUncharged({ ...ALL, limit: 10 });
  await store.recordUncharged([call({ idempotencyKey: 'newest', at: at(60) }), call({ idempotencyKey: 'oldest', at: at(-60) })]);
  const rest = await store.listUncharged({ ...ALL, limit: 500, cursor: first.nextCursor as string });
  expectEqual(
    rest.items.map((c) => c.idempotencyKey),
    [...wanted.slice(10).map((c) => c.idempotencyKey), 'newest'],
    'the rest after the cursor, and the newer call at the end',
  );
  for (const cursor of [
    '',
    'u1.',
    'u1.abc.1',
    'u1.1.0',
    'u1.01.1',
    'u1.-0.1',
    'u1.1.01',
    `u1.1.${2n ** 63n}`,
    'd1.MTIzLjQ',
    'x'.repeat(300),
  ]) {
    await expectError(store.listUncharged({ ...ALL, limit: 10, cursor }), 'VALIDATION', `the foreign cursor ${JSON.stringify(cursor)}`);
  }
});

test('listUncharged keeps to the range [from, to) and the customer asked for', async (store) => {
  await customers(store, 'ada', 'ada-2', 'bob');
  await store.recordUncharged([
    call({ idempotencyKey: 'before', at: at(-1) }),
    call({ idempotencyKey: 'start', at: at(0) }),
    call({ idempotencyKey: 'inside', at: at(30) }),
    call({ customerId: 'ada-2', idempotencyKey: 'other', at: at(31) }),
    call({ customerId: 'bob', idempotencyKey: 'bob', at: at(32) }),
    call({ idempotencyKey: 'last-ms', at: new Date(at(60).getTime() - 1) }),
    call({ idempotencyKey: 'end', at: at(60) }),
  ]);
  const keys = async (query: Omit<UnchargedCallQuery, 'limit'>) =>
    (await listAll(store, { ...query, limit: 2 })).items.map((c) => c.idempotencyKey);
  expectEqual(await keys({ from: at(0), to: at(60) }), ['start', 'inside', 'other', 'bob', 'last-ms'], 'from inclusive, to exclusive');
  expectEqual(
    await keys({ customerId: 'ada', from: at(0), to: at(60) }),
    ['start', 'inside', 'last-ms'],
    'one customer, exactly (not ada-2)',
  );
  expectEqual(await keys({ from: at(30), to: at(30) }), [], 'an empty range');
  expectEqual(await keys({ customerId: 'ghost', ...ALL }), [], 'a customer with no calls');
  const checks: Array<[string, Record<string, unknown>, string]> = [
    ['to before from', { from: at(1), to: at(0) }, 'to'],
    ['an invalid from', { from: new Date(Number.NaN) }, 'from'],
    ['from as text', { from: '2026-11-01T00:00:00Z' }, 'from'],
    ['a date past the year 9999', { to: new Date('+010000-01-01T00:00:00Z') }, 'to'],
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit 501', { limit: 501 }, 'limit'],
    ['a fractional limit', { limit: 1.5 }, 'limit'],
    ['a customer id with a space', { customerId: 'a b' }, 'customerId'],
  ];
  for (const [label, changes, field] of checks) {
    const query = { ...ALL, limit: 10, ...changes } as UnchargedCallQuery;
    const error = await expectError(store.listUncharged(query), 'VALIDATION', label);
    expectEqual(error.details.field, field, `${label}: the details name the field`);
  }
});

test('a rolled-back transaction leaves no logged call, and a committed one keeps them', async (store) => {
  await customers(store, 'ada');
  await expectError(
    store.transaction(async (tx) => {
      expectEqual(await tx.recordUncharged([call()]), 1, 'logged inside the transaction');
      expectEqual((await tx.listUncharged({ ...ALL, limit: 10 })).items.length, 1, 'the transaction sees its own call');
      throw new TallyError('CONFLICT', 'roll back');
    }),
    'CONFLICT',
    'the rolled-back transaction',
  );
  expectEqual((await store.listUncharged({ ...ALL, limit: 10 })).items, [], 'nothing after the rollback');
  await store.transaction(async (tx) => {
    expectEqual(await tx.recordUncharged([call()]), 1, 'the same call is new again');
  });
  expectEqual(bare((await store.listUncharged({ ...ALL, limit: 10 })).items), [call()], 'the committed call');
});
