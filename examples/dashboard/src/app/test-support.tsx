/**
 * For the app's tests (happy-dom): the real `createTallyHandler` over a memory store answers `/v1`,
 * a small stand-in answers the demo server's `/demo` routes, and a fake event stream lets a test
 * push `ledger` and `health` events. Every request the app sends is recorded.
 */
import { type Billing, createBilling, createMemoryStore, createSandboxProvider, createTally, sampleCatalog, type Tally } from '@tally/core';
import { createTallyHandler } from '@tally/core/http';
import { render } from '@testing-library/react';
import { App } from './app.tsx';
import type { HealthReport, PlaygroundResult, Principal } from './demo-api.ts';
import type { AppEnvironment, EventStream } from './environment.ts';

export const ORIGIN = 'http://dashboard.test';
export const CUSTOMER = 'cus_ada';

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export class FakeEventStream implements EventStream {
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, Set<(event: MessageEvent<string>) => void>>();

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    set.add(listener);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.dispatch('open', '');
  }

  emit(type: string, data: unknown): void {
    this.dispatch(type, JSON.stringify(data));
  }

  private dispatch(type: string, data: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data }));
  }
}

export interface TestServer {
  tally: Tally;
  billing: Billing;
  requests: RecordedRequest[];
  streams: FakeEventStream[];
  principal: Principal | null;
  /** What `GET /demo/health` answers. */
  health: HealthReport;
  /** Replaces the playground's behaviour (default: meters a call through the real ledger). */
  playground?: (body: { prompt: string; powerLevel: string }) => Promise<Response>;
  env: AppEnvironment;
  assigned: string[];
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const problem = (status: number, code: string, detail: string) =>
  new Response(JSON.stringify({ type: 'about:blank', title: code, status, detail, code }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

export const SAMPLE_HEALTH: HealthReport = {
  score: 72,
  status: 'degraded',
  measuredAt: '2026-11-20T15:00:00.000Z',
  signals: [
    {
      id: 'outbox_lag',
      label: 'Outbox lag',
      value: 95,
      unit: 's',
      weight: 30,
      penalty: 20,
      explanation: 'The oldest undelivered outbox message is 95 s old.',
    },
    {
      id: 'failed_webhooks',
      label: 'Failed webhooks (24 h)',
      value: 1,
      unit: 'deliveries',
      weight: 20,
      penalty: 8,
      explanation: 'One webhook delivery failed today.',
    },
    {
      id: 'dead_letters',
      label: 'Dead letters',
      value: 0,
      unit: 'messages',
      weight: 20,
      penalty: 0,
      explanation: 'No message has given up.',
    },
    {
      id: 'reconciliation_drift',
      label: 'Reconciliation drift',
      value: null,
      unit: 'bps',
      weight: 15,
      penalty: 0,
      explanation: 'Not run yet.',
    },
    { id: 'db_latency', label: 'Database latency', value: 3, unit: 'ms', weight: 15, penalty: 0, explanation: 'Median of 5 round trips.' },
  ],
};

/** A customer on the trial (5 credits of allowance) and the stand-in server around it. */
export async function createTestServer(principal: Principal | null): Promise<TestServer> {
  const catalog = sampleCatalog;
  const store = createMemoryStore();
  const tally = createTally({ catalog, store });
  let billing: Billing | null = null;
  const sandbox = createSandboxProvider({ catalog, onEvent: (event) => billing?.applyEvent(event) });
  billing = createBilling({ catalog, store, provider: sandbox });
  await billing.subscribe({ customerId: CUSTOMER, tier: 'trial' });
  let calls = 0;

  const server: TestServer = {
    tally,
    billing,
    requests: [],
    streams: [],
    principal,
    health: SAMPLE_HEALTH,
    assigned: [],
    env: null as unknown as AppEnvironment,
  };

  const handler = createTallyHandler({
    tally,
    billing,
    authenticate: async () => server.principal,
  });

  async function demo(request: Request, path: string, body: unknown): Promise<Response> {
    if (path === '/demo/session') return json({ principal: server.principal });
    if (path === '/demo/customers')
      return json({
        customers: [
          { id: CUSTOMER, tier: 'trial', name: 'Ada' },
          { id: 'cus_bob', tier: 'starter' },
        ],
      });
    if (path === '/demo/sign-in' && request.method === 'POST') {
      const as = (body as { as?: string } | null)?.as;
      server.principal = as === 'admin' ? { customerId: null, roles: ['admin'] } : { customerId: as ?? null, roles: [] };
      return new Response(null, { status: 204 });
    }
    if (path === '/demo/sign-out' && request.method === 'POST') {
      server.principal = null;
      return new Response(null, { status: 204 });
    }
    if (path === '/demo/health') return json(server.health);
    if (path === '/demo/playground' && request.method === 'POST') {
      const input = body as { prompt: string; powerLevel: string };
      if (server.playground) return server.playground(input);
      calls += 1;
      const model = input.powerLevel === 'precision' ? 'openai/gpt-4o' : 'openai/gpt-4o-mini';
      const { charge } = await tally.meter({
        customerId: CUSTOMER,
        model,
        usage: { inputTokens: 200_000, outputTokens: 50_000 },
        idempotencyKey: `test:playground:${calls}`,
      });
      const balance = await tally.balance(CUSTOMER);
      const result: PlaygroundResult = {
        text: `Echo: ${input.prompt}`,
        model,
        inputTokens: 200_000,
        outputTokens: 50_000,
        chargedMicros: String(charge?.chargedMicros ?? 0n),
        balanceMicros: String(balance.balanceMicros),
      };
      return json(result);
    }
    return problem(404, 'ROUTE_NOT_FOUND', `No demo route ${path}`);
  }

  const fetch = async (input: Request): Promise<Response> => {
    const url = new URL(input.url);
    const text = input.method === 'GET' || input.method === 'HEAD' ? '' : await input.clone().text();
    const body = text ? (JSON.parse(text) as unknown) : null;
    server.requests.push({ method: input.method, path: `${url.pathname}${url.search}`, body });
    if (url.pathname.startsWith('/demo/')) return demo(input, url.pathname, body);
    return handler(new Request(url.href, { method: input.method, headers: input.headers, ...(text ? { body: text } : {}) }));
  };

  server.env = {
    origin: ORIGIN,
    fetch,
    openEvents: () => {
      const stream = new FakeEventStream();
      server.streams.push(stream);
      return stream;
    },
    assign: (url) => server.assigned.push(url),
  };
  return server;
}

/** Renders the whole app at `path` against `server`. */
export function renderApp(server: TestServer, path: string) {
  window.history.replaceState(null, '', path);
  return render(<App env={server.env} />);
}

export const customerPrincipal: Principal = { customerId: CUSTOMER, roles: [] };
export const adminPrincipal: Principal = { customerId: null, roles: ['admin'] };
