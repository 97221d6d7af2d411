const marker = Symbol.for('tally.error');

/**
 * Stable error codes. Callers branch on these, never on messages; a code is never
 * renamed once published.
 */
export type TallyErrorCode =
  | 'VALIDATION'
  | 'INVALID_DECIMAL'
  | 'CURRENCY_MISMATCH'
  | 'CATALOG_INVALID'
  | 'UNKNOWN_TIER'
  | 'UNKNOWN_MODEL'
  | 'PRICE_UNAVAILABLE'
  | 'INSUFFICIENT_CREDITS'
  | 'SPEND_CAP_EXCEEDED'
  | 'HOLD_NOT_ACTIVE'
  | 'HOLD_EXPIRED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_REJECTED'
  | 'PAYMENT_FAILED'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'COUPON_NOT_FOUND'
  | 'COUPON_EXPIRED'
  | 'COUPON_EXHAUSTED'
  | 'COUPON_ALREADY_REDEEMED'
  | 'COUPON_NOT_APPLICABLE'
  // The HTTP layer's own (`@tally/core/http`), which the client throws back as they came.
  | 'UNAUTHENTICATED'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL';

export interface TallyErrorIssue {
  /** Where in the input the problem is, e.g. `["tiers", 2, "price", "amount"]`. */
  path: ReadonlyArray<string | number>;
  message: string;
}

export interface TallyErrorOptions {
  cause?: unknown;
  issues?: ReadonlyArray<TallyErrorIssue>;
  details?: Readonly<Record<string, unknown>>;
}

export class TallyError extends Error {
  override readonly name = 'TallyError';
  readonly code: TallyErrorCode;
  readonly issues: ReadonlyArray<TallyErrorIssue>;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: TallyErrorCode, message: string, options: TallyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
    Object.defineProperty(this, marker, { value: true });
  }

  /**
   * True for any TallyError, including one thrown by another copy of @tally/core
   * (two bundles, two versions): the check uses a global symbol, not `instanceof`.
   * Pass a code to narrow further.
   */
  static is(value: unknown, code?: TallyErrorCode): value is TallyError {
    if (typeof value !== 'object' || value === null || !(marker in value)) return false;
    return code === undefined || (value as unknown as TallyError).code === code;
  }
}
