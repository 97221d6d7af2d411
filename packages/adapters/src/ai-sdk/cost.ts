import type { SharedV4ProviderMetadata } from '@ai-sdk/provider';
import { divideRoundHalfUp, NANO_USD_SCALE } from '@tally/core';

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

/**
 * A provider-reported USD amount → nano-USD, without float arithmetic. OpenRouter sends `usage.cost`
 * as a JSON number; the shortest decimal that reads back as the same double (`String(value)`, which
 * for any cost with at most 15 significant digits is the decimal that was sent) is taken as the exact
 * amount, then rounded once, half-up, to a nano-USD. A positive amount below half a nano-USD
 * becomes 1, so a paid call is never recorded as free. Anything else (negative, not finite, not a
 * number or decimal string) is `undefined`: not a usable report.
 */
export function usdToNano(value: unknown): bigint | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const match = DECIMAL.exec(String(value));
  if (!match) return undefined;
  const [, whole = '', fraction = '', exponent = '0'] = match;
  const digits = BigInt(whole + fraction);
  const shift = Number(exponent) - fraction.length + NANO_USD_SCALE;
  if (!Number.isSafeInteger(shift) || shift > 30) return undefined;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const nano = divideRoundHalfUp(digits, 10n ** BigInt(-shift));
  return nano === 0n && digits > 0n ? 1n : nano;
}

export interface ReportedCost {
  /** What the provider charged the platform's account: OpenRouter's `usage.cost`. */
  cost: bigint | undefined;
  /** What the upstream provider charged a BYOK key: OpenRouter's `costDetails.upstreamInferenceCost`. */
  upstream: bigint | undefined;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** The costs OpenRouter reports in `providerMetadata.openrouter.usage` (absent for other providers). */
export function reportedCost(metadata: SharedV4ProviderMetadata | undefined): ReportedCost {
  const usage = record(record(metadata?.openrouter)?.usage);
  return {
    cost: usdToNano(usage?.cost),
    upstream: usdToNano(record(usage?.costDetails)?.upstreamInferenceCost),
  };
}
