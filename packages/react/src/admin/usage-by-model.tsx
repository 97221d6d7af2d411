import type { MetricResult } from '@tally/core';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { formatCreditsText, formatNanoUsdText } from '../format/amounts.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, Caption, MetricCard } from './card.js';
import { AXIS, ChartBox, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { countTick, formatBigCount, formatCount, NanoUsd } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface UsageByModelProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
  /** Models drawn in the chart, busiest first (the table lists all). Default 8. */
  limit?: number;
}

type Line = MetricResult<'usage'>['byModel'][number];

/**
 * `openai/gpt-4o` → `gpt-4o`, and at most 16 characters: the axis has little room; the tooltip and
 * the table give the full id.
 */
function shortModel(model: string): string {
  const name = model.slice(model.lastIndexOf('/') + 1);
  return name.length > 16 ? `${name.slice(0, 15)}…` : name;
}

/**
 * Calls per model as bars, busiest first; the table adds tokens, what the calls cost the provider
 * and the credits they charged.
 */
export function UsageByModel({ range: rangeProp, limit = 8, title = 'Usage by model', className, ...view }: UsageByModelProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('usage', range));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-by-model', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.byModel.length === 0 ? 'No calls in this range.' : null)}
      chart={(result) => {
        const lines = result.byModel.slice(0, limit);
        const data = lines.map((line, i) => ({ i, label: shortModel(line.model), calls: line.calls }));
        const describe = (i: number) => {
          const line = lines[i] as Line;
          return {
            title: line.model,
            lines: [
              { label: 'Calls', value: formatCount(line.calls, locale), color: COLORS.accent },
              { label: 'Tokens', value: formatBigCount(line.tokens, locale) },
              { label: 'Provider cost', value: formatNanoUsdText(line.providerCostNanoUsd, locale) },
              { label: 'Charged', value: formatCreditsText(line.creditsMicros, locale) },
            ],
          };
        };
        return (
          <ChartBox height={Math.max(140, lines.length * 36 + 32)}>
            <BarChart data={data} layout="vertical" accessibilityLayer={false} margin={{ top: 0, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid {...GRID} horizontal={false} />
              <XAxis type="number" {...AXIS} allowDecimals={false} tickFormatter={(t: number) => countTick(t, locale)} />
              <YAxis type="category" dataKey="label" {...AXIS} width={120} />
              <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
              <Bar dataKey="calls" fill={COLORS.accent} isAnimationActive={false} maxBarSize={24} />
            </BarChart>
          </ChartBox>
        );
      }}
      table={(result, captionId) => (
        <table className="tally-admin-table">
          <Caption id={captionId}>Calls per model, busiest first</Caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" data-align="end">
                Calls
              </th>
              <th scope="col" data-align="end">
                Tokens
              </th>
              <th scope="col" data-align="end">
                Provider cost
              </th>
              <th scope="col" data-align="end">
                Charged
              </th>
            </tr>
          </thead>
          <tbody>
            {result.byModel.map((line) => (
              <tr key={line.model}>
                <th scope="row">{line.model}</th>
                <td data-align="end">{formatCount(line.calls, locale)}</td>
                <td data-align="end">{formatBigCount(line.tokens, locale)}</td>
                <td data-align="end">
                  <NanoUsd nanoUsd={line.providerCostNanoUsd} locale={locale} />
                </td>
                <td data-align="end">
                  <CreditAmount micros={line.creditsMicros} locale={locale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    />
  );
}
