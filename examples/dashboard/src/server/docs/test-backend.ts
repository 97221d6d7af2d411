/**
 * For the portal's tests (docs.test.ts, tests/browser/docs-portal.test.ts): the real
 * `createTallyHandler` with every route enabled (billing with the sandbox provider, BYOK, the
 * notifier, PDF reports, a Lago webhook) over the memory store, with one customer, `cus_ada`, the id
 * the document's examples use, so every GET sample names data that exists.
 */
import { verifyLagoWebhook } from '@tally/adapters/lago';
import { renderReportPdf } from '@tally/adapters/pdf';
import {
  createBilling,
  createByokKeys,
  createKeyVault,
  createMemoryStore,
  createNotifier,
  createSandboxProvider,
  createTally,
  SAMPLE_EMAIL_BRAND,
  sampleCatalog,
  TallyError,
} from '@tally/core';
import { createTallyHandler, type TallyHandler, type TallyPrincipal } from '@tally/core/http';
import { createFakeClock, createMemoryEmailTransport, createTextEmailRenderer } from '@tally/core/testing';

export const DOCS_CUSTOMER = 'cus_ada';

/** Bearer tokens the test handler knows. */
export const DOCS_TOKENS = { customer: 'docs-customer-token', admin: 'docs-admin-token' } as const;

const PRINCIPALS: Record<string, TallyPrincipal> = {
  [DOCS_TOKENS.customer]: { customerId: DOCS_CUSTOMER, roles: [] },
  [DOCS_TOKENS.admin]: { customerId: null, roles: ['admin'] },
};

const LAGO_HMAC_KEY = 'docs-lago-hmac-key';

async function lagoWebhook(request: Request): Promise<Response> {
  const rawBody = await request.text();
  try {
    verifyLagoWebhook({ rawBody, headers: request.headers, hmacKey: LAGO_HMAC_KEY });
    return Response.json({ received: true });
  } catch (error) {
    if (TallyError.is(error)) return Response.json({ code: error.code, detail: error.message }, { status: 400 });
    throw error;
  }
}

export interface DocsTestBackend {
  handler: TallyHandler;
  /** The handler's own OpenAPI document (`GET /v1/openapi.json`). */
  openapi(): Promise<object>;
}

export async function createDocsTestBackend(): Promise<DocsTestBackend> {
  const clock = createFakeClock('2026-11-26T09:00:00Z');
  const store = createMemoryStore();
  const tally = createTally({ catalog: sampleCatalog, store, clock });
  const sandbox = createSandboxProvider({ catalog: sampleCatalog, clock, pagesUrl: 'http://127.0.0.1/sandbox' });
  const billing = createBilling({ catalog: sampleCatalog, store, provider: sandbox, clock });
  const vault = createKeyVault({ keys: { k1: Uint8Array.from({ length: 32 }, (_, i) => i + 3) }, activeKeyId: 'k1' });
  const byok = createByokKeys({ store, vault, clock });
  const notifier = createNotifier({
    tally,
    billing,
    render: createTextEmailRenderer(),
    transport: createMemoryEmailTransport(),
    from: { address: 'billing@example.com', name: 'Tally' },
    recipients: async (customerId) => ({ address: `${customerId}@example.com`, name: null }),
    brand: SAMPLE_EMAIL_BRAND,
    unsubscribe: { secret: 'docs-portal-test-secret-0123456789abcdef', url: 'http://127.0.0.1/v1/unsubscribe' },
    clock,
  });
  await tally.customers.upsert({ customerId: DOCS_CUSTOMER, tier: 'starter' });
  await tally.grant({ customerId: DOCS_CUSTOMER, kind: 'purchased', amountMicros: 20_000_000n, idempotencyKey: 'docs-seed' });

  const handler = createTallyHandler({
    tally,
    billing,
    byok,
    notifier,
    renderPdf: (report) => renderReportPdf(report),
    clock,
    webhooks: { lago: lagoWebhook },
    authenticate: async (request) => PRINCIPALS[request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''] ?? null,
  });
  return {
    handler,
    openapi: async () => (await handler(new Request('http://127.0.0.1/v1/openapi.json'))).json() as Promise<object>,
  };
}
