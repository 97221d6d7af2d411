import { GRANULARITIES, type Granularity } from '@tally/core';
import { useId, useState } from 'react';
import { cx } from '../primitive/class-names.js';
import { type AnalyticsRange, DAY_MS, dayValue, lastDays, matchPreset, parseDay, RANGE_PRESETS, type RangePresetId } from './range.js';

export interface AnalyticsRangePickerProps {
  value: AnalyticsRange;
  onChange: (range: AnalyticsRange) => void;
  /** The day the presets end with (UTC). Default: now. */
  now?: Date;
  className?: string;
}

const GRANULARITY_LABELS: Record<Granularity, string> = { day: 'Day', week: 'Week (from Monday)', month: 'Month' };

/**
 * The range and bucket size of analytics: a preset ending today (UTC) or two dates of one's own
 * (both days included), and day, week or month buckets.
 */
export function AnalyticsRangePicker({ value, onChange, now, className }: AnalyticsRangePickerProps) {
  const [today] = useState(() => now ?? new Date());
  const preset = matchPreset(value, now ?? today);
  const [custom, setCustom] = useState(preset === null);
  const ids = { range: useId(), from: useId(), to: useId(), granularity: useId() };
  const lastDay = new Date(value.to.getTime() - DAY_MS);

  const setFrom = (input: string) => {
    const from = parseDay(input);
    if (!from) return;
    // A start after the end moves the end along, so the range is never empty.
    const to = from.getTime() < value.to.getTime() ? value.to : new Date(from.getTime() + DAY_MS);
    onChange({ ...value, from, to });
  };
  const setTo = (input: string) => {
    const day = parseDay(input);
    if (!day) return;
    const to = new Date(day.getTime() + DAY_MS);
    const from = value.from.getTime() < to.getTime() ? value.from : day;
    onChange({ ...value, from, to });
  };

  return (
    <fieldset className={cx('tally-admin-range', className)}>
      <legend className="tally-visually-hidden">Range and grouping</legend>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={ids.range}>
          Range
        </label>
        <select
          id={ids.range}
          className="tally-input"
          value={custom ? 'custom' : (preset ?? 'custom')}
          onChange={(event) => {
            const id = event.currentTarget.value as RangePresetId | 'custom';
            const chosen = RANGE_PRESETS.find((p) => p.id === id);
            setCustom(!chosen);
            if (chosen) onChange(lastDays(chosen.days, now ?? today, value.granularity));
          }}
        >
          {RANGE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Dates of my own</option>
        </select>
      </div>
      {custom ? (
        <>
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={ids.from}>
              From
            </label>
            <input
              id={ids.from}
              className="tally-input"
              type="date"
              value={dayValue(value.from)}
              max={dayValue(lastDay)}
              onChange={(event) => setFrom(event.currentTarget.value)}
            />
          </div>
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={ids.to}>
              To (included)
            </label>
            <input
              id={ids.to}
              className="tally-input"
              type="date"
              value={dayValue(lastDay)}
              min={dayValue(value.from)}
              onChange={(event) => setTo(event.currentTarget.value)}
            />
          </div>
        </>
      ) : null}
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={ids.granularity}>
          Group by
        </label>
        <select
          id={ids.granularity}
          className="tally-input"
          value={value.granularity}
          onChange={(event) => onChange({ ...value, granularity: event.currentTarget.value as Granularity })}
        >
          {GRANULARITIES.map((g) => (
            <option key={g} value={g}>
              {GRANULARITY_LABELS[g]}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  );
}
