import { type Catalog, modelForPowerLevel, type PowerLevel } from '@tally/core';

/** Anything that turns a model id into a model: `createOpenRouter(…)`, `openai`, or a provider's `languageModel`. */
export type ModelProvider<M> = ((modelId: string) => M) | { languageModel(modelId: string): M };

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
  return typeof provider === 'function' ? provider(modelId) : provider.languageModel(modelId);
}
