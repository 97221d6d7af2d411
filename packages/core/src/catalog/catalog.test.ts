import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { compileGlob, globsOverlap } from './glob.js';
import { sampleCatalog, sampleCatalogInput } from './sample.js';
import { type CatalogInput, defineCatalog, modelForPowerLevel, tierRank } from './schema.js';

function catalogError(input: unknown): TallyError {
  try {
    defineCatalog(input as CatalogInput);
  } catch (error) {
    if (TallyError.is(error, 'CATALOG_INVALID')) return error;
    throw error;
  }
  throw new Error('expected the catalog to be refused');
}

const base = {
  tiers: [
    { id: 'free', name: 'Free', price: 0, allowance: 1_000_000 },
    { id: 'pro', name: 'Pro', price: 2000, allowance: 'unlimited' as const },
  ],
};

describe('sample catalog', () => {
  it('holds the four tiers of the design with exact amounts', () => {
    expect(sampleCatalog.tiers.map((tier) => [tier.id, tier.price, tier.allowance])).toEqual([
      ['trial', 400n, 5_000_000n],
      ['starter', 1900n, 20_000_000n],
      ['professional', 4900n, 60_000_000n],
      ['enterprise', 9900n, 'unlimited'],
    ]);
    expect(sampleCatalog.markup.map((rule) => rule.bps)).toEqual([1000, 1000, 500, 0]);
    expect(sampleCatalog.models['mistralai/mistral-nemo']?.input).toBe(18_750_000n);
    expect(tierRank(sampleCatalog, 'professional')).toBe(2);
  });

  it('maps power levels to a model per tier', () => {
    expect(modelForPowerLevel(sampleCatalog, 'starter', 'eco')).toBe('meta-llama/llama-3.3-70b-instruct:free');
    expect(modelForPowerLevel(sampleCatalog, 'enterprise', 'precision')).toBe('anthropic/claude-sonnet-4');
    expect(() => modelForPowerLevel(sampleCatalog, 'gold', 'eco')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_TIER' }));
  });

  it('accepts JSON-style input (numbers and digit strings for amounts)', () => {
    const catalog = defineCatalog({ ...base, microsPerUsd: '2000000' });
    expect(catalog.microsPerUsd).toBe(2_000_000n);
    expect(catalog.tiers[0]?.interval).toBe('month');
    expect(catalog.proration.granularity).toBe('second');
    expect(
      defineCatalog(
        JSON.parse(
          JSON.stringify({ ...sampleCatalogInput, microsPerUsd: 1_000_000 }, (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
        ),
      ).tiers,
    ).toEqual(sampleCatalog.tiers);
  });
});

describe('catalog validation', () => {
  it('refuses a negative price with its path', () => {
    const error = catalogError({ tiers: [{ id: 'a', name: 'A', price: -1, allowance: 0 }] });
    expect(error.issues).toContainEqual({ path: ['tiers', 0, 'price'], message: 'must not be negative' });
  });

  it('refuses unknown tiers in markup rules and power levels', () => {
    const error = catalogError({ ...base, markup: [{ tier: 'gold', model: '*', bps: 100 }], powerLevels: { eco: { platinum: 'x' } } });
    expect(error.issues.map((issue) => issue.path)).toEqual([
      ['markup', 0, 'tier'],
      ['powerLevels', 'eco', 'platinum'],
    ]);
    expect(error.message).toContain('unknown tier "gold"');
  });

  it('refuses overlapping rules that nothing can decide between', () => {
    const error = catalogError({
      ...base,
      markup: [
        { tier: 'pro', model: 'openai/*', bps: 100 },
        { tier: 'pro', model: '*/gpt-4o', bps: 200 },
      ],
    });
    expect(error.issues[0]?.path).toEqual(['markup', 1]);
    expect(error.issues[0]?.message).toMatch(/overlaps markup rule 0/);
  });

  it('accepts rules that overlap but differ in specificity, or never meet', () => {
    expect(() =>
      defineCatalog({
        ...base,
        markup: [
          { tier: '*', model: '*', bps: 1000 },
          { tier: '*', model: 'openai/*', bps: 500 },
          { tier: '*', model: 'anthropic/*', bps: 700 },
          { tier: 'pro', model: '*', bps: 0 },
        ],
      }),
    ).not.toThrow();
  });

  it.each([
    ['duplicate tier ids', { tiers: [base.tiers[0], base.tiers[0]] }],
    ['no tiers', { tiers: [] }],
    ['a float price', { tiers: [{ id: 'a', name: 'A', price: 19.99, allowance: 0 }] }],
    ['an unsafe integer', { tiers: [{ id: 'a', name: 'A', price: 2 ** 60, allowance: 0 }] }],
    ['a bad tier id', { tiers: [{ id: 'Gold Tier', name: 'A', price: 1, allowance: 0 }] }],
    ['a price with an exponent', { ...base, models: { m: { input: '1e-7', output: '0' } } }],
    ['a markup above 10,000 %', { ...base, markup: [{ tier: '*', model: '*', bps: 1_000_001 }] }],
    ['a bad currency', { ...base, currency: 'dollars' }],
    ['an exchange rate of zero', { ...base, microsPerUsd: 0 }],
    ['an overdraft on an unlimited tier', { tiers: [{ id: 'a', name: 'A', price: 1, allowance: 'unlimited', overdraft: 5 }] }],
    ['a glob with regex characters', { ...base, markup: [{ tier: '*', model: 'gpt-(4|5)', bps: 1 }] }],
  ])('refuses %s', (_, input) => {
    expect(catalogError(input).code).toBe('CATALOG_INVALID');
  });
});

describe('model globs', () => {
  it('match as documented', () => {
    expect(compileGlob('openai/*')('openai/gpt-4o')).toBe(true);
    expect(compileGlob('openai/*')('anthropic/x')).toBe(false);
    expect(compileGlob('*:free')('meta/llama:free')).toBe(true);
    expect(compileGlob('a.b')('axb')).toBe(false);
    expect(compileGlob('gpt-?')('gpt-5')).toBe(true);
  });

  it('overlap exactly when some string matches both', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '?');
    const pattern = fc.string({ unit: alphabet, minLength: 1, maxLength: 6 });
    const word = fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 8 });
    fc.assert(
      fc.property(pattern, pattern, word, (a, b, w) => {
        // A witness matching both proves overlap; the converse is checked by symmetry.
        if (compileGlob(a)(w) && compileGlob(b)(w)) expect(globsOverlap(a, b)).toBe(true);
        expect(globsOverlap(a, b)).toBe(globsOverlap(b, a));
      }),
      { numRuns: 1000 },
    );
    expect(globsOverlap('openai/*', 'anthropic/*')).toBe(false);
    expect(globsOverlap('a*', '*b')).toBe(true);
  });
});
