import { createMemoryStore, createTally, sampleCatalog, TallyError } from '@tally/core';
import { createTallyHandler } from '@tally/core/http';
import { createFakeClock, type FakeClock, tallyRejection } from '@tally/core/testing';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeycloakAuthenticate, type KeycloakAuthenticateOptions } from './authenticate.js';
import { base64url, createFakeKeycloakRealm, type FakeKeycloakRealm, type FakeKeycloakRealmOptions } from './testing-realm.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const START = '2026-11-16T12:00:00Z';

interface Setup {
  clock: FakeClock;
  realm: FakeKeycloakRealm;
  authenticate: (request: Request) => ReturnType<ReturnType<typeof createKeycloakAuthenticate>>;
  /** `authenticate` of a request carrying `Authorization: <scheme> <token>` (no header for undefined). */
  as(token: string | undefined, scheme?: string): ReturnType<ReturnType<typeof createKeycloakAuthenticate>>;
}

async function setup(options: Partial<KeycloakAuthenticateOptions> = {}, realmOptions: FakeKeycloakRealmOptions = {}): Promise<Setup> {
  const clock = createFakeClock(START);
  const realm = await createFakeKeycloakRealm({ now: clock.now, ...realmOptions });
  server.use(...realm.handlers);
  const authenticate = createKeycloakAuthenticate({
    url: realm.url,
    realm: realm.realm,
    clientId: realm.clientId,
    now: clock.now,
    ...options,
  });
  const as = (token: string | undefined, scheme = 'Bearer') =>
    authenticate(
      new Request('https://api.example.com/v1/me', token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } }),
    );
  return { clock, realm, authenticate, as };
}

const nowSeconds = (clock: FakeClock) => Math.floor(clock.now().getTime() / 1000);

/** A token with a made-up `kid`, otherwise well signed: what an attacker floods with. */
const unknownKid = (realm: FakeKeycloakRealm) =>
  realm.token({}, { header: { kid: base64url(crypto.getRandomValues(new Uint8Array(32))) } });

describe('createKeycloakAuthenticate', () => {
  it('maps a valid access token to its principal: sub as the customer, the realm roles and this client’s roles', async () => {
    const { realm, as } = await setup();
    const token = await realm.token({
      sub: 'cus_ada',
      realm_access: { roles: ['default-roles-tally', 'offline_access', 'admin'] },
      resource_access: { 'tally-api': { roles: ['support', 'admin'] }, account: { roles: ['manage-account'] } },
    });
    expect(await as(token)).toEqual({ customerId: 'cus_ada', roles: ['default-roles-tally', 'offline_access', 'admin', 'support'] });
    expect(realm.certsRequests).toBe(1);
    // The scheme is case-insensitive (RFC 7235); the key is cached by kid: no second request.
    expect(await as(await realm.token({ sub: 'cus_bob' }), 'bearer')).toMatchObject({ customerId: 'cus_bob' });
    expect(realm.certsRequests).toBe(1);
  });

  it('answers null without a bearer token, and asks Keycloak nothing', async () => {
    const { realm, as } = await setup();
    const token = await realm.token();
    expect(await as(undefined)).toBeNull();
    expect(await as(token, 'Basic')).toBeNull();
    expect(await as('', 'Bearer')).toBeNull();
    expect(await as(`${token} extra`)).toBeNull();
    expect(realm.certsRequests).toBe(0);
  });

  it('takes a token meant for the client: in aud, or issued to it (azp); none for another service', async () => {
    const { realm, as } = await setup();
    expect(await as(await realm.token({ aud: 'tally-api' }))).not.toBeNull();
    expect(await as(await realm.token({ aud: 'account', azp: 'tally-api' }))).not.toBeNull();
    expect(await as(await realm.token({ aud: undefined, azp: 'tally-api' }))).not.toBeNull();
    expect(await as(await realm.token({ aud: ['account', 'reports-api'] }))).toBeNull();
    expect(await as(await realm.token({ aud: 'account' }))).toBeNull();
    expect(await as(await realm.token({ aud: undefined }))).toBeNull();
  });

  it('refuses every token that is not a valid access token of this realm for this client', async () => {
    const { clock, realm, as } = await setup();
    const stranger = await createFakeKeycloakRealm({ now: clock.now });
    const now = nowSeconds(clock);
    const valid = await realm.token();
    expect(await as(valid), 'the baseline is accepted').not.toBeNull();
    const [header = '', payload = '', signature = ''] = valid.split('.');
    const claims = realm.claims({ sub: 'cus_ada' });
    const part = (value: unknown) => base64url(JSON.stringify(value));
    const hmac = async (secret: Uint8Array<ArrayBuffer>, input: string) => {
      const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return base64url(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
    };
    const hs256Input = `${part({ alg: 'HS256', typ: 'JWT', kid: realm.activeKid })}.${part(claims)}`;
    const modulus = new Uint8Array(Buffer.from(realm.jwks().keys.find((key) => key.kid === realm.activeKid)?.n as string, 'base64url'));
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10] = (flipped[10] as number) ^ 1;

    const cases: Array<[string, string]> = [
      ['alg none, unsigned', `${part({ alg: 'none', typ: 'JWT', kid: realm.activeKid })}.${part(claims)}.`],
      ['HS256 keyed with the public key (algorithm confusion)', `${hs256Input}.${await hmac(modulus, hs256Input)}`],
      ['signed by another realm’s key under this realm’s kid', await stranger.sign(claims, { header: { kid: realm.activeKid } })],
      [
        'claims changed after signing',
        `${header}.${part({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'cus_bob' })}.${signature}`,
      ],
      ['a flipped signature bit', `${header}.${payload}.${flipped.toString('base64url')}`],
      ['no signature', `${header}.${payload}.`],
      ['a kid the key set lacks', await realm.token({}, { header: { kid: 'no-such-key' } })],
      ['the kid of the realm’s encryption key', await realm.token({}, { header: { kid: realm.encryptionKid } })],
      ['no kid', await realm.token({}, { header: { kid: undefined } })],
      ['an algorithm the key is not for', await realm.token({}, { header: { alg: 'PS256' } })],
      ['a critical header extension', await realm.token({}, { header: { crit: ['exp'], exp: now } })],
      ['another realm’s issuer', await realm.token({ iss: 'https://sso.example.com/realms/other' })],
      ['the issuer with a trailing slash', await realm.token({ iss: `${realm.issuer}/` })],
      ['expired beyond the tolerance', await realm.token({ exp: now - 31, iat: now - 331 })],
      ['no exp', await realm.token({ exp: undefined })],
      ['exp not a number', await realm.token({ exp: String(now + 300) })],
      ['not valid before a time beyond the tolerance', await realm.token({ nbf: now + 31 })],
      ['an ID token', await realm.token({ typ: 'ID', aud: 'tally-api' })],
      ['a refresh token', await realm.token({ typ: 'Refresh' })],
      ['one part', 'abc'],
      ['two parts', `${header}.${payload}`],
      ['four parts', `${valid}.${signature}`],
      ['a header that is not JSON', `${base64url('{"alg":')}.${payload}.${signature}`],
      ['claims that are an array', `${header}.${part([claims])}.${signature}`],
      ['padded base64', `${header}.${payload}==.${signature}`],
      ['longer than any real token', `${header}.${base64url('x'.repeat(20_000))}.${signature}`],
    ];
    for (const [what, token] of cases) expect(await as(token), what).toBeNull();
  });

  it('never verifies with a key listed for encryption, even one that names no algorithm', async () => {
    const { clock, realm, as } = await setup();
    const signing = realm.jwks().keys.find((key) => key.kid === realm.activeKid) as Record<string, unknown>;
    const { alg: _alg, use: _use, ...bare } = signing;
    server.use(http.get(realm.certsUrl, () => HttpResponse.json({ keys: [{ ...bare, use: 'enc' }] })));
    const token = await realm.token({ sub: 'cus_ada' });
    expect(await as(token)).toBeNull();
    // The same key without `use` and `alg` (both optional in RFC 7517) is a signing key for any RSA algorithm.
    server.use(http.get(realm.certsUrl, () => HttpResponse.json({ keys: [bare] })));
    const fresh = createKeycloakAuthenticate({ url: realm.url, realm: realm.realm, clientId: realm.clientId, now: clock.now });
    expect(await fresh(new Request('https://api.example.com/', { headers: { authorization: `Bearer ${token}` } }))).toMatchObject({
      customerId: 'cus_ada',
    });
  });

  it('allows the clock tolerance on exp and nbf, and no more', async () => {
    const { clock, realm, as } = await setup();
    const now = nowSeconds(clock);
    expect(await as(await realm.token({ exp: now - 29, iat: now - 329 }))).not.toBeNull();
    expect(await as(await realm.token({ nbf: now + 29 }))).not.toBeNull();
    const strict = createKeycloakAuthenticate({
      url: realm.url,
      realm: realm.realm,
      clientId: realm.clientId,
      now: clock.now,
      clockToleranceSeconds: 0,
    });
    const request = async (claims: Record<string, unknown>) =>
      strict(new Request('https://api.example.com/', { headers: { authorization: `Bearer ${await realm.token(claims)}` } }));
    expect(await request({ exp: now + 1 })).not.toBeNull();
    expect(await request({ exp: now })).toBeNull();
    expect(await request({ nbf: now })).not.toBeNull();
    expect(await request({ nbf: now + 1 })).toBeNull();
  });

  it('verifies ES256 and PS256 keys as well as RS256', async () => {
    const { clock, realm, as } = await setup();
    await realm.addKey('ES256');
    expect(await as(await realm.token({ sub: 'cus_ec' }))).toMatchObject({ customerId: 'cus_ec' });
    clock.advance(31_000);
    await realm.addKey('PS256');
    expect(await as(await realm.token({ sub: 'cus_pss' }))).toMatchObject({ customerId: 'cus_pss' });
    expect(realm.jwks().keys.map((key) => key.alg)).toEqual(['RSA-OAEP', 'RS256', 'ES256', 'PS256']);
  });

  it('reads the customer id from another claim or a function, and maps roles', async () => {
    const { clock, realm, as } = await setup({ customerIdClaim: 'tally_customer' });
    expect(await as(await realm.token({ tally_customer: 'cus_org_7' }))).toMatchObject({ customerId: 'cus_org_7' });
    // Signed in, but no customer (an operator): the handler lets such a caller reach admin routes only.
    expect(await as(await realm.token({ tally_customer: undefined }))).toMatchObject({ customerId: null });
    expect(await as(await realm.token({ tally_customer: 42 }))).toMatchObject({ customerId: null });

    const mapped = createKeycloakAuthenticate({
      url: realm.url,
      realm: realm.realm,
      clientId: realm.clientId,
      now: clock.now,
      customerIdClaim: (claims) => {
        const organization = claims.organization as Record<string, { id?: string }> | undefined;
        return organization ? (Object.values(organization)[0]?.id ?? null) : null;
      },
      roles: (_claims, roles) =>
        roles.filter((role) => role.startsWith('tally-')).map((role) => (role === 'tally-operator' ? 'admin' : role)),
    });
    const token = await realm.token({
      organization: { acme: { id: 'cus_acme' } },
      realm_access: { roles: ['offline_access', 'tally-operator'] },
      resource_access: { 'tally-api': { roles: ['tally-billing'] } },
    });
    const request = new Request('https://api.example.com/', { headers: { authorization: `Bearer ${token}` } });
    expect(await mapped(request)).toEqual({ customerId: 'cus_acme', roles: ['admin', 'tally-billing'] });
  });

  it('throws a TypeError when the app’s own mapping returns the wrong type (a 500, not a 401)', async () => {
    const { clock, realm } = await setup();
    const base = { url: realm.url, realm: realm.realm, clientId: realm.clientId, now: clock.now };
    const request = new Request('https://api.example.com/', { headers: { authorization: `Bearer ${await realm.token()}` } });
    const badCustomer = createKeycloakAuthenticate({ ...base, customerIdClaim: () => 7 as unknown as string });
    await expect(badCustomer(request)).rejects.toThrow(TypeError);
    const badRoles = createKeycloakAuthenticate({ ...base, roles: () => 'admin' as unknown as string[] });
    await expect(badRoles(request)).rejects.toThrow(TypeError);
  });

  it('refuses options it cannot work with, naming them', () => {
    const base = { url: 'https://sso.example.com', realm: 'tally', clientId: 'tally-api' };
    const cases: Array<[Partial<KeycloakAuthenticateOptions>, RegExp]> = [
      [{ url: '' }, /url/],
      [{ url: 'sso.example.com' }, /absolute http/],
      [{ realm: '' }, /realm/],
      [{ clientId: undefined as unknown as string }, /clientId/],
      [{ clockToleranceSeconds: -1 }, /clockToleranceSeconds/],
      [{ jwksCooldownSeconds: Number.NaN }, /jwksCooldownSeconds/],
      [{ jwksMaxAgeSeconds: 10 }, /jwksMaxAgeSeconds/],
      [{ customerIdClaim: '' }, /customerIdClaim/],
    ];
    for (const [options, message] of cases) {
      let error: unknown = null;
      try {
        createKeycloakAuthenticate({ ...base, ...options });
      } catch (caught) {
        error = caught;
      }
      expect(TallyError.is(error, 'VALIDATION'), JSON.stringify(options)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('key rotation', () => {
  it('fetches the key set again, once, when a token names a new key; old tokens keep working', async () => {
    const { clock, realm, as } = await setup();
    const old = realm.activeKid;
    const before = await realm.token({ sub: 'cus_old' });
    expect(await as(before)).not.toBeNull();
    expect(realm.certsRequests).toBe(1);

    clock.advance(5 * 60_000);
    const rotated = await realm.addKey('RS256');
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, index) => realm.token({ sub: `cus_${index}` })));
    const principals = await Promise.all(tokens.map((token) => as(token)));
    expect(principals.map((principal) => principal?.customerId)).toEqual(tokens.map((_, index) => `cus_${index}`));
    // Twenty requests came with the new kid at once: they shared one fetch.
    expect(realm.certsRequests).toBe(2);
    expect(JSON.parse(Buffer.from(tokens[0]?.split('.')[0] as string, 'base64url').toString()).kid).toBe(rotated);

    expect(await as(await realm.token({ sub: 'cus_old' }, { kid: old }))).not.toBeNull();
    expect(realm.certsRequests).toBe(2);
  });

  it('bounds the fetches a flood of unknown kids causes: at most one per cooldown', async () => {
    const { clock, realm, as } = await setup({ jwksCooldownSeconds: 30 });
    expect(await as(await realm.token())).not.toBeNull();
    expect(realm.certsRequests).toBe(1);

    // Within the cooldown of the first fetch: refused from the cache, nothing fetched.
    for (let index = 0; index < 50; index++) expect(await as(await unknownKid(realm))).toBeNull();
    expect(realm.certsRequests).toBe(1);

    clock.advance(31_000);
    const flood = await Promise.all(Array.from({ length: 50 }, () => unknownKid(realm)));
    expect(await Promise.all(flood.map((token) => as(token)))).toEqual(flood.map(() => null));
    for (let index = 0; index < 50; index++) expect(await as(await unknownKid(realm))).toBeNull();
    expect(realm.certsRequests).toBe(2);

    clock.advance(31_000);
    for (let index = 0; index < 50; index++) expect(await as(await unknownKid(realm))).toBeNull();
    expect(realm.certsRequests).toBe(3);
    // Valid tokens never waited on any of it.
    expect(await as(await realm.token())).not.toBeNull();
    expect(realm.certsRequests).toBe(3);
  });

  it('stops trusting a key Keycloak dropped once the cached set is older than jwksMaxAgeSeconds', async () => {
    const { clock, realm, as } = await setup({ jwksMaxAgeSeconds: 600 });
    const old = realm.activeKid;
    expect(await as(await realm.token())).not.toBeNull();
    await realm.addKey('RS256');
    realm.removeKey(old);
    clock.advance(599_000);
    expect(await as(await realm.token({}, { kid: old })), 'still cached').not.toBeNull();
    expect(realm.certsRequests).toBe(1);
    clock.advance(2_000);
    expect(await as(await realm.token({}, { kid: old }))).toBeNull();
    expect(realm.certsRequests).toBe(2);
    expect(await as(await realm.token())).not.toBeNull();
    expect(realm.certsRequests).toBe(2);
  });
});

describe('the key set unreachable', () => {
  it('throws PROVIDER_UNAVAILABLE (an outage, not a logout), and asks again only after the cooldown', async () => {
    const { clock, realm, as } = await setup();
    const token = await realm.token();
    realm.setOutage({ status: 503 });
    const error = await tallyRejection(as(token));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toContain(realm.certsUrl);
    expect(error.details).toMatchObject({ url: realm.certsUrl, status: 503 });
    expect(realm.certsRequests).toBe(1);

    // Within the cooldown the failure stands, without another request.
    expect((await tallyRejection(as(token))).code).toBe('PROVIDER_UNAVAILABLE');
    expect(realm.certsRequests).toBe(1);

    clock.advance(31_000);
    realm.setOutage('network');
    expect(await tallyRejection(as(await realm.token()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { status: null } });
    expect(realm.certsRequests).toBe(2);

    clock.advance(31_000);
    realm.setOutage(null);
    expect(await as(await realm.token({ sub: 'cus_back' }))).toMatchObject({ customerId: 'cus_back' });
    expect(realm.certsRequests).toBe(3);
  });

  it('throws PROVIDER_REJECTED for an answer that is no key set: a wrong realm (404) or not JSON', async () => {
    const { clock, realm, as } = await setup();
    realm.setOutage({ status: 404 });
    const missing = await tallyRejection(as(await realm.token()));
    expect(missing).toMatchObject({ code: 'PROVIDER_REJECTED', details: { status: 404 } });
    expect(missing.message).toMatch(/realm name/);
    clock.advance(31_000);
    realm.setOutage('not-json');
    expect(await tallyRejection(as(await realm.token()))).toMatchObject({ code: 'PROVIDER_REJECTED', details: { status: 200 } });
  });

  it('goes unnoticed while the cached keys are fresh; invalid tokens never reach Keycloak', async () => {
    const { clock, realm, as } = await setup();
    expect(await as(await realm.token())).not.toBeNull();
    realm.setOutage({ status: 502 });
    clock.advance(5 * 60_000);
    expect(await as(await realm.token({ sub: 'cus_cached' }))).toMatchObject({ customerId: 'cus_cached' });
    expect(await as(await realm.token({ iss: 'https://evil.example.com/realms/tally' }, { header: { kid: 'new' } }))).toBeNull();
    expect(realm.certsRequests).toBe(1);
    clock.advance(5 * 60_000);
    expect((await tallyRejection(as(await realm.token()))).code).toBe('PROVIDER_UNAVAILABLE');
    expect(realm.certsRequests).toBe(2);
  });
});

describe('as createTallyHandler’s authenticate', () => {
  it('serves a customer route with a valid token, 401 problem+json without one, and 503 when Keycloak is down', async () => {
    const { clock, realm, authenticate } = await setup();
    const store = createMemoryStore();
    const tally = createTally({ catalog: sampleCatalog, store, clock });
    await tally.customers.upsert({ customerId: 'cus_ada', tier: 'starter' });
    const errors: unknown[] = [];
    const handler = createTallyHandler({ tally, authenticate, clock, onError: (error) => errors.push(error) });
    const get = (path: string, token?: string) =>
      handler(new Request(`https://api.example.com${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}));

    const me = await get('/v1/me', await realm.token({ sub: 'cus_ada' }));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ customerId: 'cus_ada', tier: { id: 'starter' } });

    for (const token of [undefined, await realm.token({ sub: 'cus_ada', aud: 'account' })]) {
      const refused = await get('/v1/me', token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect(await refused.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }

    const operator = await realm.token({ sub: 'ops-1', realm_access: { roles: ['admin'] } });
    expect((await get('/v1/admin/customers', operator)).status).toBe(200);
    expect((await get('/v1/admin/customers', await realm.token({ sub: 'cus_ada' }))).status).toBe(403);

    clock.advance(60_000);
    await realm.addKey('RS256');
    realm.setOutage({ status: 503 });
    const down = await get('/v1/me', await realm.token({ sub: 'cus_ada' }));
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(errors).toHaveLength(1);
    expect(TallyError.is(errors[0], 'PROVIDER_UNAVAILABLE')).toBe(true);
  });
});
