import { TallyError } from '@tally/core';

const GENERIC = 'Something went wrong on our side. Try again in a moment.';
const OFFLINE = 'We could not reach the billing service. Check your connection and try again.';

/** What a failed read can answer. Kept apart so a widget that only reads (UsageMeter) carries no more. */
const READ_MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: 'Your session has ended. Sign in again to see your billing.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'We could not find this billing record.',
  PROVIDER_UNAVAILABLE: 'The payment service is not reachable right now. Try again in a moment.',
  INTERNAL: GENERIC,
};

/** What a change (a redeem, a purchase, a saved setting) can answer besides. */
const WRITE_MESSAGES: Record<string, string> = {
  VALIDATION: 'Some of the details are not valid.',
  INSUFFICIENT_CREDITS: 'You do not have enough credits for this.',
  SPEND_CAP_EXCEEDED: 'A spend cap stops this for now.',
  PAYMENT_FAILED: 'The payment did not go through. Check your payment method and try again.',
  PROVIDER_REJECTED: 'The payment service refused this request.',
  UNKNOWN_TIER: 'That plan does not exist.',
  CONFLICT: 'This changed in the meantime. Reload and try again.',
  IDEMPOTENCY_CONFLICT: 'This request was already sent with different details.',
  COUPON_NOT_FOUND: 'We do not know that code. Check it for typos.',
  COUPON_EXPIRED: 'This code has expired.',
  COUPON_EXHAUSTED: 'This code has been used up.',
  COUPON_ALREADY_REDEEMED: 'You have already redeemed this code.',
  COUPON_NOT_APPLICABLE: 'This code does not apply to your plan.',
};

/** A sentence for people about a failed read; the code decides it, never the message text. */
export function describeReadError(error: unknown): string {
  if (TallyError.is(error)) return READ_MESSAGES[error.code] ?? GENERIC;
  return OFFLINE;
}

/** A sentence for people about any failure, changes included. */
export function describeError(error: unknown): string {
  if (TallyError.is(error)) return WRITE_MESSAGES[error.code] ?? describeReadError(error);
  return OFFLINE;
}
