import { type CallCounts, ratioBps } from '@tally/core';
import { Bar, BarChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBps } from '../format/amounts.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, Caption, MetricCard } from './card.js';
import { AXIS, ChartBox, ChartLegend, COLORS, tooltipContent } from './chart-kit.js';
import { formatBigCount, formatCount, Ratio } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface UsageSplitProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
}

const PARTS = [
  { key: 'free', label: 'Free models', group: 'price', color: COLORS.teal },
  { key: 'paid', label: 'Paid models', group: 'price', color: COLORS.accent },
  { key: 'byok', label: 'Own key (BYOK)', group: 'key', color: COLORS.violet },
  { key: 'managed', label: 'Platform key', group: 'key', color: COLORS.warning },
] as const;

const GROUPS = [
  { key: 'price', label: 'Model price' },
  { key: 'key', label: 'Whose key' },
] as const;

/**
 * How calls divide between free and paid models, and between customers' own keys (BYOK) and the
 * platform's: two bars of 100 %. The table gives calls and tokens with their shares.
 */
export function UsageSplit({ range: rangeProp, title = 'Free / paid and BYOK / managed', className, ...view }: UsageSplitProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('usage', range));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-split', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.split.free.calls + result.split.paid.calls === 0 ? 'No calls in this range.' : null)}
      chart={(result) => {
        const total = result.split.free.calls + result.split.paid.calls;
        const data = GROUPS.map((group, i) => ({
          i,
          label: group.label,
          ...Object.fromEntries(PARTS.map((part) => [part.key, part.group === group.key ? result.split[part.key].calls : 0])),
        }));
        const describe = (i: number) => {
          const group = GROUPS[i] as (typeof GROUPS)[number];
          return {
            title: group.label,
            lines: PARTS.filter((part) => part.group === group.key).map((part) => {
              const calls = result.split[part.key].calls;
              const share = ratioBps(calls, total);
              return {
                label: part.label,
                value: `${formatCount(calls, locale)} calls${share === null ? '' : ` (${formatBps(share, locale)})`}`,
                color: part.color,
              };
            }),
          };
        };
        return (
          <>
            <ChartBox height={132}>
              <BarChart
                data={data}
                layout="vertical"
                stackOffset="expand"
                accessibilityLayer={false}
                margin={{ top: 0, right: 8, bottom: 0, left: 0 }}
              >
                <XAxis type="number" {...AXIS} tickFormatter={(t: number) => formatBps(Math.round(t * 10_000), locale)} />
                <YAxis type="category" dataKey="label" {...AXIS} width={96} />
                <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
                {PARTS.map((part) => (
                  <Bar key={part.key} dataKey={part.key} stackId="split" fill={part.color} isAnimationActive={false} maxBarSize={32} />
                ))}
              </BarChart>
            </ChartBox>
            <ChartLegend items={PARTS.map((part) => ({ label: part.label, color: part.color }))} />
          </>
        );
      }}
      table={(result, captionId) => {
        const calls = result.split.free.calls + result.split.paid.calls;
        const tokens = result.split.free.tokens + result.split.paid.tokens;
        const row = (label: string, counts: CallCounts) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td data-align="end">{formatCount(counts.calls, locale)}</td>
            <td data-align="end">
              <Ratio bps={ratioBps(counts.calls, calls)} locale={locale} />
            </td>
            <td data-align="end">{formatBigCount(counts.tokens, locale)}</td>
            <td data-align="end">
              <Ratio bps={ratioBps(counts.tokens, tokens)} locale={locale} />
            </td>
          </tr>
        );
        return (
          <table className="tally-admin-table">
            <Caption id={captionId}>Calls and tokens of free and paid models, and of own (BYOK) and platform keys</Caption>
            <thead>
              <tr>
                <th scope="col">Calls on</th>
                <th scope="col" data-align="end">
                  Calls
                </th>
                <th scope="col" data-align="end">
                  Share of calls
                </th>
                <th scope="col" data-align="end">
                  Tokens
                </th>
                <th scope="col" data-align="end">
                  Share of tokens
                </th>
              </tr>
            </thead>
            <tbody>{PARTS.map((part) => row(part.label, result.split[part.key]))}</tbody>
          </table>
        );
      }}
    />
  );
}
