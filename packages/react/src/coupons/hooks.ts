import * as keys from '../provider/keys.js';
import { type TallyMutation, useTallyMutation } from '../provider/query.js';
import type { WireRedemption } from '../provider/wire.js';

/** Redeems a coupon code; the balance and history refresh afterwards. Errors carry `COUPON_*` codes. */
export function useRedeemCoupon(): TallyMutation<[code: string], WireRedemption> {
  return useTallyMutation((client, code: string) => client.redeemCoupon(code), [keys.me, keys.balance, keys.transactions]);
}
