/**
 * The brute-force oracle: every metric of docs/analytics.md computed in plain TypeScript from the raw
 * records (customers, journal, call log, subscription history). The memory store answers with it, and
 * the differential test holds the SQL stores to it. Clarity over speed: one pass per question.
 */
import type { SubscriptionRecord } from '../billing/types.js';
import type { UnchargedCallRecord } from '../ledger/calls.js';
import type { CustomerRecord, Entry, TallyStore } from '../ledger/types.js';
import { type AnalyticsCatalog, checkMetricQuery, type MetricName, type MetricQuery, type MetricResult } from './metrics.js';
import { journalMetric } from './oracle-journal.js';
import { subscriptionMetric } from './oracle-subscriptions.js';

/** Everything the metrics read, as the store holds it. */
export interface AnalyticsSnapshot {
  customers: readonly CustomerRecord[];
  /** The whole journal, in id order. */
  entries: readonly Entry[];
  /** The whole call log. */
  uncharged: readonly UnchargedCallRecord[];
  /** Every customer's saved subscription versions, oldest first (customers without one are absent). */
  subscriptions: ReadonlyMap<string, readonly SubscriptionRecord[]>;
}

/** Computes one metric from a snapshot. `VALIDATION` for a query `checkMetricQuery` refuses. */
export function computeMetric<M extends MetricName>(
  snapshot: AnalyticsSnapshot,
  query: MetricQuery<M>,
  catalog: AnalyticsCatalog,
): MetricResult<M> {
  const checked = checkMetricQuery(query);
  switch (checked.metric) {
    case 'customers':
    case 'mrr':
    case 'churn':
    case 'retention':
    case 'funnel':
      return subscriptionMetric(snapshot, checked, catalog) as unknown as MetricResult<M>;
    default:
      return journalMetric(snapshot, checked, catalog) as unknown as MetricResult<M>;
  }
}

// The listings' largest pages: customers and the call log take at most 500, the journal any size.
const PAGE = 500;
const ENTRY_PAGE = 5000;

/** Reads a snapshot through a store's public listing methods (for the differential test and audits). */
export async function readAnalyticsSnapshot(store: TallyStore): Promise<AnalyticsSnapshot> {
  const customers: CustomerRecord[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.listCustomers({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    customers.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const entries: Entry[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.listEntries({ limit: ENTRY_PAGE, ...(cursor ? { cursor } : {}) });
    entries.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  entries.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
  const uncharged: UnchargedCallRecord[] = [];
  const everything = { from: new Date(0), to: new Date('9999-12-31T23:59:59.999Z') };
  for (let cursor: string | undefined; ; ) {
    const page = await store.listUncharged({ ...everything, limit: PAGE, ...(cursor ? { cursor } : {}) });
    uncharged.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const subscriptions = new Map<string, SubscriptionRecord[]>();
  for (const customer of customers) {
    const history = await store.subscriptionHistory(customer.id);
    if (history.length > 0) subscriptions.set(customer.id, history);
  }
  return { customers, entries, uncharged, subscriptions };
}
