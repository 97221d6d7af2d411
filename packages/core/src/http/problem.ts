/**
 * RFC 9457 problem+json: every error the handler answers with, one stable `code` each. A TallyError
 * keeps its code and (for 4xx) its message; anything else is a 500 `INTERNAL` that says nothing about
 * what broke (the handler's `onError` hears the real error).
 */
import { TallyError, type TallyErrorCode, type TallyErrorIssue } from '../errors/index.js';
import type { WireProblem } from './wire.js';

/** The HTTP status each error code answers with. Codes not listed (a newer core) answer 500. */
export const PROBLEM_STATUS: Readonly<Record<TallyErrorCode, number>> = {
  VALIDATION: 400,
  INVALID_DECIMAL: 400,
  CURRENCY_MISMATCH: 400,
  UNKNOWN_TIER: 400,
  UNKNOWN_MODEL: 400,
  WEBHOOK_SIGNATURE_INVALID: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_CREDITS: 402,
  SPEND_CAP_EXCEEDED: 402,
  PAYMENT_FAILED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  COUPON_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_CONFLICT: 409,
  CONFLICT: 409,
  HOLD_NOT_ACTIVE: 409,
  HOLD_EXPIRED: 409,
  COUPON_ALREADY_REDEEMED: 409,
  COUPON_NOT_APPLICABLE: 409,
  COUPON_EXPIRED: 410,
  COUPON_EXHAUSTED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // A catalog that fails validation at request time is the operator's bug, not the caller's.
  CATALOG_INVALID: 500,
  INTERNAL: 500,
  PROVIDER_REJECTED: 502,
  PROVIDER_UNAVAILABLE: 503,
  PRICE_UNAVAILABLE: 503,
};

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  402: 'Payment required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  415: 'Unsupported media type',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

/** What a 5xx says instead of the error's own message, which may name internals. */
const SERVER_DETAIL: Partial<Record<TallyErrorCode, string>> = {
  PROVIDER_REJECTED: 'A provider refused the request; the operator has been told',
  PROVIDER_UNAVAILABLE: 'A provider is unavailable; retry later',
  PRICE_UNAVAILABLE: 'A price is unavailable; retry later',
};

export interface ProblemInput {
  status: number;
  code: string;
  detail: string;
  instance?: string;
  issues?: ReadonlyArray<TallyErrorIssue>;
  details?: Readonly<Record<string, unknown>>;
}

export function problem(input: ProblemInput): WireProblem {
  return {
    type: `https://tally.dev/errors/${input.code.toLowerCase()}`,
    title: TITLES[input.status] ?? 'Error',
    status: input.status,
    detail: input.detail,
    code: input.code,
    ...(input.instance !== undefined ? { instance: input.instance } : {}),
    ...(input.issues && input.issues.length > 0 ? { issues: input.issues.map((i) => ({ path: [...i.path], message: i.message })) } : {}),
    ...(input.details && Object.keys(input.details).length > 0 ? { details: jsonSafe(input.details) as Record<string, unknown> } : {}),
  };
}

/** Details may hold bigints and dates; JSON has neither. Depth-limited so a cycle can't hang a response. */
function jsonSafe(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (depth > 4 || typeof value !== 'object') return null;
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonSafe(item, depth + 1)]));
}

/** A problem for an error thrown while handling a request; `internal` is true when `onError` should hear of it. */
export function problemFromError(error: unknown, instance: string): { body: WireProblem; internal: boolean } {
  if (!TallyError.is(error)) {
    return { body: problem({ status: 500, code: 'INTERNAL', detail: 'Something went wrong on our side', instance }), internal: true };
  }
  const status = PROBLEM_STATUS[error.code] ?? 500;
  if (status >= 500) {
    const code = error.code === 'CATALOG_INVALID' || PROBLEM_STATUS[error.code] === undefined ? 'INTERNAL' : error.code;
    const detail = SERVER_DETAIL[error.code] ?? 'Something went wrong on our side';
    return { body: problem({ status, code, detail, instance }), internal: true };
  }
  if (error.code === 'IDEMPOTENCY_CONFLICT') {
    // The ledger's message names the scoped key the handler derived, which means nothing to the caller.
    const detail = 'This Idempotency-Key was already used for a different request';
    return { body: problem({ status, code: error.code, detail, instance }), internal: false };
  }
  return {
    body: problem({ status, code: error.code, detail: error.message, instance, issues: error.issues, details: error.details }),
    internal: false,
  };
}

export function problemResponse(body: WireProblem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
  });
}
