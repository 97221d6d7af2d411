export {
  type CheckedUnchargedCallQuery,
  checkUnchargedCalls,
  checkUnchargedQuery,
  compareUnchargedCalls,
  MAX_UNCHARGED_BATCH,
  MAX_UNCHARGED_PAGE,
  type UnchargedCall,
  type UnchargedCallInput,
  type UnchargedCallQuery,
  type UnchargedCallRecord,
  type UnchargedCallStore,
  unchargedCallCursor,
} from './calls.js';
export { canonicalJson } from './canonical.js';
export { createMemoryStore } from './memory-store.js';
export { endUserOf, scopeKey, scopeOf, validateSpendCap } from './spend-caps.js';
export {
  type ChargeInput,
  type CreateTallyOptions,
  createTally,
  type GrantInput,
  type ListUnchargedInput,
  type MeterInput,
  type Tally,
  type TransactionsQuery,
  type UsageInput,
} from './tally.js';
export * from './types.js';
export { MAX_AMOUNT_MICROS } from './validate.js';
