export * from './account/index.js';
export * from './byok/index.js';
export * from './coupons/index.js';
export { CreditAmount, type CreditAmountProps } from './credit-amount/credit-amount.js';
export * from './credit-packs/index.js';
export { formatBps, formatCents, formatCreditsNumber, formatCreditsText, formatNanoUsdText, percentOf } from './format/index.js';
export * from './money-amount/index.js';
export * from './notifications/index.js';
export * from './payment-method/index.js';
export {
  type ControllableStateOptions,
  Primitive,
  type PrimitiveProps,
  type PrimitiveTag,
  useControllableState,
} from './primitive/index.js';
export * from './provider/index.js';
export * from './spend-caps/index.js';
export { describeError, EmptyState, ErrorState, type ErrorStateProps, LoadingState, type LoadingStateProps } from './status/index.js';
export * from './subscription/index.js';
export * from './tiers/index.js';
export * from './transactions/index.js';
export * from './usage/index.js';
