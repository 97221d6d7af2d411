import type { UsageDetails } from '../ledger/types.js';

/**
 * A call's usage details for tests: a managed `openai/gpt-4o` call of 100 input and 50 output tokens
 * that cost the provider 1,000 nano-USD, at markup 0 on catalog `v1`, with any field replaced.
 */
export function usageDetails(fields: Partial<UsageDetails> = {}): UsageDetails {
  return {
    model: 'openai/gpt-4o',
    inputTokens: 100n,
    cachedInputTokens: 0n,
    outputTokens: 50n,
    reasoningTokens: 0n,
    providerCostNanoUsd: 1000n,
    markupBps: 0,
    catalogVersion: 'v1',
    generationId: null,
    keySource: 'managed',
    ...fields,
  };
}
