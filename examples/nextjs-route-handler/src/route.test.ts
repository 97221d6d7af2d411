import { NextRequest } from 'next/server';
import { describe, expect, it } from 'vitest';
import { DELETE, dynamic, GET, PATCH, POST, PUT } from './app/api/[...path]/route';
import { DEMO_CUSTOMER } from './lib/tally';

const auth = { authorization: 'Bearer demo-customer' };

type NextRouteHandler = (request: NextRequest, context: { params: Promise<{ path: string[] }> }) => Promise<Response>;
const route: Record<string, NextRouteHandler> = { GET, POST, PUT, PATCH, DELETE };

/** What Next.js passes: a NextRequest for the full URL, and the catch-all segments as a promise. */
function nextCall(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const handler = route[method];
  if (!handler) throw new Error(`no ${method} export`);
  const request = new NextRequest(`http://localhost:3000${path}`, { method, ...init });
  const segments =
    path
      .replace(/^\/api\//, '')
      .split('?')[0]
      ?.split('/') ?? [];
  return handler(request, { params: Promise.resolve({ path: segments }) });
}

describe('the handler as a Next.js App Router route handler (basePath /api)', () => {
  it('exports a handler for every method the API uses, and opts out of caching', () => {
    expect(Object.keys(route).sort()).toEqual(['DELETE', 'GET', 'PATCH', 'POST', 'PUT']);
    for (const handler of Object.values(route)) expect(typeof handler).toBe('function');
    expect(dynamic).toBe('force-dynamic');
  });

  it('GET /api/v1/health and /api/v1/me', async () => {
    const health = await nextCall('GET', '/api/v1/health');
    expect(health.status).toBe(200);
    const me = await nextCall('GET', '/api/v1/me', { headers: auth });
    expect(await me.json()).toMatchObject({ customerId: DEMO_CUSTOMER, tier: { id: 'starter' } });
    expect((await nextCall('GET', '/api/v1/me')).status).toBe(401);
  });

  it('PUT with a JSON body, and 405 for a method the path lacks', async () => {
    const put = await nextCall('PUT', '/api/v1/spend-caps', {
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ dailyMicros: '3000000', monthlyMicros: null }),
    });
    expect(await put.json()).toMatchObject({ dailyMicros: '3000000' });
    const wrong = await nextCall('DELETE', '/api/v1/balance', { headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('serves the OpenAPI document with the /api server URL', async () => {
    const doc = (await (await nextCall('GET', '/api/v1/openapi.json')).json()) as { servers: Array<{ url: string }> };
    expect(doc.servers).toEqual([{ url: '/api' }]);
  });
});
