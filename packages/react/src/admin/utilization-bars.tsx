import type { MetricResult } from '@tally/core';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { formatBps, formatCreditsText } from '../format/amounts.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, Caption, MetricCard } from './card.js';
import { AXIS, ChartBox, ChartLegend, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { creditsTick, plot, Ratio, tierLabel } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface UtilizationBarsProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
  /** Display names of the tiers by id (default: the id, capitalised). */
  tierNames?: Readonly<Record<string, string>>;
}

type Line = MetricResult<'utilization'>['tiers'][number];

/** What is left of the grants: neither drawn nor expired (never below zero). */
function unused(line: Line): bigint {
  const left = line.grantedMicros - line.consumedMicros - line.expiredMicros;
  return left > 0n ? left : 0n;
}

const PARTS = [
  { key: 'consumed', label: 'Used', color: COLORS.accent },
  { key: 'expired', label: 'Expired', color: COLORS.warning },
  { key: 'unused', label: 'Not used yet', color: COLORS.neutral },
] as const;

/**
 * How much of the allowance granted in the range each tier's customers used: one bar per tier, as
 * long as the allowance, split into used, expired and not yet used.
 */
export function UtilizationBars({ range: rangeProp, tierNames, title = 'Allowance used', className, ...view }: UtilizationBarsProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('utilization', range));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-utilization', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.tiers.every((line) => line.grantedMicros === 0n) ? 'No allowance was granted in this range.' : null)}
      chart={(result) => {
        const data = result.tiers.map((line, i) => ({
          i,
          label: tierLabel(line.tier, tierNames),
          consumed: plot(line.consumedMicros),
          expired: plot(line.expiredMicros),
          unused: plot(unused(line)),
        }));
        const describe = (i: number) => {
          const line = result.tiers[i] as Line;
          return {
            title: tierLabel(line.tier, tierNames),
            lines: [
              { label: 'Granted', value: formatCreditsText(line.grantedMicros, locale) },
              { label: 'Used', value: formatCreditsText(line.consumedMicros, locale), color: COLORS.accent },
              { label: 'Expired', value: formatCreditsText(line.expiredMicros, locale), color: COLORS.warning },
              { label: 'Used share', value: line.utilizationBps === null ? 'none' : formatBps(line.utilizationBps, locale) },
            ],
          };
        };
        return (
          <>
            <ChartBox height={Math.max(140, data.length * 40 + 32)}>
              <BarChart data={data} layout="vertical" accessibilityLayer={false} margin={{ top: 0, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid {...GRID} horizontal={false} />
                <XAxis type="number" {...AXIS} allowDecimals={false} tickFormatter={(t: number) => creditsTick(t, locale)} />
                <YAxis type="category" dataKey="label" {...AXIS} width={88} />
                <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
                {PARTS.map((part) => (
                  <Bar key={part.key} dataKey={part.key} stackId="allowance" fill={part.color} isAnimationActive={false} maxBarSize={28} />
                ))}
              </BarChart>
            </ChartBox>
            <ChartLegend items={PARTS.map((part) => ({ label: part.label, color: part.color }))} />
          </>
        );
      }}
      table={(result, captionId) => (
        <table className="tally-admin-table">
          <Caption id={captionId}>Allowance granted in the range per tier, and what of it was used or expired (credits)</Caption>
          <thead>
            <tr>
              <th scope="col">Tier</th>
              <th scope="col" data-align="end">
                Granted
              </th>
              <th scope="col" data-align="end">
                Used
              </th>
              <th scope="col" data-align="end">
                Expired
              </th>
              <th scope="col" data-align="end">
                Used share
              </th>
            </tr>
          </thead>
          <tbody>
            {result.tiers.map((line) => (
              <tr key={line.tier}>
                <th scope="row">{tierLabel(line.tier, tierNames)}</th>
                <td data-align="end">
                  <CreditAmount micros={line.grantedMicros} locale={locale} unit={null} />
                </td>
                <td data-align="end">
                  <CreditAmount micros={line.consumedMicros} locale={locale} unit={null} />
                </td>
                <td data-align="end">
                  <CreditAmount micros={line.expiredMicros} locale={locale} unit={null} />
                </td>
                <td data-align="end">
                  <Ratio bps={line.utilizationBps} locale={locale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    />
  );
}
