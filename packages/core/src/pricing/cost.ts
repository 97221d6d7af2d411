import type { Catalog, ModelPrice } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { type IntegerInput, toBigInt } from '../units/integer.js';
import { femtoToNanoUsd, NANO_PER_USD } from '../units/provider-price.js';
import { divideRoundHalfUp } from '../units/rounding.js';
import { resolveMarkup } from './markup.js';

/** Token counts of one call, as the AI SDK and OpenRouter report them. */
export interface TokenUsage {
  /** All prompt tokens, cached ones included. */
  inputTokens: IntegerInput;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens?: IntegerInput;
  /** All completion tokens, reasoning included. */
  outputTokens: IntegerInput;
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens?: IntegerInput;
  /** Requests billed at the model's per-request price. Default 1. */
  requests?: IntegerInput;
}

export interface ProviderCost {
  /** Exact cost in femto-USD (1e-15 USD). */
  femtoUsd: bigint;
  /** The cost kept on the usage entry: nano-USD, rounded once, half-up. */
  nanoUsd: bigint;
}

function count(value: IntegerInput | undefined, label: string, fallback = 0n): bigint {
  if (value === undefined) return fallback;
  const result = toBigInt(value, label);
  if (result < 0n) throw new TallyError('VALIDATION', `${label} must not be negative`);
  return result;
}

/** tokens × per-token prices, exactly. Cached and reasoning tokens use their own price when the model has one. */
export function providerCost(usage: TokenUsage, price: ModelPrice): ProviderCost {
  const input = count(usage.inputTokens, 'inputTokens');
  const cached = count(usage.cachedInputTokens, 'cachedInputTokens');
  const output = count(usage.outputTokens, 'outputTokens');
  const reasoning = count(usage.reasoningTokens, 'reasoningTokens');
  const requests = count(usage.requests, 'requests', 1n);
  if (cached > input) throw new TallyError('VALIDATION', 'cachedInputTokens cannot exceed inputTokens');
  if (reasoning > output) throw new TallyError('VALIDATION', 'reasoningTokens cannot exceed outputTokens');
  const femtoUsd =
    (input - cached) * price.input +
    cached * (price.cachedInput ?? price.input) +
    (output - reasoning) * price.output +
    reasoning * (price.reasoning ?? price.output) +
    requests * (price.request ?? 0n);
  return { femtoUsd, nanoUsd: femtoToNanoUsd(femtoUsd) };
}

/** Free: an id ending in `:free`, or every price zero. */
export function isFreeModel(model: string, price?: ModelPrice): boolean {
  if (model.endsWith(':free')) return true;
  if (!price) return false;
  return (
    price.input === 0n &&
    price.output === 0n &&
    (price.cachedInput ?? 0n) === 0n &&
    (price.reasoning ?? 0n) === 0n &&
    (price.request ?? 0n) === 0n
  );
}

/** The catalog's static price for a model, or `UNKNOWN_MODEL`. */
export function catalogModelPrice(catalog: Catalog, model: string): ModelPrice {
  const price = catalog.models[model];
  if (!price) throw new TallyError('UNKNOWN_MODEL', `No price for model "${model}" in the catalog`, { details: { model } });
  return price;
}

const BPS = 10_000n;
const NO_PRICE: ModelPrice = { input: 0n, output: 0n };

/**
 * Credit micros to charge for a provider cost with a markup: rounded once, half-up, and never
 * zero for a call that cost something (at least 1 micro).
 */
export function chargeForCost(catalog: Catalog, costNanoUsd: bigint, markupBps: number, costWasPositive = costNanoUsd > 0n): bigint {
  if (costNanoUsd < 0n) throw new TallyError('VALIDATION', 'provider cost must not be negative');
  const micros = divideRoundHalfUp(costNanoUsd * catalog.microsPerUsd * (BPS + BigInt(markupBps)), NANO_PER_USD * BPS);
  return costWasPositive && micros === 0n ? 1n : micros;
}

/**
 * Credit micros of the catalog's BYOK platform fee (`byok.platformFeeBps` of the provider cost): the
 * same exchange as `chargeForCost`, rounded once, half-up, and at least 1 micro when the fee is set and
 * the call cost something. 0 when the catalog sets no fee.
 */
export function byokFeeForCost(catalog: Catalog, costNanoUsd: bigint, costWasPositive = costNanoUsd > 0n): bigint {
  if (costNanoUsd < 0n) throw new TallyError('VALIDATION', 'provider cost must not be negative');
  const bps = BigInt(catalog.byok.platformFeeBps);
  if (bps === 0n) return 0n;
  const micros = divideRoundHalfUp(costNanoUsd * catalog.microsPerUsd * bps, NANO_PER_USD * BPS);
  return costWasPositive && micros === 0n ? 1n : micros;
}

/**
 * Credit micros a priced call charges on a key source: managed, the marked-up price; BYOK, only the
 * platform fee on the provider cost (nothing for a free model).
 */
export function chargeForKeySource(catalog: Catalog, priced: PricedCall, keySource: 'managed' | 'byok'): bigint {
  if (keySource === 'managed') return priced.chargeMicros;
  return priced.free ? 0n : byokFeeForCost(catalog, priced.providerCostNanoUsd, priced.chargeMicros > 0n);
}

export interface PriceCallInput {
  catalog: Catalog;
  tier: string;
  model: string;
  usage: TokenUsage;
  /** Per-token prices; default: the catalog's `models` entry. */
  price?: ModelPrice;
  /**
   * The provider's own figure for the cost (e.g. OpenRouter's `usage.cost`), in nano-USD.
   * When given it replaces tokens × price.
   */
  reportedCostNanoUsd?: bigint;
}

export interface PricedCall {
  model: string;
  tier: string;
  catalogVersion: string;
  free: boolean;
  providerCostNanoUsd: bigint;
  /** Where the cost came from: the provider's report or tokens × price. */
  costSource: 'reported' | 'computed';
  markupBps: number;
  chargeMicros: bigint;
}

/** Prices one LLM call for a customer's tier. Everything a usage entry stores, nothing rounded twice. */
export function priceCall(input: PriceCallInput): PricedCall {
  const { catalog, tier, model, usage } = input;
  const price = input.price ?? catalog.models[model];
  const free = isFreeModel(model, price);
  if (!price && !free && input.reportedCostNanoUsd === undefined) catalogModelPrice(catalog, model);
  const computed = providerCost(usage, price ?? NO_PRICE);
  const reported = input.reportedCostNanoUsd;
  if (reported !== undefined && reported < 0n) throw new TallyError('VALIDATION', 'reported provider cost must not be negative');
  const providerCostNanoUsd = reported ?? computed.nanoUsd;
  const markup = resolveMarkup(catalog, tier, model, free);
  const costWasPositive = reported !== undefined ? reported > 0n : computed.femtoUsd > 0n;
  return {
    model,
    tier,
    catalogVersion: catalog.version,
    free,
    providerCostNanoUsd,
    costSource: reported !== undefined ? 'reported' : 'computed',
    markupBps: markup.bps,
    chargeMicros: free ? 0n : chargeForCost(catalog, providerCostNanoUsd, markup.bps, costWasPositive),
  };
}
