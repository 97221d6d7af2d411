import * as keys from '../provider/keys.js';
import { type TallyMutation, type TallyQueryResult, useTallyMutation, useTallyQuery } from '../provider/query.js';
import type { WireNotificationPreferences } from '../provider/wire.js';

/** Which notification emails the customer gets; required ones say why they can't be turned off. */
export function useNotificationPreferences(): TallyQueryResult<WireNotificationPreferences> {
  return useTallyQuery(keys.notificationPreferences, (client) => client.notificationPreferences());
}

/** Turns categories on or off; the others keep their values. */
export function useSetNotificationPreferences(): TallyMutation<
  [input: { categories: Array<{ id: string; enabled: boolean }> }],
  WireNotificationPreferences
> {
  return useTallyMutation(
    (client, input: { categories: Array<{ id: string; enabled: boolean }> }) => client.setNotificationPreferences(input),
    [keys.notificationPreferences],
  );
}
