export {
  byokFeeForCost,
  catalogModelPrice,
  chargeForCost,
  chargeForKeySource,
  isFreeModel,
  type PriceCallInput,
  type PricedCall,
  type ProviderCost,
  priceCall,
  providerCost,
  type TokenUsage,
} from './cost.js';
export { type ResolvedMarkup, resolveMarkup } from './markup.js';
