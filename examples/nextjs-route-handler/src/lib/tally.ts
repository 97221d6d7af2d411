// One handler per server process, created on first use. The in-memory store keeps the demo
// self-contained; a real app uses a store from @tally/adapters (Postgres, or PGlite for one instance).
import { createMemoryStore, createTally, sampleCatalog } from '@tally/core';
import { createTallyHandler, type TallyHandler, type TallyPrincipal } from '@tally/core/http';

export const DEMO_CUSTOMER = 'cus_demo';

/** Demo bearer tokens. In an app, `authenticate` reads your session (e.g. Auth.js `auth()`) instead. */
const DEMO_TOKENS: Record<string, TallyPrincipal> = {
  'demo-customer': { customerId: DEMO_CUSTOMER, roles: [] },
  'demo-admin': { customerId: null, roles: ['admin'] },
};

let handler: Promise<TallyHandler> | null = null;

async function create(): Promise<TallyHandler> {
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore() });
  await tally.customers.upsert({ customerId: DEMO_CUSTOMER, tier: 'starter' });
  await tally.grant({ customerId: DEMO_CUSTOMER, kind: 'purchased', amountMicros: 20_000_000n, idempotencyKey: 'demo-credits' });
  return createTallyHandler({
    tally,
    // The route lives at app/api/[...path]: requests arrive as /api/v1/….
    basePath: '/api',
    authenticate: async (request) => DEMO_TOKENS[request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''] ?? null,
  });
}

export async function handleTally(request: Request): Promise<Response> {
  handler ??= create();
  return (await handler)(request);
}
