/**
 * `GET /v1/admin/analytics/{metric}`: one route per metric of docs/analytics.md, each with its own
 * response schema. `format=csv` streams one of the metric report's tables (RFC 4180, formula-safe);
 * `format=pdf` renders the whole report with the handler's `renderPdf` (e.g. `renderReportPdf` from
 * `@tally/adapters/pdf`).
 */
import { reportTableCsv } from '../analytics/csv.js';
import { METRIC_TITLES, metricReport } from '../analytics/metric-report.js';
import type { MetricName, MetricQuery } from '../analytics/metrics.js';
import { metricToWire } from '../analytics/wire.js';
import { TallyError } from '../errors/index.js';
import { type AnyRoute, defineRoute } from './route.js';
import * as s from './schemas.js';

const RESPONSES: Record<MetricName, { schema: (typeof s)[keyof typeof s] & { parse: unknown }; description: string }> = {
  customers: { schema: s.customersMetricSchema, description: 'Sign-ups, active customers (with a call) and the total, per bucket.' },
  mrr: {
    schema: s.mrrMetricSchema,
    description: 'MRR at each bucket’s start and end, ARR, the movements (new, expansion, contraction, churn, reactivation) and growth.',
  },
  churn: { schema: s.churnMetricSchema, description: 'Logo churn and gross revenue churn per bucket.' },
  retention: {
    schema: s.retentionMetricSchema,
    description: 'Cohorts by the bucket of their first MRR, and how many still pay at each later bucket’s end.',
  },
  funnel: {
    schema: s.funnelMetricSchema,
    description: 'Of the customers created in the range, how many reached each tier (catalog order) by its end.',
  },
  usage: {
    schema: s.usageMetricSchema,
    description: 'Calls and tokens by hour of the week (UTC), by model, free vs paid, BYOK vs managed, and per bucket.',
  },
  margin: {
    schema: s.marginMetricSchema,
    description: 'Revenue of the credits calls charged against what they cost the platform, by model, tier and customer.',
  },
  utilization: { schema: s.utilizationMetricSchema, description: 'Allowance used over allowance granted in the range, per tier.' },
  'top-customers': { schema: s.topCustomersMetricSchema, description: 'The customers with the most credits charged in the range.' },
};

const safeName = (metric: string, from: Date, to: Date) =>
  `tally-${metric}-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}`;

function analyticsRoute(metric: MetricName): AnyRoute {
  const { schema, description } = RESPONSES[metric];
  const id = `adminAnalytics${metric
    .split('-')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('')}`;
  return defineRoute({
    id,
    method: 'GET',
    path: `/v1/admin/analytics/${metric}`,
    scope: 'admin',
    summary: METRIC_TITLES[metric],
    description: `${description} Definitions: docs/analytics.md. \`format=csv\` answers one table of the report as text/csv, \`format=pdf\` the whole report as application/pdf.`,
    query: metric === 'top-customers' ? s.topCustomersQuerySchema : s.metricQuerySchema,
    response: { status: 200, schema: schema as never, media: ['application/json', 'text/csv', 'application/pdf'] },
    mutation: false,
    async handle({ deps, query, now }) {
      const q = query as {
        from: string;
        to: string;
        granularity?: MetricQuery['granularity'];
        format?: string;
        table?: number;
        limit?: number;
      };
      const result = await deps.tally.analytics.metric({
        metric,
        from: new Date(q.from),
        to: new Date(q.to),
        ...(q.granularity !== undefined ? { granularity: q.granularity } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      if (q.format === undefined || q.format === 'json') return metricToWire(result);
      const report = metricReport(result, { currency: deps.tally.catalog.currency, generatedAt: now });
      const filename = safeName(metric, result.from, result.to);
      if (q.format === 'csv') {
        const index = q.table ?? 0;
        const table = report.tables[index];
        if (!table) {
          throw new TallyError('VALIDATION', `table must be from 0 to ${report.tables.length - 1} for ${metric}`, {
            issues: [{ path: ['table'], message: `this report has ${report.tables.length} table(s)` }],
          });
        }
        const suffix = report.tables.length > 1 ? `-${index}` : '';
        return new Response(reportTableCsv(table, { currency: report.currency }), {
          headers: {
            'content-type': 'text/csv; charset=utf-8; header=present',
            'content-disposition': `attachment; filename="${filename}${suffix}.csv"`,
            'cache-control': 'no-store',
          },
        });
      }
      if (!deps.renderPdf) {
        throw new TallyError(
          'ROUTE_NOT_FOUND',
          'format=pdf needs the handler’s renderPdf option (renderReportPdf from @tally/adapters/pdf)',
        );
      }
      const pdf = await deps.renderPdf(report);
      return new Response(pdf as Uint8Array<ArrayBuffer>, {
        headers: {
          'content-type': 'application/pdf',
          'content-disposition': `attachment; filename="${filename}.pdf"`,
          'cache-control': 'no-store',
        },
      });
    },
  });
}

export const analyticsRoutes: AnyRoute[] = (
  ['customers', 'mrr', 'churn', 'retention', 'funnel', 'usage', 'margin', 'utilization', 'top-customers'] as const
).map(analyticsRoute);
