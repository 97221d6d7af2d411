import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireByokKey } from '../provider/wire.js';

// Provider balances in `me()` follow the customer's own keys.
const BYOK_CHANGES = [keys.byokKeys, keys.me];

/** The customer's own provider keys (last 4 characters only; the key never comes back). */
export function useByokKeys(): TallyQueryResult<WireByokKey[]> {
  return useTallyQuery(keys.byokKeys, (client) => client.byokKeys());
}

/** Stores (or replaces) the customer's key for a provider, encrypted on the server. */
export function useSetByokKey(): TallyMutation<[provider: string, apiKey: string], WireByokKey> {
  return useTallyMutation((client, provider: string, apiKey: string) => client.setByokKey(provider, apiKey), BYOK_CHANGES);
}

/** Deletes the customer's key for a provider; calls go back to managed credits. */
export function useRemoveByokKey(): TallyMutation<[provider: string], { provider: string; removed: boolean }> {
  return useTallyMutation((client, provider: string) => client.removeByokKey(provider), BYOK_CHANGES);
}
