export type { AutoRechargeInput, MetricRequest, SpendCapInput, TallyClientLike, TransactionsQuery, UsageQuery } from './client.js';
export { tallyKeys } from './keys.js';
export { type TallyContextValue, TallyProvider, type TallyProviderProps, useTally } from './provider.js';
export {
  type MutationStatus,
  type TallyMutation,
  type TallyQueryOptions,
  type TallyQueryResult,
  useTallyMutation,
  useTallyQuery,
} from './query.js';
export type * from './wire.js';
