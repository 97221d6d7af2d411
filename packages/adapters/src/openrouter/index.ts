export { type OpenRouterModel, type OpenRouterPrice, type OpenRouterPricing, parseOpenRouterPricing } from './pricing.js';
