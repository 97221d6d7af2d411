import { TallyError } from '../errors/index.js';
import type { CustomerRecord, TallyStore } from '../ledger/types.js';
import { NOTIFICATION_CATEGORIES, type NotificationCategory, type NotificationPreferences } from '../notifications/preferences.js';
import { customerCursor } from '../notifications/store.js';
import { type ConformanceCase, expectEqual, expectError, expectTrue } from './conformance.js';

/**
 * Notification preferences and the customer listing (docs/notifications.md) as conformance cases,
 * registered by `runStoreConformance` under "notifications and search".
 */

const AT = Date.parse('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(AT + minutes * 60_000);

async function customers(store: TallyStore, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await store.upsertCustomer({ customerId: id, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: at(0) });
}

/** Every category on, with the given ones changed. */
function expected(
  customerId: string,
  changed: Partial<Record<NotificationCategory, boolean>>,
  updatedAt: Date | null,
): NotificationPreferences {
  const categories = Object.fromEntries(NOTIFICATION_CATEGORIES.map(({ id }) => [id, changed[id] ?? true]));
  return { customerId, categories: categories as Record<NotificationCategory, boolean>, updatedAt };
}

/** Every page of a listing, checking each page's size; the ids in the order they came. */
async function listAll(store: TallyStore, limit: number, search?: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await store.listCustomers({ limit, ...(search === undefined ? {} : { search }), ...(cursor ? { cursor } : {}) });
    pages++;
    expectTrue(page.items.length <= limit, `a page of limit ${limit} held ${page.items.length} customers`);
    if (page.nextCursor !== null) expectEqual(page.items.length, limit, 'a page with a next cursor is full');
    ids.push(...page.items.map((c) => c.id));
    if (page.nextCursor === null) return { ids, pages };
    if (pages > 1000) throw new Error('the listing does not end');
    cursor = page.nextCursor;
  }
}

/** Binary (code unit) order, as Postgres sorts with COLLATE "C" for ASCII ids. */
const binary = (ids: string[]) => [...ids].sort();

export const notificationCases: ConformanceCase[] = [];
const test = (name: string, run: (store: TallyStore) => Promise<void>) => notificationCases.push({ name, run: ({ store }) => run(store) });

test('preferences default to every category on, never set', async (store) => {
  await customers(store, 'ada');
  const prefs = await store.getNotificationPreferences('ada');
  expectEqual(prefs, expected('ada', {}, null), 'the defaults');
  expectEqual(Object.keys(prefs.categories).sort(), NOTIFICATION_CATEGORIES.map((c) => c.id).sort(), 'every category, no other');
  expectEqual(
    NOTIFICATION_CATEGORIES.filter((c) => c.required).map((c) => c.id),
    ['payment_failed'],
    'payment_failed is the required category',
  );
});

test('setNotificationPreferences changes the named categories only and stamps updatedAt', async (store) => {
  await customers(store, 'ada', 'bob');
  const first = await store.setNotificationPreferences({ customerId: 'ada', changes: { low_balance: false, welcome: false }, at: at(5) });
  expectEqual(first, expected('ada', { low_balance: false, welcome: false }, at(5)), 'the first set returns the result');
  expectEqual(await store.getNotificationPreferences('ada'), first, 'get reads what set returned');
  const second = await store.setNotificationPreferences({
    customerId: 'ada',
    changes: { welcome: true, tier_changed: false, payment_failed: true },
    at: at(9),
  });
  expectEqual(second, expected('ada', { low_balance: false, tier_changed: false }, at(9)), 'low_balance kept; welcome back on');
  const untouched = await store.setNotificationPreferences({ customerId: 'ada', changes: {}, at: at(12) });
  expectEqual(untouched, expected('ada', { low_balance: false, tier_changed: false }, at(12)), 'no changes: same values, a new stamp');
  expectEqual(await store.getNotificationPreferences('bob'), expected('bob', {}, null), 'another customer keeps the defaults');
});

test('concurrent saves of different categories both land', async (store) => {
  await customers(store, 'ada');
  const ids = NOTIFICATION_CATEGORIES.filter((c) => !c.required).map((c) => c.id);
  await Promise.all(ids.map((id, i) => store.setNotificationPreferences({ customerId: 'ada', changes: { [id]: false }, at: at(1 + i) })));
  const prefs = await store.getNotificationPreferences('ada');
  expectEqual(prefs.categories, expected('ada', Object.fromEntries(ids.map((id) => [id, false])), null).categories, 'every save applied');
});

test('turning a required category off is VALIDATION naming it, and nothing changes', async (store) => {
  await customers(store, 'ada');
  const before = await store.setNotificationPreferences({ customerId: 'ada', changes: { low_balance: false }, at: at(1) });
  const error = await expectError(
    store.setNotificationPreferences({ customerId: 'ada', changes: { welcome: false, payment_failed: false }, at: at(2) }),
    'VALIDATION',
    'payment_failed off',
  );
  expectEqual(error.details.category, 'payment_failed', 'the details name the category');
  expectTrue(error.message.includes('payment_failed'), 'so does the message');
  expectEqual(await store.getNotificationPreferences('ada'), before, 'welcome not turned off, updatedAt not moved');
});

test('unknown categories and values other than true or false are VALIDATION; nothing changes', async (store) => {
  await customers(store, 'ada');
  const before = await store.setNotificationPreferences({ customerId: 'ada', changes: { monthly_reset: false }, at: at(1) });
  const bad: Array<[string, unknown]> = [
    ['an unknown category beside a good one', { welcome: false, newsletter: false }],
    ['a category that differs in case', { Welcome: false }],
    ['a name inherited by every object', { toString: false }],
    ['__proto__ as parsed from JSON', JSON.parse('{"__proto__": false}')],
    ['a string for a boolean', { welcome: 'false' }],
    ['a number for a boolean', { coupon_redeemed: 0 }],
    ['null for a boolean', { welcome: null }],
    ['an array for the changes', ['welcome']],
    ['null for the changes', null],
  ];
  for (const [label, changes] of bad) {
    const error = await expectError(
      store.setNotificationPreferences({ customerId: 'ada', changes: changes as Record<NotificationCategory, boolean>, at: at(2) }),
      'VALIDATION',
      label,
    );
    expectTrue(typeof error.details.field === 'string', `${label}: the details name the field`);
  }
  const unknown = await expectError(
    store.setNotificationPreferences({ customerId: 'ada', changes: { newsletter: true } as never, at: at(2) }),
    'VALIDATION',
    'an unknown category',
  );
  expectEqual(unknown.details.category, 'newsletter', 'the details name the unknown category');
  await expectError(
    store.setNotificationPreferences({ customerId: 'ada', changes: { welcome: false }, at: new Date(Number.NaN) }),
    'VALIDATION',
    'an invalid date',
  );
  expectEqual(await store.getNotificationPreferences('ada'), before, 'nothing changed');
});

test('an unknown customer is NOT_FOUND, and nothing is stored for it', async (store) => {
  await expectError(store.getNotificationPreferences('ghost'), 'NOT_FOUND', 'get, unknown customer');
  await expectError(store.getNotificationPreferences('gh\0st'), 'NOT_FOUND', 'get, an id no customer can have');
  await expectError(
    store.setNotificationPreferences({ customerId: 'gh\0st', changes: {}, at: at(1) }),
    'VALIDATION',
    'set, an id no customer can have',
  );
  await expectError(
    store.setNotificationPreferences({ customerId: 'ghost', changes: { welcome: false }, at: at(1) }),
    'NOT_FOUND',
    'set, unknown customer',
  );
  await customers(store, 'ghost');
  expectEqual(await store.getNotificationPreferences('ghost'), expected('ghost', {}, null), 'the customer created later has the defaults');
});

test('a rolled-back transaction leaves preferences as they were', async (store) => {
  await customers(store, 'ada', 'bob');
  const before = await store.setNotificationPreferences({ customerId: 'ada', changes: { welcome: false }, at: at(1) });
  await expectError(
    store.transaction(async (tx) => {
      await tx.setNotificationPreferences({ customerId: 'ada', changes: { welcome: true, low_balance: false }, at: at(2) });
      await tx.setNotificationPreferences({ customerId: 'bob', changes: { tier_changed: false }, at: at(2) });
      expectEqual((await tx.getNotificationPreferences('ada')).categories.low_balance, false, 'the transaction sees its own change');
      throw new TallyError('CONFLICT', 'roll back');
    }),
    'CONFLICT',
    'the rolled-back transaction',
  );
  expectEqual(await store.getNotificationPreferences('ada'), before, 'the earlier save stands');
  expectEqual(await store.getNotificationPreferences('bob'), expected('bob', {}, null), 'no row for bob');
  // A transaction that commits keeps its saves.
  await store.transaction(async (tx) => {
    await tx.setNotificationPreferences({ customerId: 'bob', changes: { tier_changed: false }, at: at(3) });
  });
  expectEqual(await store.getNotificationPreferences('bob'), expected('bob', { tier_changed: false }, at(3)), 'the committed save');
});

test('listCustomers pages through 120 customers in ascending id order, without gaps or repeats', async (store) => {
  const prefixes = ['acme', 'Acme', 'beta', 'Zed', 'cus_', 'cus-'];
  const ids: string[] = [];
  for (let i = 0; i < 120; i++) ids.push(`${prefixes[i % prefixes.length]}${String((i * 37) % 120).padStart(3, '0')}`);
  // Created out of order, so an order by insertion would show.
  await customers(store, ...[...ids].reverse());
  const wanted = binary(ids);
  const { ids: seen, pages } = await listAll(store, 50);
  expectEqual(seen, wanted, 'every customer once, ascending');
  expectEqual(pages, 3, 'pages of 50, 50 and 20');
  expectEqual(new Set(seen).size, 120, 'no repeats');
  const exact = await listAll(store, 60);
  expectEqual(exact, { ids: wanted, pages: 2 }, 'two full pages and no empty third');
  expectEqual((await listAll(store, 500)).pages, 1, 'one page when the limit covers everything');
  // The items are the customer records themselves.
  const first = await store.listCustomers({ limit: 2 });
  const records: CustomerRecord[] = [];
  for (const id of wanted.slice(0, 2)) records.push((await store.getCustomer(id)) as CustomerRecord);
  expectEqual(first.items, records, 'the records getCustomer returns');
  // The cursor is a position, not a snapshot: a customer added after it shows up, one before it does not.
  const page = await store.listCustomers({ limit: 50 });
  await customers(store, '0-before-everyone', 'zzz-after-everyone');
  const rest = await store.listCustomers({ limit: 500, cursor: page.nextCursor as string });
  expectEqual(
    rest.items.map((c) => c.id),
    [...wanted.slice(50), 'zzz-after-everyone'],
    'the rest after the cursor',
  );
  expectEqual(rest.nextCursor, null, 'the last page');
});

test('listCustomers search: a substring, ASCII letters in any case, with % _ and \\ taken literally', async (store) => {
  const ids = ['Acme-Corp', 'acme-labs', 'ACME_x', 'my%shop', 'my_shop', 'myXshop', 'my\\shop', 'beta', 'abc%', 'xyz', 'Émile'];
  await customers(store, ...ids);
  const search = async (text: string, limit = 500) => (await listAll(store, limit, text)).ids;
  expectEqual(await search('acme'), binary(['Acme-Corp', 'acme-labs', 'ACME_x']), 'acme in any case');
  expectEqual(await search('ACME-'), binary(['Acme-Corp', 'acme-labs']), 'upper-case search');
  expectEqual(await search('acme', 1), binary(['Acme-Corp', 'acme-labs', 'ACME_x']), 'a search pages with its cursor');
  expectEqual(await search('%'), binary(['my%shop', 'abc%']), '% matches only itself');
  expectEqual(await search('_'), binary(['ACME_x', 'my_shop']), '_ matches only itself');
  expectEqual(await search('my_shop'), ['my_shop'], 'not myXshop or my%shop');
  expectEqual(await search('my\\'), ['my\\shop'], 'a backslash matches only itself');
  expectEqual(await search('c%'), ['abc%'], 'a % at the end is no wildcard');
  expectEqual(await search('nothing'), [], 'no match: an empty page');
  const empty = await store.listCustomers({ limit: 5, search: 'nothing' });
  expectEqual(empty, { items: [], nextCursor: null }, 'no match and no cursor');
  expectEqual(await search(''), binary(ids), 'an empty search matches everyone');
  expectEqual(await search('Acme-Corp'), ['Acme-Corp'], 'the whole id');
  expectEqual(await search('MILE'), ['Émile'], 'ASCII letters fold around other characters');
  expectEqual(await search('émile'), [], 'only ASCII letters fold');
  expectEqual(await search('x'.repeat(100)), [], 'a search of 100 characters is allowed');
});

test('listCustomers refuses a bad limit, search or cursor with VALIDATION', async (store) => {
  await customers(store, 'a', 'b', 'c');
  for (const limit of [0, -1, 501, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
    await expectError(store.listCustomers({ limit }), 'VALIDATION', `limit ${String(limit)}`);
  }
  expectEqual((await store.listCustomers({ limit: 500 })).items.length, 3, 'a limit of 500 is allowed');
  await expectError(store.listCustomers({ limit: 5, search: 'x'.repeat(101) }), 'VALIDATION', 'a search of 101 characters');
  await expectError(store.listCustomers({ limit: 5, search: 42 as unknown as string }), 'VALIDATION', 'a search that is no string');
  await expectError(store.listCustomers({ limit: 5, search: 'a\0' }), 'VALIDATION', 'a search with NUL');
  const issued = (await store.listCustomers({ limit: 1 })).nextCursor as string;
  expectEqual(
    (await store.listCustomers({ limit: 5, cursor: issued })).items.map((c) => c.id),
    ['b', 'c'],
    'an issued cursor',
  );
  const foreign: Array<[string, string]> = [
    ['an empty cursor', ''],
    ['an id as a cursor', 'a'],
    ['an entries cursor', '12'],
    ['a provider key cursor', 'a openrouter byok'],
    ['the prefix alone', 'c1.'],
    ['not base64url', 'c1.a b'],
    ['a second spelling of an issued cursor', `${customerCursor('a').slice(0, -1)}R`],
    ['bytes that are not UTF-8', 'c1.gA'],
    ['an id with NUL', customerCursor('a\0')],
  ];
  for (const [label, cursor] of foreign) await expectError(store.listCustomers({ limit: 5, cursor }), 'VALIDATION', label);
});
