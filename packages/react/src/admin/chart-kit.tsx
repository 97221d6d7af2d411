import type { ReactElement, ReactNode } from 'react';
import { ResponsiveContainer, type TooltipContentProps } from 'recharts';

/**
 * What the analytics charts share: colours from CSS variables (styles.css sets them per theme, so
 * dark mode needs nothing here), axis styling, an HTML legend that wraps on a phone, and a tooltip
 * whose text comes from the exact values, never from the plotted numbers.
 */

/** Series colours: `--tally-chart-*`, defined on the widget so they follow the theme it sits in. */
export const COLORS = {
  accent: 'var(--tally-chart-accent)',
  positive: 'var(--tally-chart-positive)',
  negative: 'var(--tally-chart-negative)',
  warning: 'var(--tally-chart-warning)',
  teal: 'var(--tally-chart-teal)',
  violet: 'var(--tally-chart-violet)',
  neutral: 'var(--tally-chart-neutral)',
  line: 'var(--tally-chart-line)',
} as const;

export const AXIS = {
  stroke: 'var(--tally-color-border)',
  tick: { fill: 'var(--tally-color-muted)', fontSize: 12 },
  tickLine: false,
} as const;

export const GRID = { stroke: 'var(--tally-color-border)', strokeDasharray: '3 3' } as const;

/** The chart at the card's width (measured, so a phone never scrolls sideways) and a fixed height. */
export function ChartBox({ height = 260, children }: { height?: number; children: ReactElement }) {
  return (
    <ResponsiveContainer width="100%" height={height} minWidth={0}>
      {children}
    </ResponsiveContainer>
  );
}

export interface LegendItem {
  label: string;
  color: string;
  /** A line series is drawn as a stroke, a bar series as a square. Default `bar`. */
  shape?: 'bar' | 'line';
}

export function ChartLegend({ items }: { items: LegendItem[] }) {
  return (
    <ul className="tally-admin-legend">
      {items.map((item) => (
        <li key={item.label}>
          <span className="tally-admin-legend__swatch" data-shape={item.shape ?? 'bar'} style={{ background: item.color }} />
          {item.label}
        </li>
      ))}
    </ul>
  );
}

export interface TooltipLine {
  label: string;
  value: string;
  color?: string;
}

/**
 * A tooltip renderer: `describe(index)` gives the title and lines of the data row under the
 * pointer (each row carries its index as `i`), formatted from the exact result.
 */
export function tooltipContent(describe: (index: number) => { title: string; lines: TooltipLine[] }) {
  return ({ active, payload }: TooltipContentProps): ReactNode => {
    const row = payload?.[0]?.payload as { i?: number } | undefined;
    if (!active || row?.i === undefined) return null;
    const { title, lines } = describe(row.i);
    return (
      <div className="tally-admin-tooltip">
        <p className="tally-admin-tooltip__title">{title}</p>
        <dl>
          {lines.map((line) => (
            <div key={line.label}>
              <dt>
                {line.color ? <span className="tally-admin-legend__swatch" style={{ background: line.color }} /> : null}
                {line.label}
              </dt>
              <dd>{line.value}</dd>
            </div>
          ))}
        </dl>
      </div>
    );
  };
}
