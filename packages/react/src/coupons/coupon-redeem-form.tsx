import { formatBps, formatCreditsText } from '../format/amounts.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireRedemption } from '../provider/wire.js';
import { describeError } from '../status/messages.js';
import { Input, Label, Message, Root, Submit } from './coupon-redeem-parts.js';

export interface CouponRedeemFormProps {
  /** Called after a successful redemption. */
  onRedeemed?: (redemption: WireRedemption) => void;
  className?: string;
}

/** A coupon code field: redeems it, then says what it gave (credits or a discount) or why not. */
function CouponRedeemFormWidget({ onRedeemed, className }: CouponRedeemFormProps) {
  const { locale } = useTally();
  return (
    <Root className={cx('tally-card tally-coupon-form', className)} onRedeemed={onRedeemed} aria-label="Redeem a coupon">
      <Label className="tally-field__label">Coupon code</Label>
      <div className="tally-coupon-form__row">
        <Input className="tally-input" placeholder="e.g. WELCOME10" />
        <Submit className="tally-button">Redeem</Submit>
      </div>
      <Message className="tally-coupon-form__message">
        {({ redemption, error, pending }) =>
          pending ? (
            'Checking the code…'
          ) : redemption ? (
            <span data-tone="positive">{redemptionText(redemption, locale)}</span>
          ) : error ? (
            <span data-tone="negative">{describeError(error)}</span>
          ) : null
        }
      </Message>
    </Root>
  );
}

/** What a redemption gave, in words. */
export function redemptionText(redemption: WireRedemption, locale = 'en-US'): string {
  const { benefit } = redemption;
  if (benefit.kind === 'credits') {
    const expiry = benefit.expiresInDays === null ? '' : ` They expire in ${benefit.expiresInDays} days.`;
    return `${redemption.code} redeemed: ${formatCreditsText(redemption.grantedMicros ?? benefit.amountMicros, locale)} added.${expiry}`;
  }
  const periods = benefit.durationPeriods === 1 ? 'your next invoice' : `your next ${benefit.durationPeriods} invoices`;
  return `${redemption.code} redeemed: ${formatBps(benefit.percentOffBps, locale)} off ${periods}.`;
}

/** The drop-in coupon form, with its parts attached: `CouponRedeemForm.Root`, `.Label`, `.Input`, `.Submit`, `.Message`. */
export const CouponRedeemForm = /* @__PURE__ */ Object.assign(CouponRedeemFormWidget, { Root, Label, Input, Submit, Message });
