import { tallyKeys } from '@tally/react';
import { useEffect } from 'react';
import { useDashboard } from '../context.tsx';
import { queryParam, useLocation } from '../router.tsx';

/**
 * What a checkout that just came back did: the sandbox (or Stripe) sends the customer to
 * `/app/account?checkout=done` after paying and to `/app/plan?checkout=canceled` after canceling.
 * Either way everything is loaded again, so tier and credits are the server's.
 */
export function CheckoutNotice() {
  const { cache } = useDashboard();
  const { search } = useLocation();
  const checkout = queryParam(search, 'checkout');

  useEffect(() => {
    if (checkout) void cache.invalidate(tallyKeys.all);
  }, [checkout, cache]);

  if (checkout === 'done') {
    return (
      <p className="tally-note" data-tone="positive" role="status">
        Checkout complete: your plan and credits below are up to date.
      </p>
    );
  }
  if (checkout === 'canceled') {
    return (
      <p className="tally-note" role="status">
        Checkout canceled: nothing was charged and your plan is unchanged.
      </p>
    );
  }
  return null;
}
