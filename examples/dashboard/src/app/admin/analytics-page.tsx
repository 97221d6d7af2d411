import type { MetricName } from '@tally/core';
import { tallyKeys } from '@tally/react';
import { AnalyticsDashboard, type AnalyticsRange, lastDays } from '@tally/react/admin';
import { useEffect, useId, useRef, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { useInterval, useLiveEvent, useLiveStatus } from '../live.tsx';
import { formatTime, Page } from '../page.tsx';

export const EXPORTS: ReadonlyArray<{ metric: MetricName; label: string }> = [
  { metric: 'mrr', label: 'MRR and its movements' },
  { metric: 'customers', label: 'Customers' },
  { metric: 'churn', label: 'Churn' },
  { metric: 'retention', label: 'Retention cohorts' },
  { metric: 'funnel', label: 'Tier funnel' },
  { metric: 'usage', label: 'Usage' },
  { metric: 'margin', label: 'Margin' },
  { metric: 'utilization', label: 'Allowance utilization' },
  { metric: 'top-customers', label: 'Top customers' },
];

/** The export URL of one metric over `range`: the API answers the file itself (the session cookie goes along). */
export function exportUrl(metric: MetricName, range: AnalyticsRange, format: 'csv' | 'pdf'): string {
  const params = new URLSearchParams({
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    granularity: range.granularity,
    format,
  });
  return `/v1/admin/analytics/${encodeURIComponent(metric)}?${params.toString()}`;
}

/** Charts reload at most this often while calls keep the ledger busy. */
const REFRESH_MS = 10_000;

/**
 * The operator's analytics: every chart of `@tally/react/admin` under one range, live (a ledger
 * event reloads them, at most every 10 s; without the event stream, every 30 s), and each metric
 * as CSV or a PDF report for the same range.
 */
export function AnalyticsPage() {
  const { cache } = useDashboard();
  const live = useLiveStatus();
  const [range, setRange] = useState<AnalyticsRange>(() => lastDays(30));
  const [metric, setMetric] = useState<MetricName>('mrr');
  const [updatedAt, setUpdatedAt] = useState(() => new Date().toISOString());
  const lastRefresh = useRef(0);
  const pending = useRef<number | null>(null);
  const exportId = useId();
  const selectId = useId();

  const refresh = () => {
    lastRefresh.current = Date.now();
    void cache.invalidate(tallyKeys.adminAnalytics).then(() => setUpdatedAt(new Date().toISOString()));
  };
  useLiveEvent('ledger', () => {
    if (pending.current !== null) return;
    const wait = Math.max(0, lastRefresh.current + REFRESH_MS - Date.now());
    pending.current = window.setTimeout(() => {
      pending.current = null;
      refresh();
    }, wait);
  });
  useInterval(refresh, 30_000, live !== 'open');
  useEffect(
    () => () => {
      if (pending.current !== null) window.clearTimeout(pending.current);
    },
    [],
  );

  const label = EXPORTS.find((candidate) => candidate.metric === metric)?.label ?? metric;
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return (
    <Page title="Analytics" intro="Revenue, customers and usage from the ledger. Charts follow new activity as it happens.">
      <div className="dash-row dash-row--spread">
        <p className="tally-muted" aria-live="polite">
          Updated {formatTime(updatedAt)}
        </p>
        <button type="button" className="tally-button" data-variant="secondary" onClick={refresh}>
          Refresh now
        </button>
      </div>
      <section className="tally-card" aria-labelledby={exportId}>
        <h2 id={exportId} className="tally-card__title">
          Export
        </h2>
        <p className="tally-muted">
          The range below ({day(range.from)} to {day(new Date(range.to.getTime() - 1))}, by {range.granularity}) as a spreadsheet or a PDF
          report.
        </p>
        <div className="dash-row dash-row--end">
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={selectId}>
              Metric
            </label>
            <select
              id={selectId}
              className="tally-input dash-select"
              value={metric}
              onChange={(event) => setMetric(event.target.value as MetricName)}
            >
              {EXPORTS.map((option) => (
                <option key={option.metric} value={option.metric}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <a className="tally-button" href={exportUrl(metric, range, 'csv')} download={`${metric}-${day(range.from)}.csv`}>
            Download CSV<span className="dash-visually-hidden"> of {label}</span>
          </a>
          <a
            className="tally-button"
            data-variant="secondary"
            href={exportUrl(metric, range, 'pdf')}
            download={`${metric}-${day(range.from)}.pdf`}
          >
            Download PDF<span className="dash-visually-hidden"> of {label}</span>
          </a>
        </div>
      </section>
      <AnalyticsDashboard title="Metrics" range={range} onRangeChange={setRange} />
    </Page>
  );
}
