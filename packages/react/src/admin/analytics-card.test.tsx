// @vitest-environment happy-dom

import { formatMoney, type MetricResult } from '@tally/core';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tallyKeys } from '../provider/keys.js';
import { createFakeClient, type SampleAnalytics, sampleAnalytics, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { AnalyticsDashboard } from './analytics-dashboard.js';
import type { AnalyticsView } from './card.js';
import { CustomersChart } from './customers-chart.js';
import { useMetric } from './hooks.js';
import { MrrChart } from './mrr-chart.js';
import { type AnalyticsRange, endOfUtcDay, lastDays, metricRequest } from './range.js';
import { AnalyticsRangePicker } from './range-picker.js';
import { retentionLevel } from './retention-table.js';
import { heatLevel } from './usage-heatmap.js';

afterEach(cleanup);

const DAY_MS = 86_400_000;
const START = new Date('2026-08-03T00:00:00.000Z');
const RANGE: AnalyticsRange = { from: START, to: new Date(START.getTime() + 60 * DAY_MS), granularity: 'week' };
/** Before the first sample customer: nothing to show. */
const BEFORE: AnalyticsRange = {
  from: new Date('2026-01-05T00:00:00.000Z'),
  to: new Date('2026-02-02T00:00:00.000Z'),
  granularity: 'week',
};

let sample: SampleAnalytics;
beforeAll(async () => {
  sample = await sampleAnalytics({ seed: 5, customers: 30, days: 60, start: START });
});

const adminClient = () => createFakeClient({ ...starterState(), metrics: (query) => sample.metric(query) });

/** CustomersChart with its view held by the caller. */
function ControlledView({ onChange }: { onChange: (view: AnalyticsView) => void }) {
  const [view, setView] = useState<AnalyticsView>('table');
  return (
    <CustomersChart
      range={RANGE}
      view={view}
      onViewChange={(next) => {
        onChange(next);
        setView(next);
      }}
    />
  );
}

/** Reports every result `useMetric` gives. */
function MrrProbe({ onData }: { onData: (data: MetricResult<'mrr'>) => void }) {
  const query = useMetric(metricRequest('mrr', RANGE));
  if (query.data) onData(query.data);
  return null;
}

describe('the analytics card', () => {
  it('draws the chart hidden from assistive tech and keeps the table for screen readers; the toggle shows the table', async () => {
    const { container } = renderWithTally(<CustomersChart range={RANGE} />, adminClient());
    const toggle = await screen.findByRole('button', { name: 'Table view of Customers' });
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    const chart = container.querySelector('.tally-admin-chart') as HTMLElement;
    expect(chart.getAttribute('aria-hidden')).toBe('true');
    // The table is there, visually hidden, and not in a scroll box.
    const table = screen.getByRole('table', { name: /Customers by week/ });
    expect(table.closest('.tally-visually-hidden')).toBeTruthy();
    expect(screen.queryByRole('region', { name: /Customers by week/ })).toBeNull();

    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(container.querySelector('.tally-admin-chart')).toBeNull();
    const region = screen.getByRole('region', { name: /Customers by week/ });
    expect(region.getAttribute('tabindex')).toBe('0');
    expect(within(region).getByRole('table').closest('.tally-visually-hidden')).toBeNull();

    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(container.querySelector('.tally-admin-chart')).toBeTruthy();
  });

  it('can be controlled: view and onViewChange', async () => {
    const changes: AnalyticsView[] = [];
    renderWithTally(<ControlledView onChange={(next) => changes.push(next)} />, adminClient());
    const toggle = await screen.findByRole('button', { name: 'Table view of Customers' });
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(toggle);
    expect(changes).toEqual(['chart']);
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
  });

  it('shows a loading state, then the numbers', async () => {
    const client = adminClient();
    const release = client.hold('metric');
    renderWithTally(<CustomersChart range={RANGE} />, client);
    const status = screen.getByRole('status');
    expect(status.textContent).toContain('Loading Customers…');
    expect(status.getAttribute('aria-busy')).toBe('true');
    expect(screen.queryByRole('button', { name: /Table view/ })).toBeNull();
    release();
    expect(await screen.findByRole('table')).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('says what failed and retries', async () => {
    const client = adminClient();
    client.fail('metric', 'INTERNAL');
    renderWithTally(<CustomersChart range={RANGE} />, client);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Customers could not be loaded.');
    expect(alert.textContent).toContain('Something went wrong on our side');
    client.heal('metric');
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table')).toBeTruthy();
  });

  it("refuses a customer's client: FORBIDDEN, said in words", async () => {
    renderWithTally(<MrrChart range={RANGE} />, createFakeClient());
    expect((await screen.findByRole('alert')).textContent).toContain('You are not allowed to do this.');
  });

  it('has an empty state for a range without data', async () => {
    renderWithTally(
      <>
        <CustomersChart range={BEFORE} />
        <MrrChart range={BEFORE} />
      </>,
      adminClient(),
    );
    expect(await screen.findByText('No customers in this range yet.')).toBeTruthy();
    expect(await screen.findByText('No recurring revenue in this range yet.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByRole('button', { name: /Table view/ })).toBeNull();
  });

  it('formats amounts far beyond 2^53 exactly, from the bigints on the wire', async () => {
    const exact = await sample.metric({ metric: 'mrr', ...RANGE });
    // Every amount scaled past what a float holds; a float anywhere would lose the trailing 1.
    const huge = (value: bigint) => (value === 0n ? 0n : value * 2n ** 64n + 1n);
    const scaled: MetricResult<'mrr'> = {
      ...exact,
      points: exact.points.map((p) => ({
        ...p,
        mrrAtStart: huge(p.mrrAtStart),
        mrr: huge(p.mrr),
        arr: huge(p.arr),
        new: huge(p.new),
        expansion: huge(p.expansion),
        contraction: huge(p.contraction),
        churn: huge(p.churn),
        reactivation: huge(p.reactivation),
        net: huge(p.net),
      })),
    };
    const point = scaled.points.find((p) => p.mrr > 0n);
    expect(point).toBeDefined();
    renderWithTally(<MrrChart range={RANGE} defaultView="table" />, createFakeClient({ ...starterState(), metrics: () => scaled }));
    const table = await screen.findByRole('table');
    const mrrCells = Array.from(table.querySelectorAll('tbody tr'), (row) => row.querySelectorAll('td')[6] as HTMLElement);
    expect(mrrCells.map((cell) => cell.querySelector('data')?.getAttribute('value'))).toEqual(scaled.points.map((p) => p.mrr.toString()));
    expect(mrrCells.map((cell) => cell.textContent)).toEqual(scaled.points.map((p) => formatMoney({ currency: 'USD', amount: p.mrr })));
    expect(mrrCells.some((cell) => cell.textContent?.endsWith('.01'))).toBe(true);
  });
});

describe('useMetric', () => {
  it('decodes the wire JSON into the exact result: bigints and Dates', async () => {
    const seen: Array<MetricResult<'mrr'>> = [];
    const client = adminClient();
    renderWithTally(<MrrProbe onData={(data) => seen.push(data)} />, client);
    await waitFor(() => expect(seen.length).toBeGreaterThan(0));
    expect(seen[0]).toEqual(await sample.metric({ metric: 'mrr', ...RANGE }));
    expect(typeof seen[0]?.points[0]?.mrr).toBe('bigint');
    expect(seen[0]?.points[0]?.start).toBeInstanceOf(Date);
    expect(client.calls).toEqual([
      `metric:${JSON.stringify({ metric: 'mrr', from: RANGE.from.toISOString(), to: RANGE.to.toISOString(), granularity: 'week' })}`,
    ]);
  });

  it('keys each query under tally/admin/analytics, so one invalidation refreshes every widget', () => {
    const request = metricRequest('top-customers', RANGE, 5);
    expect(tallyKeys.adminMetric(request)).toEqual(['tally', 'admin', 'analytics', 'top-customers', request]);
    expect(tallyKeys.adminMetric(request).slice(0, 3)).toEqual([...tallyKeys.adminAnalytics]);
  });
});

describe('AnalyticsRangePicker', () => {
  const now = new Date('2026-11-20T15:00:00.000Z');

  it('offers ranges ending today (UTC) and the bucket size', () => {
    const onChange = vi.fn();
    render(<AnalyticsRangePicker value={lastDays(30, now)} onChange={onChange} now={now} />);
    const range = screen.getByRole('combobox', { name: 'Range' }) as HTMLSelectElement;
    expect(range.value).toBe('30d');
    fireEvent.change(range, { target: { value: '90d' } });
    expect(onChange).toHaveBeenLastCalledWith({
      from: new Date('2026-08-23T00:00:00.000Z'),
      to: new Date('2026-11-21T00:00:00.000Z'),
      granularity: 'day',
    });
    fireEvent.change(screen.getByRole('combobox', { name: 'Group by' }), { target: { value: 'month' } });
    expect(onChange).toHaveBeenLastCalledWith({ ...lastDays(30, now), granularity: 'month' });
    expect(endOfUtcDay(now)).toEqual(new Date('2026-11-21T00:00:00.000Z'));
  });

  it('takes dates of its own, both days included, and never lets the range turn empty', () => {
    const onChange = vi.fn();
    const value: AnalyticsRange = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-10-01T00:00:00Z'), granularity: 'week' };
    render(<AnalyticsRangePicker value={value} onChange={onChange} now={now} />);
    expect((screen.getByRole('combobox', { name: 'Range' }) as HTMLSelectElement).value).toBe('custom');
    const to = screen.getByLabelText('To (included)') as HTMLInputElement;
    expect(to.value).toBe('2026-09-30');
    fireEvent.change(to, { target: { value: '2026-10-15' } });
    expect(onChange).toHaveBeenLastCalledWith({ ...value, to: new Date('2026-10-16T00:00:00Z') });
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-10-20' } });
    expect(onChange).toHaveBeenLastCalledWith({ ...value, from: new Date('2026-10-20T00:00:00Z'), to: new Date('2026-10-21T00:00:00Z') });
    onChange.mockClear();
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '' } });
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe('AnalyticsDashboard', () => {
  it('shows every widget under one range picker, and asks again when the range changes', async () => {
    const client = adminClient();
    renderWithTally(<AnalyticsDashboard defaultRange={{ ...RANGE, granularity: 'day' }} />, client);
    expect(screen.getByRole('heading', { name: 'Analytics', level: 2 })).toBeTruthy();
    for (const title of ['MRR', 'Customers', 'Churn', 'Tier funnel', 'Allowance used', 'Retention', 'Margin', 'Top customers']) {
      expect(screen.getByRole('heading', { name: title })).toBeTruthy();
    }
    expect(screen.getAllByRole('combobox', { name: 'Group by' })).toHaveLength(1);
    await waitFor(() => expect(client.calls.filter((call) => call.startsWith('metric:'))).toHaveLength(9));
    const asked = () => client.calls.filter((call) => call.startsWith('metric:')).map((call) => JSON.parse(call.slice('metric:'.length)));
    // The three usage widgets share one request; retention is by week when the range is by day.
    expect(asked().find((q) => q.metric === 'retention')?.granularity).toBe('week');
    expect(asked().find((q) => q.metric === 'mrr')?.granularity).toBe('day');
    await act(async () => {
      fireEvent.change(screen.getByRole('combobox', { name: 'Group by' }), { target: { value: 'month' } });
    });
    await waitFor(() =>
      expect(
        asked()
          .filter((q) => q.metric === 'mrr')
          .map((q) => q.granularity),
      ).toEqual(['day', 'month']),
    );
  });
});

describe('shading', () => {
  it('steps the heatmap by the share of the busiest hour, in integers', () => {
    expect([0n, 1n, 25n, 26n, 50n, 51n, 99n, 100n].map((n) => heatLevel(n, 100n))).toEqual([0, 1, 1, 2, 2, 3, 4, 4]);
    expect(heatLevel(2n ** 80n, 2n ** 80n)).toBe(4);
    expect(heatLevel(1n, 2n ** 80n)).toBe(1);
    expect(heatLevel(0n, 0n)).toBe(0);
  });

  it('steps retention by 20 % of the cohort', () => {
    expect([null, 0, 1999, 2000, 5999, 6000, 8000, 10_000].map(retentionLevel)).toEqual([null, 0, 0, 1, 2, 3, 4, 4]);
  });
});
