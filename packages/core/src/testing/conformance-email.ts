import { TallyError } from '../errors/index.js';
import type { Page, TallyStore } from '../ledger/types.js';
import type { EmailDelivery, EmailDeliveryQuery, RecordEmailDeliveryCommand } from '../notifications/email.js';
import { emailDeliveryCursor } from '../notifications/email-store.js';
import { customerCursor } from '../notifications/store.js';
import { type ConformanceCase, expectEqual, expectError, expectTrue } from './conformance.js';

/**
 * The email delivery log and the scheduler's claimed runs (docs/notifications.md) as conformance
 * cases, registered by `runStoreConformance` under "email log and scheduler".
 */

const AT = Date.parse('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(AT + minutes * 60_000);

/** A sent welcome mail; `changes` makes it something else. */
function line(changes: Partial<RecordEmailDeliveryCommand> = {}): RecordEmailDeliveryCommand {
  return {
    dedupeKey: 'welcome:ada',
    customerId: 'ada',
    template: 'welcome',
    to: 'ada@example.com',
    subject: 'Welcome to Tally',
    status: 'sent',
    suppression: null,
    attempt: 1,
    error: null,
    transport: 'memory',
    messageId: '<1@example.com>',
    test: false,
    at: at(0),
    ...changes,
  };
}

/** Newest first: later `at`, then the larger id. */
const newestFirst = (a: EmailDelivery, b: EmailDelivery) =>
  b.at.getTime() - a.at.getTime() || (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0);

/** Every page of a listing, checking each page's size; the lines in the order they came. */
async function listAll(store: TallyStore, query: Omit<EmailDeliveryQuery, 'cursor'>): Promise<{ items: EmailDelivery[]; pages: number }> {
  const items: EmailDelivery[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page: Page<EmailDelivery> = await store.listEmailDeliveries({ ...query, ...(cursor ? { cursor } : {}) });
    pages++;
    expectTrue(page.items.length <= query.limit, `a page of limit ${query.limit} held ${page.items.length} lines`);
    if (page.nextCursor !== null) expectEqual(page.items.length, query.limit, 'a page with a next cursor is full');
    items.push(...page.items);
    if (page.nextCursor === null) return { items, pages };
    if (pages > 1000) throw new Error('the listing does not end');
    cursor = page.nextCursor;
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes with a bit set that base64 decoding ignores: the last character of a body whose
 * length leaves a remainder of 1 byte carries 4 unused bits.
 */
function secondSpelling(cursor: string): string {
  const index = BASE64URL.indexOf(cursor.slice(-1));
  if ((cursor.length - 'd1.'.length) % 4 !== 2 || index % 16 !== 0) throw new Error(`no spare bits in ${cursor}`);
  return cursor.slice(0, -1) + BASE64URL[index + 1];
}

const claim = (store: TallyStore, job: string, slot: Date, now: Date, leaseMinutes = 5) =>
  store.claimScheduledRun({ job, slot, at: now, leaseUntil: new Date(now.getTime() + leaseMinutes * 60_000) });

export const emailCases: ConformanceCase[] = [];
const test = (name: string, run: (store: TallyStore) => Promise<void>) => emailCases.push({ name, run: ({ store }) => run(store) });

test('recordEmailDelivery returns the line with an id, and the log reads it back', async (store) => {
  const sent = await store.recordEmailDelivery(line());
  expectTrue(typeof sent.id === 'string' && sent.id !== '', 'an id');
  expectEqual(sent, { ...line(), id: sent.id }, 'the line as recorded');
  const failed = await store.recordEmailDelivery(
    line({ status: 'failed', attempt: 2, error: 'connect ECONNREFUSED', messageId: null, at: at(1) }),
  );
  const suppressed = await store.recordEmailDelivery(
    line({
      dedupeKey: 'low_balance:bob:2026-11',
      customerId: 'bob',
      template: 'low_balance',
      to: null,
      subject: null,
      status: 'suppressed',
      suppression: 'no_recipient',
      transport: null,
      messageId: null,
      at: at(2),
    }),
  );
  const trial = await store.recordEmailDelivery(
    line({ dedupeKey: 'test:1', customerId: null, template: 'payment_failed', test: true, subject: 'Ünïcode ✓ 🎉', at: at(3) }),
  );
  expectEqual(trial.subject, 'Ünïcode ✓ 🎉', 'text beyond ASCII is kept exactly');
  expectEqual(new Set([sent.id, failed.id, suppressed.id, trial.id]).size, 4, 'every line has its own id');
  const page = await store.listEmailDeliveries({ limit: 10 });
  expectEqual(page, { items: [trial, suppressed, failed, sent], nextCursor: null }, 'newest first, each as recorded');
  expectEqual((await store.listEmailDeliveries({ limit: 1 })).items, [trial], 'a test send with no customer');
});

test('the delivery log pages newest first, stable across equal times, without gaps or repeats', async (store) => {
  // 40 lines at 7 distinct times, recorded out of time order, so an order by insertion would show.
  const recorded: EmailDelivery[] = [];
  for (let i = 0; i < 40; i++) recorded.push(await store.recordEmailDelivery(line({ dedupeKey: `k${i}`, at: at((i * 3) % 7) })));
  const wanted = [...recorded].sort(newestFirst);
  for (const [limit, pages] of [
    [1, 40],
    [7, 6],
    [10, 4],
    [40, 1],
    [500, 1],
  ] as const) {
    const all = await listAll(store, { limit });
    expectEqual(
      all.items.map((d) => d.dedupeKey),
      wanted.map((d) => d.dedupeKey),
      `limit ${limit}: every line once, newest first, the larger id first at equal times`,
    );
    expectEqual(all.pages, pages, `limit ${limit}: the number of pages`);
  }
  expectEqual((await listAll(store, { limit: 10 })).items, wanted, 'the lines themselves');
  // The cursor is a position, not a snapshot: a later line does not show up behind it, an older one does.
  const first = await store.listEmailDeliveries({ limit: 10 });
  const newest = await store.recordEmailDelivery(line({ dedupeKey: 'newest', at: at(60) }));
  const oldest = await store.recordEmailDelivery(line({ dedupeKey: 'oldest', at: at(-60) }));
  const rest = await store.listEmailDeliveries({ limit: 500, cursor: first.nextCursor as string });
  expectEqual(rest.items, [...wanted.slice(10), oldest], 'the rest after the cursor, and the older line at the end');
  expectEqual((await store.listEmailDeliveries({ limit: 1 })).items, [newest], 'the newer line starts a fresh listing');
});

test('the delivery log filters by customer, status and template, combined with AND', async (store) => {
  const lines = [
    line({ dedupeKey: 'a1', customerId: 'ada', template: 'welcome', status: 'sent', at: at(1) }),
    line({ dedupeKey: 'a2', customerId: 'ada', template: 'low_balance', status: 'failed', error: 'timeout', at: at(2) }),
    line({ dedupeKey: 'a2', customerId: 'ada', template: 'low_balance', status: 'sent', attempt: 2, at: at(3) }),
    line({ dedupeKey: 'b1', customerId: 'bob', template: 'low_balance', status: 'suppressed', suppression: 'preference', at: at(4) }),
    line({ dedupeKey: 'b2', customerId: 'bob', template: 'welcome', status: 'failed', error: 'refused', at: at(5) }),
    line({ dedupeKey: 't1', customerId: null, template: 'welcome', status: 'sent', test: true, at: at(6) }),
    line({ dedupeKey: 'c1', customerId: 'ada-2', template: 'welcome', status: 'sent', at: at(7) }),
  ];
  const recorded: EmailDelivery[] = [];
  for (const command of lines) recorded.push(await store.recordEmailDelivery(command));
  const keys = async (query: Omit<EmailDeliveryQuery, 'cursor' | 'limit'>, limit = 500) =>
    (await listAll(store, { ...query, limit })).items.map((d) => `${d.dedupeKey}#${d.attempt}`);
  expectEqual(await keys({ customerId: 'ada' }), ['a2#2', 'a2#1', 'a1#1'], 'one customer, exactly (not ada-2)');
  expectEqual(await keys({ status: 'failed' }), ['b2#1', 'a2#1'], 'one status');
  expectEqual(await keys({ template: 'low_balance' }), ['b1#1', 'a2#2', 'a2#1'], 'one template');
  expectEqual(await keys({ customerId: 'ada', template: 'low_balance', status: 'sent' }), ['a2#2'], 'all three');
  expectEqual(await keys({ customerId: 'bob', status: 'sent' }), [], 'no match');
  expectEqual(await keys({ template: 'welcome' }, 1), ['c1#1', 't1#1', 'b2#1', 'a1#1'], 'a filtered listing pages with its cursor');
  expectEqual(await keys({ customerId: 'ghost' }), [], 'a customer with no lines');
  expectEqual(
    await store.listEmailDeliveries({ limit: 5, status: 'suppressed' }),
    { items: [recorded[3]], nextCursor: null },
    'the suppressed line as recorded',
  );
});

test('a bad delivery line is VALIDATION naming the field, and nothing is written', async (store) => {
  const before = await store.recordEmailDelivery(line());
  const bad: Array<[string, Partial<RecordEmailDeliveryCommand> | Record<string, unknown>, string]> = [
    ['an unknown template', { template: 'newsletter' }, 'template'],
    ['a template that differs in case', { template: 'Welcome' }, 'template'],
    ['an unknown status', { status: 'bounced' }, 'status'],
    ['a suppression on a sent line', { suppression: 'preference' }, 'suppression'],
    ['suppressed without a reason', { status: 'suppressed', suppression: null }, 'suppression'],
    ['an unknown suppression', { status: 'suppressed', suppression: 'spam' }, 'suppression'],
    ['attempt 0', { attempt: 0 }, 'attempt'],
    ['a fractional attempt', { attempt: 1.5 }, 'attempt'],
    ['attempt as text', { attempt: '1' }, 'attempt'],
    ['an empty dedupe key', { dedupeKey: '' }, 'dedupeKey'],
    ['a dedupe key of 501 characters', { dedupeKey: 'k'.repeat(501) }, 'dedupeKey'],
    ['NUL in the dedupe key', { dedupeKey: 'a\0b' }, 'dedupeKey'],
    ['NUL in the subject', { subject: 'Hi\0' }, 'subject'],
    ['NUL in the address', { to: 'a\0@example.com' }, 'to'],
    ['NUL in the error', { status: 'failed', error: '\0' }, 'error'],
    ['NUL in the transport', { transport: 'smtp\0' }, 'transport'],
    ['NUL in the message id', { messageId: '\0' }, 'messageId'],
    ['an unpaired surrogate in the subject', { subject: 'Hi \uD83D' }, 'subject'],
    ['a customer id with a space', { customerId: 'a b' }, 'customerId'],
    ['a customer id with NUL', { customerId: 'a\0' }, 'customerId'],
    ['test as text', { test: 'false' }, 'test'],
    ['an invalid date', { at: new Date(Number.NaN) }, 'at'],
    ['a date past the year 9999', { at: new Date('+010000-01-01T00:00:00Z') }, 'at'],
    ['a time as text', { at: '2026-11-01T00:00:00Z' }, 'at'],
  ];
  for (const [label, changes, field] of bad) {
    const error = await expectError(store.recordEmailDelivery(line(changes as Partial<RecordEmailDeliveryCommand>)), 'VALIDATION', label);
    expectEqual(error.details.field, field, `${label}: the details name the field`);
  }
  await expectError(store.recordEmailDelivery(null as unknown as RecordEmailDeliveryCommand), 'VALIDATION', 'no command');
  expectEqual(await store.listEmailDeliveries({ limit: 500 }), { items: [before], nextCursor: null }, 'only the good line');
  // The limits themselves are allowed.
  const longest = await store.recordEmailDelivery(line({ dedupeKey: 'k'.repeat(500), attempt: 2_147_483_647, at: at(1) }));
  expectEqual(longest, { ...line({ dedupeKey: 'k'.repeat(500), attempt: 2_147_483_647, at: at(1) }), id: longest.id }, 'the limits');
});

test('listEmailDeliveries refuses a bad limit, filter or cursor with VALIDATION', async (store) => {
  for (let i = 0; i < 3; i++) await store.recordEmailDelivery(line({ dedupeKey: `k${i}`, at: at(i) }));
  for (const limit of [0, -1, 501, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
    await expectError(store.listEmailDeliveries({ limit }), 'VALIDATION', `limit ${String(limit)}`);
  }
  expectEqual((await store.listEmailDeliveries({ limit: 500 })).items.length, 3, 'a limit of 500 is allowed');
  await expectError(store.listEmailDeliveries({ limit: 5, status: 'bounced' as never }), 'VALIDATION', 'an unknown status');
  await expectError(store.listEmailDeliveries({ limit: 5, template: 'newsletter' as never }), 'VALIDATION', 'an unknown template');
  await expectError(store.listEmailDeliveries({ limit: 5, customerId: 'a\0' }), 'VALIDATION', 'a customer id with NUL');
  await expectError(store.listEmailDeliveries(null as unknown as EmailDeliveryQuery), 'VALIDATION', 'no query');
  const issued = (await store.listEmailDeliveries({ limit: 1 })).nextCursor as string;
  expectEqual(
    (await store.listEmailDeliveries({ limit: 5, cursor: issued })).items.map((d) => d.dedupeKey),
    ['k1', 'k0'],
    'an issued cursor',
  );
  const foreign: Array<[string, string]> = [
    ['an empty cursor', ''],
    ['an id as a cursor', '2'],
    ['a customer cursor', customerCursor('ada')],
    ['the prefix alone', 'd1.'],
    ['not base64url', 'd1.a b'],
    ['a second spelling of a cursor', secondSpelling(emailDeliveryCursor({ at: at(0), id: '10' }))],
    ['an id of zero', emailDeliveryCursor({ at: at(0), id: '0' })],
    ['an id with a leading zero', emailDeliveryCursor({ at: at(0), id: '01' })],
    ['an id past bigint', emailDeliveryCursor({ at: at(0), id: '9223372036854775808' })],
    ['an id that is no number', emailDeliveryCursor({ at: at(0), id: 'x' })],
    ['a time past the year 9999', emailDeliveryCursor({ at: new Date('+010000-01-01T00:00:00Z'), id: '1' })],
  ];
  for (const [label, cursor] of foreign) await expectError(store.listEmailDeliveries({ limit: 5, cursor }), 'VALIDATION', label);
});

test('a rolled-back transaction leaves no delivery line and no claimed run', async (store) => {
  const slot = at(0);
  await expectError(
    store.transaction(async (tx) => {
      await tx.recordEmailDelivery(line());
      expectTrue(await claim(tx, 'reset', slot, at(1)), 'the claim inside the transaction');
      await tx.completeScheduledRun({ job: 'reset', slot, at: at(2) });
      expectEqual(await tx.lastScheduledRun('reset'), slot, 'the transaction sees its own completion');
      throw new TallyError('CONFLICT', 'roll back');
    }),
    'CONFLICT',
    'the rolled-back transaction',
  );
  expectEqual(await store.listEmailDeliveries({ limit: 5 }), { items: [], nextCursor: null }, 'no line');
  expectEqual(await store.lastScheduledRun('reset'), null, 'no completed run');
  expectTrue(await claim(store, 'reset', slot, at(1)), 'the slot is free again');
  // A transaction that commits keeps its writes.
  const kept = await store.transaction((tx) => tx.recordEmailDelivery(line({ at: at(3) })));
  expectEqual((await store.listEmailDeliveries({ limit: 5 })).items, [kept], 'the committed line');
});

test('claimScheduledRun: of 20 concurrent claims of one slot exactly one wins', async (store) => {
  const slot = at(0);
  const results = await Promise.all(Array.from({ length: 20 }, () => claim(store, 'low-balance-scan', slot, at(1))));
  expectEqual(results.filter(Boolean).length, 1, 'one winner');
  expectEqual(await claim(store, 'low-balance-scan', slot, at(2)), false, 'a later claim inside the lease loses too');
  // Another slot of the job, and the same slot of another job, are claims of their own.
  expectEqual(await claim(store, 'low-balance-scan', at(60), at(60)), true, 'the next slot');
  expectEqual(await claim(store, 'monthly-reset', slot, at(1)), true, 'another job');
  expectEqual(await store.lastScheduledRun('low-balance-scan'), null, 'nothing completed yet');
});

test('a completed slot is never claimed again, and lastScheduledRun returns the latest completed slot', async (store) => {
  expectEqual(await store.lastScheduledRun('reset'), null, 'a job that never ran');
  for (const hour of [3, 1, 2]) {
    expectTrue(await claim(store, 'reset', at(hour * 60), at(hour * 60 + 1)), `claim hour ${hour}`);
    await store.completeScheduledRun({ job: 'reset', slot: at(hour * 60), at: at(hour * 60 + 2) });
  }
  expectEqual(await store.lastScheduledRun('reset'), at(180), 'the latest slot, not the last completed');
  expectEqual(await claim(store, 'reset', at(180), at(181)), false, 'completed: not claimable within the old lease');
  expectEqual(await claim(store, 'reset', at(180), at(100_000)), false, 'completed: not claimable long after the lease');
  // A later slot that is claimed but not completed does not count, nor does another job's.
  expectTrue(await claim(store, 'reset', at(240), at(241)), 'claim hour 4');
  expectTrue(await claim(store, 'scan', at(600), at(601)), 'another job');
  await store.completeScheduledRun({ job: 'scan', slot: at(600), at: at(602) });
  expectEqual(await store.lastScheduledRun('reset'), at(180), 'only completed slots of this job');
  expectEqual(await store.lastScheduledRun('scan'), at(600), 'the other job');
  // Completing again changes nothing; completing a slot nobody claimed is NOT_FOUND.
  await store.completeScheduledRun({ job: 'reset', slot: at(180), at: at(500) });
  await expectError(store.completeScheduledRun({ job: 'reset', slot: at(300), at: at(301) }), 'NOT_FOUND', 'an unclaimed slot');
  expectEqual(await store.lastScheduledRun('reset'), at(180), 'unchanged');
  await store.completeScheduledRun({ job: 'reset', slot: at(240), at: at(242) });
  expectEqual(await store.lastScheduledRun('reset'), at(240), 'hour 4 completed');
});

test('a claim whose lease ran out can be taken over; one with a live lease cannot', async (store) => {
  const slot = at(0);
  expectTrue(await claim(store, 'sync', slot, at(1), 5), 'the first claim, leased until minute 6');
  const justBefore = new Date(at(6).getTime() - 1);
  expectEqual(await claim(store, 'sync', slot, justBefore), false, 'a millisecond before the lease ends');
  const concurrent = await Promise.all(Array.from({ length: 10 }, () => claim(store, 'sync', slot, at(6), 5)));
  expectEqual(concurrent.filter(Boolean).length, 1, 'when the lease ends, one of 10 concurrent claims takes it over');
  expectEqual(await claim(store, 'sync', slot, at(10)), false, 'the new lease (until minute 11) holds');
  expectEqual(await claim(store, 'sync', slot, at(11)), true, 'and runs out in turn');
  await store.completeScheduledRun({ job: 'sync', slot, at: at(12) });
  expectEqual(await claim(store, 'sync', slot, at(30)), false, 'completed by the last claimer: never again');
  expectEqual(await store.lastScheduledRun('sync'), slot, 'the slot completed');
});

test('bad claims, completions and job names are VALIDATION, and nothing is claimed', async (store) => {
  const slot = at(0);
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a job with a space', { job: 'a b' }, 'job'],
    ['an empty job', { job: '' }, 'job'],
    ['a job of 256 characters', { job: 'j'.repeat(256) }, 'job'],
    ['a slot that is not a whole second', { slot: new Date(slot.getTime() + 500) }, 'slot'],
    ['an invalid slot', { slot: new Date(Number.NaN) }, 'slot'],
    ['an invalid time', { at: new Date(Number.NaN) }, 'at'],
    ['a lease that ends when it starts', { leaseUntil: at(1) }, 'leaseUntil'],
    ['a lease that ended before it started', { leaseUntil: at(0) }, 'leaseUntil'],
    ['a lease past the year 9999', { leaseUntil: new Date('+010000-01-01T00:00:00Z') }, 'leaseUntil'],
  ];
  for (const [label, changes, field] of bad) {
    const command = { job: 'scan', slot, at: at(1), leaseUntil: at(6), ...changes };
    const error = await expectError(store.claimScheduledRun(command as never), 'VALIDATION', label);
    expectEqual(error.details.field, field, `${label}: the details name the field`);
  }
  await expectError(store.completeScheduledRun({ job: 'a b', slot, at: at(1) }), 'VALIDATION', 'complete, a job with a space');
  await expectError(
    store.completeScheduledRun({ job: 'scan', slot: new Date(slot.getTime() + 1), at: at(1) }),
    'VALIDATION',
    'complete, a slot that is not a whole second',
  );
  await expectError(store.lastScheduledRun('a\0b'), 'VALIDATION', 'last, a job with NUL');
  expectEqual(await store.lastScheduledRun('j'.repeat(255)), null, 'a job of 255 characters is allowed');
  expectEqual(await claim(store, 'scan', slot, at(1)), true, 'the slot was never claimed');
});
