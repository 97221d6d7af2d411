import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer } from './server.ts';
import { createDemoHandler, DEMO_CUSTOMER } from './tally.ts';

const server = createNodeServer(await createDemoHandler());
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))));

const auth = { authorization: 'Bearer demo-customer' };

describe('the handler mounted in node:http', () => {
  it('GET /v1/health', async () => {
    const response = await fetch(`${base}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('GET /v1/me as the demo customer, 401 without a token', async () => {
    const me = await fetch(`${base}/v1/me`, { headers: auth });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ customerId: DEMO_CUSTOMER, tier: { id: 'starter' }, balance: { balanceMicros: '20000000' } });
    const anonymous = await fetch(`${base}/v1/me`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
  });

  it('streams a JSON body through the bridge, and refuses one over 64 KB', async () => {
    const put = await fetch(`${base}/v1/spend-caps`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ dailyMicros: '1000000', monthlyMicros: null }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ scope: { kind: 'customer' }, dailyMicros: '1000000' });
    const big = await fetch(`${base}/v1/spend-caps`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(70_000) }),
    });
    expect(big.status).toBe(413);
  });
});
