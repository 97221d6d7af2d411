import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { TallyError } from '@tally/core';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLagoClient } from './client.js';
import { createFakeLago } from './testing.js';
import { fetchLagoWebhookPublicKey, verifyLagoWebhook } from './webhook.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const body = JSON.stringify({
  webhook_type: 'invoice.created',
  object_type: 'invoice',
  organization_id: 'org_1',
  invoice: { lago_id: 'inv_1', total_amount_cents: 1900, currency: 'EUR', note: 'café ✓' },
});
const hmacKey = 'lago_hmac_token';
const hmac = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('base64');

const lagoKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = lagoKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function jwt(claims: unknown, privateKey = lagoKeys.privateKey, alg = 'RS256'): string {
  const signed = `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

function failure(run: () => unknown): TallyError {
  try {
    run();
  } catch (error) {
    if (TallyError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a TallyError');
}

describe('verifyLagoWebhook', () => {
  it('accepts a good hmac signature and returns the body and the unique key', () => {
    const headers = new Headers({
      'X-Lago-Signature': hmac(hmacKey, body),
      'X-Lago-Signature-Algorithm': 'hmac',
      'X-Lago-Unique-Key': '5c2b0b3e-1a7f-4c1e-9a43-d1f0c0a4b1f2',
    });
    const webhook = verifyLagoWebhook({ rawBody: body, headers, hmacKey });
    expect(webhook).toEqual({ payload: JSON.parse(body), uniqueKey: '5c2b0b3e-1a7f-4c1e-9a43-d1f0c0a4b1f2', algorithm: 'hmac' });
    // Node's lower-cased header object and a byte body work the same.
    const nodeHeaders = { 'x-lago-signature': hmac(hmacKey, body), 'x-lago-signature-algorithm': ['hmac'] };
    expect(verifyLagoWebhook({ rawBody: new TextEncoder().encode(body), headers: nodeHeaders, hmacKey }).payload).toEqual(JSON.parse(body));
  });

  it('refuses a bad hmac signature, a changed body and a missing header', () => {
    const good = hmac(hmacKey, body);
    const cases = [
      { rawBody: body, headers: { 'x-lago-signature': hmac('other key', body), 'x-lago-signature-algorithm': 'hmac' } },
      { rawBody: body.replace('1900', '19000'), headers: { 'x-lago-signature': good, 'x-lago-signature-algorithm': 'hmac' } },
      { rawBody: body, headers: { 'x-lago-signature': good.slice(0, -2), 'x-lago-signature-algorithm': 'hmac' } },
      { rawBody: body, headers: { 'x-lago-signature-algorithm': 'hmac' } },
      { rawBody: body, headers: { 'x-lago-signature': good, 'x-lago-signature-algorithm': 'sha1' } },
    ];
    for (const input of cases) {
      expect(failure(() => verifyLagoWebhook({ ...input, hmacKey })).code).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    expect(failure(() => verifyLagoWebhook({ rawBody: body, headers: {}, hmacKey })).message).toMatch(/X-Lago-Signature header is missing/);
    // A key for the other algorithm is no key at all.
    const noKey = failure(() =>
      verifyLagoWebhook({ rawBody: body, headers: { 'x-lago-signature': good, 'x-lago-signature-algorithm': 'hmac' }, publicKeyPem }),
    );
    expect(noKey.code).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it('accepts a good RS256 JWT whose data is the body (jwt is the default algorithm)', () => {
    const token = jwt({ data: body, iss: 'https://api.getlago.com' });
    const headers = { 'x-lago-signature': token, 'x-lago-signature-algorithm': 'jwt', 'x-lago-unique-key': 'k1' };
    expect(verifyLagoWebhook({ rawBody: body, headers, publicKeyPem })).toEqual({
      payload: JSON.parse(body),
      uniqueKey: 'k1',
      algorithm: 'jwt',
    });
    expect(verifyLagoWebhook({ rawBody: body, headers: { 'x-lago-signature': token }, publicKeyPem }).algorithm).toBe('jwt');
  });

  it('refuses a JWT signed by another key, over another body, tampered, or not RS256', () => {
    const headers = (token: string) => ({ 'x-lago-signature': token, 'x-lago-signature-algorithm': 'jwt' });
    const good = jwt({ data: body });
    const [head, , signature] = good.split('.');
    const tampered = `${head}.${b64url({ data: body.replace('1900', '1') })}.${signature}`;
    const tokens = [
      jwt({ data: body }, otherKeys.privateKey),
      jwt({ data: body.replace('1900', '1') }),
      jwt({ data: JSON.parse(body) }),
      tampered,
      jwt({ data: body }, lagoKeys.privateKey, 'HS256'),
      `${b64url({ alg: 'none' })}.${b64url({ data: body })}.`,
      'not-a-jwt',
    ];
    for (const token of tokens) {
      expect(failure(() => verifyLagoWebhook({ rawBody: body, headers: headers(token), publicKeyPem })).code).toBe(
        'WEBHOOK_SIGNATURE_INVALID',
      );
    }
    expect(failure(() => verifyLagoWebhook({ rawBody: body, headers: headers(good), hmacKey })).code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(failure(() => verifyLagoWebhook({ rawBody: body, headers: headers(good), publicKeyPem: 'not a key' })).code).toBe('VALIDATION');
  });
});

describe('fetchLagoWebhookPublicKey', () => {
  it('reads the base64 PEM from GET /webhooks/public_key and it verifies Lago JWTs', async () => {
    const fake = createFakeLago({ webhookPublicKeyPem: publicKeyPem });
    server.use(...fake.handlers);
    const client = createLagoClient({ apiKey: fake.apiKey, retry: { limit: 0 } });
    const pem = await fetchLagoWebhookPublicKey(client);
    expect(pem).toBe(publicKeyPem);
    expect(fake.requests.map((r) => [r.method, r.path])).toEqual([['GET', '/api/v1/webhooks/public_key']]);
    const headers = { 'x-lago-signature': jwt({ data: body }), 'x-lago-signature-algorithm': 'jwt' };
    expect(verifyLagoWebhook({ rawBody: body, headers, publicKeyPem: pem }).payload).toEqual(JSON.parse(body));
  });

  it('refuses an answer that is not a base64 PEM key', async () => {
    const fake = createFakeLago({ webhookPublicKeyPem: 'hello' });
    server.use(...fake.handlers);
    const client = createLagoClient({ apiKey: fake.apiKey, retry: { limit: 0 } });
    await expect(fetchLagoWebhookPublicKey(client)).rejects.toMatchObject({ code: 'PROVIDER_REJECTED' });
  });
});
