/**
 * The whole email path as an app runs it: ledger events on Postgres → the notifier's triggers →
 * `email.send` → the react-email templates → SMTP (nodemailer) → a real SMTP server in another process,
 * parsed back with mailparser. Then the one-click unsubscribe from the mail's own header, over the
 * HTTP handler.
 */

import { createSmtpTransport, type SmtpTransport } from '@tally/adapters/email';
import { createPostgresStore, type SqlStore } from '@tally/adapters/postgres';
import { createNotifier, createOutboxWorker, createTally, SAMPLE_EMAIL_BRAND, sampleCatalog } from '@tally/core';
import { createTallyHandler } from '@tally/core/http';
import { createFakeClock, createSeededRandom, drainOutbox } from '@tally/core/testing';
import { renderTallyEmail } from '@tally/react/emails';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../packages/adapters/src/test-support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../../packages/adapters/src/test-support/smtp-sink.js';

/** What the sink parsed (mailparser's ParsedMail; mailparser is the adapters package's dev dependency). */
type ParsedMail = ReturnType<SmtpSink['messages']>[number];

const CREDIT = 1_000_000n;
let db: TestDatabase;
let sink: SmtpSink;
let store: SqlStore;
let transport: SmtpTransport;

beforeAll(async () => {
  [db, sink] = await Promise.all([createTestDatabase('emails_e2e'), startSmtpSink()]);
  store = createPostgresStore({ connectionString: db.url, max: 24 });
  await store.migrate();
  transport = createSmtpTransport({ host: sink.host, port: sink.port });
});

afterAll(async () => {
  await transport?.close();
  await store?.close();
  await sink?.close();
  await db?.drop();
});

function header(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headerLines.find((line) => line.key === name.toLowerCase())?.line;
  return value
    ?.slice(value.indexOf(':') + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim();
}

describe('notification emails over SMTP, on Postgres, rendered by @tally/react/emails', () => {
  it('sends each mail once under concurrency, redelivery and a refusing server, and honours the one-click unsubscribe', async () => {
    const clock = createFakeClock('2026-11-05T00:00:00Z');
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    const notifier = createNotifier({
      tally,
      render: renderTallyEmail,
      transport,
      from: { address: 'billing@tally.example', name: 'Tally Billing' },
      recipients: async (customerId) => ({ address: `${customerId}@example.com`, name: customerId === 'ada' ? 'Ada Lovelace' : null }),
      brand: SAMPLE_EMAIL_BRAND,
      unsubscribe: { secret: 'e2e-unsubscribe-secret-0123456789-abcdef', url: 'https://app.example.com/v1/unsubscribe' },
      clock,
    });
    const random = createSeededRandom(7);
    const workers = Array.from({ length: 4 }, () =>
      createOutboxWorker({ store, clock, handlers: notifier.handlers, backoff: { baseMs: 1_000, maxMs: 1_000 }, random: random.next }),
    );
    const topics = new Set(Object.keys(notifier.handlers));
    const drain = () => drainOutbox({ store, workers, topics, clock });

    // Ada: created twice at once (one welcome), 20 credits of allowance, then 1,000 concurrent spends
    // of 0.019 credits: 1 credit is left, under the line of 10 % × 20 = 2 credits.
    await Promise.all([1, 2].map(() => tally.customers.upsert({ customerId: 'ada', tier: 'starter' })));
    await tally.grant({
      customerId: 'ada',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2026-12-01T00:00:00Z',
      idempotencyKey: 'a1',
    });
    const spends = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => tally.spend({ customerId: 'ada', amountMicros: 19_000n, idempotencyKey: `s${i}` })),
    );
    expect(spends.filter((spend) => spend.status === 'rejected')).toEqual([]);
    await drain();

    // Four workers: the two mails may arrive in either order.
    const firstTwo = await sink.waitFor(2);
    expect(firstTwo.map((mail) => mail.subject).sort()).toEqual(['Welcome to Tally', 'Your Tally credits are running low']);
    const low = firstTwo.find((mail) => mail.subject === 'Your Tally credits are running low');
    // multipart/alternative with the text and the HTML part, both from the one template.
    expect(header(low as ParsedMail, 'content-type')).toMatch(/^multipart\/alternative;/);
    expect(low?.text).toContain('1 credit');
    expect(low?.text).toContain('20 credits');
    expect(low?.html).toContain('1 credit');
    expect(low?.to).toMatchObject({ value: [{ address: 'ada@example.com', name: 'Ada Lovelace' }] });
    expect(low?.from).toMatchObject({ value: [{ address: 'billing@tally.example', name: 'Tally Billing' }] });
    const listUnsubscribe = header(low as ParsedMail, 'list-unsubscribe') ?? '';
    expect(listUnsubscribe).toMatch(/^<https:\/\/app\.example\.com\/v1\/unsubscribe\?token=[A-Za-z0-9_.-]+>$/);
    expect(header(low as ParsedMail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    // The link in the body is the same signed link.
    const link = listUnsubscribe.slice(1, -1);
    expect(low?.text).toContain(link);

    // Every event and mail message handled again, concurrently: nothing new goes out. A test mail sent
    // afterwards is the next one the server sees.
    const outbox = await store.listOutbox({ limit: 100_000 });
    await Promise.all(outbox.map((message) => notifier.handlers[message.topic]?.(message)));
    await drain();
    await notifier.sendTest('monthly_reset', { address: 'ops@example.com', name: null });
    const afterRedelivery = await sink.waitFor(3);
    expect(afterRedelivery).toHaveLength(3);
    expect(afterRedelivery[2]?.to).toMatchObject({ value: [{ address: 'ops@example.com' }] });

    // The server refuses twice (451): two failed lines, then the mail goes out on the third try, once.
    await sink.rejectNext(2, 451);
    await notifier.notify(
      'payment_failed',
      { customerId: 'ada', customerName: 'Ada Lovelace', amountDueMinor: 4900n, currency: 'USD', attemptCount: 1, nextAttemptAt: null },
      'payment_failed:in_e2e:1',
    );
    await drain();
    const [paymentFailed] = (await sink.waitFor(4)).slice(3);
    expect(paymentFailed?.subject).toContain('$49.00');
    // Required: no way to turn it off, and the mail says why.
    expect(header(paymentFailed as ParsedMail, 'list-unsubscribe')).toBeUndefined();
    expect(paymentFailed?.text).toContain('a failed payment is always reported');
    const lines = (await notifier.deliveries({ limit: 10, template: 'payment_failed' })).items.reverse();
    expect(lines.map((line) => [line.status, line.attempt])).toEqual([
      ['failed', 1],
      ['failed', 2],
      ['sent', 3],
    ]);

    // One click on the header's link, as a mail provider does it (RFC 8058), turns off only Ada's low-balance mails.
    const handler = createTallyHandler({ tally, notifier, clock, authenticate: async () => null });
    const response = await handler(
      new Request(link, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
    );
    expect(response.status).toBe(200);
    const preferences = await store.getNotificationPreferences('ada');
    expect(Object.entries(preferences.categories).filter(([, on]) => !on)).toEqual([['low_balance', false]]);

    // Next period: Ada runs low again, and the mail is suppressed by her preference, not sent.
    clock.set('2026-12-01T00:00:00Z');
    await tally.grant({
      customerId: 'ada',
      kind: 'allowance',
      amountMicros: 20n * CREDIT,
      expiresAt: '2027-01-01T00:00:00Z',
      idempotencyKey: 'a2',
    });
    await tally.spend({ customerId: 'ada', amountMicros: 19n * CREDIT, idempotencyKey: 'big' });
    await drain();
    const suppressed = (await notifier.deliveries({ limit: 10, template: 'low_balance' })).items;
    expect(suppressed[0]).toMatchObject({ status: 'suppressed', suppression: 'preference', customerId: 'ada' });
    await notifier.sendTest('welcome', { address: 'sentinel@example.com', name: null });
    const all = await sink.waitFor(6);
    // The monthly reset for the new period went out (Ada still wants those); no second low-balance mail did.
    expect(all.filter((mail) => mail.subject === 'Your Tally credits are running low')).toHaveLength(1);
    expect(all.at(-1)?.to).toMatchObject({ value: [{ address: 'sentinel@example.com' }] });
  });
});
