import { createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { TallyError } from '@tally/core';
import type { LagoClient } from './client.js';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyLagoWebhookInput {
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Uint8Array;
  headers: WebhookHeaders;
  /** The organization's "HMAC Signature Token", for `X-Lago-Signature-Algorithm: hmac`. */
  hmacKey?: string;
  /** Lago's PEM public key, for `jwt` (Lago's default); see `fetchLagoWebhookPublicKey`. */
  publicKeyPem?: string;
}

export interface LagoWebhook<T = Record<string, unknown>> {
  /** The parsed body: `{ webhook_type, object_type, organization_id, <object_type>: {…} }`. */
  payload: T;
  /** `X-Lago-Unique-Key`: the same on every retry of one webhook; dedupe on it. */
  uniqueKey: string | null;
  algorithm: 'hmac' | 'jwt';
}

function header(headers: WebhookHeaders, name: string): string | null {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? (value[0] ?? null) : value;
  }
  return null;
}

function invalid(message: string): TallyError {
  return new TallyError('WEBHOOK_SIGNATURE_INVALID', `Lago webhook: ${message}`);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function base64UrlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function publicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new TallyError('VALIDATION', 'publicKeyPem is not a PEM public key', { cause: error });
  }
}

/** Checks an RS256 JWT whose `data` claim must be the raw body, character for character. */
function verifyJwt(token: string, body: string, pem: string): void {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) throw invalid('the signature is not a JWT');
  const [head, claims, signature] = parts as [string, string, string];
  const jose = base64UrlJson(head) as { alg?: unknown } | null;
  if (jose?.alg !== 'RS256') throw invalid('the JWT is not signed with RS256');
  const ok = verify('sha256', Buffer.from(`${head}.${claims}`, 'utf8'), publicKey(pem), Buffer.from(signature, 'base64url'));
  if (!ok) throw invalid('the JWT signature does not match the public key');
  const payload = base64UrlJson(claims) as { data?: unknown } | null;
  if (typeof payload?.data !== 'string' || !sameText(payload.data, body)) throw invalid('the JWT does not sign this body');
}

/**
 * Verifies a Lago webhook from its raw body and headers and returns the parsed body. `hmac`:
 * `X-Lago-Signature` is Base64(HMAC-SHA256(hmacKey, body)); `jwt`: an RS256 JWT over `{ data: body }`.
 * Anything missing or not matching throws `WEBHOOK_SIGNATURE_INVALID`.
 */
export function verifyLagoWebhook<T = Record<string, unknown>>(input: VerifyLagoWebhookInput): LagoWebhook<T> {
  const signature = header(input.headers, 'x-lago-signature');
  // Lago's default is jwt; a sender that omits the header gets no easier check.
  const algorithm = header(input.headers, 'x-lago-signature-algorithm') ?? 'jwt';
  if (!signature) throw invalid('the X-Lago-Signature header is missing');
  const body = typeof input.rawBody === 'string' ? input.rawBody : new TextDecoder().decode(input.rawBody);
  if (algorithm === 'hmac') {
    if (!input.hmacKey) throw invalid('an hmac signature arrived but no hmacKey is configured');
    const bytes = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
    const expected = createHmac('sha256', input.hmacKey).update(bytes).digest('base64');
    if (!sameText(signature.trim(), expected)) throw invalid('the hmac signature does not match the body');
  } else if (algorithm === 'jwt') {
    if (!input.publicKeyPem) throw invalid('a jwt signature arrived but no publicKeyPem is configured');
    verifyJwt(signature.trim(), body, input.publicKeyPem);
  } else {
    throw invalid(`unknown X-Lago-Signature-Algorithm ${JSON.stringify(algorithm)}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (error) {
    throw new TallyError('VALIDATION', 'Lago webhook: the signed body is not JSON', { cause: error });
  }
  return { payload: payload as T, uniqueKey: header(input.headers, 'x-lago-unique-key'), algorithm };
}

/** Lago's webhook public key as PEM (`GET /webhooks/public_key` answers it base64-encoded). Cache it. */
export function fetchLagoWebhookPublicKey(client: Pick<LagoClient, 'webhookPublicKey'>): Promise<string> {
  return client.webhookPublicKey();
}
