import { type ByokKeys, type Catalog, modelForPowerLevel, type PowerLevel } from '@tally/core';
import type { KeySource } from './middleware.js';

/** Anything that turns a model id into a model: `createOpenRouter(…)`, `openai`, or a provider's `languageModel`. */
export type ModelProvider<M> = ((modelId: string) => M) | { languageModel(modelId: string): M };

const build = <M>(provider: ModelProvider<M>, modelId: string): M =>
  typeof provider === 'function' ? provider(modelId) : provider.languageModel(modelId);

export interface ModelForInput<M> {
  catalog: Catalog;
  tier: string;
  powerLevel: PowerLevel;
  provider: ModelProvider<M>;
}

/**
 * The language model a power level uses on a tier (`catalog.powerLevels`: the tier's own entry, else
 * the level's `"*"` entry), made by `provider`. Unknown tier: `UNKNOWN_TIER`; no model: `VALIDATION`.
 */
export function modelFor<M>({ catalog, tier, powerLevel, provider }: ModelForInput<M>): M {
  const modelId = modelForPowerLevel(catalog, tier, powerLevel);
  return build(provider, modelId);
}

export interface RouteModelInput<M> {
  /** Where customers' keys are kept: `createByokKeys(…)` (only `resolve` is used). */
  keys: Pick<ByokKeys, 'resolve'>;
  customerId: string;
  /** The provider id the customer's key is stored under, e.g. `openrouter`. */
  provider: string;
  modelId: string;
  /** The platform's own provider (its key, its account). */
  managed: ModelProvider<M>;
  /** A provider on the customer's key, e.g. `(apiKey) => createOpenRouter({ apiKey })`. */
  byok: (apiKey: string) => ModelProvider<M>;
}

export interface RoutedModel<M> {
  model: M;
  /** Pass it to `tallyMiddleware`: `byok` is charged only the catalog's platform fee. */
  keySource: KeySource;
}

/**
 * The model for one customer's call: on the customer's own key when one is stored for `provider`
 * (their account pays the provider), else on the platform's `managed` provider. The key is read and
 * opened for each call, so a key set or removed takes effect at once; it never leaves this function
 * except to `byok`. A stored key that does not open (a retired vault key, tampering) fails the call
 * rather than silently falling back to the platform's account.
 */
export async function routeModel<M>({ keys, customerId, provider, modelId, managed, byok }: RouteModelInput<M>): Promise<RoutedModel<M>> {
  const apiKey = await keys.resolve(customerId, provider);
  return apiKey === null
    ? { model: build(managed, modelId), keySource: 'managed' }
    : { model: build(byok(apiKey), modelId), keySource: 'byok' };
}
