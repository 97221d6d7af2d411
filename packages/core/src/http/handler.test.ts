import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { createTallyHandler, enabledRoutes, MAX_BODY_BYTES } from './handler.js';
import { routes } from './routes.js';
import { ADA, createHarness, json, seedCustomers, storeSnapshot } from './test-support.js';
import type { WireProblem } from './wire.js';

async function problemOf(response: Response, status: number, code: string): Promise<WireProblem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = await json<WireProblem>(response);
  expect(body).toMatchObject({ status, code, type: `https://tally.dev/errors/${code.toLowerCase()}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('routing', () => {
  it('answers an unknown path with 404 ROUTE_NOT_FOUND and a wrong method with 405 and Allow', async () => {
    const h = await createHarness();
    await problemOf(await h.call('GET', '/v1/nope'), 404, 'ROUTE_NOT_FOUND');
    await problemOf(await h.call('GET', '/v2/health'), 404, 'ROUTE_NOT_FOUND');
    await problemOf(await h.call('GET', '/v1/health/'), 404, 'ROUTE_NOT_FOUND');
    await problemOf(await h.call('GET', '/'), 404, 'ROUTE_NOT_FOUND');
    const wrong = await h.call('DELETE', '/v1/health');
    expect(wrong.headers.get('allow')).toBe('GET');
    await problemOf(wrong, 405, 'METHOD_NOT_ALLOWED');
    const byok = await h.call('POST', '/v1/byok/openrouter', { as: 'ada' });
    expect(byok.headers.get('allow')).toBe('DELETE, PUT');
    await problemOf(byok, 405, 'METHOD_NOT_ALLOWED');
  });

  it('every path of the table answers other methods with 405 naming exactly its methods', async () => {
    const h = await createHarness();
    const byPath = new Map<string, Set<string>>();
    for (const route of routes) byPath.set(route.path, (byPath.get(route.path) ?? new Set()).add(route.method));
    for (const [path, methods] of byPath) {
      const concrete = path.replace(/\{\w+\}/g, 'x1');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
        if (methods.has(method)) continue;
        const response = await h.call(method, concrete);
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get('allow')).toBe([...methods].sort().join(', '));
      }
    }
  });

  it('serves under basePath and nothing outside it', async () => {
    const h = await createHarness({ basePath: '/api/' });
    expect((await h.call('GET', '/api/v1/health')).status).toBe(200);
    await problemOf(await h.call('GET', '/v1/health'), 404, 'ROUTE_NOT_FOUND');
    await problemOf(await h.call('GET', '/apiv1/health'), 404, 'ROUTE_NOT_FOUND');
    const doc = await json<{ servers: Array<{ url: string }> }>(await h.call('GET', '/api/v1/openapi.json'));
    expect(doc.servers).toEqual([{ url: '/api' }]);
    expect(() => createTallyHandler({ tally: h.tally, authenticate: async () => null, basePath: 'api' })).toThrow(TallyError);
    expect(() =>
      createTallyHandler({ tally: h.tally, authenticate: async () => null, checkoutUrls: { portalReturnUrl: '/billing' } }),
    ).toThrow(TallyError);
  });

  it('a route whose option is missing answers 404 naming the option, and the served document leaves it out', async () => {
    const h = await createHarness();
    const bare = createTallyHandler({ tally: h.tally, clock: h.clock, authenticate: async () => ({ customerId: ADA, roles: [] }) });
    const response = await bare(new Request('https://api.example.com/v1/subscription/cancel', { method: 'POST' }));
    const body = await problemOf(response, 404, 'ROUTE_NOT_FOUND');
    expect(body.detail).toContain('`billing`');
    const byok = await problemOf(await bare(new Request('https://api.example.com/v1/byok')), 404, 'ROUTE_NOT_FOUND');
    expect(byok.detail).toContain('`byok`');
    const lago = await problemOf(
      await bare(new Request('https://api.example.com/v1/webhooks/lago', { method: 'POST', body: '{}' })),
      404,
      'ROUTE_NOT_FOUND',
    );
    expect(lago.detail).toContain('`webhooks.lago`');
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(
      await bare(new Request('https://api.example.com/v1/openapi.json')),
    );
    const served = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.sort()).toEqual(
      enabledRoutes({})
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    expect(served).toContain('GET /v1/balance');
    expect(served).not.toContain('POST /v1/subscription/cancel');
    expect(served).not.toContain('PUT /v1/byok/{provider}');
  });
});

describe('bodies and queries', () => {
  it('takes JSON only (415), at most 64 KB (413), parseable (400), with known fields only (400 with issues)', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const before = await storeSnapshot(h);
    const put = (options: Parameters<typeof h.call>[2]) => h.call('PUT', '/v1/spend-caps', { as: 'ada', ...options });
    await problemOf(
      await put({ rawBody: 'dailyMicros=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await problemOf(await put({ rawBody: '{"dailyMicros":"1","monthlyMicros":null}' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = JSON.stringify({ dailyMicros: '1', monthlyMicros: null, pad: 'x'.repeat(MAX_BODY_BYTES) });
    await problemOf(await put({ rawBody: big, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
    // Streamed without a Content-Length: still cut off at the limit.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode(' '.repeat(16 * 1024)));
      },
    });
    const streamed = await h.handler(
      new Request('https://api.example.com/v1/spend-caps', {
        method: 'PUT',
        headers: { authorization: 'Bearer ada', 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    await problemOf(streamed, 413, 'PAYLOAD_TOO_LARGE');
    await problemOf(await put({ rawBody: '{"dailyMicros":', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION');
    await problemOf(
      await put({ rawBody: new Uint8Array([0x7b, 0xff, 0x7d]), headers: { 'content-type': 'application/json' } }),
      400,
      'VALIDATION',
    );
    const unknown = await problemOf(await put({ body: { dailyMicros: '1', monthlyMicros: null, extra: 1 } }), 400, 'VALIDATION');
    expect(unknown.issues?.[0]?.path).toEqual([]);
    expect(unknown.issues?.[0]?.message).toMatch(/extra/);
    const typed = await problemOf(await put({ body: { dailyMicros: 1, monthlyMicros: null } }), 400, 'VALIDATION');
    expect(typed.issues?.map((i) => i.path)).toEqual([['dailyMicros']]);
    await problemOf(await put({}), 400, 'VALIDATION');
    await problemOf(await put({ body: [1, 2] }), 400, 'VALIDATION');
    expect(await storeSnapshot(h)).toEqual(before);
    // JSON with a parameter or a +json type is JSON.
    const ok = await put({
      rawBody: '{"dailyMicros":"5","monthlyMicros":null}',
      headers: { 'content-type': 'application/merge-patch+json; charset=utf-8' },
    });
    expect(ok.status).toBe(200);
  });

  it('refuses unknown and repeated query parameters', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const unknown = await problemOf(await h.call('GET', '/v1/balance', { as: 'ada', query: { verbose: '1' } }), 400, 'VALIDATION');
    expect(unknown.detail).toContain('verbose');
    const twice = await problemOf(await h.call('GET', '/v1/transactions', { as: 'ada', query: 'limit=1&limit=2' }), 400, 'VALIDATION');
    expect(twice.issues).toEqual([{ path: ['limit'], message: 'given more than once' }]);
    await problemOf(await h.call('GET', '/v1/admin/customers/%E0%A4%A', { as: 'admin' }), 400, 'VALIDATION');
    const proto = await problemOf(await h.call('GET', '/v1/balance', { as: 'ada', query: '__proto__=x' }), 400, 'VALIDATION');
    expect(proto.detail).toContain('__proto__');
  });
});

describe('Idempotency-Key', () => {
  it('must be 1-200 visible ASCII characters on mutations; other routes ignore it', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const before = await storeSnapshot(h);
    for (const key of ['', 'has space', 'x'.repeat(201), 'naïve']) {
      const response = await h.call('POST', '/v1/coupons/redeem', {
        as: 'ada',
        body: { code: 'WELCOME10' },
        headers: { 'idempotency-key': key },
      });
      await problemOf(response, 400, 'VALIDATION');
    }
    expect(await storeSnapshot(h)).toEqual(before);
    expect((await h.call('GET', '/v1/balance', { as: 'ada', headers: { 'idempotency-key': 'has space' } })).status).toBe(200);
    const longest = await h.call('POST', '/v1/coupons/redeem', {
      as: 'ada',
      body: { code: 'WELCOME10' },
      headers: { 'idempotency-key': 'k'.repeat(200) },
    });
    expect(longest.status).toBe(200);
  });

  it('sent in the body instead is refused with a pointer to the header, and nothing is granted', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const before = await storeSnapshot(h);
    for (const field of ['idempotencyKey', 'idempotency_key']) {
      const response = await h.call('POST', `/v1/admin/customers/${ADA}/grant`, {
        as: 'admin',
        body: { amountMicros: '1000', [field]: 'grant-1' },
      });
      const problem = await problemOf(response, 400, 'VALIDATION');
      expect(problem.detail).toContain(`Unrecognized key: "${field}"`);
      expect(problem.detail).toContain('send the idempotency key in the Idempotency-Key header, not the body');
    }
    const other = await problemOf(
      await h.call('POST', `/v1/admin/customers/${ADA}/grant`, { as: 'admin', body: { amountMicros: '1000', note: 'x' } }),
      400,
      'VALIDATION',
    );
    expect(other.detail).not.toContain('Idempotency-Key');
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('without the header every call is new: a retried grant grants twice (retries need the header)', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const grant = () => h.call('POST', `/v1/admin/customers/${ADA}/grant`, { as: 'admin', body: { amountMicros: '1000' } });
    const first = await json<{ operationId: string; replayed: boolean }>(await grant());
    const second = await json<{ operationId: string; replayed: boolean }>(await grant());
    expect(first.operationId).not.toBe(second.operationId);
    expect(second.replayed).toBe(false);
  });
});

describe('authentication and errors', () => {
  it('401 for no credentials, 401 when authenticate throws UNAUTHENTICATED, 403 for a malformed customer id', async () => {
    const h = await createHarness();
    const anonymous = await h.call('GET', '/v1/me');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    await problemOf(anonymous, 401, 'UNAUTHENTICATED');
    const expired = createTallyHandler({
      tally: h.tally,
      authenticate: async () => {
        throw new TallyError('UNAUTHENTICATED', 'Token expired');
      },
    });
    const body = await problemOf(await expired(new Request('https://api.example.com/v1/me')), 401, 'UNAUTHENTICATED');
    expect(body.detail).toBe('Token expired');
    const odd = createTallyHandler({ tally: h.tally, authenticate: async () => ({ customerId: 'has space', roles: [] }) });
    await problemOf(await odd(new Request('https://api.example.com/v1/me')), 403, 'FORBIDDEN');
    // Public routes never call authenticate.
    let called = 0;
    const counting = createTallyHandler({
      tally: h.tally,
      authenticate: async () => {
        called++;
        return null;
      },
    });
    expect((await counting(new Request('https://api.example.com/v1/health'))).status).toBe(200);
    expect(called).toBe(0);
  });

  it('an unexpected error is a 500 INTERNAL that says nothing; onError hears it', async () => {
    const h = await createHarness();
    const heard: unknown[] = [];
    const secret = 'connection string postgres://admin:hunter2@db';
    const failing = createTallyHandler({
      tally: h.tally,
      authenticate: async () => {
        throw new Error(secret);
      },
      onError: (error) => heard.push(error),
    });
    const response = await failing(new Request('https://api.example.com/v1/me'));
    const text = await response.clone().text();
    await problemOf(response, 500, 'INTERNAL');
    expect(text).not.toContain('hunter2');
    expect(heard).toHaveLength(1);
    expect((heard[0] as Error).message).toBe(secret);
  });

  it('a provider outage is a 503 with its code and a generic detail; the error reaches onError', async () => {
    const h = await createHarness();
    const heard: unknown[] = [];
    const tally = {
      ...h.tally,
      balance: async () => {
        throw new TallyError('PROVIDER_UNAVAILABLE', 'db-7.internal refused the connection');
      },
    };
    const handler = createTallyHandler({
      tally,
      authenticate: async () => ({ customerId: ADA, roles: [] }),
      onError: (e) => heard.push(e),
    });
    const response = await handler(new Request('https://api.example.com/v1/balance'));
    const text = await response.clone().text();
    await problemOf(response, 503, 'PROVIDER_UNAVAILABLE');
    expect(text).not.toContain('db-7');
    expect(heard).toHaveLength(1);
  });

  it('a TallyError 4xx keeps its message, issues and details (bigints as strings)', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const response = await h.call('POST', `/v1/admin/customers/${ADA}/adjust`, {
      as: 'admin',
      body: { amountMicros: '-900000000', reason: 'x' },
    });
    const body = await problemOf(response, 402, 'INSUFFICIENT_CREDITS');
    expect(body.instance).toBe(`/v1/admin/customers/${ADA}/adjust`);
    for (const value of Object.values(body.details ?? {})) expect(typeof value).not.toBe('bigint');
  });
});
