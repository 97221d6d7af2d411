/**
 * Scheduled analytics reports as an app runs them: sample data on Postgres → two app instances, each
 * with its scheduler (`notifier.reportJobs()`) and outbox workers → the metrics read once per period
 * → `email.send` per admin → the react-email template and the real PDF renderer (`renderReportPdf`)
 * → SMTP (nodemailer) → a real SMTP server in another process, parsed back with mailparser. The PDF
 * that arrives must open in poppler (pdfinfo, pdftotext) and show the report.
 *
 * The adapters and the templates come from their sources, so the test runs what the tree holds now.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createNotifier,
  createOutboxWorker,
  createTally,
  EMAIL_SEND_TOPIC,
  formatMoney,
  type Notifier,
  type OutboxHandler,
  SAMPLE_EMAIL_BRAND,
  sampleCatalog,
  type Tally,
} from '@tally/core';
import { applySampleData, createFakeClock, createSeededRandom, drainOutbox, generateSampleData } from '@tally/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpTransport, type SmtpTransport } from '../../packages/adapters/src/email/index.js';
import { renderReportPdf } from '../../packages/adapters/src/pdf/index.js';
import { createPostgresStore, type SqlStore } from '../../packages/adapters/src/postgres/index.js';
import { createScheduler, type Scheduler } from '../../packages/adapters/src/scheduler/index.js';
import { createTestDatabase, type TestDatabase } from '../../packages/adapters/src/test-support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../../packages/adapters/src/test-support/smtp-sink.js';
import { renderTallyEmail } from '../../packages/react/src/emails/index.js';

type ParsedMail = ReturnType<SmtpSink['messages']>[number];

const run = promisify(execFile);
const OPS = { address: 'ops@tally.example', name: 'Ops Team' };
const CFO = { address: 'cfo@tally.example', name: null };
const FINANCE = { address: 'finanzen@tally.example', name: 'Finanzen' };

let db: TestDatabase;
let sink: SmtpSink;
let store: SqlStore;
let transport: SmtpTransport;
let work: string;

beforeAll(async () => {
  [db, sink] = await Promise.all([createTestDatabase('reports_e2e'), startSmtpSink()]);
  store = createPostgresStore({ connectionString: db.url, max: 12 });
  await store.migrate();
  transport = createSmtpTransport({ host: sink.host, port: sink.port });
  work = await mkdtemp(join(tmpdir(), 'tally-reports-'));
});

afterAll(async () => {
  await transport?.close();
  await store?.close();
  await sink?.close();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** One app instance: its own notifier, scheduler and outbox worker, over the shared database and SMTP server. */
function instance(tally: Tally, clock: ReturnType<typeof createFakeClock>, seed: number) {
  const notifier: Notifier = createNotifier({
    tally,
    render: renderTallyEmail,
    transport,
    from: { address: 'reports@tally.example', name: 'Tally Reports' },
    recipients: async () => null,
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: 'e2e-reports-secret-0123456789-abcdef', url: 'https://app.example.com/v1/unsubscribe' },
    clock,
    renderPdf: (report) => renderReportPdf(report, { brand: { productName: 'Tally', primaryColor: '#4f46e5' } }),
    reports: [
      { id: 'weekly-ops', cadence: 'weekly', to: [OPS, CFO], attach: 'pdf', dashboardUrl: 'https://admin.tally.example/analytics' },
      { id: 'daily-finance', cadence: 'daily', to: [FINANCE], attach: 'csv', locale: 'de' },
    ],
  });
  const scheduler: Scheduler = createScheduler({ store, jobs: notifier.reportJobs(), clock, onError: (error) => console.error(error) });
  // Only mail: the sample data's own events are not this test's business.
  const worker = createOutboxWorker({
    store,
    clock,
    handlers: { [EMAIL_SEND_TOPIC]: notifier.handlers[EMAIL_SEND_TOPIC] as OutboxHandler },
    backoff: { baseMs: 1_000, maxMs: 1_000 },
    random: createSeededRandom(seed).next,
  });
  return { notifier, scheduler, worker };
}

const attachmentText = (file: ParsedMail['attachments'][number]) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(file.content);

describe('scheduled analytics reports over SMTP, on Postgres, with the real PDF renderer', () => {
  it('a Monday 06:00 slot on two instances: one mail per admin, the PDF opens in poppler, a refused send is retried', {
    timeout: 180_000,
  }, async () => {
    const clock = createFakeClock('2026-09-01T00:00:00Z');
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    await applySampleData(tally, generateSampleData({ seed: 3, customers: 12, days: 35 }), (at) => clock.set(at));
    clock.set('2026-10-26T06:00:30Z');
    const a = instance(tally, clock, 1);
    const b = instance(tally, clock, 2);
    const drain = () => drainOutbox({ store, workers: [a.worker, b.worker], topics: new Set([EMAIL_SEND_TOPIC]), clock });

    // The server refuses the first mail once (451): it is logged as failed and sent on the next try.
    await sink.rejectNext(1, 451);
    const passes = await Promise.all([a.scheduler.runDue(), b.scheduler.runDue()]);
    // Each job's slot ran on exactly one instance.
    for (const job of ['report:weekly-ops', 'report:daily-finance']) {
      const results = passes.flat().filter((result) => result.job === job);
      expect(results.map((result) => result.ran).sort()).toEqual([false, true]);
    }
    await drain();
    const mails = await sink.waitFor(3);
    expect(mails).toHaveLength(3);

    // The week before the Monday slot, read straight from the metrics.
    const week = { from: new Date('2026-10-19T00:00:00Z'), to: new Date('2026-10-26T00:00:00Z') };
    const mrr = (await tally.analytics.metric({ metric: 'mrr', ...week, granularity: 'week' })).points[0];
    const usage = await tally.analytics.metric({ metric: 'usage', ...week, granularity: 'day' });
    const top = await tally.analytics.metric({ metric: 'top-customers', ...week, limit: 5 });
    const calls = usage.series.reduce((sum, point) => sum + point.calls, 0);
    expect(calls).toBeGreaterThan(0);
    expect(top.customers.length).toBeGreaterThan(0);

    const weekly = mails.filter((mail) => mail.subject?.startsWith('Tally weekly report: October 19'));
    expect(weekly.map((mail) => mail.to && 'value' in mail.to && mail.to.value[0]?.address).sort()).toEqual([CFO.address, OPS.address]);
    const ops = weekly.find((mail) => mail.to && 'value' in mail.to && mail.to.value[0]?.address === OPS.address) as ParsedMail;
    expect(ops.text).toContain('Hi Ops Team,');
    expect(ops.text).toContain(`MRR ended the period at ${formatMoney({ currency: 'USD', amount: mrr?.mrr ?? -1n }, 'en')}`);
    expect(ops.text).toContain(`${new Intl.NumberFormat('en').format(calls)} calls charged`);
    expect(ops.text).toContain(`1. ${top.customers[0]?.customerId} (${top.customers[0]?.tier})`);
    expect(ops.text).toContain('Open the dashboard https://admin.tally.example/analytics');
    expect(ops.headerLines.some((line) => line.key === 'list-unsubscribe')).toBe(false);

    // The PDF: one attachment that opens, titled, with the week and its numbers in it.
    expect(ops.attachments.map((file) => [file.filename, file.contentType])).toEqual([['weekly-ops-2026-10-19.pdf', 'application/pdf']]);
    const pdfPath = join(work, 'weekly-ops.pdf');
    await writeFile(pdfPath, ops.attachments[0]?.content as Buffer);
    const info = (await run('pdfinfo', [pdfPath])).stdout;
    expect(info).toMatch(/^Title:\s+Weekly analytics report$/m);
    expect(info).toMatch(/^Pages:\s+[1-9]\d*$/m);
    const text = (await run('pdftotext', ['-layout', pdfPath, '-'])).stdout;
    expect(text).toContain('Weekly analytics report');
    expect(text).toContain('2026-W43 (UTC)');
    expect(text).toContain('Range 2026-10-19 – 2026-10-25 (UTC)');
    expect(text).toContain('Summary: MRR');
    expect(text).toContain(top.customers[0]?.customerId as string);

    // The daily report in German, as CSV files with a byte order mark.
    const daily = mails.find((mail) => mail.subject === 'Tally-Tagesbericht: 25. Oktober 2026') as ParsedMail;
    expect(daily.text).toContain('Hallo Finanzen,');
    expect(daily.attachments.length).toBeGreaterThan(4);
    expect(daily.attachments[0]?.filename).toBe('daily-finance-2026-10-25-01-summary-mrr.csv');
    expect(attachmentText(daily.attachments[0] as ParsedMail['attachments'][number])).toMatch(
      /^\uFEFFMRR at start,MRR at end,Net change,Growth\r\n/,
    );

    // The log: the refused try and three sent mails, none about a customer.
    const lines = (await a.notifier.deliveries({ limit: 50, template: 'analytics_report' })).items;
    expect(lines.map((line) => line.status).sort()).toEqual(['failed', 'sent', 'sent', 'sent']);
    expect(lines.every((line) => line.customerId === null && !line.test)).toBe(true);
    expect(lines.find((line) => line.status === 'failed')?.attempt).toBe(1);

    // Later passes, a third instance asked for the same slot and a cron moved to Wednesday: nothing new goes out.
    clock.advance(60_000);
    expect((await Promise.all([a.scheduler.runDue(), b.scheduler.runDue()])).flat().some((result) => result.ran)).toBe(false);
    const c = instance(tally, clock, 3);
    expect(await c.notifier.sendReport('weekly-ops', new Date('2026-10-26T06:00:00Z'))).toBe(0);
    expect(await c.notifier.sendReport('weekly-ops', new Date('2026-10-28T06:00:00Z'))).toBe(0);
    await drain();
    await a.notifier.sendTest('welcome', { address: 'sentinel@tally.example', name: null });
    const all = await sink.waitFor(4);
    expect(all).toHaveLength(4);
    expect(all.at(-1)?.subject).toBe('Welcome to Tally');
  });
});
