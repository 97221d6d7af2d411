export { CouponRedeemForm, type CouponRedeemFormProps, redemptionText } from './coupon-redeem-form.js';
export type { CouponRedeemContextValue, CouponRedeemMessageProps, CouponRedeemRootProps } from './coupon-redeem-parts.js';
export { useRedeemCoupon } from './hooks.js';
