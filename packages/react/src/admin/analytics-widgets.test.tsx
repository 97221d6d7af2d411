// @vitest-environment happy-dom

import { divideRoundHalfUp, formatCredits, formatMoney, type MetricName, type MetricResult } from '@tally/core';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatBps } from '../format/amounts.js';
import { createFakeClient, type SampleAnalytics, sampleAnalytics, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { ChurnChart } from './churn-chart.js';
import { CustomersChart } from './customers-chart.js';
import { FunnelChart } from './funnel-chart.js';
import { MarginTable } from './margin-table.js';
import { MrrChart } from './mrr-chart.js';
import type { AnalyticsRange } from './range.js';
import { RetentionTable } from './retention-table.js';
import { TopCustomersTable } from './top-customers-table.js';
import { UsageByModel } from './usage-by-model.js';
import { UsageHeatmap } from './usage-heatmap.js';
import { UsageSplit } from './usage-split.js';
import { UtilizationBars } from './utilization-bars.js';

/**
 * Every widget's table against the exact result `computeMetric` gives over seeded sample data (the
 * fake client sends it as the API's JSON): each number in its place, formatted exactly, with the
 * bigint itself in `<data value>`.
 */

afterEach(cleanup);

const DAY_MS = 86_400_000;
const START = new Date('2026-08-03T00:00:00.000Z');
const DAYS = 75;
const RANGE: AnalyticsRange = { from: START, to: new Date(START.getTime() + DAYS * DAY_MS), granularity: 'week' };

let sample: SampleAnalytics;
beforeAll(async () => {
  sample = await sampleAnalytics({ seed: 11, customers: 45, days: DAYS, start: START });
});

function expected<M extends MetricName>(metric: M, range: AnalyticsRange = RANGE, limit?: number): Promise<MetricResult<M>> {
  return sample.metric({ metric, ...range, ...(limit === undefined ? {} : { limit }) });
}

function render(ui: React.ReactElement) {
  return renderWithTally(ui, createFakeClient({ ...starterState(), metrics: (query) => sample.metric(query) }));
}

/** The table's body rows as the text of their cells (row header first). */
async function bodyRows(name: RegExp): Promise<string[][]> {
  const table = await screen.findByRole('table', { name });
  return Array.from(table.querySelectorAll('tbody tr'), (row) =>
    Array.from(row.querySelectorAll('th, td'), (cell) => cell.textContent ?? ''),
  );
}

/** Every `<data value>` in the table's body, row by row. */
function dataValues(name: RegExp): string[][] {
  const table = screen.getByRole('table', { name });
  return Array.from(table.querySelectorAll('tbody tr'), (row) =>
    Array.from(row.querySelectorAll('data'), (data) => data.getAttribute('value') ?? ''),
  );
}

const usd = (amount: bigint) => formatMoney({ currency: 'USD', amount });
const credits = (micros: bigint) => formatCredits(micros);
const nanoUsd = (nano: bigint) => usd(divideRoundHalfUp(nano, 10_000_000n));
const pct = (bps: number | null) => (bps === null ? '—none' : formatBps(bps));
const count = (n: number | bigint) => n.toLocaleString('en-US');

describe('analytics widgets show the exact numbers of computeMetric', () => {
  it('MrrChart: every movement, net, MRR and growth per bucket, and MRR/ARR above', async () => {
    const result = await expected('mrr');
    // The sample data has paying customers (subscription history), so there is MRR to show.
    expect(result.points.some((p) => p.mrr > 0n)).toBe(true);
    render(<MrrChart range={RANGE} defaultView="table" />);
    const rows = await bodyRows(/MRR movements by week/);
    expect(rows).toEqual(
      result.points.map((p) => [
        expect.any(String),
        usd(p.new),
        usd(p.expansion),
        usd(p.reactivation),
        usd(-p.contraction),
        usd(-p.churn),
        usd(p.net),
        usd(p.mrr),
        pct(p.growthBps),
      ]),
    );
    const times = screen.getAllByRole('rowheader').map((th) => th.querySelector('time')?.getAttribute('datetime'));
    expect(times).toEqual(result.points.map((p) => p.start.toISOString()));
    const last = result.points[result.points.length - 1];
    const summary = screen.getByText('ARR').closest('dl') as HTMLElement;
    expect(within(summary).getByText(usd(last?.arr ?? 0n))).toBeTruthy();
    expect(dataValues(/MRR movements/)[0]).toEqual(
      [
        result.points[0]?.new,
        result.points[0]?.expansion,
        result.points[0]?.reactivation,
        -(result.points[0]?.contraction ?? 0n),
        -(result.points[0]?.churn ?? 0n),
        result.points[0]?.net,
        result.points[0]?.mrr,
      ]
        .map(String)
        .concat(result.points[0]?.growthBps === null ? [] : [String(result.points[0]?.growthBps)]),
    );
  });

  it('CustomersChart: sign-ups, active and total per bucket', async () => {
    const result = await expected('customers');
    expect(result.points.some((p) => p.signUps > 0 && p.active > 0)).toBe(true);
    render(<CustomersChart range={RANGE} />);
    // In the chart view the table is still there, for screen readers.
    expect(await bodyRows(/Customers by week/)).toEqual(
      result.points.map((p) => [expect.any(String), count(p.signUps), count(p.active), count(p.total)]),
    );
  });

  it('ChurnChart: logo and revenue churn with their numerators and denominators', async () => {
    const range = { ...RANGE, granularity: 'month' as const };
    const result = await expected('churn', range);
    expect(result.points.some((p) => p.payingAtStart > 0)).toBe(true);
    render(<ChurnChart range={range} defaultView="table" />);
    expect(await bodyRows(/Churn by month/)).toEqual(
      result.points.map((p) => [
        expect.any(String),
        count(p.payingAtStart),
        count(p.churnedCustomers),
        pct(p.logoChurnBps),
        usd(p.mrrAtStart),
        usd(p.lostMrr),
        pct(p.revenueChurnBps),
      ]),
    );
  });

  it('RetentionTable: each cohort and its share still paying, shaded by that share', async () => {
    const result = await expected('retention');
    expect(result.cohorts.some((c) => c.customers > 0)).toBe(true);
    render(<RetentionTable range={RANGE} />);
    const rows = await bodyRows(/Cohorts by the week/);
    expect(rows).toEqual(
      result.cohorts.map((cohort) => [
        expect.any(String),
        count(cohort.customers),
        ...result.cohorts.map((_, k) => {
          const period = cohort.periods[k];
          return period ? `${pct(period.retainedBps)}, ${count(period.retained)} still paying` : '';
        }),
      ]),
    );
    const shaded = Array.from(document.querySelectorAll('td[data-level]'), (td) => Number(td.getAttribute('data-level')));
    expect(shaded).toEqual(
      result.cohorts.flatMap((c) =>
        c.periods
          .filter((p) => p.retainedBps !== null)
          .map((p) => [2000, 4000, 6000, 8000].filter((step) => (p.retainedBps ?? 0) >= step).length),
      ),
    );
  });

  it('FunnelChart: sign-ups, then each tier reached with its conversion', async () => {
    const result = await expected('funnel');
    expect(result.created).toBeGreaterThan(0);
    render(<FunnelChart range={RANGE} tierNames={{ professional: 'Pro' }} defaultView="table" />);
    expect(await bodyRows(/how many reached each tier/)).toEqual([
      ['Signed up', count(result.created), '—none'],
      ...result.steps.map((step) => [
        step.tier === 'professional' ? 'Pro' : step.tier[0]?.toUpperCase() + step.tier.slice(1),
        count(step.customers),
        pct(step.conversionBps),
      ]),
    ]);
  });

  it('UsageHeatmap: seven rows from Monday of 24 UTC hours, calls or tokens', async () => {
    const result = await expected('usage');
    render(<UsageHeatmap range={RANGE} defaultView="table" />);
    const rows = await bodyRows(/Calls by weekday and hour, UTC/);
    expect(rows.map((row) => row[0])).toEqual(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']);
    expect(rows.map((row) => row.slice(1))).toEqual(result.heatmap.map((day) => day.map((cell) => count(cell.calls))));
    expect(result.heatmap.flat().some((cell) => cell.calls > 0)).toBe(true);
    fireEvent.change(screen.getByRole('combobox', { name: 'Show' }), { target: { value: 'tokens' } });
    const tokens = await bodyRows(/Tokens by weekday and hour, UTC/);
    expect(tokens.map((row) => row.slice(1))).toEqual(result.heatmap.map((day) => day.map((cell) => count(cell.tokens))));
  });

  it('UsageByModel and UsageSplit: per model, and free/paid and BYOK/managed with shares', async () => {
    const result = await expected('usage');
    expect(result.byModel.length).toBeGreaterThan(1);
    const { client } = renderWithTally(
      <>
        <UsageByModel range={RANGE} defaultView="table" />
        <UsageSplit range={RANGE} defaultView="table" />
      </>,
      createFakeClient({ ...starterState(), metrics: (query) => sample.metric(query) }),
    );
    expect(await bodyRows(/Calls per model/)).toEqual(
      result.byModel.map((line) => [
        line.model,
        count(line.calls),
        count(line.tokens),
        nanoUsd(line.providerCostNanoUsd),
        `${credits(line.creditsMicros)} credits`,
      ]),
    );
    expect(dataValues(/Calls per model/)).toEqual(
      result.byModel.map((line) => [String(line.providerCostNanoUsd), String(line.creditsMicros)]),
    );
    const { free, paid, byok, managed } = result.split;
    const calls = free.calls + paid.calls;
    const tokens = free.tokens + paid.tokens;
    const share = (part: bigint | number, whole: bigint | number) =>
      formatBps(Number((BigInt(part) * 20_000n + BigInt(whole)) / (2n * BigInt(whole))));
    expect(await bodyRows(/Calls and tokens of free and paid/)).toEqual(
      [
        ['Free models', free],
        ['Paid models', paid],
        ['Own key (BYOK)', byok],
        ['Platform key', managed],
      ].map(([label, part]) => {
        const counts = part as typeof free;
        return [label, count(counts.calls), share(counts.calls, calls), count(counts.tokens), share(counts.tokens, tokens)];
      }),
    );
    // Both widgets read the same query: one request.
    expect(client.calls.filter((call) => call.startsWith('metric:'))).toHaveLength(1);
  });

  it('MarginTable: by model, tier and customer, with the total at the foot', async () => {
    const result = await expected('margin');
    expect(result.total.calls).toBeGreaterThan(0);
    render(<MarginTable range={RANGE} />);
    const line = (l: (typeof result)['total']) => [
      count(l.calls),
      credits(l.creditsMicros),
      nanoUsd(l.revenueNanoUsd),
      nanoUsd(l.costNanoUsd),
      nanoUsd(l.marginNanoUsd),
      pct(l.marginBps),
    ];
    expect(await bodyRows(/Margin by model/)).toEqual(result.byModel.map((l) => [l.model, ...line(l)]));
    const foot = screen.getByRole('table').querySelector('tfoot tr') as HTMLElement;
    expect(Array.from(foot.querySelectorAll('th, td'), (cell) => cell.textContent)).toEqual(['Total', ...line(result.total)]);
    fireEvent.change(screen.getByRole('combobox', { name: 'By' }), { target: { value: 'tier' } });
    expect(await bodyRows(/Margin by tier/)).toEqual(result.byTier.map((l) => [l.tier[0]?.toUpperCase() + l.tier.slice(1), ...line(l)]));
    fireEvent.change(screen.getByRole('combobox', { name: 'By' }), { target: { value: 'customer' } });
    expect(await bodyRows(/Margin by customer/)).toEqual(result.byCustomer.map((l) => [l.customerId, ...line(l)]));
  });

  it('UtilizationBars: granted, used and expired allowance per tier', async () => {
    const result = await expected('utilization');
    expect(result.tiers.some((t) => t.grantedMicros > 0n)).toBe(true);
    render(<UtilizationBars range={RANGE} defaultView="table" />);
    expect(await bodyRows(/Allowance granted in the range per tier/)).toEqual(
      result.tiers.map((t) => [
        t.tier[0]?.toUpperCase() + t.tier.slice(1),
        credits(t.grantedMicros),
        credits(t.consumedMicros),
        credits(t.expiredMicros),
        pct(t.utilizationBps),
      ]),
    );
  });

  it('TopCustomersTable: the top customers by credits, asking for the limit', async () => {
    const result = await expected('top-customers', RANGE, 5);
    expect(result.customers).toHaveLength(5);
    const { client } = renderWithTally(
      <TopCustomersTable range={RANGE} limit={5} />,
      createFakeClient({ ...starterState(), metrics: (query) => sample.metric(query) }),
    );
    expect(await bodyRows(/customers charged the most credits/)).toEqual(
      result.customers.map((c, i) => [
        `${i + 1}. ${c.customerId}`,
        c.tier[0]?.toUpperCase() + c.tier.slice(1),
        credits(c.creditsMicros),
        count(c.calls),
        nanoUsd(c.providerCostNanoUsd),
      ]),
    );
    expect(client.calls.find((call) => call.startsWith('metric:'))).toContain('"limit":5');
  });
});
