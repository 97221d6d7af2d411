import type { MetricResult } from '@tally/core';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBps, formatCents } from '../format/amounts.js';
import { MoneyAmount } from '../money-amount/money-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, BucketTable, MetricCard } from './card.js';
import { AXIS, ChartBox, ChartLegend, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { bpsTick, bucketLabel, formatCount, Ratio } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface ChurnChartProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days, by day. */
  range?: AnalyticsRange;
  /** The catalog's currency (MRR is in its minor units). Default `USD`. */
  currency?: string;
}

type Point = MetricResult<'churn'>['points'][number];

/**
 * Logo churn (paying customers lost) and gross revenue churn (churned and contracted MRR) per
 * bucket, as percentages; a bucket that began with nobody paying has no rate and leaves a gap.
 */
export function ChurnChart({ range: rangeProp, currency = 'USD', title = 'Churn', className, ...view }: ChurnChartProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('churn', range));
  const rate = (bps: number | null) => (bps === null ? 'none' : formatBps(bps, locale));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-churn', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.points.every((p) => p.payingAtStart === 0) ? 'No paying customers in this range yet.' : null)}
      chart={(result) => {
        const data = result.points.map((p, i) => ({
          i,
          label: bucketLabel(p.start, result.granularity, locale),
          logo: p.logoChurnBps,
          revenue: p.revenueChurnBps,
        }));
        const describe = (i: number) => {
          const p = result.points[i] as Point;
          return {
            title: bucketLabel(p.start, result.granularity, locale, true),
            lines: [
              { label: 'Logo churn', value: rate(p.logoChurnBps), color: COLORS.negative },
              { label: 'Revenue churn', value: rate(p.revenueChurnBps), color: COLORS.warning },
              { label: 'Churned', value: `${formatCount(p.churnedCustomers, locale)} of ${formatCount(p.payingAtStart, locale)}` },
              { label: 'Lost MRR', value: formatCents(p.lostMrr, currency, locale) },
            ],
          };
        };
        return (
          <>
            <ChartBox>
              <LineChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid {...GRID} vertical={false} />
                <XAxis dataKey="label" {...AXIS} minTickGap={16} />
                <YAxis {...AXIS} width={48} allowDecimals={false} tickFormatter={(t: number) => bpsTick(t, locale)} />
                <Tooltip content={tooltipContent(describe)} cursor={{ stroke: 'var(--tally-color-control)' }} isAnimationActive={false} />
                <Line dataKey="logo" stroke={COLORS.negative} strokeWidth={2} dot={false} isAnimationActive={false} />
                <Line
                  dataKey="revenue"
                  stroke={COLORS.warning}
                  strokeWidth={2}
                  strokeDasharray="6 3"
                  dot={false}
                  isAnimationActive={false}
                />
              </LineChart>
            </ChartBox>
            <ChartLegend
              items={[
                { label: 'Logo churn', color: COLORS.negative, shape: 'line' },
                { label: 'Revenue churn', color: COLORS.warning, shape: 'line' },
              ]}
            />
          </>
        );
      }}
      table={(result, captionId) => (
        <BucketTable
          captionId={captionId}
          caption={`Churn by ${result.granularity} (${currency})`}
          granularity={result.granularity}
          points={result.points}
          locale={locale}
          columns={[
            { heading: 'Paying at start', cell: (p) => formatCount(p.payingAtStart, locale) },
            { heading: 'Churned', cell: (p) => formatCount(p.churnedCustomers, locale) },
            { heading: 'Logo churn', cell: (p) => <Ratio bps={p.logoChurnBps} locale={locale} /> },
            { heading: 'MRR at start', cell: (p) => <MoneyAmount amount={p.mrrAtStart} currency={currency} locale={locale} /> },
            { heading: 'Lost MRR', cell: (p) => <MoneyAmount amount={p.lostMrr} currency={currency} locale={locale} /> },
            { heading: 'Revenue churn', cell: (p) => <Ratio bps={p.revenueChurnBps} locale={locale} /> },
          ]}
        />
      )}
    />
  );
}
