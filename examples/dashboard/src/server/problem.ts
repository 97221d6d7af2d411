/**
 * problem+json for the demo's own routes, in the shape `createTallyHandler` answers `/v1` with, so the
 * app reads every error the same way: a stable `code`, the message in `detail`.
 */
import { TallyError, type TallyErrorCode } from '@tally/core';
import { PROBLEM_STATUS } from '@tally/core/http';

const TITLES: Record<number, string> = {
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
  PROVIDER_REJECTED: 'The model provider refused the request; the operator has been told',
  PROVIDER_UNAVAILABLE: 'A provider Tally depends on is unavailable; retry later',
  PRICE_UNAVAILABLE: 'A price is unavailable; retry later',
};

export function problemResponse(status: number, code: string, detail: string, instance?: string, extra: object = {}): Response {
  const body = {
    type: `https://tally.dev/errors/${code.toLowerCase()}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(instance === undefined ? {} : { instance }),
    ...extra,
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * The problem for an error thrown while serving `instance`. A TallyError keeps its code (and, below
 * 500, its message and issues); anything else is a 500 `INTERNAL` that names nothing, and `onError`
 * hears the real error.
 */
export function errorResponse(error: unknown, instance: string, onError: (error: unknown) => void): Response {
  if (!TallyError.is(error)) {
    onError(error);
    return problemResponse(500, 'INTERNAL', 'Something went wrong on our side', instance);
  }
  const status = PROBLEM_STATUS[error.code] ?? 500;
  if (status >= 500) {
    onError(error);
    const code = PROBLEM_STATUS[error.code] === undefined || error.code === 'CATALOG_INVALID' ? 'INTERNAL' : error.code;
    return problemResponse(status, code, SERVER_DETAIL[error.code] ?? 'Something went wrong on our side', instance);
  }
  const issues =
    error.issues.length > 0 ? { issues: error.issues.map((issue) => ({ path: [...issue.path], message: issue.message })) } : {};
  return problemResponse(status, error.code, error.message, instance, issues);
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * A request's JSON body: `{}` when it is empty, else a JSON value sent as `application/json` of at
 * most 16 KiB. Anything else is a typed error (415, 413, 400) and nothing has happened yet.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > MAX_BODY_BYTES) {
    throw new TallyError('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw new TallyError('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TallyError('VALIDATION', 'The body is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  const mime = (request.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mime !== 'application/json') throw new TallyError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON (Content-Type: application/json)');
  try {
    return JSON.parse(text);
  } catch {
    throw new TallyError('VALIDATION', 'The body is not valid JSON');
  }
}

/** The body as an object with only the keys in `allowed`; other shapes and unknown keys are `VALIDATION`. */
export function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TallyError('VALIDATION', 'The body must be a JSON object', { issues: [{ path: [], message: 'not an object' }] });
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TallyError('VALIDATION', `Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      issues: unknown.map((key) => ({ path: [key], message: 'unknown field' })),
    });
  }
  return body as Record<string, unknown>;
}
