import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryOptions, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireTierChangePreview, WireTierChangeResult, WireTiers } from '../provider/wire.js';
import { SUBSCRIPTION_CHANGES } from '../subscription/hooks.js';

/** The catalog's tiers and the customer's current one (`GET /v1/tiers`). */
export function useTiers(): TallyQueryResult<WireTiers> {
  return useTallyQuery(keys.tiers, (client) => client.tiers());
}

/**
 * What moving to `tier` would cost now: proration lines, amount due, credits granted, when it takes
 * effect. Pass null until a tier is picked (the query waits). The same preview drives the charge.
 */
export function useTierChangePreview(
  tier: string | null | undefined,
  options: TallyQueryOptions = {},
): TallyQueryResult<WireTierChangePreview> {
  return useTallyQuery(keys.tierPreview(tier ?? ''), (client) => client.previewTierChange(tier as string), {
    enabled: !!tier && (options.enabled ?? true),
  });
}

/** Moves to a tier: an upgrade is charged (or sent to checkout) now, a downgrade is scheduled for the period end. */
export function useChangeTier(): TallyMutation<[tier: string, options?: { idempotencyKey?: string }], WireTierChangeResult> {
  return useTallyMutation(
    (client, tier: string, options?: { idempotencyKey?: string }) => client.changeTier(tier, options),
    SUBSCRIPTION_CHANGES,
  );
}
