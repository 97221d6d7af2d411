/**
 * Every metric as a `Report`: the tables (what CSV exports, one at a time) and charts (what the PDF
 * draws) of one result, holding its exact values. Labels are English; the numbers are never
 * rounded here.
 */
import type { MarginLine, MetricName, MetricResult } from './metrics.js';
import type { Report, ReportChart, ReportColumn, ReportColumnKind, ReportRow, ReportTable } from './report.js';

export interface MetricReportOptions {
  /** ISO 4217 code of the catalog: MRR and prices are in its minor units. */
  currency: string;
  generatedAt: Date;
}

const TITLES: Record<MetricName, string> = {
  customers: 'Customers',
  mrr: 'Monthly recurring revenue',
  churn: 'Churn',
  retention: 'Retention cohorts',
  funnel: 'Tier funnel',
  usage: 'API usage',
  margin: 'Cost and margin',
  utilization: 'Credit utilization',
  'top-customers': 'Top customers',
};

export const METRIC_TITLES: Readonly<Record<MetricName, string>> = TITLES;

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

type Spec = ReadonlyArray<readonly [key: string, label: string, kind: ReportColumnKind]>;

function table(title: string, spec: Spec, rows: ReportRow[]): ReportTable {
  const columns: ReportColumn[] = spec.map(([key, label, kind]) => ({ key, label, kind }));
  return { title, columns, rows };
}

const dayLabel = (date: Date) => date.toISOString().slice(0, 10);

const BUCKET: Spec = [
  ['start', 'From', 'date'],
  ['end', 'To', 'date'],
];

const MARGIN: Spec = [
  ['calls', 'Calls', 'integer'],
  ['creditsMicros', 'Credits charged', 'credits'],
  ['revenueNanoUsd', 'Revenue (USD)', 'usd_nano'],
  ['costNanoUsd', 'Provider cost (USD)', 'usd_nano'],
  ['marginNanoUsd', 'Margin (USD)', 'usd_nano'],
  ['marginBps', 'Margin', 'percent_bps'],
];

const marginRow = (line: MarginLine): ReportRow => ({
  calls: line.calls,
  creditsMicros: line.creditsMicros,
  revenueNanoUsd: line.revenueNanoUsd,
  costNanoUsd: line.costNanoUsd,
  marginNanoUsd: line.marginNanoUsd,
  marginBps: line.marginBps,
});

function chart(
  title: string,
  kind: ReportChart['kind'],
  unit: ReportChart['unit'],
  labels: string[],
  series: ReportChart['series'],
): ReportChart[] {
  // A chart needs at least one point; an empty result is shown by its (empty) table alone.
  return labels.length === 0 ? [] : [{ title, kind, unit, labels, series }];
}

function parts(result: MetricResult): { tables: ReportTable[]; charts: ReportChart[] } {
  switch (result.metric) {
    case 'customers': {
      const labels = result.points.map((p) => dayLabel(p.start));
      return {
        tables: [
          table(
            'Customers per period',
            [...BUCKET, ['signUps', 'Sign-ups', 'integer'], ['active', 'Active', 'integer'], ['total', 'Total', 'integer']],
            result.points.map((p) => ({ start: p.start, end: p.end, signUps: p.signUps, active: p.active, total: p.total })),
          ),
        ],
        charts: chart('Customers', 'line', 'integer', labels, [
          { name: 'Total', values: result.points.map((p) => BigInt(p.total)) },
          { name: 'Active', values: result.points.map((p) => BigInt(p.active)) },
          { name: 'Sign-ups', values: result.points.map((p) => BigInt(p.signUps)) },
        ]),
      };
    }
    case 'mrr': {
      const labels = result.points.map((p) => dayLabel(p.start));
      return {
        tables: [
          table(
            'MRR per period',
            [
              ...BUCKET,
              ['mrrAtStart', 'MRR at start', 'money'],
              ['mrr', 'MRR', 'money'],
              ['arr', 'ARR', 'money'],
              ['new', 'New', 'money'],
              ['expansion', 'Expansion', 'money'],
              ['reactivation', 'Reactivation', 'money'],
              ['contraction', 'Contraction', 'money'],
              ['churn', 'Churn', 'money'],
              ['net', 'Net change', 'money'],
              ['growthBps', 'Growth', 'percent_bps'],
            ],
            result.points.map((p) => ({
              start: p.start,
              end: p.end,
              mrrAtStart: p.mrrAtStart,
              mrr: p.mrr,
              arr: p.arr,
              new: p.new,
              expansion: p.expansion,
              reactivation: p.reactivation,
              contraction: p.contraction,
              churn: p.churn,
              net: p.net,
              growthBps: p.growthBps,
            })),
          ),
        ],
        charts: [
          ...chart('MRR', 'line', 'money', labels, [{ name: 'MRR', values: result.points.map((p) => p.mrr) }]),
          ...chart('MRR movements', 'bar', 'money', labels, [
            { name: 'New', values: result.points.map((p) => p.new) },
            { name: 'Expansion', values: result.points.map((p) => p.expansion) },
            { name: 'Reactivation', values: result.points.map((p) => p.reactivation) },
            { name: 'Contraction', values: result.points.map((p) => -p.contraction) },
            { name: 'Churn', values: result.points.map((p) => -p.churn) },
          ]),
        ],
      };
    }
    case 'churn':
      return {
        tables: [
          table(
            'Churn per period',
            [
              ...BUCKET,
              ['payingAtStart', 'Paying at start', 'integer'],
              ['churnedCustomers', 'Churned', 'integer'],
              ['logoChurnBps', 'Logo churn', 'percent_bps'],
              ['mrrAtStart', 'MRR at start', 'money'],
              ['lostMrr', 'Lost MRR', 'money'],
              ['revenueChurnBps', 'Revenue churn', 'percent_bps'],
            ],
            result.points.map((p) => ({
              start: p.start,
              end: p.end,
              payingAtStart: p.payingAtStart,
              churnedCustomers: p.churnedCustomers,
              logoChurnBps: p.logoChurnBps,
              mrrAtStart: p.mrrAtStart,
              lostMrr: p.lostMrr,
              revenueChurnBps: p.revenueChurnBps,
            })),
          ),
        ],
        charts: chart(
          'Churned customers',
          'bar',
          'integer',
          result.points.map((p) => dayLabel(p.start)),
          [{ name: 'Churned', values: result.points.map((p) => BigInt(p.churnedCustomers)) }],
        ),
      };
    case 'retention': {
      const periods = result.cohorts.reduce((most, c) => Math.max(most, c.periods.length), 0);
      const spec: Array<readonly [string, string, ReportColumnKind]> = [...BUCKET, ['customers', 'Customers', 'integer']];
      for (let k = 0; k < periods; k++) spec.push([`p${k}`, `Period ${k}`, 'percent_bps'], [`n${k}`, `Retained ${k}`, 'integer']);
      return {
        tables: [
          table(
            'Retention by cohort',
            spec,
            result.cohorts.map((c) => {
              const row: Record<string, Date | number | null> = { start: c.start, end: c.end, customers: c.customers };
              for (let k = 0; k < periods; k++) {
                row[`p${k}`] = c.periods[k]?.retainedBps ?? null;
                row[`n${k}`] = c.periods[k]?.retained ?? null;
              }
              return row;
            }),
          ),
        ],
        charts: [],
      };
    }
    case 'funnel':
      return {
        tables: [
          table(
            `Tier funnel of ${result.created} customers created in the range`,
            [
              ['tier', 'Tier', 'text'],
              ['customers', 'Reached', 'integer'],
              ['conversionBps', 'Conversion', 'percent_bps'],
            ],
            result.steps.map((s) => ({ tier: s.tier, customers: s.customers, conversionBps: s.conversionBps })),
          ),
        ],
        charts: chart(
          'Customers reaching each tier',
          'bar',
          'integer',
          result.steps.map((s) => s.tier),
          [{ name: 'Customers', values: result.steps.map((s) => BigInt(s.customers)) }],
        ),
      };
    case 'usage': {
      const hours: Spec = [
        ['day', 'Day', 'text'],
        ...Array.from({ length: 24 }, (_, h) => [`h${h}`, `${String(h).padStart(2, '0')}:00`, 'integer'] as const),
      ];
      const split = result.split;
      return {
        tables: [
          table(
            'Calls by model',
            [
              ['model', 'Model', 'text'],
              ['calls', 'Calls', 'integer'],
              ['tokens', 'Tokens', 'integer'],
              ['providerCostNanoUsd', 'Provider cost (USD)', 'usd_nano'],
              ['creditsMicros', 'Credits charged', 'credits'],
            ],
            result.byModel.map((m) => ({
              model: m.model,
              calls: m.calls,
              tokens: m.tokens,
              providerCostNanoUsd: m.providerCostNanoUsd,
              creditsMicros: m.creditsMicros,
            })),
          ),
          table(
            'Calls per period',
            [...BUCKET, ['calls', 'Calls', 'integer'], ['tokens', 'Tokens', 'integer']],
            result.series.map((p) => ({ start: p.start, end: p.end, calls: p.calls, tokens: p.tokens })),
          ),
          table(
            'Free and paid, BYOK and managed',
            [
              ['kind', 'Calls that are', 'text'],
              ['calls', 'Calls', 'integer'],
              ['tokens', 'Tokens', 'integer'],
            ],
            (['free', 'paid', 'byok', 'managed'] as const).map((kind) => ({ kind, calls: split[kind].calls, tokens: split[kind].tokens })),
          ),
          table(
            'Calls by hour of the week (UTC)',
            hours,
            result.heatmap.map((row, d) =>
              Object.fromEntries([['day', WEEKDAYS[d] as string], ...row.map((cell, h) => [`h${h}`, cell.calls])]),
            ),
          ),
        ],
        charts: [
          ...chart(
            'Calls per period',
            'bar',
            'integer',
            result.series.map((p) => dayLabel(p.start)),
            [{ name: 'Calls', values: result.series.map((p) => BigInt(p.calls)) }],
          ),
          ...chart(
            'Credits charged by model',
            'bar',
            'credits',
            result.byModel.map((m) => m.model),
            [{ name: 'Credits', values: result.byModel.map((m) => m.creditsMicros) }],
          ),
        ],
      };
    }
    case 'margin':
      return {
        tables: [
          table('Total', MARGIN, [marginRow(result.total)]),
          table(
            'By model',
            [['model', 'Model', 'text'], ...MARGIN],
            result.byModel.map((l) => ({ model: l.model, ...marginRow(l) })),
          ),
          table(
            'By tier',
            [['tier', 'Tier', 'text'], ...MARGIN],
            result.byTier.map((l) => ({ tier: l.tier, ...marginRow(l) })),
          ),
          table(
            'By customer (the 100 with the most revenue)',
            [['customerId', 'Customer', 'text'], ...MARGIN],
            result.byCustomer.map((l) => ({ customerId: l.customerId, ...marginRow(l) })),
          ),
        ],
        charts: chart(
          'Credits charged by tier',
          'bar',
          'credits',
          result.byTier.map((l) => l.tier),
          [{ name: 'Credits', values: result.byTier.map((l) => l.creditsMicros) }],
        ),
      };
    case 'utilization':
      return {
        tables: [
          table(
            'Allowance utilization by tier',
            [
              ['tier', 'Tier', 'text'],
              ['grantedMicros', 'Granted', 'credits'],
              ['consumedMicros', 'Used', 'credits'],
              ['expiredMicros', 'Expired', 'credits'],
              ['utilizationBps', 'Utilization', 'percent_bps'],
            ],
            result.tiers.map((t) => ({
              tier: t.tier,
              grantedMicros: t.grantedMicros,
              consumedMicros: t.consumedMicros,
              expiredMicros: t.expiredMicros,
              utilizationBps: t.utilizationBps,
            })),
          ),
        ],
        charts: chart(
          'Allowance granted and used',
          'bar',
          'credits',
          result.tiers.map((t) => t.tier),
          [
            { name: 'Granted', values: result.tiers.map((t) => t.grantedMicros) },
            { name: 'Used', values: result.tiers.map((t) => t.consumedMicros) },
          ],
        ),
      };
    case 'top-customers':
      return {
        tables: [
          table(
            'Top customers by credits charged',
            [
              ['customerId', 'Customer', 'text'],
              ['tier', 'Tier', 'text'],
              ['creditsMicros', 'Credits charged', 'credits'],
              ['calls', 'Calls', 'integer'],
              ['providerCostNanoUsd', 'Provider cost (USD)', 'usd_nano'],
            ],
            result.customers.map((c) => ({
              customerId: c.customerId,
              tier: c.tier,
              creditsMicros: c.creditsMicros,
              calls: c.calls,
              providerCostNanoUsd: c.providerCostNanoUsd,
            })),
          ),
        ],
        charts: chart(
          'Credits charged',
          'bar',
          'credits',
          result.customers.map((c) => c.customerId),
          [{ name: 'Credits', values: result.customers.map((c) => c.creditsMicros) }],
        ),
      };
  }
}

/** One metric's result as a report (checked by `checkReport` in the tests). */
export function metricReport(result: MetricResult, options: MetricReportOptions): Report {
  const { tables, charts } = parts(result);
  const granularity =
    result.metric === 'customers' || result.metric === 'mrr' || result.metric === 'churn' || result.metric === 'retention';
  return {
    title: TITLES[result.metric],
    subtitle: `${dayLabel(result.from)} to ${dayLabel(result.to)} (UTC)${granularity ? `, by ${result.granularity}` : ''}`,
    generatedAt: options.generatedAt,
    range: { from: result.from, to: result.to },
    currency: options.currency,
    tables,
    charts,
  };
}
