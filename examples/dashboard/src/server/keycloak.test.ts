/**
 * The Keycloak switch: KEYCLOAK_URL, KEYCLOAK_REALM and KEYCLOAK_CLIENT_ID make the server accept the
 * realm's access tokens (verified against its key set, served here by msw) beside the demo sign-in.
 */
import { TallyError } from '@tally/core';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeKeycloakRealm, type FakeKeycloakRealm } from '../../../../packages/adapters/src/keycloak/testing-realm.ts';
import { createDashboard, type Dashboard } from './app.ts';
import { configFromEnv } from './config.ts';
import { caller, tempDataDir, tokenOf } from './test-support.ts';

const CUSTOMER = 'cus_keycloak';
const server = setupServer();
let realm: FakeKeycloakRealm;
let dashboard: Dashboard;
let call: ReturnType<typeof caller>;
let folder: Awaited<ReturnType<typeof tempDataDir>>;
const logged: string[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  realm = await createFakeKeycloakRealm({ url: 'https://sso.example.com', realm: 'tally', clientId: 'tally-dashboard' });
  server.use(...realm.handlers);
  server.listen({ onUnhandledFrame: 'bypass' });
  folder = await tempDataDir('keycloak');
  const options = configFromEnv(
    { DATA_DIR: folder.dir, KEYCLOAK_URL: 'https://sso.example.com/', KEYCLOAK_REALM: 'tally', KEYCLOAK_CLIENT_ID: 'tally-dashboard' },
    '/',
  );
  dashboard = await createDashboard({
    ...options,
    sample: false,
    background: false,
    log: (line) => logged.push(line),
    onError: (error) => errors.push(error),
  });
  await dashboard.tally.customers.upsert({ customerId: CUSTOMER, tier: 'starter' });
  call = caller(dashboard.app);
});

afterAll(async () => {
  await dashboard?.close();
  server.close();
  await folder?.remove();
});

describe('KEYCLOAK_* settings', () => {
  it('are read together, and half of them is refused naming what is missing', () => {
    const env = { KEYCLOAK_URL: 'https://sso.example.com', KEYCLOAK_REALM: 'tally', KEYCLOAK_CLIENT_ID: 'tally-dashboard' };
    expect(configFromEnv(env, '/').keycloak).toEqual({ url: 'https://sso.example.com', realm: 'tally', clientId: 'tally-dashboard' });
    expect(configFromEnv({ ...env, KEYCLOAK_CUSTOMER_CLAIM: 'tally_customer' }, '/').keycloak).toMatchObject({
      customerClaim: 'tally_customer',
    });
    expect(configFromEnv({}, '/').keycloak).toBeUndefined();
    const refusals: Array<[Record<string, string>, string]> = [
      [{ KEYCLOAK_URL: env.KEYCLOAK_URL, KEYCLOAK_REALM: 'tally' }, 'KEYCLOAK_CLIENT_ID'],
      [{ KEYCLOAK_CLIENT_ID: 'tally-dashboard' }, 'KEYCLOAK_URL'],
      [{ KEYCLOAK_CUSTOMER_CLAIM: 'tally_customer' }, 'KEYCLOAK_URL'],
      [{ ...env, KEYCLOAK_REALM: '  ' }, 'KEYCLOAK_REALM'],
      [{ ...env, KEYCLOAK_URL: 'sso.example.com' }, 'KEYCLOAK_URL'],
    ];
    for (const [partial, variable] of refusals) {
      let error: unknown = null;
      try {
        configFromEnv(partial, '/');
      } catch (caught) {
        error = caught;
      }
      expect(TallyError.is(error, 'VALIDATION'), JSON.stringify(partial)).toBe(true);
      expect((error as TallyError).details).toEqual({ variable });
    }
  });
});

describe('the dashboard with Keycloak', () => {
  it('says so at start', () => {
    expect(logged.some((line) => line.includes('Keycloak') && line.includes('"tally-dashboard"'))).toBe(true);
  });

  it('serves the API to a Keycloak access token: sub is the customer, the realm role admin the operator', async () => {
    const me = await call('GET', '/v1/me', { bearer: await realm.token({ sub: CUSTOMER }) });
    expect(me.status, await me.clone().text()).toBe(200);
    expect(await me.json()).toMatchObject({ customerId: CUSTOMER, tier: { id: 'starter' } });

    const operator = await realm.token({ sub: 'f3a1c2d4-0000-4000-8000-000000000001', realm_access: { roles: ['admin'] } });
    expect((await call('GET', '/v1/admin/customers', { bearer: operator })).status).toBe(200);
    expect(await (await call('GET', '/demo/session', { bearer: operator })).json()).toEqual({
      principal: { customerId: 'f3a1c2d4-0000-4000-8000-000000000001', roles: ['admin'] },
    });
    expect(realm.certsRequests).toBe(1);
  });

  it('refuses a token of the realm meant for another client, or signed by someone else', async () => {
    const stranger = await createFakeKeycloakRealm({ url: 'https://sso.example.com', realm: 'tally', clientId: 'tally-dashboard' });
    for (const token of [await realm.token({ sub: CUSTOMER, aud: 'account' }), await stranger.token({ sub: CUSTOMER })]) {
      const refused = await call('GET', '/v1/me', { bearer: token });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });

  it('keeps the demo sign-in working beside it', async () => {
    const signIn = await call('POST', '/demo/sign-in', { json: { as: CUSTOMER } });
    expect(signIn.status).toBe(204);
    const token = tokenOf(signIn);
    expect((await call('GET', '/v1/me', { token })).status).toBe(200);
    expect((await call('GET', '/v1/admin/customers', { bearer: dashboard.tokens.admin })).status).toBe(200);
    expect(errors).toEqual([]);
  });
});
