import type { AutoRechargeInput } from '../provider/client.js';
import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireAutoRecharge, WireCheckout, WireCreditPack } from '../provider/wire.js';

/** The one-time credit packs on sale. */
export function useCreditPacks(): TallyQueryResult<WireCreditPack[]> {
  return useTallyQuery(keys.creditPacks, (client) => client.creditPacks());
}

/** Starts a checkout for a pack; resolves with the checkout URL. */
export function useBuyCreditPack(): TallyMutation<[packId: string], WireCheckout> {
  return useTallyMutation((client, packId: string) => client.buyCreditPack(packId), [keys.me, keys.balance]);
}

/** The auto-recharge settings (off, with the first pack, until saved). */
export function useAutoRecharge(): TallyQueryResult<WireAutoRecharge> {
  return useTallyQuery(keys.autoRecharge, (client) => client.autoRecharge());
}

/** Saves the auto-recharge settings. */
export function useSetAutoRecharge(): TallyMutation<[input: AutoRechargeInput], WireAutoRecharge> {
  return useTallyMutation((client, input: AutoRechargeInput) => client.setAutoRecharge(input), [keys.autoRecharge]);
}
