import type { CallCounts } from '@tally/core';
import { useId, useState } from 'react';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { type AnalyticsChartProps, Caption, MetricCard } from './card.js';
import { formatBigCount } from './format.js';
import { useAnalyticsRange, useMetric } from './hooks.js';
import { type AnalyticsRange, metricRequest } from './range.js';

export interface UsageHeatmapProps extends AnalyticsChartProps {
  /** Default: the last 30 UTC days. */
  range?: AnalyticsRange;
}

type Measure = 'calls' | 'tokens';

// 1 January 2024 was a Monday: the weekday names come from Intl, Monday first.
const MONDAY = Date.UTC(2024, 0, 1);
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function weekdays(locale: string, style: 'short' | 'long'): string[] {
  const format = new Intl.DateTimeFormat(locale, { weekday: style, timeZone: 'UTC' });
  return Array.from({ length: 7 }, (_, d) => format.format(MONDAY + d * DAY_MS));
}

function hours(locale: string): string[] {
  const format = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
  return Array.from({ length: 24 }, (_, h) => format.format(MONDAY + h * HOUR_MS));
}

const value = (cell: CallCounts, measure: Measure): bigint => (measure === 'calls' ? BigInt(cell.calls) : cell.tokens);

/** 0 for nothing, else 1–4 by the share of the busiest hour (rounded up, in integers). */
export function heatLevel(amount: bigint, max: bigint): number {
  if (amount <= 0n || max <= 0n) return 0;
  return Number((amount * 4n + max - 1n) / max);
}

/**
 * Calls (or tokens) by hour of the week, in UTC: seven rows from Monday, 24 hours each, shaded by
 * how busy the hour was against the busiest, with a legend. The table lists every hour's number.
 */
export function UsageHeatmap({ range: rangeProp, title = 'Usage by hour (UTC)', className, ...view }: UsageHeatmapProps) {
  const { locale } = useTally();
  const range = useAnalyticsRange(rangeProp);
  const query = useMetric(metricRequest('usage', range));
  const [measure, setMeasure] = useState<Measure>('calls');
  const selectId = useId();
  const noun = measure === 'calls' ? 'calls' : 'tokens';

  return (
    <MetricCard
      title={title}
      className={cx('tally-admin-heatmap', className)}
      query={query}
      loadingLabel={`Loading ${title}…`}
      view={view}
      empty={(result) => (result.heatmap.every((row) => row.every((cell) => cell.calls === 0)) ? 'No calls in this range.' : null)}
      controls={
        <div className="tally-field tally-field--inline">
          <label className="tally-field__label" htmlFor={selectId}>
            Show
          </label>
          <select
            id={selectId}
            className="tally-input"
            value={measure}
            onChange={(event) => setMeasure(event.currentTarget.value as Measure)}
          >
            <option value="calls">Calls</option>
            <option value="tokens">Tokens</option>
          </select>
        </div>
      }
      chart={(result) => {
        let max = 0n;
        for (const cell of result.heatmap.flat()) if (value(cell, measure) > max) max = value(cell, measure);
        const days = weekdays(locale, 'short');
        const hourNames = hours(locale);
        return (
          <div className="tally-admin-heatmap__chart">
            <div className="tally-admin-heatmap__grid">
              <span />
              {hourNames.map((hour, h) => (
                <span key={hour} className="tally-admin-heatmap__hour">
                  {h % 6 === 0 ? hour.slice(0, 2) : ''}
                </span>
              ))}
              {result.heatmap.map((row, d) => (
                <div key={days[d]} className="tally-admin-heatmap__row">
                  <span className="tally-admin-heatmap__day">{days[d]}</span>
                  {row.map((cell, h) => (
                    <span
                      key={hourNames[h]}
                      className="tally-admin-heatmap__cell"
                      data-level={heatLevel(value(cell, measure), max)}
                      title={`${days[d]} ${hourNames[h]}: ${formatBigCount(value(cell, measure), locale)} ${noun}`}
                    />
                  ))}
                </div>
              ))}
            </div>
            <div className="tally-admin-heatmap__legend">
              <span className="tally-muted">Fewer</span>
              {[0, 1, 2, 3, 4].map((level) => (
                <span key={level} className="tally-admin-heatmap__cell" data-level={level} />
              ))}
              <span className="tally-muted">
                More (busiest hour: {formatBigCount(max, locale)} {noun})
              </span>
            </div>
          </div>
        );
      }}
      table={(result, captionId) => {
        const days = weekdays(locale, 'long');
        const hourNames = hours(locale);
        return (
          <table className="tally-admin-table tally-admin-heatmap__table">
            <Caption id={captionId}>{measure === 'calls' ? 'Calls' : 'Tokens'} by weekday and hour, UTC</Caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {hourNames.map((hour) => (
                  <th key={hour} scope="col" data-align="end">
                    {hour}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.heatmap.map((row, d) => (
                <tr key={days[d]}>
                  <th scope="row">{days[d]}</th>
                  {row.map((cell, h) => (
                    <td key={hourNames[h]} data-align="end">
                      {formatBigCount(value(cell, measure), locale)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    />
  );
}
