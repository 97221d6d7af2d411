import { type ModelPrice, parseUsdPrice, TallyError } from '@tally/core';

/** `pricing` of a model in OpenRouter's `GET /models` answer: USD amounts as decimal strings. */
export interface OpenRouterPricing {
  prompt: string;
  completion: string;
  request?: string;
  input_cache_read?: string;
  internal_reasoning?: string;
  [key: string]: unknown;
}

export interface OpenRouterModel {
  id: string;
  pricing: OpenRouterPricing;
  [key: string]: unknown;
}

/** A model's price, or `dynamic` when OpenRouter publishes `-1` (priced per call; use the reported cost). */
export type OpenRouterPrice = { kind: 'fixed'; price: ModelPrice } | { kind: 'dynamic' };

const DYNAMIC = '-1';

function optionalPrice(value: unknown, field: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new TallyError('VALIDATION', `OpenRouter pricing.${field} must be a decimal string`, { details: { field } });
  }
  return parseUsdPrice(value, `pricing.${field}`);
}

/**
 * Converts OpenRouter's per-token price strings into exact femto-USD prices. A price that can't be
 * represented exactly is an error, never rounded.
 */
export function parseOpenRouterPricing(pricing: OpenRouterPricing): OpenRouterPrice {
  const fields = [pricing.prompt, pricing.completion, pricing.request, pricing.input_cache_read, pricing.internal_reasoning];
  if (fields.some((value) => value === DYNAMIC)) return { kind: 'dynamic' };
  const input = optionalPrice(pricing.prompt, 'prompt');
  const output = optionalPrice(pricing.completion, 'completion');
  if (input === undefined || output === undefined) {
    throw new TallyError('VALIDATION', 'OpenRouter pricing needs prompt and completion prices');
  }
  const price: ModelPrice = { input, output };
  const cachedInput = optionalPrice(pricing.input_cache_read, 'input_cache_read');
  const reasoning = optionalPrice(pricing.internal_reasoning, 'internal_reasoning');
  const request = optionalPrice(pricing.request, 'request');
  if (cachedInput !== undefined) price.cachedInput = cachedInput;
  if (reasoning !== undefined) price.reasoning = reasoning;
  if (request !== undefined) price.request = request;
  return { kind: 'fixed', price };
}
