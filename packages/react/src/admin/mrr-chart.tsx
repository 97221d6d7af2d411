import { type MetricResult, ratioBps } from '@tally/core';
import { Bar, CartesianGrid, ComposedChart, Line, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBps, formatCents } from '../format/amounts.js';
import { MoneyAmount } from '../money-amount/money-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, BucketTable, MetricCard } from './card.js';
import { AXIS, ChartBox, ChartLegend, COLORS, GRID, tooltipContent } from './chart-kit.js';
import { bucketLabel, moneyTick, plot, Ratio } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface MrrChartProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days, by day. */
  range?: AnalyticsRange;
  /** The catalog's currency (MRR is in its minor units). Default `USD`. */
  currency?: string;
}

type MrrResult = MetricResult<'mrr'>;
type MrrPoint = MrrResult['points'][number];

/** Movements that add MRR are drawn up, those that take it away down (a stack split by sign). */
const MOVEMENTS = [
  { key: 'new', label: 'New', color: COLORS.positive, sign: 1 },
  { key: 'expansion', label: 'Expansion', color: COLORS.teal, sign: 1 },
  { key: 'reactivation', label: 'Reactivation', color: COLORS.violet, sign: 1 },
  { key: 'contraction', label: 'Contraction', color: COLORS.warning, sign: -1 },
  { key: 'churn', label: 'Churn', color: COLORS.negative, sign: -1 },
] as const;

/**
 * Monthly recurring revenue: MRR at each bucket's end as a line over its movements as bars (new,
 * expansion and reactivation up; contraction and churn down), with MRR, ARR and growth over the
 * range above. The table lists every movement, the net change and the growth per bucket.
 */
export function MrrChart({ range: rangeProp, currency = 'USD', title = 'MRR', className, ...view }: MrrChartProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('mrr', range));
  const money = (amount: bigint) => formatCents(amount, currency, locale);

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-mrr', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) =>
        result.points.every((p) => p.mrr === 0n && p.mrrAtStart === 0n) ? 'No recurring revenue in this range yet.' : null
      }
      summary={(result) => <MrrSummary result={result} currency={currency} locale={locale} />}
      chart={(result) => {
        const data = result.points.map((p, i) => ({
          i,
          label: bucketLabel(p.start, result.granularity, locale),
          mrr: plot(p.mrr),
          ...Object.fromEntries(MOVEMENTS.map((m) => [m.key, m.sign * plot(p[m.key])])),
        }));
        const describe = (i: number) => {
          const p = result.points[i] as MrrResult['points'][number];
          return {
            title: bucketLabel(p.start, result.granularity, locale, true),
            lines: [
              { label: 'MRR', value: money(p.mrr), color: COLORS.line },
              ...MOVEMENTS.map((m) => ({ label: m.label, value: money(BigInt(m.sign) * p[m.key]), color: m.color })),
              { label: 'Net', value: money(p.net) },
            ],
          };
        };
        return (
          <>
            <ChartBox>
              <ComposedChart data={data} stackOffset="sign" accessibilityLayer={false} margin={{ top: 8, right: 0, bottom: 0, left: 0 }}>
                <CartesianGrid {...GRID} vertical={false} />
                <XAxis dataKey="label" {...AXIS} minTickGap={16} />
                <YAxis
                  yAxisId="mrr"
                  {...AXIS}
                  width={56}
                  allowDecimals={false}
                  tickFormatter={(t: number) => moneyTick(t, currency, locale)}
                />
                <YAxis
                  yAxisId="moves"
                  orientation="right"
                  {...AXIS}
                  width={52}
                  allowDecimals={false}
                  tickFormatter={(t: number) => moneyTick(t, currency, locale)}
                />
                <ReferenceLine yAxisId="moves" y={0} stroke="var(--tally-color-control)" />
                <Tooltip content={tooltipContent(describe)} cursor={{ fill: 'var(--tally-color-accent-soft)' }} isAnimationActive={false} />
                {MOVEMENTS.map((m) => (
                  <Bar
                    key={m.key}
                    yAxisId="moves"
                    dataKey={m.key}
                    stackId="moves"
                    fill={m.color}
                    isAnimationActive={false}
                    maxBarSize={24}
                  />
                ))}
                <Line
                  yAxisId="mrr"
                  dataKey="mrr"
                  stroke={COLORS.line}
                  strokeWidth={2}
                  dot={false}
                  type="linear"
                  isAnimationActive={false}
                />
              </ComposedChart>
            </ChartBox>
            <ChartLegend
              items={[
                { label: 'MRR (left axis)', color: COLORS.line, shape: 'line' },
                ...MOVEMENTS.map((m) => ({ label: m.label, color: m.color })),
              ]}
            />
          </>
        );
      }}
      table={(result, captionId) => (
        <BucketTable
          captionId={captionId}
          caption={`MRR movements by ${result.granularity} (${currency})`}
          granularity={result.granularity}
          points={result.points}
          locale={locale}
          columns={[
            ...MOVEMENTS.map((m) => ({
              heading: m.label,
              cell: (p: MrrPoint) => <MoneyAmount amount={BigInt(m.sign) * p[m.key]} currency={currency} locale={locale} />,
            })),
            { heading: 'Net', cell: (p) => <MoneyAmount amount={p.net} currency={currency} locale={locale} /> },
            { heading: 'MRR', cell: (p) => <MoneyAmount amount={p.mrr} currency={currency} locale={locale} /> },
            { heading: 'Growth', cell: (p) => <Ratio bps={p.growthBps} locale={locale} /> },
          ]}
        />
      )}
    />
  );
}

/** MRR and ARR at the range's end, and the change over the whole range. */
function MrrSummary({ result, currency, locale }: { result: MrrResult; currency: string; locale: string }) {
  const first = result.points[0];
  const last = result.points[result.points.length - 1];
  if (!first || !last) return null;
  const change = last.mrr - first.mrrAtStart;
  const growth = ratioBps(change, first.mrrAtStart);
  return (
    <dl className="tally-admin-summary">
      <div>
        <dt>MRR</dt>
        <dd>
          <MoneyAmount amount={last.mrr} currency={currency} locale={locale} />
        </dd>
      </div>
      <div>
        <dt>ARR</dt>
        <dd>
          <MoneyAmount amount={last.arr} currency={currency} locale={locale} />
        </dd>
      </div>
      <div>
        <dt>Change in range</dt>
        <dd>
          <MoneyAmount amount={change} currency={currency} locale={locale} />
          {growth === null ? null : (
            <span className="tally-muted">
              {' '}
              ({growth > 0 ? '+' : ''}
              {formatBps(growth, locale)})
            </span>
          )}
        </dd>
      </div>
    </dl>
  );
}
