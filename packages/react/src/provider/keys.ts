import type { MetricRequest, TransactionsQuery, UsageQuery } from './client.js';

// One export per key, so a widget's bundle carries only the keys its hooks use; the hooks import
// this module as a namespace (`keys.me`), which bundlers shake export by export.
export const all = ['tally'] as const;
export const me = ['tally', 'me'] as const;
export const balance = ['tally', 'balance'] as const;
export const usage = ['tally', 'usage'] as const;
export const usageReport = (query: UsageQuery = {}) => ['tally', 'usage', query];
export const transactions = ['tally', 'transactions'] as const;
export const transactionsPage = (query: TransactionsQuery = {}) => ['tally', 'transactions', query];
export const tiers = ['tally', 'tiers'] as const;
export const tierPreviews = ['tally', 'tier-preview'] as const;
export const tierPreview = (tier: string) => ['tally', 'tier-preview', tier];
export const creditPacks = ['tally', 'credit-packs'] as const;
export const autoRecharge = ['tally', 'auto-recharge'] as const;
export const spendCaps = ['tally', 'spend-caps'] as const;
export const byokKeys = ['tally', 'byok'] as const;
export const notificationPreferences = ['tally', 'notification-preferences'] as const;
export const adminAnalytics = ['tally', 'admin', 'analytics'] as const;
export const adminMetric = (query: MetricRequest) => ['tally', 'admin', 'analytics', query.metric, query];

/**
 * The cache keys the hooks use. Everything starts with `'tally'`, so `cache.invalidate(tallyKeys.all)`
 * refreshes every widget, e.g. after a payment finished in another tab.
 */
export const tallyKeys = {
  all,
  me,
  balance,
  usage,
  usageReport,
  transactions,
  transactionsPage,
  tiers,
  tierPreviews,
  tierPreview,
  creditPacks,
  autoRecharge,
  spendCaps,
  byokKeys,
  notificationPreferences,
  adminAnalytics,
  adminMetric,
} as const;
