import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsWidgetProps, Caption, MetricCard } from './card.js';
import { BucketTime, formatCount, periodHeading, Ratio } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface RetentionTableProps extends AnalyticsWidgetProps {
  /** Default: the last 90 UTC days, by week (a cohort per bucket: by day the grid gets very wide). */
  range?: AnalyticsRange;
}

/** Shade steps of the retained share, in basis points: a cell at or above `LEVELS[n]` gets level n + 1. */
const LEVELS = [2000, 4000, 6000, 8000] as const;

/** 0 (under 20 %) to 4 (80 % or more); null for a cohort without customers. */
export function retentionLevel(bps: number | null): number | null {
  if (bps === null) return null;
  return LEVELS.filter((step) => bps >= step).length;
}

const LEGEND = ['under 20%', '20–40%', '40–60%', '60–80%', '80% or more'];

/**
 * Cohorts by the bucket in which their customers first paid (rows), and the share of each cohort
 * still paying at the end of every later bucket (columns), shaded by that share. A table already,
 * so there is no chart view; it scrolls inside its own box when wider than the screen.
 */
export function RetentionTable({ range: rangeProp, title = 'Retention', className }: RetentionTableProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp, 90, 'week');
  const query = useMetric(metricRequest('retention', range));

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-retention', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      empty={(result) => (result.cohorts.every((c) => c.customers === 0) ? 'No customer started paying in this range yet.' : null)}
      summary={() => (
        <div className="tally-admin-retention__legend">
          <span className="tally-muted">Still paying:</span>
          <ul className="tally-admin-legend">
            {LEGEND.map((label, level) => (
              <li key={label}>
                <span className="tally-admin-legend__swatch tally-admin-retention__swatch" data-level={level} />
                {label}
              </li>
            ))}
          </ul>
        </div>
      )}
      table={(result, captionId) => {
        const noun = periodHeading(result.granularity);
        // Period k of every cohort is a column: "Week 0" (the cohort's own bucket), "Week 1", …
        const columns = result.cohorts.map((_, k) => ({ key: `period-${k}`, label: `${noun} ${k}` }));
        return (
          <table className="tally-admin-table tally-admin-retention__grid">
            <Caption id={captionId}>
              Cohorts by the {result.granularity} their customers first paid, and the share still paying at the end of each{' '}
              {result.granularity} after
            </Caption>
            <thead>
              <tr>
                <th scope="col">Cohort</th>
                <th scope="col" data-align="end">
                  Customers
                </th>
                {columns.map((column) => (
                  <th key={column.key} scope="col" data-align="end">
                    {column.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.cohorts.map((cohort) => (
                <tr key={cohort.start.toISOString()}>
                  <th scope="row">
                    <BucketTime start={cohort.start} granularity={result.granularity} locale={locale} />
                  </th>
                  <td data-align="end">{formatCount(cohort.customers, locale)}</td>
                  {columns.map((column, k) => {
                    const period = cohort.periods[k];
                    if (!period) return <td key={column.key} data-align="end" />;
                    const level = retentionLevel(period.retainedBps);
                    return (
                      <td key={column.key} data-align="end" className="tally-admin-retention__cell" data-level={level ?? undefined}>
                        <Ratio bps={period.retainedBps} locale={locale} />
                        <span className="tally-visually-hidden">, {formatCount(period.retained, locale)} still paying</span>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    />
  );
}
