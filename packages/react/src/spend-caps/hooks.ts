import type { SpendCapInput } from '../provider/client.js';
import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireSpendCap } from '../provider/wire.js';

/** Daily and monthly spend caps with what they have counted so far. */
export function useSpendCaps(): TallyQueryResult<WireSpendCap[]> {
  return useTallyQuery(keys.spendCaps, (client) => client.spendCaps());
}

/** Sets a cap for the customer or one end user (null removes a limit). */
export function useSetSpendCap(): TallyMutation<[input: SpendCapInput], WireSpendCap> {
  return useTallyMutation((client, input: SpendCapInput) => client.setSpendCap(input), [keys.spendCaps]);
}
