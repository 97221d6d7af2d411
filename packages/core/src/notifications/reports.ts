/**
 * Scheduled analytics reports to admins (docs/notifications.md, "Scheduled reports"). Each schedule
 * becomes a scheduler job; a run reads the metrics of the last complete period before its slot once,
 * and the notifier enqueues one `email.send` per recipient with those numbers in the payload, so every
 * recipient, retry and attachment shows the same snapshot. The attachment is rendered from that
 * snapshot when the mail is sent.
 */
import { reportTableCsv } from '../analytics/csv.js';
import { metricReport } from '../analytics/metric-report.js';
import { type Granularity, periodStart } from '../analytics/metrics.js';
import type { Report, ReportColumnKind, ReportRow, ReportTable } from '../analytics/report.js';
import { TallyError } from '../errors/index.js';
import type { Tally } from '../ledger/tally.js';
import { checkAddress, checkLocale, httpUrl, invalid } from './checks.js';
import { type AnalyticsReportEmailData, type EmailAddress, type EmailAttachment, REPORT_CADENCES, type ReportCadence } from './email.js';

export const REPORT_ATTACHMENTS = ['pdf', 'csv', 'none'] as const;
/** `pdf`: the whole report in one PDF; `csv`: one CSV file per table; `none`: the mail alone. */
export type ReportAttachment = (typeof REPORT_ATTACHMENTS)[number];

/** One scheduled report: what goes to whom, how often. */
export interface ScheduledReport {
  /** Names the schedule in dedupe keys, file names and the scheduler's job (`report:<id>`): 1–64 of A–Z a–z 0–9 `_` `-`, starting with a letter or digit. */
  id: string;
  cadence: ReportCadence;
  /** 1–50 admin addresses, each once (compared case-insensitively). */
  to: EmailAddress[];
  /** Default `none`. `pdf` needs the notifier's `renderPdf`. */
  attach?: ReportAttachment;
  /** A BCP 47 tag; default the notifier's `locale`. */
  locale?: string;
  /** When the job runs, a cron expression in UTC; default `DEFAULT_REPORT_CRON[cadence]`. */
  cron?: string;
  /** The admin dashboard the mail links to; default none. */
  dashboardUrl?: string | null;
}

/** A schedule as `createNotifier` keeps it, checked and with its defaults. */
export interface CheckedScheduledReport {
  id: string;
  cadence: ReportCadence;
  to: EmailAddress[];
  attach: ReportAttachment;
  /** Null: the notifier's locale. */
  locale: string | null;
  cron: string;
  dashboardUrl: string | null;
}

/** Daily at 06:00 UTC, Mondays at 06:00 and the 1st of the month at 06:00. */
export const DEFAULT_REPORT_CRON: Readonly<Record<ReportCadence, string>> = Object.freeze({
  daily: '0 6 * * *',
  weekly: '0 6 * * 1',
  monthly: '0 6 1 * *',
});

/** A job for `createScheduler` (`@tally/adapters/scheduler`), which claims each slot once across instances. */
export interface ScheduledReportJob {
  name: string;
  cron: string;
  run(slot: Date): Promise<void>;
}

/** Renders a report as PDF bytes: `renderReportPdf` from `@tally/adapters/pdf` (core cannot load pdfkit). */
export type ReportPdfRenderer = (report: Report) => Promise<Uint8Array>;

/** The customers with the most credits a report mail lists. */
export const REPORT_TOP_CUSTOMERS = 5;
const MAX_REPORTS = 100;
const MAX_RECIPIENTS = 50;
const REPORT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// Croner reads the expression when the scheduler is created; here only what no expression can hold.
const CRON = /^[\x20-\x7e]{1,100}$/;
const DAY_MS = 86_400_000;

const GRANULARITY: Readonly<Record<ReportCadence, Granularity>> = { daily: 'day', weekly: 'week', monthly: 'month' };
const TITLES: Readonly<Record<ReportCadence, string>> = {
  daily: 'Daily analytics report',
  weekly: 'Weekly analytics report',
  monthly: 'Monthly analytics report',
};

const oneOf = <T extends string>(list: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (list as readonly string[]).includes(value);

/** Checks the `reports` option; `renderPdf` says whether a PDF can be rendered. `VALIDATION` names the first bad field. */
export function checkScheduledReports(reports: unknown, options: { renderPdf: boolean }): CheckedScheduledReport[] {
  if (reports === undefined) return [];
  if (!Array.isArray(reports) || reports.length > MAX_REPORTS)
    throw invalid('reports', `must be an array of at most ${MAX_REPORTS} schedules`);
  const ids = new Set<string>();
  return reports.map((report: unknown, index) => {
    const field = `reports[${index}]`;
    if (typeof report !== 'object' || report === null) throw invalid(field, 'must be a schedule object');
    const r = report as Record<string, unknown>;
    if (typeof r.id !== 'string' || !REPORT_ID.test(r.id)) {
      throw invalid(`${field}.id`, 'must be 1-64 letters, digits, _ or -, starting with a letter or digit');
    }
    if (ids.has(r.id)) throw invalid(`${field}.id`, `"${r.id}" is used by another schedule`);
    ids.add(r.id);
    if (!oneOf(REPORT_CADENCES, r.cadence)) throw invalid(`${field}.cadence`, `must be one of ${REPORT_CADENCES.join(', ')}`);
    if (!Array.isArray(r.to) || r.to.length === 0 || r.to.length > MAX_RECIPIENTS) {
      throw invalid(`${field}.to`, `must list 1 to ${MAX_RECIPIENTS} addresses`);
    }
    const seen = new Set<string>();
    const to = r.to.map((address: unknown, at) => {
      const checked = checkAddress(address, `${field}.to[${at}]`);
      // The dedupe key names the address in lower case: the same mailbox listed twice would get one mail anyway.
      const folded = checked.address.toLowerCase();
      if (seen.has(folded)) throw invalid(`${field}.to[${at}].address`, `lists ${checked.address} a second time`);
      seen.add(folded);
      return checked;
    });
    const attach = r.attach ?? 'none';
    if (!oneOf(REPORT_ATTACHMENTS, attach)) throw invalid(`${field}.attach`, `must be one of ${REPORT_ATTACHMENTS.join(', ')}`);
    if (attach === 'pdf' && !options.renderPdf) {
      throw invalid(`${field}.attach`, 'is pdf, which needs the renderPdf option (renderReportPdf from @tally/adapters/pdf)');
    }
    const cron = r.cron ?? DEFAULT_REPORT_CRON[r.cadence];
    if (typeof cron !== 'string' || !CRON.test(cron)) throw invalid(`${field}.cron`, 'must be a cron expression (UTC)');
    return {
      id: r.id,
      cadence: r.cadence,
      to,
      attach,
      locale: r.locale === undefined ? null : checkLocale(r.locale, `${field}.locale`),
      cron,
      dashboardUrl: r.dashboardUrl === undefined || r.dashboardUrl === null ? null : httpUrl(r.dashboardUrl, `${field}.dashboardUrl`),
    };
  });
}

/**
 * The last complete period before `slot`, `[from, to)`: yesterday for `daily`, the last ISO week
 * (Monday to Monday) for `weekly`, the last calendar month for `monthly`. A slot exactly on a boundary
 * reports the period that just ended.
 */
export function reportPeriod(cadence: ReportCadence, slot: Date): { from: Date; to: Date } {
  if (!(slot instanceof Date) || !Number.isFinite(slot.getTime())) throw invalid('slot', 'must be a valid Date');
  const granularity = GRANULARITY[cadence];
  const to = periodStart(slot, granularity);
  return { from: periodStart(new Date(to.getTime() - 1), granularity), to };
}

/** `2026-11-25`, `2026-W47` (ISO week) or `2026-10`: the period as people name it. */
export function reportPeriodLabel(cadence: ReportCadence, from: Date): string {
  const day = from.toISOString().slice(0, 10);
  if (cadence === 'daily') return day;
  if (cadence === 'monthly') return day.slice(0, 7);
  // The ISO week belongs to the year of its Thursday, and week 1 holds the year's first Thursday.
  const thursday = new Date(from.getTime() + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

type Spec = ReadonlyArray<readonly [key: string, label: string, kind: ReportColumnKind]>;

function summaryTable(title: string, spec: Spec, row: ReportRow): ReportTable {
  return { title: `Summary: ${title}`, columns: spec.map(([key, label, kind]) => ({ key, label, kind })), rows: [row] };
}

/** The headline numbers as one-row tables: the top of every report's PDF and CSV. */
function summaryTables(data: AnalyticsReportSnapshot['data']): ReportTable[] {
  const { mrr } = data;
  return [
    summaryTable(
      'MRR',
      [
        ['atStart', 'MRR at start', 'money'],
        ['atEnd', 'MRR at end', 'money'],
        ['net', 'Net change', 'money'],
        ['growthBps', 'Growth', 'percent_bps'],
      ],
      { atStart: mrr.atStart, atEnd: mrr.atEnd, net: mrr.net, growthBps: mrr.growthBps },
    ),
    summaryTable(
      'MRR movements',
      [
        ['new', 'New', 'money'],
        ['expansion', 'Expansion', 'money'],
        ['reactivation', 'Reactivation', 'money'],
        ['contraction', 'Contraction', 'money'],
        ['churn', 'Churn', 'money'],
      ],
      { new: mrr.new, expansion: mrr.expansion, reactivation: mrr.reactivation, contraction: mrr.contraction, churn: mrr.churn },
    ),
    summaryTable(
      'customers',
      [
        ['signUps', 'Sign-ups', 'integer'],
        ['active', 'Active', 'integer'],
        ['total', 'Total', 'integer'],
      ],
      { ...data.customers },
    ),
    summaryTable(
      'usage and margin',
      [
        ['calls', 'Calls', 'integer'],
        ['tokens', 'Tokens', 'integer'],
        ['credits', 'Credits charged', 'credits'],
        ['revenue', 'Revenue (USD)', 'usd_nano'],
        ['cost', 'Provider cost (USD)', 'usd_nano'],
        ['margin', 'Margin (USD)', 'usd_nano'],
        ['marginBps', 'Margin', 'percent_bps'],
      ],
      {
        calls: data.calls,
        tokens: data.tokens,
        credits: data.creditsChargedMicros,
        revenue: data.revenueNanoUsd,
        cost: data.costNanoUsd,
        margin: data.marginNanoUsd,
        marginBps: data.marginBps,
      },
    ),
  ];
}

/**
 * The report a test send attaches: the sample mail's own numbers as the summary and top customers,
 * so an admin can check the PDF renderer and the transport without waiting for a scheduled run.
 */
export function sampleAnalyticsReport(data: AnalyticsReportEmailData, generatedAt: Date): Report {
  return {
    title: TITLES[data.cadence],
    subtitle: `${reportPeriodLabel(data.cadence, data.from)} (UTC), sample data`,
    generatedAt,
    range: { from: data.from, to: data.to },
    currency: data.currency,
    tables: [
      ...summaryTables(data),
      {
        title: 'Top customers by credits charged',
        columns: [
          { key: 'customerId', label: 'Customer', kind: 'text' },
          { key: 'tier', label: 'Tier', kind: 'text' },
          { key: 'creditsMicros', label: 'Credits charged', kind: 'credits' },
          { key: 'calls', label: 'Calls', kind: 'integer' },
        ],
        rows: data.topCustomers.map((customer) => ({ ...customer })),
      },
    ],
    charts: [],
  };
}

/** The one bucket of a metric asked for over a period at the period's own granularity. */
function only<T>(points: readonly T[], metric: string): T {
  const [point] = points;
  if (points.length !== 1 || point === undefined) throw new Error(`${metric} gave ${points.length} buckets for one whole period`);
  return point;
}

/** What one run of a schedule reads: the mail's numbers (without the greeting's name) and the report the attachment shows. */
export interface AnalyticsReportSnapshot {
  data: Omit<AnalyticsReportEmailData, 'recipientName'>;
  report: Report;
}

/**
 * Reads the period's metrics through `tally.analytics.metric`: the headline numbers with the period as
 * one bucket (so `active` counts distinct customers over the whole period), the detail tables and
 * charts by day. The report holds the summary, then every metric's own tables and charts.
 */
export async function readAnalyticsReport(
  tally: Tally,
  schedule: CheckedScheduledReport,
  period: { from: Date; to: Date },
  generatedAt: Date,
): Promise<AnalyticsReportSnapshot> {
  const granularity = GRANULARITY[schedule.cadence];
  const range = { from: period.from, to: period.to };
  const byDay = granularity === 'day';
  const [customers, mrr, usage, margin, top, customersByDay, mrrByDay] = await Promise.all([
    tally.analytics.metric({ metric: 'customers', ...range, granularity }),
    tally.analytics.metric({ metric: 'mrr', ...range, granularity }),
    tally.analytics.metric({ metric: 'usage', ...range, granularity: 'day' }),
    tally.analytics.metric({ metric: 'margin', ...range }),
    tally.analytics.metric({ metric: 'top-customers', ...range, limit: REPORT_TOP_CUSTOMERS }),
    byDay ? null : tally.analytics.metric({ metric: 'customers', ...range, granularity: 'day' }),
    byDay ? null : tally.analytics.metric({ metric: 'mrr', ...range, granularity: 'day' }),
  ]);
  const { currency } = tally.analytics.catalog();
  const c = only(customers.points, 'customers');
  const m = only(mrr.points, 'mrr');
  const calls = usage.series.reduce((sum, point) => sum + point.calls, 0);
  const tokens = usage.series.reduce((sum, point) => sum + point.tokens, 0n);
  const total = margin.total;
  const data: AnalyticsReportSnapshot['data'] = {
    reportId: schedule.id,
    cadence: schedule.cadence,
    from: new Date(period.from.getTime()),
    to: new Date(period.to.getTime()),
    currency,
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
    calls,
    tokens,
    creditsChargedMicros: total.creditsMicros,
    revenueNanoUsd: total.revenueNanoUsd,
    costNanoUsd: total.costNanoUsd,
    marginNanoUsd: total.marginNanoUsd,
    marginBps: total.marginBps,
    topCustomers: top.customers.map((customer) => ({
      customerId: customer.customerId,
      tier: customer.tier,
      creditsMicros: customer.creditsMicros,
      calls: customer.calls,
    })),
    dashboardUrl: schedule.dashboardUrl,
    attachment: schedule.attach === 'none' ? null : schedule.attach,
  };
  const details = [customersByDay ?? customers, mrrByDay ?? mrr, usage, margin, top].map((result) =>
    metricReport(result, { currency, generatedAt }),
  );
  const report: Report = {
    title: TITLES[schedule.cadence],
    subtitle: `${reportPeriodLabel(schedule.cadence, period.from)} (UTC)`,
    generatedAt: new Date(generatedAt.getTime()),
    range,
    currency,
    // One report for the PDF: the summary, then each metric's tables and charts, named after their metric.
    tables: [
      ...summaryTables(data),
      ...details.flatMap((part) => part.tables.map((table) => ({ ...table, title: `${part.title}: ${table.title}` }))),
    ],
    charts: details.flatMap((part) => part.charts.map((chart) => ({ ...chart, title: `${part.title}: ${chart.title}` }))),
  };
  return { data, report };
}

/** A table title as a file name part: lower-case ASCII words joined by `-`. */
function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'table'
  );
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The files of a report mail: `<base>.pdf`, or `<base>-01-<table>.csv` … one per table (UTF-8 with a
 * byte order mark, so spreadsheets read it as UTF-8). A PDF needs `renderPdf`; a renderer that gives
 * back no bytes is an error, so the send fails and is retried rather than going out without its file.
 */
export async function reportAttachments(
  report: Report,
  attach: Exclude<ReportAttachment, 'none'>,
  base: string,
  renderPdf: ReportPdfRenderer | null,
): Promise<EmailAttachment[]> {
  if (attach === 'pdf') {
    if (!renderPdf) throw invalid('renderPdf', 'is needed for a report with attach: pdf');
    const content = await renderPdf(report);
    if (!(content instanceof Uint8Array) || content.byteLength === 0) {
      throw new TallyError('VALIDATION', 'renderPdf must resolve to the PDF bytes (a non-empty Uint8Array)', {
        details: { field: 'renderPdf' },
      });
    }
    return [{ filename: `${base}.pdf`, contentType: 'application/pdf', content }];
  }
  // Numbered at least 01, 02, … so the files sort in report order.
  const width = Math.max(2, String(report.tables.length).length);
  return Promise.all(
    report.tables.map(async (table, index) => ({
      filename: `${base}-${String(index + 1).padStart(width, '0')}-${slug(table.title)}.csv`,
      contentType: 'text/csv; charset=utf-8',
      content: await readAll(reportTableCsv(table, { currency: report.currency, bom: true })),
    })),
  );
}
