import { useId, useState } from 'react';
import { cx } from '../primitive/class-names.js';
import { useControllableState } from '../primitive/controllable-state.js';
import { ChurnChart } from './churn-chart.js';
import { CustomersChart } from './customers-chart.js';
import { FunnelChart } from './funnel-chart.js';
import { MarginTable } from './margin-table.js';
import { MrrChart } from './mrr-chart.js';
import { type AnalyticsRange, lastDays } from './range.js';
import { AnalyticsRangePicker } from './range-picker.js';
import { RetentionTable } from './retention-table.js';
import { TopCustomersTable } from './top-customers-table.js';
import { UsageByModel } from './usage-by-model.js';
import { UsageHeatmap } from './usage-heatmap.js';
import { UsageSplit } from './usage-split.js';
import { UtilizationBars } from './utilization-bars.js';

export interface AnalyticsDashboardProps {
  /** The heading. Default "Analytics". */
  title?: string;
  /** The range, controlled (with `onRangeChange`). */
  range?: AnalyticsRange;
  /** The first range when uncontrolled. Default: the last 30 UTC days, by day. */
  defaultRange?: AnalyticsRange;
  onRangeChange?: (range: AnalyticsRange) => void;
  /** The day the range presets end with (UTC). Default: now. */
  now?: Date;
  /** The catalog's currency (MRR is in its minor units). Default `USD`. */
  currency?: string;
  /** Display names of the tiers by id (default: the id, capitalised). */
  tierNames?: Readonly<Record<string, string>>;
  /** Customers in the top list, 1–100. Default 10. */
  topCustomers?: number;
  className?: string;
}

/**
 * Every analytics widget in a responsive grid under one range picker: revenue (MRR, churn),
 * customers (growth, funnel, retention), usage (heatmap, models, splits) and economics (margin,
 * allowance used, top customers). Retention by day would be a very wide grid, so it is by week
 * when the range is by day.
 */
export function AnalyticsDashboard({
  title = 'Analytics',
  range: rangeProp,
  defaultRange,
  onRangeChange,
  now,
  currency,
  tierNames,
  topCustomers,
  className,
}: AnalyticsDashboardProps) {
  const [initial] = useState(() => defaultRange ?? lastDays(30, now));
  const [range, setRange] = useControllableState<AnalyticsRange>({ prop: rangeProp, defaultProp: initial, onChange: onRangeChange });
  const titleId = useId();
  const cohorts: AnalyticsRange = range.granularity === 'day' ? { ...range, granularity: 'week' } : range;

  return (
    <section className={cx('tally-admin-dashboard', className)} aria-labelledby={titleId}>
      <div className="tally-admin-dashboard__header">
        <h2 id={titleId} className="tally-admin-dashboard__title">
          {title}
        </h2>
        <AnalyticsRangePicker value={range} onChange={setRange} now={now} />
      </div>
      <div className="tally-admin-dashboard__grid">
        <MrrChart range={range} currency={currency} className="tally-admin-dashboard__wide" />
        <CustomersChart range={range} />
        <ChurnChart range={range} currency={currency} />
        <FunnelChart range={range} tierNames={tierNames} />
        <UtilizationBars range={range} tierNames={tierNames} />
        <RetentionTable range={cohorts} className="tally-admin-dashboard__wide" />
        <UsageHeatmap range={range} className="tally-admin-dashboard__wide" />
        <UsageByModel range={range} />
        <UsageSplit range={range} />
        <MarginTable range={range} tierNames={tierNames} className="tally-admin-dashboard__wide" />
        <TopCustomersTable range={range} limit={topCustomers} tierNames={tierNames} className="tally-admin-dashboard__wide" />
      </div>
    </section>
  );
}
