import { isFreeModel, priceCall, sampleCatalog } from '@tally/core';
import { describe, expect, it } from 'vitest';
import { parseOpenRouterPricing } from './pricing.js';

// Shapes from OpenRouter's `GET /models` (pricing values are strings, USD per token or per request).
const gpt4 = { prompt: '0.00003', completion: '0.00006', request: '0', image: '0' };
const nemo = { prompt: '0.00000001875', completion: '0.00000007', input_cache_read: '0.000000005' };

describe('parseOpenRouterPricing', () => {
  it('keeps prices exact in femto-USD per token', () => {
    expect(parseOpenRouterPricing(gpt4)).toEqual({
      kind: 'fixed',
      price: { input: 30_000_000_000n, output: 60_000_000_000n, request: 0n },
    });
    expect(parseOpenRouterPricing(nemo)).toEqual({
      kind: 'fixed',
      price: { input: 18_750_000n, output: 70_000_000n, cachedInput: 5_000_000n },
    });
  });

  it('feeds core pricing: 1,000 prompt + 1,000 completion tokens of GPT-4 on starter', () => {
    const parsed = parseOpenRouterPricing(gpt4);
    if (parsed.kind !== 'fixed') throw new Error('expected a fixed price');
    // $0.03 + $0.06 = $0.09 = 90,000,000 nano; +10 % = 99,000 micros.
    const call = priceCall({
      catalog: sampleCatalog,
      tier: 'starter',
      model: 'openai/gpt-4',
      usage: { inputTokens: 1000, outputTokens: 1000 },
      price: parsed.price,
    });
    expect(call.providerCostNanoUsd).toBe(90_000_000n);
    expect(call.chargeMicros).toBe(99_000n);
  });

  it('detects free models by a zero price', () => {
    const parsed = parseOpenRouterPricing({ prompt: '0', completion: '0' });
    expect(parsed.kind === 'fixed' && isFreeModel('x/y', parsed.price)).toBe(true);
  });

  it('reports -1 prices as dynamic', () => {
    expect(parseOpenRouterPricing({ prompt: '-1', completion: '-1' })).toEqual({ kind: 'dynamic' });
  });

  it('refuses prices it cannot keep exactly', () => {
    expect(() => parseOpenRouterPricing({ prompt: '3e-5', completion: '0' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_DECIMAL' }),
    );
    expect(() => parseOpenRouterPricing({ prompt: '0.0000000000000001', completion: '0' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_DECIMAL' }),
    );
    expect(() => parseOpenRouterPricing({ prompt: 0.00003 as unknown as string, completion: '0' })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
  });
});
