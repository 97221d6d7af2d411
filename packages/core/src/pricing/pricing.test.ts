import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/sample.js';
import { defineCatalog } from '../catalog/schema.js';
import { byokFeeForCost, chargeForCost, isFreeModel, priceCall, providerCost } from './cost.js';
import { resolveMarkup } from './markup.js';

describe('provider cost', () => {
  it('is tokens × price, exact, then rounded once to nano-USD', () => {
    // mistral-nemo: 0.00000001875 $/input token, 0.00000007 $/output token.
    // 1,000 in × 18,750,000 fem + 500 out × 70,000,000 fem = 18,750,000,000 + 35,000,000,000 = 53,750,000,000 fem = 53,750 nano.
    const price = sampleCatalog.models['mistralai/mistral-nemo'];
    if (!price) throw new Error('sample model missing');
    expect(providerCost({ inputTokens: 1000, outputTokens: 500 }, price)).toEqual({ femtoUsd: 53_750_000_000n, nanoUsd: 53_750n });
    // 1 token: 18,750,000 fem = 18.75 nano → 19 nano (half-up).
    expect(providerCost({ inputTokens: 1, outputTokens: 0 }, price).nanoUsd).toBe(19n);
  });

  it('prices cached and reasoning tokens separately when the model has such prices', () => {
    const price = { input: 1_000_000n, output: 4_000_000n, cachedInput: 100_000n, reasoning: 8_000_000n, request: 5_000_000_000n };
    const cost = providerCost({ inputTokens: 100, cachedInputTokens: 40, outputTokens: 10, reasoningTokens: 3, requests: 2 }, price);
    // 60×1e6 + 40×1e5 + 7×4e6 + 3×8e6 + 2×5e9 = 60e6 + 4e6 + 28e6 + 24e6 + 10,000e6 = 10,116e6 fem
    expect(cost.femtoUsd).toBe(10_116_000_000n);
  });

  it('refuses impossible usage', () => {
    const price = { input: 1n, output: 1n };
    expect(() => providerCost({ inputTokens: -1, outputTokens: 0 }, price)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => providerCost({ inputTokens: 1.5, outputTokens: 0 }, price)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => providerCost({ inputTokens: 1, cachedInputTokens: 2, outputTokens: 0 }, price)).toThrowError(/cachedInputTokens/);
    expect(() => providerCost({ inputTokens: 0, outputTokens: 1, reasoningTokens: 2 }, price)).toThrowError(/reasoningTokens/);
  });
});

describe('markup resolution', () => {
  const catalog = defineCatalog({
    tiers: [
      { id: 'starter', name: 'Starter', price: 1900, allowance: 1 },
      { id: 'pro', name: 'Pro', price: 4900, allowance: 1 },
    ],
    markup: [
      { tier: '*', model: '*', bps: 1000 },
      { tier: 'pro', model: '*', bps: 500 },
      { tier: '*', model: 'anthropic/*', bps: 1500 },
      { tier: 'pro', model: 'anthropic/claude-opus-*', bps: 2000 },
    ],
  });

  it.each([
    ['starter', 'openai/gpt-4o', 1000],
    ['pro', 'openai/gpt-4o', 500],
    ['starter', 'anthropic/claude-sonnet-4', 1500],
    ['pro', 'anthropic/claude-sonnet-4', 1500],
    ['pro', 'anthropic/claude-opus-4', 2000],
    ['starter', 'anthropic/claude-opus-4', 1500],
  ])('%s × %s → %i bps (most specific wins)', (tier, model, bps) => {
    expect(resolveMarkup(catalog, tier, model).bps).toBe(bps);
  });

  it('is 0 with no rule, and for free models', () => {
    const bare = defineCatalog({ tiers: [{ id: 'a', name: 'A', price: 1, allowance: 1 }] });
    expect(resolveMarkup(bare, 'a', 'x/y')).toEqual({ bps: 0, rule: null, free: false });
    expect(resolveMarkup(catalog, 'starter', 'x', true).bps).toBe(0);
    expect(() => resolveMarkup(catalog, 'gold', 'x')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_TIER' }));
  });
});

describe('priceCall', () => {
  it('charges cost + tier markup in micros, rounded half-up once', () => {
    // gpt-4o on starter: 1,000 in × $0.0000025 + 200 out × $0.00001 = $0.0025 + $0.002 = $0.0045 = 4,500,000 nano.
    // +10 % = $0.00495 → 4,950 micros (1 credit = $1).
    const call = priceCall({
      catalog: sampleCatalog,
      tier: 'starter',
      model: 'openai/gpt-4o',
      usage: { inputTokens: 1000, outputTokens: 200 },
    });
    expect(call).toEqual({
      model: 'openai/gpt-4o',
      tier: 'starter',
      catalogVersion: 'sample-2026-11',
      free: false,
      providerCostNanoUsd: 4_500_000n,
      costSource: 'computed',
      markupBps: 1000,
      chargeMicros: 4950n,
    });
    expect(
      priceCall({ catalog: sampleCatalog, tier: 'professional', model: 'openai/gpt-4o', usage: { inputTokens: 1000, outputTokens: 200 } })
        .chargeMicros,
    ).toBe(4725n);
    expect(
      priceCall({ catalog: sampleCatalog, tier: 'enterprise', model: 'openai/gpt-4o', usage: { inputTokens: 1000, outputTokens: 200 } })
        .chargeMicros,
    ).toBe(4500n);
  });

  it('never rounds a paid call to zero', () => {
    // One mistral-nemo input token: 18.75 nano-USD → 19 nano; 19 × 1.1 / 1000 micros = 0.0209 → at least 1 micro.
    const call = priceCall({
      catalog: sampleCatalog,
      tier: 'starter',
      model: 'mistralai/mistral-nemo',
      usage: { inputTokens: 1, outputTokens: 0 },
    });
    expect(call.chargeMicros).toBe(1n);
    expect(chargeForCost(sampleCatalog, 0n, 1000)).toBe(0n);
  });

  it('charges nothing for free models but still records their cost source', () => {
    const call = priceCall({
      catalog: sampleCatalog,
      tier: 'trial',
      model: 'meta-llama/llama-3.3-70b-instruct:free',
      usage: { inputTokens: 50_000, outputTokens: 9_000 },
    });
    expect(call).toMatchObject({ free: true, markupBps: 0, chargeMicros: 0n, providerCostNanoUsd: 0n });
    expect(isFreeModel('some/unknown:free')).toBe(true);
    expect(isFreeModel('x', { input: 0n, output: 0n })).toBe(true);
    expect(isFreeModel('x', { input: 0n, output: 1n })).toBe(false);
  });

  it('uses the provider-reported cost when given (e.g. OpenRouter usage.cost)', () => {
    const call = priceCall({
      catalog: sampleCatalog,
      tier: 'starter',
      model: 'unknown/model',
      usage: { inputTokens: 10, outputTokens: 10 },
      reportedCostNanoUsd: 1_000_000n,
    });
    expect(call).toMatchObject({ costSource: 'reported', providerCostNanoUsd: 1_000_000n, chargeMicros: 1100n });
  });

  it('refuses unknown models, tiers and negative reported costs', () => {
    const usage = { inputTokens: 1, outputTokens: 1 };
    expect(() => priceCall({ catalog: sampleCatalog, tier: 'starter', model: 'nope/model', usage })).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_MODEL' }),
    );
    expect(() => priceCall({ catalog: sampleCatalog, tier: 'gold', model: 'openai/gpt-4o', usage })).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_TIER' }),
    );
    expect(() =>
      priceCall({ catalog: sampleCatalog, tier: 'starter', model: 'openai/gpt-4o', usage, reportedCostNanoUsd: -1n }),
    ).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('BYOK platform fee', () => {
  const withFee = (platformFeeBps: number, microsPerUsd = 1_000_000n) =>
    defineCatalog({ tiers: [{ id: 'free', name: 'Free', price: 0n, allowance: 0n }], microsPerUsd, byok: { platformFeeBps } });

  it('defaults to 0: BYOK calls cost no credits', () => {
    expect(sampleCatalog.byok).toEqual({ platformFeeBps: 0 });
    expect(byokFeeForCost(sampleCatalog, 420_000n)).toBe(0n);
  });

  it('is bps of the provider cost in credits, rounded once half-up, at least 1 micro for a paid call', () => {
    // 420,000 nano-USD × 5 % = 21,000 nano-USD = 21 micros at 1 credit per USD.
    expect(byokFeeForCost(withFee(500), 420_000n)).toBe(21n);
    // 15,000,000 nano × 0.01 % = 1,500 nano = 1.5 micros → 2; 14,999,999 nano → 1.4999999 → 1.
    expect(byokFeeForCost(withFee(1), 15_000_000n)).toBe(2n);
    expect(byokFeeForCost(withFee(1), 14_999_999n)).toBe(1n);
    // 1,000 nano × 5 % = 50 nano = 0.05 micros: a paid call is never free.
    expect(byokFeeForCost(withFee(500), 1_000n)).toBe(1n);
    expect(byokFeeForCost(withFee(500), 0n)).toBe(0n);
    // A cost that was positive below a nano-USD still pays the minimum.
    expect(byokFeeForCost(withFee(500), 0n, true)).toBe(1n);
    // The catalog's exchange applies: 2,000,000 micros per USD doubles it.
    expect(byokFeeForCost(withFee(500, 2_000_000n), 420_000n)).toBe(42n);
  });

  it('refuses a negative cost and a fee that is not a whole number of bps', () => {
    expect(() => byokFeeForCost(withFee(500), -1n)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    for (const bad of [-1, 1.5, 1_000_001]) expect(() => withFee(bad)).toThrowError(expect.objectContaining({ code: 'CATALOG_INVALID' }));
  });
});

describe('pricing properties', () => {
  const tiers = sampleCatalog.tiers.map((tier) => tier.id);
  const paidModels = Object.keys(sampleCatalog.models).filter((id) => !isFreeModel(id, sampleCatalog.models[id]));
  const tokens = fc.integer({ min: 0, max: 5_000_000 });

  it('a charge is never negative, and never zero for a call that cost something', () => {
    fc.assert(
      fc.property(fc.constantFrom(...tiers), fc.constantFrom(...paidModels), tokens, tokens, (tier, model, inputTokens, outputTokens) => {
        const call = priceCall({ catalog: sampleCatalog, tier, model, usage: { inputTokens, outputTokens } });
        expect(call.chargeMicros >= 0n).toBe(true);
        expect(call.markupBps >= 0).toBe(true);
        if (inputTokens + outputTokens > 0) expect(call.chargeMicros >= 1n).toBe(true);
        // The charge is never below the provider cost (markups are not discounts).
        expect(call.chargeMicros * 1000n >= call.providerCostNanoUsd - 500n).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('free models always charge 0 at 0 % markup', () => {
    const model = fc.oneof(
      fc.constant('meta-llama/llama-3.3-70b-instruct:free'),
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s}:free`),
    );
    fc.assert(
      fc.property(fc.constantFrom(...tiers), model, tokens, tokens, (tier, id, inputTokens, outputTokens) => {
        const call = priceCall({
          catalog: sampleCatalog,
          tier,
          model: id,
          usage: { inputTokens, outputTokens },
          price: { input: 3_000_000_000n, output: 9_000_000_000n },
        });
        expect(call.chargeMicros).toBe(0n);
        expect(call.markupBps).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('is monotone in tokens', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...tiers),
        fc.constantFrom(...paidModels),
        tokens,
        tokens,
        tokens,
        tokens,
        (tier, model, a, b, extraIn, extraOut) => {
          const less = priceCall({ catalog: sampleCatalog, tier, model, usage: { inputTokens: a, outputTokens: b } });
          const more = priceCall({ catalog: sampleCatalog, tier, model, usage: { inputTokens: a + extraIn, outputTokens: b + extraOut } });
          expect(more.chargeMicros >= less.chargeMicros).toBe(true);
          expect(more.providerCostNanoUsd >= less.providerCostNanoUsd).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
