// The Tally API inside a Hono app: every /v1 route goes to the handler with Hono's raw Request, and
// the app keeps its own routes beside it.
import { createMemoryStore, createTally, sampleCatalog } from '@tally/core';
import { createTallyHandler, type TallyPrincipal } from '@tally/core/http';
import { Hono } from 'hono';

export const DEMO_CUSTOMER = 'cus_demo';

/** Demo bearer tokens. In an app, `authenticate` verifies a session cookie or a JWT instead. */
const DEMO_TOKENS: Record<string, TallyPrincipal> = {
  'demo-customer': { customerId: DEMO_CUSTOMER, roles: [] },
  'demo-admin': { customerId: null, roles: ['admin'] },
};

export async function createApp(): Promise<Hono> {
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore() });
  await tally.customers.upsert({ customerId: DEMO_CUSTOMER, tier: 'starter' });
  await tally.grant({ customerId: DEMO_CUSTOMER, kind: 'purchased', amountMicros: 20_000_000n, idempotencyKey: 'demo-credits' });
  const handler = createTallyHandler({
    tally,
    authenticate: async (request) => DEMO_TOKENS[request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''] ?? null,
  });

  const app = new Hono();
  app.get('/', (c) => c.text('An app with the Tally API under /v1'));
  app.all('/v1/*', (c) => handler(c.req.raw));
  return app;
}
