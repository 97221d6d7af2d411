import { TallyError, type TallyErrorCode } from '@tally/core';

/** The fields of a stripe-node error that Tally reads (duck-typed: no `instanceof` across bundles). */
interface StripeErrorLike {
  type: string;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  requestId?: string;
  statusCode?: number;
  rawType?: string;
}

/** True for errors thrown by stripe-node (`StripeCardError`, `StripeAPIError`, …). */
export function isStripeError(error: unknown): error is StripeErrorLike {
  if (!(error instanceof Error)) return false;
  const type = (error as { type?: unknown }).type;
  return typeof type === 'string' && type.startsWith('Stripe');
}

function codeFor(error: StripeErrorLike): TallyErrorCode {
  switch (error.type) {
    case 'StripeConnectionError':
    case 'StripeRateLimitError':
    case 'StripeAPIError':
      return 'PROVIDER_UNAVAILABLE';
    case 'StripeIdempotencyError':
      return 'IDEMPOTENCY_CONFLICT';
    case 'StripeCardError':
      return 'PAYMENT_FAILED';
    default:
      // StripeInvalidRequestError, StripeAuthenticationError, StripePermissionError and anything newer.
      return error.statusCode !== undefined && error.statusCode >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED';
  }
}

/**
 * A Stripe error as a TallyError: connection, rate-limit and 5xx errors are `PROVIDER_UNAVAILABLE`
 * (retry later), invalid requests, authentication and permission errors `PROVIDER_REJECTED`, a reused
 * idempotency key with other parameters `IDEMPOTENCY_CONFLICT`, a card decline `PAYMENT_FAILED`.
 * Stripe's type, code and request id stay in `details`. Other errors pass through unchanged.
 */
export function toTallyError(error: unknown, operation: string): unknown {
  if (!isStripeError(error)) return error;
  return new TallyError(codeFor(error), `Stripe ${operation} failed: ${error.message}`, {
    cause: error,
    details: {
      provider: 'stripe',
      operation,
      stripeType: error.rawType ?? error.type,
      stripeCode: error.code ?? null,
      declineCode: error.decline_code ?? null,
      param: error.param ?? null,
      requestId: error.requestId ?? null,
      statusCode: error.statusCode ?? null,
    },
  });
}

/** Runs one Stripe call and maps its failure to a TallyError. */
export async function stripeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toTallyError(error, operation);
  }
}
