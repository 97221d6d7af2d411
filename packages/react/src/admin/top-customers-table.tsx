import { CreditAmount } from '../credit-amount/credit-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsWidgetProps, Caption, MetricCard } from './card.js';
import { formatCount, NanoUsd, tierLabel } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface TopCustomersTableProps extends AnalyticsWidgetProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
  /** How many customers, 1–100. Default 10. */
  limit?: number;
  /** Display names of the tiers by id (default: the id, capitalised). */
  tierNames?: Readonly<Record<string, string>>;
}

/** The customers charged the most credits in the range, with their calls and what those cost the providers. */
export function TopCustomersTable({ range: rangeProp, limit = 10, tierNames, title = 'Top customers', className }: TopCustomersTableProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('top-customers', range, limit));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-top-customers', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      empty={(result) => (result.customers.length === 0 ? 'No customer was charged or made a call in this range.' : null)}
      table={(result, captionId) => (
        <table className="tally-admin-table">
          <Caption id={captionId}>
            The {formatCount(result.customers.length, locale)} customers charged the most credits, most first
          </Caption>
          <thead>
            <tr>
              <th scope="col">Customer</th>
              <th scope="col">Tier now</th>
              <th scope="col" data-align="end">
                Credits
              </th>
              <th scope="col" data-align="end">
                Calls
              </th>
              <th scope="col" data-align="end">
                Provider cost
              </th>
            </tr>
          </thead>
          <tbody>
            {result.customers.map((customer, index) => (
              <tr key={customer.customerId}>
                <th scope="row">
                  <span className="tally-muted">{formatCount(index + 1, locale)}. </span>
                  {customer.customerId}
                </th>
                <td>{tierLabel(customer.tier, tierNames)}</td>
                <td data-align="end">
                  <CreditAmount micros={customer.creditsMicros} locale={locale} unit={null} />
                </td>
                <td data-align="end">{formatCount(customer.calls, locale)}</td>
                <td data-align="end">
                  <NanoUsd nanoUsd={customer.providerCostNanoUsd} locale={locale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    />
  );
}
