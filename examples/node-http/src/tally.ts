// The Tally side of the example: a ledger on the in-memory store with one demo customer, and the HTTP
// handler over it. A real app uses a store from @tally/adapters (PGlite or Postgres) and its own auth.
import { createMemoryStore, createTally, sampleCatalog } from '@tally/core';
import { createTallyHandler, type TallyHandler, type TallyPrincipal } from '@tally/core/http';

export const DEMO_CUSTOMER = 'cus_demo';

/** Demo bearer tokens. In an app, `authenticate` verifies a session cookie or a JWT instead. */
const DEMO_TOKENS: Record<string, TallyPrincipal> = {
  'demo-customer': { customerId: DEMO_CUSTOMER, roles: [] },
  'demo-admin': { customerId: null, roles: ['admin'] },
};

export async function createDemoHandler(): Promise<TallyHandler> {
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore() });
  await tally.customers.upsert({ customerId: DEMO_CUSTOMER, tier: 'starter' });
  await tally.grant({ customerId: DEMO_CUSTOMER, kind: 'purchased', amountMicros: 20_000_000n, idempotencyKey: 'demo-credits' });
  return createTallyHandler({
    tally,
    authenticate: async (request) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
      return DEMO_TOKENS[token] ?? null;
    },
  });
}
