import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { createApp, DEMO_CUSTOMER } from './app.ts';

const auth = { authorization: 'Bearer demo-customer' };

describe('the handler mounted in Hono', () => {
  it('answers /v1 routes and leaves the app’s own routes alone (app.request)', async () => {
    const app = await createApp();
    expect(await (await app.request('/')).text()).toContain('Tally API');
    const health = await app.request('/v1/health');
    expect(health.status).toBe(200);
    const me = await app.request('/v1/me', { headers: auth });
    expect(await me.json()).toMatchObject({ customerId: DEMO_CUSTOMER });
    const problem = await app.request('/v1/admin/audit', { headers: auth });
    expect(problem.status).toBe(403);
    expect(problem.headers.get('content-type')).toBe('application/problem+json');
    const put = await app.request('/v1/spend-caps', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ dailyMicros: '2000000', monthlyMicros: null }),
    });
    expect(await put.json()).toMatchObject({ dailyMicros: '2000000' });
  });

  it('serves over HTTP with @hono/node-server', async () => {
    const app = await createApp();
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/v1/health`)).status).toBe(200);
      const me = await fetch(`${base}/v1/me`, { headers: auth });
      expect(await me.json()).toMatchObject({ customerId: DEMO_CUSTOMER, balance: { balanceMicros: '20000000' } });
      expect((await fetch(`${base}/v1/me`)).status).toBe(401);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
