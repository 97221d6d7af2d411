import * as keys from '../provider/keys.js';
import { type TallyQueryResult, useTallyQuery } from '../provider/query.js';
import type { WireBalance, WireMe } from '../provider/wire.js';

/** The signed-in customer: tier, subscription, balance and provider balances (`GET /v1/me`). */
export function useMe(): TallyQueryResult<WireMe> {
  return useTallyQuery(keys.me, (client) => client.me());
}

/** The customer's credit balance with its buckets and the period's allowance (`GET /v1/balance`). */
export function useBalance(): TallyQueryResult<WireBalance> {
  return useTallyQuery(keys.balance, (client) => client.balance());
}
