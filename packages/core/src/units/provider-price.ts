import { formatDecimal, parseDecimal } from './decimal.js';
import { divideRoundHalfUp } from './rounding.js';

/**
 * Provider prices are USD per token (or per request) as decimal strings, e.g. OpenRouter's
 * `"0.00000001875"`. They are kept as bigint **femto-USD** (1e-15 USD): every real price
 * is a whole number there, and tokens × price stays exact.
 */
export const FEMTO_USD_SCALE = 15;
/** A call's provider cost is kept in **nano-USD** (1e-9 USD). */
export const NANO_USD_SCALE = 9;
export const FEMTO_PER_NANO = 1_000_000n;
export const NANO_PER_USD = 1_000_000_000n;

/** `"0.00000001875"` → `18_750_000n` femto-USD. Exponents, junk and >15 decimals are errors. */
export function parseUsdPrice(input: string, label = 'price'): bigint {
  return parseDecimal(input, FEMTO_USD_SCALE, { label });
}

/** Inverse of `parseUsdPrice`. */
export function formatUsdPrice(femtoUsd: bigint): string {
  return formatDecimal(femtoUsd, FEMTO_USD_SCALE);
}

/** A USD amount such as a provider-reported cost (`"0.0012345"`) → nano-USD, exactly or not at all. */
export function parseUsdCost(input: string, label = 'cost'): bigint {
  return parseDecimal(input, NANO_USD_SCALE, { label });
}

/** Femto-USD → nano-USD, rounded once, half-up. */
export function femtoToNanoUsd(femtoUsd: bigint): bigint {
  return divideRoundHalfUp(femtoUsd, FEMTO_PER_NANO);
}

/** Nano-USD as a plain USD decimal, e.g. for reports. */
export function formatNanoUsd(nanoUsd: bigint, maxFractionDigits = NANO_USD_SCALE): string {
  return formatDecimal(nanoUsd, NANO_USD_SCALE, { maxFractionDigits });
}
