import { type TallyMutation, useTallyMutation } from '../provider/query.js';
import type { WireCheckout } from '../provider/wire.js';

/** Opens a billing-portal session for the customer's payment method; resolves with its URL. */
export function usePaymentMethodPortal(): TallyMutation<[input?: { returnUrl?: string }], WireCheckout> {
  return useTallyMutation((client, input?: { returnUrl?: string }) => client.paymentMethodPortal(input), []);
}
