export * from './billing/index.js';
export * from './catalog/index.js';
export { TallyError, type TallyErrorCode, type TallyErrorIssue, type TallyErrorOptions } from './errors/index.js';
export * from './ledger/index.js';
export * from './outbox/index.js';
export * from './pricing/index.js';
export * from './proration/index.js';
export { addInterval, type BillingInterval, type Clock, systemClock } from './time/index.js';
export * from './units/index.js';
