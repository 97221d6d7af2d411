import { decodeMetricResult, type Granularity, type MetricName, type MetricResult, TallyError } from '@tally/core';
import { useState } from 'react';
import type { MetricRequest } from '../provider/client.js';
import * as keys from '../provider/keys.js';
import { type TallyQueryOptions, type TallyQueryResult, useTallyQuery } from '../provider/query.js';
import { type AnalyticsRange, lastDays } from './range.js';

/**
 * One analytics metric (`GET /v1/admin/analytics/{metric}`), decoded to its exact values: bigints
 * for money, credits and costs, Dates for bucket bounds. The provider's client must be an admin's
 * (`client.admin.analytics.metric`); without it the query fails with `FORBIDDEN`.
 */
export function useMetric<M extends MetricName>(query: MetricRequest<M>, options?: TallyQueryOptions): TallyQueryResult<MetricResult<M>> {
  return useTallyQuery(
    keys.adminMetric(query),
    async (client) => {
      const analytics = client.admin?.analytics;
      if (!analytics) throw new TallyError('FORBIDDEN', 'This client has no admin analytics (client.admin.analytics.metric)');
      return decodeMetricResult<M>(await analytics.metric(query));
    },
    options,
  );
}

/**
 * `range`, or else the last `days` UTC days by `granularity`, fixed when the widget mounts (a range
 * that moved with the clock would be a new query on every render).
 */
export function useAnalyticsRange(range: AnalyticsRange | undefined, days = 30, granularity: Granularity = 'day'): AnalyticsRange {
  const [fallback] = useState(() => lastDays(days, new Date(), granularity));
  return range ?? fallback;
}
