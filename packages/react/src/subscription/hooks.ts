import { useMemo } from 'react';
import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireMe, WireSubscription } from '../provider/wire.js';

// A subscription change moves the tier, the allowance, the previews and the history.
const SUBSCRIPTION_CHANGES = [keys.me, keys.balance, keys.tiers, keys.tierPreviews, keys.transactions];

/**
 * The customer's subscription (null before the first one), read from `me()` so it shares that
 * request with the other widgets.
 */
export function useSubscription(): TallyQueryResult<WireSubscription | null> {
  const me = useTallyQuery(keys.me, (client) => client.me());
  return useMemo(() => ({ ...me, data: me.data === undefined ? undefined : (me.data as WireMe).subscription }), [me]);
}

/** Cancels at the period end (nothing refunded); `resume` undoes it until then. */
export function useCancelSubscription(): TallyMutation<[], WireSubscription> {
  return useTallyMutation((client) => client.cancelSubscription(), SUBSCRIPTION_CHANGES);
}

/** Undoes a scheduled downgrade or cancel. */
export function useResumeSubscription(): TallyMutation<[], WireSubscription> {
  return useTallyMutation((client) => client.resumeSubscription(), SUBSCRIPTION_CHANGES);
}

export { SUBSCRIPTION_CHANGES };
