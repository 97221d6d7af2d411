import type { MarginLine } from '@tally/core';
import { useId, useState } from 'react';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsWidgetProps, Caption, MetricCard } from './card.js';
import { formatCount, NanoUsd, Ratio, tierLabel } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export type MarginGrouping = 'model' | 'tier' | 'customer';

export interface MarginTableProps extends AnalyticsWidgetProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
  /** The first grouping shown. Default `model`. */
  defaultGroupBy?: MarginGrouping;
  /** Display names of the tiers by id (default: the id, capitalised). */
  tierNames?: Readonly<Record<string, string>>;
}

const GROUPINGS: Array<{ value: MarginGrouping; label: string; heading: string }> = [
  { value: 'model', label: 'Model', heading: 'Model' },
  { value: 'tier', label: 'Tier', heading: 'Tier' },
  { value: 'customer', label: 'Customer (top 100 by revenue)', heading: 'Customer' },
];

/**
 * What calls earned against what they cost the platform: revenue of the credits they charged, the
 * provider cost of managed calls (BYOK calls cost the platform nothing), the margin and its share of
 * revenue, grouped by model, tier or customer, with the total at the foot.
 */
export function MarginTable({ range: rangeProp, defaultGroupBy = 'model', tierNames, title = 'Margin', className }: MarginTableProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('margin', range));
  const [groupBy, setGroupBy] = useState<MarginGrouping>(defaultGroupBy);
  const selectId = useId();
  const grouping = GROUPINGS.find((g) => g.value === groupBy) ?? (GROUPINGS[0] as (typeof GROUPINGS)[number]);

  const cells = (line: MarginLine) => (
    <>
      <td data-align="end">{formatCount(line.calls, locale)}</td>
      <td data-align="end">
        <CreditAmount micros={line.creditsMicros} locale={locale} unit={null} />
      </td>
      <td data-align="end">
        <NanoUsd nanoUsd={line.revenueNanoUsd} locale={locale} />
      </td>
      <td data-align="end">
        <NanoUsd nanoUsd={line.costNanoUsd} locale={locale} />
      </td>
      <td data-align="end" data-tone={line.marginNanoUsd < 0n ? 'negative' : undefined}>
        <NanoUsd nanoUsd={line.marginNanoUsd} locale={locale} />
      </td>
      <td data-align="end" data-tone={line.marginNanoUsd < 0n ? 'negative' : undefined}>
        <Ratio bps={line.marginBps} locale={locale} />
      </td>
    </>
  );

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-margin', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      empty={(result) => (result.total.calls === 0 && result.total.creditsMicros === 0n ? 'No calls in this range.' : null)}
      controls={
        <div className="tally-field tally-field--inline">
          <label className="tally-field__label" htmlFor={selectId}>
            By
          </label>
          <select
            id={selectId}
            className="tally-input"
            value={groupBy}
            onChange={(event) => setGroupBy(event.currentTarget.value as MarginGrouping)}
          >
            {GROUPINGS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
      }
      table={(result, captionId) => {
        const rows =
          groupBy === 'model'
            ? result.byModel.map((line) => ({ key: line.model, name: line.model, line }))
            : groupBy === 'tier'
              ? result.byTier.map((line) => ({ key: line.tier, name: tierLabel(line.tier, tierNames), line }))
              : result.byCustomer.map((line) => ({ key: line.customerId, name: line.customerId, line }));
        return (
          <table className="tally-admin-table">
            <Caption id={captionId}>Margin by {grouping.heading.toLowerCase()}, highest revenue first (USD)</Caption>
            <thead>
              <tr>
                <th scope="col">{grouping.heading}</th>
                <th scope="col" data-align="end">
                  Calls
                </th>
                <th scope="col" data-align="end">
                  Credits
                </th>
                <th scope="col" data-align="end">
                  Revenue
                </th>
                <th scope="col" data-align="end">
                  Cost
                </th>
                <th scope="col" data-align="end">
                  Margin
                </th>
                <th scope="col" data-align="end">
                  Margin %
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.name}</th>
                  {cells(row.line)}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                {cells(result.total)}
              </tr>
            </tfoot>
          </table>
        );
      }}
    />
  );
}
