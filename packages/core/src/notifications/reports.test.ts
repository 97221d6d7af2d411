import { describe, expect, it } from 'vitest';
import { checkReport, type Report } from '../analytics/report.js';
import { sampleCatalog } from '../catalog/sample.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import { createTally, type Tally } from '../ledger/tally.js';
import type { TallyStore } from '../ledger/types.js';
import { createOutboxWorker } from '../outbox/worker.js';
import {
  applySampleData,
  createFakeClock,
  createMemoryEmailTransport,
  createSeededRandom,
  createTextEmailRenderer,
  drainOutbox,
  generateSampleData,
} from '../testing/index.js';
import { formatDecimal } from '../units/decimal.js';
import type { AnalyticsReportEmailData, EmailRenderer, OutgoingEmail } from './email.js';
import { SAMPLE_EMAIL_BRAND } from './email-samples.js';
import { createNotifier, EMAIL_SEND_TOPIC, type NotifierOptions } from './notifier.js';
import { decodeEmailPayload } from './payload.js';
import { DEFAULT_REPORT_CRON, reportPeriod, reportPeriodLabel, type ScheduledReport } from './reports.js';

const OPS = { address: 'ops@example.com', name: 'Ops Team' };
const CFO = { address: 'cfo@example.com', name: null };

/** Sample data once for the file: 30 customers over the 45 days before 2026-11-01. */
let shared: Promise<{ store: TallyStore; tally: Tally; clock: ReturnType<typeof createFakeClock> }> | null = null;

function sampleStore() {
  shared ??= (async () => {
    const clock = createFakeClock('2026-09-01T00:00:00Z');
    const store = createMemoryStore();
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    await applySampleData(tally, generateSampleData({ seed: 11, customers: 30, days: 45 }), (at) => clock.set(at));
    return { store, tally, clock };
  })();
  return shared;
}

/** A PDF renderer for core's tests: the report's title and its JSON (bigints as text), and a record of what it was given. */
function fakePdf() {
  const rendered: Report[] = [];
  const renderPdf = async (report: Report) => {
    checkReport(report);
    rendered.push(report);
    const json = JSON.stringify(report, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
    return new TextEncoder().encode(`%PDF-test ${report.title}\n${json}`);
  };
  return { rendered, renderPdf };
}

/** A fresh store with nothing in it, for the tests that need no numbers. */
function emptySetup(overrides: Partial<NotifierOptions> = {}) {
  const clock = createFakeClock('2026-11-02T06:00:00Z');
  const store = createMemoryStore();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  return { clock, store, tally, ...notifierOn(store, tally, clock, overrides) };
}

function notifierOn(store: TallyStore, tally: Tally, clock: ReturnType<typeof createFakeClock>, overrides: Partial<NotifierOptions> = {}) {
  const transport = createMemoryEmailTransport();
  const notifier = createNotifier({
    tally,
    render: createTextEmailRenderer(),
    transport,
    from: { address: 'reports@example.com', name: 'Tally Reports' },
    recipients: async (customerId) => ({ address: `${customerId}@example.com`, name: null }),
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: 'reports-test-secret-0123456789-abcdef', url: 'https://app.example.com/v1/unsubscribe' },
    clock,
    ...overrides,
  });
  const random = createSeededRandom(5);
  // Only mail messages: the sample data's own events (welcome, low balance, …) are not this file's business.
  const worker = () =>
    createOutboxWorker({
      store,
      clock,
      handlers: { [EMAIL_SEND_TOPIC]: notifier.handlers[EMAIL_SEND_TOPIC] as NonNullable<(typeof notifier.handlers)[string]> },
      backoff: { baseMs: 1_000, maxMs: 1_000 },
      random: random.next,
    });
  const workers = [worker(), worker()];
  return {
    transport,
    notifier,
    workers,
    drain: () => drainOutbox({ store, workers, topics: new Set([EMAIL_SEND_TOPIC]), clock }),
  };
}

async function shareSetup(reports: ScheduledReport[], overrides: Partial<NotifierOptions> = {}) {
  const { store, tally, clock } = await sampleStore();
  return { store, tally, clock, ...notifierOn(store, tally, clock, { reports, ...overrides }) };
}

/** What the mail must carry, read straight from the metrics (independently of the notifier). */
async function expectedData(
  tally: Tally,
  reportId: string,
  cadence: AnalyticsReportEmailData['cadence'],
  from: string,
  to: string,
): Promise<Omit<AnalyticsReportEmailData, 'recipientName' | 'dashboardUrl' | 'attachment'>> {
  const range = { from: new Date(from), to: new Date(to) };
  const granularity = cadence === 'daily' ? 'day' : cadence === 'weekly' ? 'week' : 'month';
  const customers = await tally.analytics.metric({ metric: 'customers', ...range, granularity });
  const mrr = await tally.analytics.metric({ metric: 'mrr', ...range, granularity });
  const usage = await tally.analytics.metric({ metric: 'usage', ...range, granularity: 'day' });
  const margin = await tally.analytics.metric({ metric: 'margin', ...range });
  const top = await tally.analytics.metric({ metric: 'top-customers', ...range, limit: 5 });
  expect(customers.points).toHaveLength(1);
  expect(mrr.points).toHaveLength(1);
  const [c] = customers.points;
  const [m] = mrr.points;
  if (!c || !m) throw new Error('no bucket');
  return {
    reportId,
    cadence,
    ...range,
    currency: 'USD',
    mrr: {
      atStart: m.mrrAtStart,
      atEnd: m.mrr,
      net: m.net,
      new: m.new,
      expansion: m.expansion,
      reactivation: m.reactivation,
      contraction: m.contraction,
      churn: m.churn,
      growthBps: m.growthBps,
    },
    customers: { signUps: c.signUps, active: c.active, total: c.total },
    calls: usage.series.reduce((sum, p) => sum + p.calls, 0),
    tokens: usage.series.reduce((sum, p) => sum + p.tokens, 0n),
    creditsChargedMicros: margin.total.creditsMicros,
    revenueNanoUsd: margin.total.revenueNanoUsd,
    costNanoUsd: margin.total.costNanoUsd,
    marginNanoUsd: margin.total.marginNanoUsd,
    marginBps: margin.total.marginBps,
    topCustomers: top.customers.map(({ customerId, tier, creditsMicros, calls }) => ({ customerId, tier, creditsMicros, calls })),
  };
}

async function mailMessages(store: TallyStore) {
  return (await store.listOutbox({ limit: 100_000 })).filter((m) => m.topic === EMAIL_SEND_TOPIC);
}

const byAddress = (mails: readonly OutgoingEmail[]) => mails.map((mail) => mail.to.address).sort();

describe('the report period', () => {
  it.for([
    ['daily', '2026-11-26T06:00:00Z', '2026-11-25', '2026-11-26'],
    ['daily', '2026-11-26T00:00:00Z', '2026-11-25', '2026-11-26'],
    ['daily', '2026-03-01T06:00:00Z', '2026-02-28', '2026-03-01'],
    // A weekly run on Monday 06:00 reports Monday to Monday of the week before.
    ['weekly', '2026-11-23T06:00:00Z', '2026-11-16', '2026-11-23'],
    ['weekly', '2026-11-23T00:00:00Z', '2026-11-16', '2026-11-23'],
    ['weekly', '2026-11-25T14:30:00Z', '2026-11-16', '2026-11-23'],
    ['weekly', '2026-11-22T23:59:59Z', '2026-11-09', '2026-11-16'],
    ['weekly', '2027-01-04T06:00:00Z', '2026-12-28', '2027-01-04'],
    ['monthly', '2026-11-01T06:00:00Z', '2026-10-01', '2026-11-01'],
    ['monthly', '2027-01-01T06:00:00Z', '2026-12-01', '2027-01-01'],
    ['monthly', '2028-03-01T06:00:00Z', '2028-02-01', '2028-03-01'],
    ['monthly', '2026-11-30T23:00:00Z', '2026-10-01', '2026-11-01'],
  ] as const)('%s at %s: [%s, %s)', ([cadence, slot, from, to]) => {
    expect(reportPeriod(cadence, new Date(slot))).toEqual({ from: new Date(`${from}T00:00:00Z`), to: new Date(`${to}T00:00:00Z`) });
  });

  it('names the period: a day, an ISO week (of its Thursday’s year) or a month', () => {
    expect(reportPeriodLabel('daily', new Date('2026-11-25T00:00:00Z'))).toBe('2026-11-25');
    expect(reportPeriodLabel('weekly', new Date('2026-11-16T00:00:00Z'))).toBe('2026-W47');
    expect(reportPeriodLabel('weekly', new Date('2026-12-28T00:00:00Z'))).toBe('2026-W53');
    expect(reportPeriodLabel('weekly', new Date('2027-01-04T00:00:00Z'))).toBe('2027-W01');
    expect(reportPeriodLabel('weekly', new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(reportPeriodLabel('monthly', new Date('2026-10-01T00:00:00Z'))).toBe('2026-10');
  });

  it('refuses a slot that is not a date', () => {
    expect(() => reportPeriod('daily', new Date('nope'))).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('scheduled reports on sample data', () => {
  it('a weekly run on Monday 06:00: one mail per admin with the week’s exact numbers and the PDF of its report', async () => {
    const pdf = fakePdf();
    const h = await shareSetup(
      [{ id: 'weekly-ops', cadence: 'weekly', to: [OPS, CFO], attach: 'pdf', dashboardUrl: 'https://admin.example.com/analytics' }],
      { renderPdf: pdf.renderPdf },
    );
    const [job] = h.notifier.reportJobs();
    expect(job).toMatchObject({ name: 'report:weekly-ops', cron: '0 6 * * 1' });
    await job?.run(new Date('2026-10-26T06:00:00Z'));
    await h.drain();

    const expected = await expectedData(h.tally, 'weekly-ops', 'weekly', '2026-10-19T00:00:00Z', '2026-10-26T00:00:00Z');
    // Sample data with activity in that week, so the comparison below compares numbers, not zeros.
    expect(expected.calls).toBeGreaterThan(0);
    expect(expected.mrr.atEnd).toBeGreaterThan(0n);
    expect(expected.topCustomers.length).toBeGreaterThan(0);

    const messages = (await mailMessages(h.store)).filter((m) => m.dedupeKey.startsWith('email:report:weekly-ops:'));
    expect(messages.map((m) => m.dedupeKey).sort()).toEqual([
      'email:report:weekly-ops:2026-10-19T00:00:00.000Z:cfo@example.com',
      'email:report:weekly-ops:2026-10-19T00:00:00.000Z:ops@example.com',
    ]);
    for (const message of messages) {
      const payload = decodeEmailPayload(message.payload);
      expect(payload.template).toBe('analytics_report');
      const recipientName = payload.admin?.to.address === OPS.address ? OPS.name : null;
      expect(payload.data).toEqual({
        ...expected,
        recipientName,
        dashboardUrl: 'https://admin.example.com/analytics',
        attachment: 'pdf',
      });
    }

    const mails = h.transport.sent.filter((mail) => mail.dedupeKey.startsWith('report:weekly-ops:'));
    expect(byAddress(mails)).toEqual(['cfo@example.com', 'ops@example.com']);
    const ops = mails.find((mail) => mail.to.address === OPS.address) as OutgoingEmail;
    expect(ops.to).toEqual(OPS);
    expect(ops.subject).toBe('Tally weekly report: 2026-10-19 to 2026-10-25');
    expect(ops.text).toContain('Hi Ops Team,');
    expect(ops.text).toContain(`${expected.calls} calls, ${expected.tokens} tokens`);
    expect(ops.text).toContain(`Revenue USD ${formatDecimal(expected.revenueNanoUsd, 9, { minFractionDigits: 2 })}`);
    expect(ops.text).toContain(`1. ${expected.topCustomers[0]?.customerId} (`);
    // An admin mail: no unsubscribe link in the body or the headers.
    expect(ops.headers).toEqual({});
    expect(ops.text).not.toMatch(/unsubscribe/i);
    expect(ops.text).toContain('your address is on Tally');

    // One PDF each, rendered at send time from the run's report.
    for (const mail of mails) {
      expect(mail.attachments?.map((a) => [a.filename, a.contentType])).toEqual([['weekly-ops-2026-10-19.pdf', 'application/pdf']]);
      expect(new TextDecoder().decode(mail.attachments?.[0]?.content).startsWith('%PDF-test Weekly analytics report\n')).toBe(true);
    }
    expect(pdf.rendered).toHaveLength(2);
    const report = pdf.rendered[0] as Report;
    expect(report).toMatchObject({
      title: 'Weekly analytics report',
      subtitle: '2026-W43 (UTC)',
      range: { from: new Date('2026-10-19T00:00:00Z'), to: new Date('2026-10-26T00:00:00Z') },
      currency: 'USD',
    });
    const table = (title: string) => report.tables.find((t) => t.title === title);
    expect(table('Summary: MRR')?.rows).toEqual([
      { atStart: expected.mrr.atStart, atEnd: expected.mrr.atEnd, net: expected.mrr.net, growthBps: expected.mrr.growthBps },
    ]);
    expect(table('Summary: customers')?.rows).toEqual([expected.customers]);
    expect(table('Top customers: Top customers by credits charged')?.rows.map((row) => [row.customerId, row.creditsMicros])).toEqual(
      expected.topCustomers.map((c) => [c.customerId, c.creditsMicros]),
    );
    // The detail tables are by day: seven rows of MRR for the week.
    expect(table('Monthly recurring revenue: MRR per period')?.rows).toHaveLength(7);
    expect(report.charts.map((chart) => chart.title)).toContain('Monthly recurring revenue: MRR');

    // The delivery log: one sent line per admin, about no customer, not a test.
    const lines = (await h.notifier.deliveries({ limit: 500, template: 'analytics_report' })).items.filter((line) =>
      line.dedupeKey.startsWith('report:weekly-ops:'),
    );
    expect(lines.map((line) => [line.to, line.status, line.attempt, line.customerId, line.test]).sort()).toEqual([
      ['cfo@example.com', 'sent', 1, null, false],
      ['ops@example.com', 'sent', 1, null, false],
    ]);
  });

  it('two instances running one slot, a retry, a redelivery and a moved cron in the same week: one mail per admin', async () => {
    const reports: ScheduledReport[] = [{ id: 'dedupe', cadence: 'weekly', to: [OPS, CFO] }];
    const a = await shareSetup(reports);
    const b = notifierOn(a.store, a.tally, a.clock, { reports });
    const slot = new Date('2026-10-12T06:00:00Z');
    const counts = await Promise.all([a.notifier.sendReport('dedupe', slot), b.notifier.sendReport('dedupe', slot)]);
    expect(counts[0] + counts[1]).toBe(2);
    // A retry of the slot, and a slot of the same week on a cron moved to Wednesday: nothing new.
    expect(await a.notifier.sendReport('dedupe', slot)).toBe(0);
    expect(await b.notifier.sendReport('dedupe', new Date('2026-10-14T06:00:00Z'))).toBe(0);
    // Both instances' workers, in one drain (two drains would each move the clock under the other's leases).
    await drainOutbox({ store: a.store, workers: [...a.workers, ...b.workers], topics: new Set([EMAIL_SEND_TOPIC]), clock: a.clock });
    // Every mail message delivered again (a worker that died after sending), on each instance.
    const messages = (await mailMessages(a.store)).filter((m) => m.dedupeKey.startsWith('email:report:dedupe:'));
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      await a.notifier.handlers[EMAIL_SEND_TOPIC]?.(message);
      await b.notifier.handlers[EMAIL_SEND_TOPIC]?.(message);
    }
    const sent = [...a.transport.sent, ...b.transport.sent].filter((mail) => mail.dedupeKey.startsWith('report:dedupe:'));
    expect(byAddress(sent)).toEqual(['cfo@example.com', 'ops@example.com']);
    // The next week is a new period: two new mails.
    expect(await a.notifier.sendReport('dedupe', new Date('2026-10-19T06:00:00Z'))).toBe(2);
    await a.drain();
  });

  it('a failed send is logged and retried like other mails; so is a PDF renderer that fails', async () => {
    let pdfFailures = 1;
    const pdf = fakePdf();
    // A store of its own: the transport's failures must hit this report's mail, not another test's.
    const h = emptySetup({
      reports: [{ id: 'retry', cadence: 'daily', to: [OPS], attach: 'pdf' }],
      renderPdf: async (report) => {
        if (pdfFailures-- > 0) throw new Error('pdf renderer crashed');
        return pdf.renderPdf(report);
      },
    });
    h.transport.failNext(1);
    expect(await h.notifier.sendReport('retry', new Date('2026-10-20T06:00:00Z'))).toBe(1);
    await h.drain();
    const lines = (await h.notifier.deliveries({ limit: 500, template: 'analytics_report' })).items
      .filter((line) => line.dedupeKey === 'report:retry:2026-10-19T00:00:00.000Z:ops@example.com')
      .reverse();
    expect(lines.map((line) => [line.status, line.attempt, line.error])).toEqual([
      ['failed', 1, 'pdf renderer crashed'],
      ['failed', 2, 'memory transport: told to fail this send'],
      ['sent', 3, null],
    ]);
    const sent = h.transport.sent.filter((mail) => mail.dedupeKey.startsWith('report:retry:'));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.attachments?.[0]?.filename).toBe('retry-2026-10-19.pdf');
  });

  it('monthly in German with CSV files: one per table of the report, UTF-8 with a byte order mark', async () => {
    const contexts: string[] = [];
    const text = createTextEmailRenderer();
    const render: EmailRenderer = async (template, data, context) => {
      contexts.push(`${template}:${context.locale}:${context.unsubscribeUrl}:${context.requiredReason}`);
      return text(template, data, context);
    };
    const pdf = fakePdf();
    const h = await shareSetup([{ id: 'monthly-csv', cadence: 'monthly', to: [CFO], attach: 'csv', locale: 'de' }], {
      render,
      renderPdf: pdf.renderPdf,
    });
    await h.notifier.sendReport('monthly-csv', new Date('2026-11-01T06:00:00Z'));
    await h.drain();
    expect(contexts).toEqual(['analytics_report:de:null:null']);
    expect(pdf.rendered).toHaveLength(0);
    const [mail] = h.transport.sent.filter((m) => m.dedupeKey.startsWith('report:monthly-csv:'));
    const expected = await expectedData(h.tally, 'monthly-csv', 'monthly', '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z');
    const files = mail?.attachments ?? [];
    expect(files.length).toBeGreaterThan(4);
    expect(files.every((file) => file.contentType === 'text/csv; charset=utf-8')).toBe(true);
    expect(files.slice(0, 4).map((file) => file.filename)).toEqual([
      'monthly-csv-2026-10-01-01-summary-mrr.csv',
      'monthly-csv-2026-10-01-02-summary-mrr-movements.csv',
      'monthly-csv-2026-10-01-03-summary-customers.csv',
      'monthly-csv-2026-10-01-04-summary-usage-and-margin.csv',
    ]);
    // ignoreBOM keeps the byte order mark in the text, so the test sees it.
    const decode = (bytes: Uint8Array | undefined) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const mrr = decode(files[0]?.content);
    const dollars = (cents: bigint) => formatDecimal(cents, 2, { minFractionDigits: 2 });
    const growth = expected.mrr.growthBps === null ? '' : formatDecimal(BigInt(expected.mrr.growthBps), 2);
    expect(mrr).toBe(
      `\uFEFFMRR at start,MRR at end,Net change,Growth\r\n${dollars(expected.mrr.atStart)},${dollars(expected.mrr.atEnd)},${dollars(expected.mrr.net)},${growth}\r\n`,
    );
    const usage = decode(files[3]?.content);
    expect(usage.split('\r\n')[1]).toBe(
      [
        expected.calls,
        expected.tokens,
        formatDecimal(expected.creditsChargedMicros, 6, { minFractionDigits: 2 }),
        formatDecimal(expected.revenueNanoUsd, 9, { minFractionDigits: 2 }),
        formatDecimal(expected.costNanoUsd, 9, { minFractionDigits: 2 }),
        formatDecimal(expected.marginNanoUsd, 9, { minFractionDigits: 2 }),
        expected.marginBps === null ? '' : formatDecimal(BigInt(expected.marginBps), 2),
      ].join(','),
    );
    // The German number format reached the renderer: the text renderer formats money with the locale ("12,00 $").
    expect(mail?.text).toMatch(/\d,\d\d\u00a0\$/);
  });
});

describe('report options and the admin template', () => {
  it('refuses a bad schedule with VALIDATION naming the field, when the notifier is created', () => {
    const cases: Array<[unknown, string, Partial<NotifierOptions>?]> = [
      ['weekly', 'reports'],
      [[{ id: '', cadence: 'weekly', to: [OPS] }], 'reports[0].id'],
      [[{ id: 'has space', cadence: 'weekly', to: [OPS] }], 'reports[0].id'],
      [[{ id: 'x'.repeat(65), cadence: 'weekly', to: [OPS] }], 'reports[0].id'],
      [
        [
          { id: 'a', cadence: 'weekly', to: [OPS] },
          { id: 'a', cadence: 'daily', to: [OPS] },
        ],
        'reports[1].id',
      ],
      [[{ id: 'a', cadence: 'hourly', to: [OPS] }], 'reports[0].cadence'],
      [[{ id: 'a', cadence: 'weekly', to: [] }], 'reports[0].to'],
      [[{ id: 'a', cadence: 'weekly', to: [{ address: 'not an address', name: null }] }], 'reports[0].to[0].address'],
      [[{ id: 'a', cadence: 'weekly', to: [OPS, { address: 'OPS@example.com', name: null }] }], 'reports[0].to[1].address'],
      [[{ id: 'a', cadence: 'weekly', to: [OPS], attach: 'zip' }], 'reports[0].attach'],
      // A PDF needs a renderer.
      [[{ id: 'a', cadence: 'weekly', to: [OPS], attach: 'pdf' }], 'reports[0].attach'],
      [[{ id: 'a', cadence: 'weekly', to: [OPS], locale: 'english' }], 'reports[0].locale'],
      [[{ id: 'a', cadence: 'weekly', to: [OPS], cron: '0 6 * * 1\n' }], 'reports[0].cron'],
      [[{ id: 'a', cadence: 'weekly', to: [OPS], dashboardUrl: 'javascript:alert(1)' }], 'reports[0].dashboardUrl'],
      [[], 'renderPdf', { renderPdf: 'pdfkit' as never }],
    ];
    for (const [reports, field, extra] of cases) {
      let caught: unknown;
      try {
        emptySetup({ reports: reports as ScheduledReport[], ...extra });
      } catch (error) {
        caught = error;
      }
      expect(TallyError.is(caught, 'VALIDATION'), field).toBe(true);
      expect((caught as TallyError).details.field).toBe(field);
    }
  });

  it('gives each cadence its default cron and keeps a custom one; an unknown report is NOT_FOUND', async () => {
    const h = emptySetup({
      reports: [
        { id: 'd', cadence: 'daily', to: [OPS] },
        { id: 'w', cadence: 'weekly', to: [OPS] },
        { id: 'm', cadence: 'monthly', to: [OPS] },
        { id: 'c', cadence: 'weekly', to: [OPS], cron: '30 7 * * 3' },
      ],
    });
    expect(h.notifier.reportJobs().map((job) => [job.name, job.cron])).toEqual([
      ['report:d', DEFAULT_REPORT_CRON.daily],
      ['report:w', DEFAULT_REPORT_CRON.weekly],
      ['report:m', DEFAULT_REPORT_CRON.monthly],
      ['report:c', '30 7 * * 3'],
    ]);
    expect(DEFAULT_REPORT_CRON).toEqual({ daily: '0 6 * * *', weekly: '0 6 * * 1', monthly: '0 6 1 * *' });
    await expect(h.notifier.sendReport('nope', new Date())).rejects.toSatisfy((error) => TallyError.is(error, 'NOT_FOUND'));
  });

  it('on an empty store a report still goes out, with zeros, no top customers and no ratios', async () => {
    const h = emptySetup({ reports: [{ id: 'empty', cadence: 'daily', to: [OPS] }] });
    await h.notifier.sendReport('empty', new Date('2026-11-02T06:00:00Z'));
    await h.drain();
    const [mail] = h.transport.sent;
    expect(mail?.subject).toBe('Tally daily report: 2026-11-01');
    expect(mail?.attachments).toBeUndefined();
    expect(mail?.text).toContain('No customer was charged credits.');
    expect(mail?.text).toContain('(n/a)');
  });

  it('lists the admin template without a category, previews and test-sends it, and refuses it in notify()', async () => {
    const h = emptySetup();
    const info = h.notifier.templates().find((template) => template.id === 'analytics_report');
    expect(info).toMatchObject({ category: null, required: false });
    expect(info?.description).toMatch(/admin addresses/);
    expect(info?.description).toMatch(/no unsubscribe link/);
    const preview = await h.notifier.preview('analytics_report');
    expect(preview.subject).toBe('Tally weekly report: 2026-11-16 to 2026-11-22');
    expect(preview.text).toContain('Hi Grace Hopper,');
    expect(preview.text).not.toMatch(/unsubscribe/i);
    const delivery = await h.notifier.sendTest('analytics_report', { address: 'admin@example.com', name: null });
    expect(delivery).toMatchObject({ template: 'analytics_report', status: 'sent', test: true, customerId: null });
    expect(h.transport.sent[0]?.headers).toEqual({});
    // Without a PDF renderer the test mail neither carries nor promises a file.
    expect(h.transport.sent[0]?.attachments).toBeUndefined();
    expect(h.transport.sent[0]?.text).toContain('Hi,');
    expect(h.transport.sent[0]?.text).not.toContain('attached');
    // With one, it carries the sample's report: its summary and top customers.
    const pdf = fakePdf();
    const withPdf = emptySetup({ renderPdf: pdf.renderPdf });
    await withPdf.notifier.sendTest('analytics_report', { address: 'admin@example.com', name: 'Ada' });
    const [mail] = withPdf.transport.sent;
    expect(mail?.text).toContain('Hi Ada,');
    expect(mail?.text).toContain('The full report is attached (PDF).');
    expect(mail?.attachments?.map((a) => a.filename)).toEqual(['weekly-ops-sample.pdf']);
    expect(pdf.rendered[0]?.subtitle).toBe('2026-W47 (UTC), sample data');
    expect(pdf.rendered[0]?.tables.map((t) => t.title)).toEqual([
      'Summary: MRR',
      'Summary: MRR movements',
      'Summary: customers',
      'Summary: usage and margin',
      'Top customers by credits charged',
    ]);
    await expect(
      h.notifier.notify('analytics_report' as 'welcome', { customerId: 'x', customerName: null } as never, 'k'),
    ).rejects.toSatisfy((error) => TallyError.is(error, 'VALIDATION'));
  });

  it('the memory transport keeps attachments as copies', async () => {
    const transport = createMemoryEmailTransport();
    const content = new Uint8Array([1, 2, 3]);
    await transport.send({
      from: OPS,
      to: CFO,
      subject: 's',
      html: '<p>h</p>',
      text: 't',
      headers: {},
      dedupeKey: 'k',
      attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content }],
    });
    content[0] = 9;
    expect(transport.sent[0]?.attachments).toEqual([
      { filename: 'a.pdf', contentType: 'application/pdf', content: new Uint8Array([1, 2, 3]) },
    ]);
  });
});
