export { toTallyError } from './errors.js';
export {
  type CompareProrationPreviewInput,
  compareProrationPreview,
  type ProrationComparison,
  type ProrationComparisonLine,
} from './proration.js';
export { createStripeProvider, type StripePackPrice, type StripeProvider, type StripeProviderOptions } from './provider.js';
export { type NormalizeContext, normalizeStripeEvent } from './webhooks.js';
