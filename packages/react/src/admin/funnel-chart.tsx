import { Bar, BarChart, CartesianGrid, LabelList, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBps } from '../format/amounts.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, Caption, MetricCard } from './card.js';
import { AXIS, ChartBox, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { countTick, formatCount, Ratio, tierLabel } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface FunnelChartProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
  /** Display names of the tiers by id (default: the id, capitalised). */
  tierNames?: Readonly<Record<string, string>>;
}

/**
 * Of the customers created in the range, how many reached each tier (in catalog order) by its end,
 * as bars with the conversion from the step before.
 */
export function FunnelChart({ range: rangeProp, tierNames, title = 'Tier funnel', className, ...view }: FunnelChartProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('funnel', range));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-funnel', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.created === 0 ? 'No customers signed up in this range.' : null)}
      chart={(result) => {
        const steps = [
          { label: 'Signed up', customers: result.created, conversionBps: null as number | null },
          ...result.steps.map((step) => ({
            label: tierLabel(step.tier, tierNames),
            customers: step.customers,
            conversionBps: step.conversionBps,
          })),
        ];
        const data = steps.map((step, i) => ({
          i,
          label: step.label,
          customers: step.customers,
          note:
            step.conversionBps === null
              ? formatCount(step.customers, locale)
              : `${formatCount(step.customers, locale)} · ${formatBps(step.conversionBps, locale)}`,
        }));
        const describe = (i: number) => {
          const step = steps[i] as (typeof steps)[number];
          return {
            title: step.label,
            lines: [
              { label: 'Customers', value: formatCount(step.customers, locale), color: COLORS.accent },
              ...(step.conversionBps === null ? [] : [{ label: 'From the step before', value: formatBps(step.conversionBps, locale) }]),
            ],
          };
        };
        return (
          <ChartBox height={Math.max(160, steps.length * 44 + 24)}>
            {/* Room on the right for each bar's label. */}
            <BarChart data={data} layout="vertical" accessibilityLayer={false} margin={{ top: 0, right: 96, bottom: 0, left: 0 }}>
              <CartesianGrid {...GRID} horizontal={false} />
              <XAxis type="number" {...AXIS} allowDecimals={false} tickFormatter={(t: number) => countTick(t, locale)} />
              <YAxis type="category" dataKey="label" {...AXIS} width={88} />
              <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
              <Bar dataKey="customers" fill={COLORS.accent} isAnimationActive={false} maxBarSize={28}>
                <LabelList dataKey="note" position="right" fill="var(--tally-color-fg)" fontSize={12} />
              </Bar>
            </BarChart>
          </ChartBox>
        );
      }}
      table={(result, captionId) => (
        <table className="tally-admin-table">
          <Caption id={captionId}>Customers created in the range, and how many reached each tier by its end</Caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col" data-align="end">
                Customers
              </th>
              <th scope="col" data-align="end">
                Conversion
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Signed up</th>
              <td data-align="end">{formatCount(result.created, locale)}</td>
              <td data-align="end">
                <Ratio bps={null} locale={locale} />
              </td>
            </tr>
            {result.steps.map((step) => (
              <tr key={step.tier}>
                <th scope="row">{tierLabel(step.tier, tierNames)}</th>
                <td data-align="end">{formatCount(step.customers, locale)}</td>
                <td data-align="end">
                  <Ratio bps={step.conversionBps} locale={locale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    />
  );
}
