import { z } from 'zod';
import { TallyError, type TallyErrorIssue } from '../errors/index.js';
import { parseDecimal } from '../units/decimal.js';
import { normalizeCurrency } from '../units/money.js';
import { FEMTO_USD_SCALE } from '../units/provider-price.js';
import { GLOB_PATTERN, globSpecificity, globsOverlap } from './glob.js';

const integer = z
  .union([
    z.bigint(),
    z.number().int().refine(Number.isSafeInteger, 'must be a safe integer'),
    z.string().regex(/^-?\d{1,30}$/, 'must be an integer'),
  ])
  .transform((value) => BigInt(value));
const nonNegative = integer.refine((value) => value >= 0n, 'must not be negative');
const positive = integer.refine((value) => value > 0n, 'must be greater than zero');

const tierId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lower-case slug (a-z, 0-9, "-", "_")');

/** USD per token (or per request) as a decimal string, kept as femto-USD. */
const usdPrice = z.string().transform((value, ctx) => {
  try {
    return parseDecimal(value, FEMTO_USD_SCALE, { label: 'price' });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: TallyError.is(error) ? error.message : 'invalid price' });
    return z.NEVER;
  }
});

export const POWER_LEVELS = ['eco', 'balanced', 'precision'] as const;
export type PowerLevel = (typeof POWER_LEVELS)[number];

const tierSchema = z.object({
  id: tierId,
  name: z.string().min(1).max(80),
  /** Price per interval in the catalog currency's minor unit (cents). */
  price: nonNegative,
  interval: z.enum(['month', 'year']).default('month'),
  /** Credits (in micros) granted each period, or `"unlimited"`. */
  allowance: z.union([z.literal('unlimited'), nonNegative]),
  /** How far (micros) the balance may go below zero. */
  overdraft: nonNegative.default(0n),
  /** Free trial days before the first charge, when a subscription starts on this tier. */
  trialDays: z.number().int().min(0).max(730).default(0),
});

const markupRuleSchema = z.object({
  /** A tier id, or `"*"` for every tier. */
  tier: z.union([z.literal('*'), tierId]),
  /** A model id pattern: `*` any characters, `?` one character. */
  model: z.string().min(1).max(200).regex(GLOB_PATTERN, 'may contain only letters, digits, . _ : / @ + - * ?'),
  /** Markup in basis points: 1000 = 10 %. */
  bps: z.number().int().min(0).max(1_000_000),
});

const modelPriceSchema = z.object({
  input: usdPrice,
  output: usdPrice,
  cachedInput: usdPrice.optional(),
  reasoning: usdPrice.optional(),
  request: usdPrice.optional(),
});

const packSchema = z.object({
  id: tierId,
  name: z.string().min(1).max(80),
  /** Price in the catalog currency's minor unit (cents). */
  price: positive,
  /** Credits (micros) the pack adds to the `purchased` bucket. */
  credits: positive,
});

const catalogShape = z.object({
  /** Stored on every usage entry, so history never depends on today's catalog. */
  version: z.string().min(1).max(64).default('1'),
  currency: z
    .string()
    .transform((value, ctx) => {
      try {
        return normalizeCurrency(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not an ISO 4217 currency code` });
        return z.NEVER;
      }
    })
    .default('USD'),
  /** The exchange: how many credit micros one USD of marked-up provider cost buys. */
  microsPerUsd: positive.default(1_000_000n),
  proration: z
    .object({
      /** `second`: Stripe's way. `day`: Lago's way (whole calendar days, the change day on the new plan). */
      granularity: z.enum(['second', 'day']).default('second'),
      /** Allowance difference granted on an upgrade: prorated by time left, or in full. */
      upgradeAllowance: z.enum(['prorated', 'full']).default('prorated'),
    })
    .default({ granularity: 'second', upgradeAllowance: 'prorated' }),
  /** In ascending order: a later tier is an upgrade of an earlier one. */
  tiers: z.array(tierSchema).min(1).max(100),
  markup: z.array(markupRuleSchema).max(1000).default([]),
  /** Calls on a customer's own provider key (BYOK): no markup; optionally a platform fee. */
  byok: z
    .object({
      /** Basis points of the call's provider cost charged in credits: 500 = 5 %. 0 = BYOK calls are free. */
      platformFeeBps: z.number().int().min(0).max(1_000_000).default(0),
    })
    .default({ platformFeeBps: 0 }),
  /** Power level → tier (or `"*"`) → model id. */
  powerLevels: z.partialRecord(z.enum(POWER_LEVELS), z.record(z.string(), z.string().min(1))).default({}),
  /** Static per-token prices for models not priced by a live source (e.g. OpenRouter's catalog). */
  models: z.record(z.string().min(1), modelPriceSchema).default({}),
  /** One-time credit purchases (top-ups). */
  packs: z.array(packSchema).max(50).default([]),
  /** What happens when a renewal can't be paid. */
  dunning: z
    .object({
      /** Days a past-due subscription keeps its tier before it is downgraded. */
      graceDays: z.number().int().min(0).max(90).default(7),
      /** The tier a subscription falls to after the grace period or a cancel; default the first tier. */
      downgradeTo: tierId.optional(),
    })
    .default({ graceDays: 7 }),
});

export const catalogSchema = catalogShape.superRefine((catalog, ctx) => {
  const ids = new Set<string>();
  catalog.tiers.forEach((tier, index) => {
    if (ids.has(tier.id)) ctx.addIssue({ code: 'custom', path: ['tiers', index, 'id'], message: `duplicate tier id "${tier.id}"` });
    ids.add(tier.id);
  });
  const knownTier = (id: string) => id === '*' || ids.has(id);

  catalog.markup.forEach((rule, index) => {
    if (!knownTier(rule.tier)) {
      ctx.addIssue({ code: 'custom', path: ['markup', index, 'tier'], message: `unknown tier "${rule.tier}"` });
    }
    for (let other = 0; other < index; other++) {
      const earlier = catalog.markup[other];
      if (!earlier || earlier.tier !== rule.tier) continue;
      if (globSpecificity(earlier.model) !== globSpecificity(rule.model)) continue;
      if (!globsOverlap(earlier.model, rule.model)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['markup', index],
        message: `overlaps markup rule ${other} ("${earlier.model}" and "${rule.model}" for tier "${rule.tier}" can match the same model with equal specificity)`,
      });
    }
  });

  for (const [level, byTier] of Object.entries(catalog.powerLevels)) {
    for (const id of Object.keys(byTier ?? {})) {
      if (!knownTier(id)) ctx.addIssue({ code: 'custom', path: ['powerLevels', level, id], message: `unknown tier "${id}"` });
    }
  }

  const packIds = new Set<string>();
  catalog.packs.forEach((pack, index) => {
    if (packIds.has(pack.id)) ctx.addIssue({ code: 'custom', path: ['packs', index, 'id'], message: `duplicate pack id "${pack.id}"` });
    packIds.add(pack.id);
  });
  if (catalog.dunning.downgradeTo !== undefined && !ids.has(catalog.dunning.downgradeTo)) {
    ctx.addIssue({ code: 'custom', path: ['dunning', 'downgradeTo'], message: `unknown tier "${catalog.dunning.downgradeTo}"` });
  }

  catalog.tiers.forEach((tier, index) => {
    if (tier.allowance !== 'unlimited' || tier.overdraft === 0n) return;
    ctx.addIssue({ code: 'custom', path: ['tiers', index, 'overdraft'], message: 'an unlimited tier has no overdraft limit to set' });
  });
});

export type CatalogInput = z.input<typeof catalogSchema>;
export type Catalog = z.output<typeof catalogSchema>;
export type Tier = Catalog['tiers'][number];
export type MarkupRule = Catalog['markup'][number];
export type CatalogPack = Catalog['packs'][number];
/** Femto-USD per token (per request for `request`). */
export type ModelPrice = Catalog['models'][string];

/**
 * Validates a catalog and returns it with exact bigint amounts. Bad input throws
 * `CATALOG_INVALID` listing every problem with its path.
 */
export function defineCatalog(input: CatalogInput): Catalog {
  const result = catalogSchema.safeParse(input);
  if (result.success) return result.data;
  const issues: TallyErrorIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
  }));
  const summary = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  throw new TallyError('CATALOG_INVALID', `Invalid catalog: ${summary}`, { issues, cause: result.error });
}

export function findTier(catalog: Catalog, id: string): Tier {
  const tier = catalog.tiers.find((candidate) => candidate.id === id);
  if (!tier) throw new TallyError('UNKNOWN_TIER', `Unknown tier "${id}"`, { details: { tier: id } });
  return tier;
}

/** Position in the catalog's ascending order; a higher rank is an upgrade. */
export function tierRank(catalog: Catalog, id: string): number {
  findTier(catalog, id);
  return catalog.tiers.findIndex((candidate) => candidate.id === id);
}

/** The model a power level uses on a tier: the tier's own entry, else the level's `"*"` entry. */
export function modelForPowerLevel(catalog: Catalog, tier: string, level: PowerLevel): string {
  findTier(catalog, tier);
  const byTier = catalog.powerLevels[level];
  const model = byTier?.[tier] ?? byTier?.['*'];
  if (!model) {
    throw new TallyError('VALIDATION', `Power level "${level}" has no model for tier "${tier}"`, { details: { tier, level } });
  }
  return model;
}
