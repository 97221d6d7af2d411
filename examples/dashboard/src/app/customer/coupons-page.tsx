import { CouponRedeemForm, CreditBalance } from '@tally/react';
import { Page } from '../page.tsx';

/** Redeem a coupon code; the balance beside the form shows what it added. */
export function CouponsPage() {
  return (
    <Page title="Coupons" intro="A coupon adds credits or takes a percentage off your next invoices.">
      <div className="dash-grid">
        <CouponRedeemForm />
        <CreditBalance title="Your credits" />
      </div>
    </Page>
  );
}
