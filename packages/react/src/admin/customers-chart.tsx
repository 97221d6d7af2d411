import type { MetricResult } from '@tally/core';
import { Bar, CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, BucketTable, MetricCard } from './card.js';
import { AXIS, ChartBox, ChartLegend, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { bucketLabel, countTick, formatCount } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface CustomersChartProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days, by day. */
  range?: AnalyticsRange;
}

type Point = MetricResult<'customers'>['points'][number];

const SERIES = [
  { key: 'signUps', label: 'Sign-ups', color: COLORS.accent, shape: 'bar' },
  { key: 'active', label: 'Active (made a call)', color: COLORS.teal, shape: 'line' },
  { key: 'total', label: 'Total (right axis)', color: COLORS.line, shape: 'line' },
] as const;

/**
 * Customers per bucket: sign-ups as bars, customers who made a call as a line, and the running
 * total on its own axis. The table lists the three numbers per bucket.
 */
export function CustomersChart({ range: rangeProp, title = 'Customers', className, ...view }: CustomersChartProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('customers', range));
  const count = (value: number) => formatCount(value, locale);

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-customers', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.points.every((p) => p.total === 0 && p.active === 0) ? 'No customers in this range yet.' : null)}
      chart={(result) => {
        const data = result.points.map((p, i) => ({
          i,
          label: bucketLabel(p.start, result.granularity, locale),
          signUps: p.signUps,
          active: p.active,
          total: p.total,
        }));
        const describe = (i: number) => {
          const p = result.points[i] as Point;
          return {
            title: bucketLabel(p.start, result.granularity, locale, true),
            lines: SERIES.map((s) => ({ label: s.label, value: count(p[s.key]), color: s.color })),
          };
        };
        return (
          <>
            <ChartBox>
              <ComposedChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 0, bottom: 0, left: 0 }}>
                <CartesianGrid {...GRID} vertical={false} />
                <XAxis dataKey="label" {...AXIS} minTickGap={16} />
                <YAxis yAxisId="flow" {...AXIS} width={40} allowDecimals={false} tickFormatter={(t: number) => countTick(t, locale)} />
                <YAxis
                  yAxisId="total"
                  orientation="right"
                  {...AXIS}
                  width={40}
                  allowDecimals={false}
                  tickFormatter={(t: number) => countTick(t, locale)}
                />
                <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
                <Bar yAxisId="flow" dataKey="signUps" fill={COLORS.accent} isAnimationActive={false} maxBarSize={24} />
                <Line yAxisId="flow" dataKey="active" stroke={COLORS.teal} strokeWidth={2} dot={false} isAnimationActive={false} />
                <Line yAxisId="total" dataKey="total" stroke={COLORS.line} strokeWidth={2} dot={false} isAnimationActive={false} />
              </ComposedChart>
            </ChartBox>
            <ChartLegend items={SERIES.map((s) => ({ label: s.label, color: s.color, shape: s.shape }))} />
          </>
        );
      }}
      table={(result, captionId) => (
        <BucketTable
          captionId={captionId}
          caption={`Customers by ${result.granularity}`}
          granularity={result.granularity}
          points={result.points}
          locale={locale}
          columns={[
            { heading: 'Sign-ups', cell: (p) => count(p.signUps) },
            { heading: 'Active', cell: (p) => count(p.active) },
            { heading: 'Total', cell: (p) => count(p.total) },
          ]}
        />
      )}
    />
  );
}
