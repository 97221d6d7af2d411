import type { Granularity, MetricName, MetricResult } from '@tally/core';
import { type ReactNode, useId } from 'react';
import { cx } from '../primitive/class-names.js';
import { useControllableState } from '../primitive/controllable-state.js';
import { useTally } from '../provider/provider.js';
import type { TallyQueryResult } from '../provider/query.js';
import { EmptyState, ErrorState, LoadingState } from '../status/status-views.js';
import { BucketTime, periodHeading, rangeLabel } from './format.js';

/** `chart` draws the numbers; `table` lists them. Screen readers always get the table. */
export type AnalyticsView = 'chart' | 'table';

/** What every analytics widget takes besides its range. */
export interface AnalyticsWidgetProps {
  /** The heading. Each widget has its own default. */
  title?: string;
  className?: string;
}

/** What a widget with a chart takes: the view, controlled (`view` + `onViewChange`) or not (`defaultView`). */
export interface AnalyticsChartProps extends AnalyticsWidgetProps {
  view?: AnalyticsView;
  /** Default `chart`. */
  defaultView?: AnalyticsView;
  onViewChange?: (view: AnalyticsView) => void;
}

export interface MetricCardProps<M extends MetricName> {
  title: string;
  className: string;
  query: TallyQueryResult<MetricResult<M>>;
  /** Read by screen readers while loading, e.g. "Loading MRR…". */
  loadingLabel: string;
  /** Whether the result has nothing to show, and what to say then. */
  empty: (result: MetricResult<M>) => string | null;
  /** Controls of the widget's own (a select), shown under the heading. */
  controls?: ReactNode;
  /** Headline numbers above the chart or table. */
  summary?: (result: MetricResult<M>) => ReactNode;
  /** The chart; a widget without one is a table only (no toggle). */
  chart?: (result: MetricResult<M>) => ReactNode;
  /** The table, captioned by `captionId`. */
  table: (result: MetricResult<M>, captionId: string) => ReactNode;
  view?: AnalyticsChartProps;
}

/**
 * The frame of every analytics widget: a titled card with loading, error (with a retry) and empty
 * states; the chart (hidden from assistive tech) with its table kept for screen readers, or the
 * table on screen, switched by a toggle button (`aria-pressed`). A table scrolls inside its own box,
 * never the page.
 */
export function MetricCard<M extends MetricName>({
  title,
  className,
  query,
  loadingLabel,
  empty,
  controls,
  summary,
  chart,
  table,
  view: viewProps = {},
}: MetricCardProps<M>) {
  const { locale } = useTally();
  const titleId = useId();
  const captionId = useId();
  const [view, setView] = useControllableState<AnalyticsView>({
    prop: viewProps.view,
    defaultProp: viewProps.defaultView ?? 'chart',
    onChange: viewProps.onViewChange,
  });
  const result = query.data;
  const nothing = result ? empty(result) : null;
  const showTable = !chart || view === 'table';

  let body: ReactNode;
  if (query.status === 'loading') body = <LoadingState label={loadingLabel} lines={4} />;
  else if (!result) body = <ErrorState error={query.error} title={`${title} could not be loaded.`} onRetry={query.refetch} />;
  else if (nothing !== null) body = <EmptyState>{nothing}</EmptyState>;
  else if (showTable) {
    body = (
      <>
        {summary?.(result)}
        {/* Focusable, so a keyboard can scroll a table wider than the screen. */}
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard */}
        <section className="tally-admin-scroll" aria-labelledby={captionId} tabIndex={0}>
          {table(result, captionId)}
        </section>
      </>
    );
  } else {
    body = (
      <>
        {summary?.(result)}
        <div className="tally-admin-chart" aria-hidden="true">
          {chart(result)}
        </div>
        <div className="tally-visually-hidden">{table(result, captionId)}</div>
      </>
    );
  }

  return (
    <section
      className={cx('tally-card tally-admin-card', className)}
      aria-labelledby={titleId}
      aria-busy={query.fetching || undefined}
      data-view={chart ? view : 'table'}
    >
      <div className="tally-admin-card__header">
        <div className="tally-admin-card__heading">
          <h2 id={titleId} className="tally-card__title">
            {title}
          </h2>
          {result ? <p className="tally-muted tally-admin-card__range">{rangeLabel(result.from, result.to, locale)} (UTC)</p> : null}
        </div>
        {chart && result && nothing === null ? (
          <button
            type="button"
            className="tally-button tally-admin-toggle"
            data-variant="secondary"
            aria-pressed={view === 'table'}
            onClick={() => setView(view === 'table' ? 'chart' : 'table')}
          >
            Table<span className="tally-visually-hidden"> view of {title}</span>
          </button>
        ) : null}
      </div>
      {controls}
      {body}
    </section>
  );
}

/** A table caption: what the rows are, over which range and bucket size. */
export function Caption({ id, children }: { id: string; children: ReactNode }) {
  return (
    <caption id={id} className="tally-admin-table__caption">
      {children}
    </caption>
  );
}

/** A column of a `BucketTable`: its heading and what each bucket's row shows in it (numbers, end-aligned). */
export interface BucketColumn<P> {
  heading: string;
  cell: (point: P) => ReactNode;
}

/** The table view of a metric per bucket: one row per bucket (its period as the row header), one column per number. */
export function BucketTable<P extends { start: Date }>({
  captionId,
  caption,
  granularity,
  points,
  columns,
  locale,
}: {
  captionId: string;
  caption: ReactNode;
  granularity: Granularity;
  points: readonly P[];
  columns: ReadonlyArray<BucketColumn<P>>;
  locale: string;
}) {
  return (
    <table className="tally-admin-table">
      <Caption id={captionId}>{caption}</Caption>
      <thead>
        <tr>
          <th scope="col">{periodHeading(granularity)}</th>
          {columns.map((column) => (
            <th key={column.heading} scope="col" data-align="end">
              {column.heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {points.map((point) => (
          <tr key={point.start.toISOString()}>
            <th scope="row">
              <BucketTime start={point.start} granularity={granularity} locale={locale} />
            </th>
            {columns.map((column) => (
              <td key={column.heading} data-align="end">
                {column.cell(point)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
