import { BuyCreditsDialog, CreditBalance, LowBalanceBanner, PaymentMethodButton, UsageMeter } from '@tally/react';
import { useDashboard } from '../context.tsx';
import { Page } from '../page.tsx';
import { Link } from '../router.tsx';
import { CheckoutNotice } from './checkout-notice.tsx';

/**
 * The customer's overview: what they can spend, the period's meter and the most pressing notice.
 * A paid checkout comes back here with `?checkout=done` (see CheckoutNotice).
 */
export function AccountPage() {
  const { env } = useDashboard();
  return (
    <Page title="Account" intro="Your credits, this period's usage and your plan.">
      <CheckoutNotice />
      <LowBalanceBanner
        action={
          <Link to="/app/plan" className="tally-button">
            See plans
          </Link>
        }
      />
      <div className="dash-grid">
        <CreditBalance />
        <UsageMeter />
      </div>
      <section className="dash-actions" aria-label="Account actions">
        <BuyCreditsDialog />
        <Link to="/app/plan" className="tally-button" data-variant="secondary">
          Change plan
        </Link>
        {/* The API takes only absolute return URLs, on an origin it allows (this one). */}
        <PaymentMethodButton returnUrl={`${env.origin}/app/account`} />
      </section>
    </Page>
  );
}
