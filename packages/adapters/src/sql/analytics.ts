/**
 * The metrics of docs/analytics.md in SQL, one read-only repeatable-read transaction per metric so
 * every statement of it sees the same data. The brute-force oracle in `@tally/core` defines the
 * answers; the differential test holds these queries to it.
 */
import { type AnalyticsCatalog, checkMetricQuery, type MetricName, type MetricQuery, type MetricResult } from '@tally/core';
import { journalMetricSql } from './analytics-journal.js';
import { subscriptionMetricSql } from './analytics-subscriptions.js';
import { type SqlDriver, toParam, translateError } from './driver.js';

/** Runs parameterized statements on one connection: parameters as Postgres text, errors translated. */
export type AnalyticsRows = <Row>(text: string, params?: readonly unknown[]) => Promise<Row[]>;

export async function metricSql<M extends MetricName>(
  driver: SqlDriver,
  query: MetricQuery<M>,
  catalog: AnalyticsCatalog,
): Promise<MetricResult<M>> {
  const checked = checkMetricQuery(query);
  return driver.transaction(async (tx) => {
    await tx.query('set transaction isolation level repeatable read read only');
    const rows: AnalyticsRows = async (text, params = []) => {
      try {
        return (await tx.query(text, params.map(toParam))).rows as never;
      } catch (error) {
        throw translateError(error);
      }
    };
    switch (checked.metric) {
      case 'customers':
      case 'mrr':
      case 'churn':
      case 'retention':
      case 'funnel':
        return (await subscriptionMetricSql(rows, checked, catalog)) as unknown as MetricResult<M>;
      default:
        return (await journalMetricSql(rows, checked, catalog)) as unknown as MetricResult<M>;
    }
  });
}
