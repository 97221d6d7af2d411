import { type Catalog, type CatalogInput, defineCatalog } from './schema.js';

const credits = (n: number) => BigInt(n) * 1_000_000n;

/**
 * The sample catalog (Ops-Center's four tiers). 1 credit buys $1 of marked-up provider cost.
 * Model prices are examples in OpenRouter's format (USD per token); use live prices in production.
 */
export const sampleCatalogInput = {
  version: 'sample-2026-11',
  currency: 'USD',
  microsPerUsd: 1_000_000n,
  proration: { granularity: 'second', upgradeAllowance: 'prorated' },
  tiers: [
    { id: 'trial', name: 'Trial', price: 400n, interval: 'month', allowance: credits(5), trialDays: 14 },
    { id: 'starter', name: 'Starter', price: 1900n, interval: 'month', allowance: credits(20) },
    { id: 'professional', name: 'Professional', price: 4900n, interval: 'month', allowance: credits(60), overdraft: credits(5) },
    { id: 'enterprise', name: 'Enterprise', price: 9900n, interval: 'month', allowance: 'unlimited' },
  ],
  markup: [
    { tier: 'trial', model: '*', bps: 1000 },
    { tier: 'starter', model: '*', bps: 1000 },
    { tier: 'professional', model: '*', bps: 500 },
    { tier: 'enterprise', model: '*', bps: 0 },
  ],
  packs: [
    { id: 'credits-10', name: '10 credits', price: 1000n, credits: credits(10) },
    { id: 'credits-50', name: '50 credits', price: 4500n, credits: credits(50) },
  ],
  dunning: { graceDays: 7, downgradeTo: 'trial' },
  powerLevels: {
    eco: { '*': 'meta-llama/llama-3.3-70b-instruct:free', enterprise: 'openai/gpt-4o-mini' },
    balanced: { '*': 'openai/gpt-4o-mini', professional: 'openai/gpt-4o', enterprise: 'openai/gpt-4o' },
    precision: { '*': 'openai/gpt-4o', professional: 'anthropic/claude-sonnet-4', enterprise: 'anthropic/claude-sonnet-4' },
  },
  models: {
    'meta-llama/llama-3.3-70b-instruct:free': { input: '0', output: '0' },
    'openai/gpt-4o-mini': { input: '0.00000015', output: '0.0000006', cachedInput: '0.000000075' },
    'openai/gpt-4o': { input: '0.0000025', output: '0.00001', cachedInput: '0.00000125' },
    'anthropic/claude-sonnet-4': { input: '0.000003', output: '0.000015', cachedInput: '0.0000003' },
    'google/gemini-2.0-flash-lite': { input: '0.000000075', output: '0.0000003' },
    'mistralai/mistral-nemo': { input: '0.00000001875', output: '0.00000007' },
  },
} satisfies CatalogInput;

export const sampleCatalog: Catalog = defineCatalog(sampleCatalogInput);
