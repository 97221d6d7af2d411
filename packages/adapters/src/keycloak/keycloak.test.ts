import { createMemoryStore, createOutboxWorker, type OutboxMessage } from '@tally/core';
import { createFakeClock, tallyRejection } from '@tally/core/testing';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKeycloakClient, type KeycloakClientOptions } from './client.js';
import { createKeycloakSink } from './sink.js';
import { createFakeKeycloak, type FakeKeycloakOptions } from './testing.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

function setup(options: FakeKeycloakOptions = {}, client: Partial<KeycloakClientOptions> = {}) {
  const fake = createFakeKeycloak(options);
  server.use(...fake.handlers);
  const keycloak = createKeycloakClient({
    baseUrl: fake.baseUrl,
    realm: fake.realm,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    ...client,
  });
  fake.addUser({
    id: 'u1',
    username: 'ada',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    emailVerified: true,
    requiredActions: ['CONFIGURE_TOTP'],
    attributes: { department: ['research'], locale: ['en'] },
  });
  return { fake, keycloak };
}

function update(customerId: string, tier: string, status: string, version: number, id = '1'): OutboxMessage {
  const at = new Date('2026-11-16T00:00:00Z');
  const payload = {
    customerId,
    tier,
    status,
    interval: 'month',
    currentPeriodStart: '2026-11-01T00:00:00.000Z',
    currentPeriodEnd: '2026-12-01T00:00:00.000Z',
    trialEnd: null,
    scheduledChange: null,
    version,
    at: at.toISOString(),
  };
  return {
    id,
    topic: 'subscription.updated',
    payload: JSON.stringify(payload),
    dedupeKey: `subscription.updated:${customerId}:${version}`,
    attempts: 1,
    createdAt: at,
    availableAt: at,
    deliveredAt: null,
    lastError: null,
    dead: false,
  };
}

const declared = { declaredAttributes: ['tally_tier', 'tally_status', 'tally_version'] };

describe('Keycloak client', () => {
  it('gets a client-credentials token with a form post and caches it', async () => {
    const { fake, keycloak } = setup();
    expect(await keycloak.getUser('u1')).toMatchObject({ id: 'u1', username: 'ada' });
    await keycloak.getUser('u1');
    expect(fake.tokensIssued).toBe(1);
    expect(fake.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/realms/tally/protocol/openid-connect/token', 200],
      ['GET', '/admin/realms/tally/users/u1', 200],
      ['GET', '/admin/realms/tally/users/u1', 200],
    ]);
    expect(fake.requests[0]?.body).toEqual({ grant_type: 'client_credentials', client_id: 'tally-svc', client_secret: 'tally-secret' });
  });

  it('shares one token request between concurrent first calls', async () => {
    const { fake, keycloak } = setup();
    await Promise.all([keycloak.getUser('u1'), keycloak.getUser('u1'), keycloak.getUser('u1')]);
    expect(fake.tokensIssued).toBe(1);
  });

  it('renews the token shortly before expires_in, not earlier', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-16T00:00:00Z'));
    const { fake, keycloak } = setup({ tokenLifetimeSeconds: 300 });
    await keycloak.getUser('u1');
    vi.setSystemTime(new Date('2026-11-16T00:04:29Z'));
    await keycloak.getUser('u1');
    expect(fake.tokensIssued).toBe(1);
    // 30 s before the end the cached token is retired.
    vi.setSystemTime(new Date('2026-11-16T00:04:31Z'));
    await keycloak.getUser('u1');
    expect(fake.tokensIssued).toBe(2);
    expect(fake.requests.filter((r) => r.status !== 200)).toEqual([]);
  });

  it('renews a token Keycloak refuses with 401, once', async () => {
    const { fake, keycloak } = setup();
    await keycloak.getUser('u1');
    fake.revokeTokens();
    expect((await keycloak.getUser('u1')).id).toBe('u1');
    expect(fake.tokensIssued).toBe(2);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 401, 200, 200]);
    // A 401 that a new token does not cure is an error, not a loop.
    server.use(
      http.get(`${fake.baseUrl}/admin/realms/tally/users/:id`, () =>
        HttpResponse.json({ error: 'HTTP 401 Unauthorized' }, { status: 401 }),
      ),
    );
    const error = await tallyRejection(keycloak.getUser('u1'));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ status: 401 });
    expect(fake.tokensIssued).toBe(3);
  });

  it('maps errors to typed TallyErrors', async () => {
    const { fake, keycloak } = setup();
    expect((await tallyRejection(keycloak.getUser('nobody'))).code).toBe('NOT_FOUND');
    const wrong = createKeycloakClient({ baseUrl: fake.baseUrl, realm: 'tally', clientId: 'tally-svc', clientSecret: 'wrong' });
    const refused = await tallyRejection(wrong.getUser('u1'));
    expect(refused.code).toBe('PROVIDER_REJECTED');
    expect(refused.details).toMatchObject({ status: 401, error: 'unauthorized_client' });
    server.use(http.put(`${fake.baseUrl}/admin/realms/tally/users/:id`, () => new HttpResponse(null, { status: 503 })));
    expect((await tallyRejection(keycloak.updateUser('u1', { firstName: 'A' }))).code).toBe('PROVIDER_UNAVAILABLE');
    server.use(
      http.put(`${fake.baseUrl}/admin/realms/tally/users/:id`, () =>
        HttpResponse.json({ field: 'email', errorMessage: 'invalidEmailMessage', params: [] }, { status: 400 }),
      ),
    );
    const invalid = await tallyRejection(keycloak.updateUser('u1', { email: 'x' }));
    expect(invalid.details).toMatchObject({ status: 400, errorMessage: 'invalidEmailMessage', field: 'email' });
    expect((await tallyRejection(keycloak.getUser(''))).code).toBe('VALIDATION');
    expect(() => createKeycloakClient({ baseUrl: '', realm: 'r', clientId: 'c', clientSecret: 's' })).toThrow(/baseUrl/);
  });
});

describe('Keycloak sink', () => {
  it('sets tier, status and version by read-merge-write, keeping every other attribute and field', async () => {
    const { fake, keycloak } = setup({ unmanagedAttributePolicy: 'ADMIN_EDIT' });
    const sink = createKeycloakSink({ client: keycloak });
    await sink.handlers['subscription.updated'](update('u1', 'professional', 'active', 2));
    expect(fake.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 200],
      ['GET', 200],
      ['PUT', 204],
      ['GET', 200],
    ]);
    const put = fake.requests[2]?.body as Record<string, unknown>;
    expect(put.attributes).toEqual({
      department: ['research'],
      locale: ['en'],
      tally_tier: ['professional'],
      tally_status: ['active'],
      tally_version: ['2'],
    });
    expect(put).toMatchObject({
      username: 'ada',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      requiredActions: ['CONFIGURE_TOTP'],
    });
    expect(put).not.toHaveProperty('access');
    const user = await keycloak.getUser('u1');
    expect(user.attributes).toEqual(put.attributes);
    expect(user).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', emailVerified: true, requiredActions: ['CONFIGURE_TOTP'] });
  });

  it('works under the default policy when the attributes are declared in the user profile', async () => {
    const { fake, keycloak } = setup(declared);
    const sink = createKeycloakSink({ client: keycloak, userIdFor: async (customerId) => `u${customerId.slice(-1)}` });
    await sink.handlers['subscription.updated'](update('cus_1', 'starter', 'past_due', 1));
    expect(fake.users.get('u1')?.attributes).toEqual({
      department: ['research'],
      locale: ['en'],
      tally_tier: ['starter'],
      tally_status: ['past_due'],
      tally_version: ['1'],
    });
  });

  it('reports attributes Keycloak silently dropped, naming unmanagedAttributePolicy', async () => {
    const { fake, keycloak } = setup();
    const sink = createKeycloakSink({ client: keycloak });
    const error = await tallyRejection(sink.handlers['subscription.updated'](update('u1', 'professional', 'active', 2)));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.message).toMatch(/unmanagedAttributePolicy/);
    expect(error.message).toMatch(/user profile/);
    expect(error.message).toMatch(/ADMIN_EDIT/);
    expect(error.details).toEqual({ userId: 'u1', dropped: ['tally_tier', 'tally_status', 'tally_version'] });
    // The PUT was answered 204: the drop is only visible by reading back.
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 204, 200]);
    // Hidden attributes stay stored, untouched.
    expect(fake.users.get('u1')?.attributes).toEqual({ department: ['research'], locale: ['en'] });
    // Declaring only some of them still fails, naming the missing one.
    fake.declareAttributes('tally_tier', 'tally_status');
    const partly = await tallyRejection(sink.handlers['subscription.updated'](update('u1', 'professional', 'active', 2)));
    expect(partly.details).toEqual({ userId: 'u1', dropped: ['tally_version'] });
  });

  it('skips an update older than the tally_version on the user, and applies an equal or newer one', async () => {
    const { fake, keycloak } = setup(declared);
    const sink = createKeycloakSink({ client: keycloak });
    const handle = sink.handlers['subscription.updated'];
    await handle(update('u1', 'professional', 'active', 5));
    const before = fake.requests.length;
    await handle(update('u1', 'starter', 'active', 4));
    expect(fake.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
    expect(fake.users.get('u1')?.attributes.tally_tier).toEqual(['professional']);
    await handle(update('u1', 'professional', 'canceled', 5));
    expect(fake.users.get('u1')?.attributes.tally_status).toEqual(['canceled']);
    await handle(update('u1', 'starter', 'active', 6));
    expect(fake.users.get('u1')?.attributes).toMatchObject({ tally_tier: ['starter'], tally_status: ['active'], tally_version: ['6'] });
  });

  it('refuses a malformed payload without calling Keycloak', async () => {
    const { fake, keycloak } = setup(declared);
    const sink = createKeycloakSink({ client: keycloak });
    const bad = {
      ...update('u1', 'pro', 'active', 1),
      payload: JSON.stringify({ customerId: 'u1', tier: 'pro', status: 'active', version: -1 }),
    };
    expect((await tallyRejection(sink.handlers['subscription.updated'](bad))).code).toBe('VALIDATION');
    expect((await tallyRejection(sink.handlers['subscription.updated']({ ...bad, payload: 'nope' }))).code).toBe('VALIDATION');
    expect(fake.requests).toEqual([]);
  });

  it('runs on the outbox worker: a dropped attribute is retried until the realm is fixed', async () => {
    const { fake, keycloak } = setup();
    const store = createMemoryStore();
    const clock = createFakeClock('2026-11-16T00:00:00Z');
    const message = update('u1', 'professional', 'active', 1);
    await store.enqueueOutbox({ topic: message.topic, payload: message.payload, dedupeKey: message.dedupeKey, at: clock.now() });
    const worker = createOutboxWorker({
      store,
      clock,
      ...createKeycloakSink({ client: keycloak }),
      backoff: { baseMs: 1_000, maxMs: 1_000 },
    });
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    const [pending] = await store.listOutbox({ delivered: false, limit: 1 });
    expect(pending?.lastError).toMatch(/unmanagedAttributePolicy/);
    fake.setUnmanagedAttributePolicy('ADMIN_EDIT');
    clock.advance(1_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(fake.users.get('u1')?.attributes).toMatchObject({
      tally_tier: ['professional'],
      tally_status: ['active'],
      tally_version: ['1'],
    });
  });
});
