/**
 * The demo dashboard's server as a Hono app: the Tally API (`createTallyHandler`) at `/v1`, the demo's
 * sign-in, playground, health and live events at `/demo`, the sandbox's payment pages, the API docs,
 * and the built React app. CONTRACT.md is the HTTP contract; main.ts starts it from the environment.
 *
 *   const { app, close } = await createDashboard({ dataDir: '/tmp/tally-demo' });
 */
import { createKeycloakAuthenticate } from '@tally/adapters/keycloak';
import { renderReportPdf } from '@tally/adapters/pdf';
import type { SqlStore } from '@tally/adapters/pglite';
import { createScheduler, type Scheduler } from '@tally/adapters/scheduler';
import {
  type Billing,
  createBilling,
  createByokKeys,
  createKeyVault,
  createOutboxWorker,
  createTally,
  type Notifier,
  type OutboxRound,
  type SandboxProvider,
  sampleCatalog,
  systemClock,
  type Tally,
  TallyError,
} from '@tally/core';
import { createTallyHandler, type TallyPrincipal } from '@tally/core/http';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { type DemoDatabase, openDatabase, removePGliteData } from './database.ts';
import { createDocsApp } from './docs/routes.ts';
import { createEventHub, type EventHub, type LiveEvent } from './events.ts';
import { type HealthReport, measureHealth, scoreHealth } from './health.ts';
import { createModelSource, type ModelSource, type OpenRouterSettings } from './llm.ts';
import { type CaptureTransport, createCaptureTransport, createDemoNotifier } from './mail.ts';
import { createPayments, restoreSandbox, type StripeSettings } from './payments.ts';
import { pickerCustomers } from './people.ts';
import { parsePlaygroundRequest, playgroundError, runPlayground } from './playground.ts';
import { errorResponse, objectBody, problemResponse, readJsonBody } from './problem.ts';
import { createReconciler, type Reconciler } from './reconciler.ts';
import { CHECKOUT_CANCELED, CHECKOUT_DONE, sandboxPages } from './sandbox-pages.ts';
import { type DemoSecrets, loadSecrets } from './secrets.ts';
import { DEFAULT_SAMPLE, DEMO_CUSTOMER, type SampleSize, type SeedSummary, seedDemoData, seedState } from './seed.ts';
import { createSessions, type KeycloakSettings, type Sessions } from './session.ts';
import { staticApp } from './static-app.ts';
import { loggedWebhooks } from './webhooks.ts';

export interface DashboardOptions {
  /** The demo's folder: PGlite's files (unless `databaseUrl`) and `secrets.json`. Created when missing. */
  dataDir: string;
  /** Postgres instead of PGlite. */
  databaseUrl?: string | undefined;
  /** Stripe instead of the sandbox. */
  stripe?: StripeSettings | undefined;
  /** OpenRouter instead of the mock model. */
  openRouter?: OpenRouterSettings | undefined;
  /** Also accept this realm's access tokens as `Authorization: Bearer` (beside the demo sign-in; see session.ts). */
  keycloak?: KeycloakSettings | undefined;
  /** What an empty database is seeded with; `false`: nothing. Default `DEFAULT_SAMPLE`. */
  sample?: SampleSize | false;
  /**
   * Where browsers reach the server (email links, checkout return URLs). Default `http://localhost:3000`.
   */
  publicUrl?: string;
  /** Run the outbox worker, the scheduler and reconciliation in the background. Default true. */
  background?: boolean;
  /** The built app. Default examples/dashboard/dist. */
  distDir?: string;
  /** Progress and notices (one line each). Default: stderr. */
  log?: (line: string) => void;
  /** Errors nobody else hears (5xx causes, background failures). Default: stderr. */
  onError?: (error: unknown) => void;
}

export interface Dashboard {
  app: Hono;
  /** Stops the background work, ends live streams and closes the database. */
  close(): Promise<void>;
  tally: Tally;
  billing: Billing;
  store: SqlStore;
  db: DemoDatabase;
  /** Null with Stripe. */
  sandbox: SandboxProvider | null;
  notifier: Notifier;
  mail: CaptureTransport;
  models: ModelSource;
  reconciler: Reconciler;
  events: EventHub;
  sessions: Sessions;
  /** Bearer tokens for curl: the admin and the demo customer. */
  tokens: { admin: string; customer: string };
  /** What this start seeded; null when the database was seeded before (or seeding is off). */
  seeded: SeedSummary | null;
  /** Payments and models in use, for the start-up message. */
  description: { database: string; payments: string; models: string };
  health(): Promise<HealthReport>;
  /** One round of the outbox worker (tests run it by hand with `background: false`). */
  deliverOutbox(): Promise<OutboxRound>;
}

const ADMIN_ROLE = 'admin';

function stderrLine(line: string) {
  process.stderr.write(`${line}\n`);
}

function defaultOnError(error: unknown) {
  console.error('[dashboard]', error);
}

export async function createDashboard(options: DashboardOptions): Promise<Dashboard> {
  const log = options.log ?? stderrLine;
  const onError = options.onError ?? defaultOnError;
  const publicUrl = (options.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  if (!URL.canParse(publicUrl) || !/^https?:$/.test(new URL(publicUrl).protocol)) {
    throw new TallyError('VALIDATION', `publicUrl must be an absolute http(s) URL, got "${publicUrl}"`);
  }
  const secrets = await loadSecrets(options.dataDir);

  if (!options.databaseUrl) log(`Opening the database in ${options.dataDir} (PGlite)…`);
  let db = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  let state = await seedState(db);
  if (state === 'unfinished' && db.kind === 'pglite' && options.sample !== false) {
    log('The data folder holds an unfinished first run (it was interrupted): starting it over.');
    await db.close();
    await removePGliteData(options.dataDir);
    db = await openDatabase({ dataDir: options.dataDir });
    state = await seedState(db);
  }
  try {
    return await assemble({ options, db, state, secrets, publicUrl, log, onError });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Everything on top of the open database; `createDashboard` closes the database when this fails. */
async function assemble(input: {
  options: DashboardOptions;
  db: DemoDatabase;
  state: Awaited<ReturnType<typeof seedState>>;
  secrets: DemoSecrets;
  publicUrl: string;
  log: (line: string) => void;
  onError: (error: unknown) => void;
}): Promise<Dashboard> {
  const { options, db, state, secrets, publicUrl, log, onError } = input;
  const clock = systemClock;
  const catalog = sampleCatalog;
  const store = db.store;
  const tally = createTally({ catalog, store, clock });

  // Sandbox events reach the webhook route like Stripe's; the route is built further down.
  let webhook: ((request: Request, provider?: string) => Promise<Response>) | null = null;
  const payments = createPayments({
    catalog,
    stripe: options.stripe,
    webhookSecret: secrets.webhookSecret,
    async deliver(request) {
      if (!webhook) throw new TallyError('INTERNAL', 'a sandbox event came before the webhook route was ready');
      const response = await webhook(request, 'sandbox');
      if (!response.ok) onError(new Error(`a sandbox webhook was answered ${response.status}: ${await response.text()}`));
    },
  });
  const billing = createBilling({
    catalog,
    store,
    provider: payments.provider,
    clock,
    checkoutUrls: { successUrl: `${publicUrl}${CHECKOUT_DONE}`, cancelUrl: `${publicUrl}${CHECKOUT_CANCELED}` },
  });
  const byok = createByokKeys({ store, vault: createKeyVault({ keys: { demo1: secrets.vaultKey }, activeKeyId: 'demo1' }), clock });
  const mail = createCaptureTransport();
  const notifier = createDemoNotifier({ tally, billing, transport: mail, publicUrl, unsubscribeSecret: secrets.unsubscribeSecret });

  let seeded: SeedSummary | null = null;
  const sample = options.sample ?? DEFAULT_SAMPLE;
  if (state === 'empty' && sample !== false) {
    seeded = await seedDemoData({ db, catalog, billing, sample, now: clock.now(), log });
  } else if (state === 'unfinished' && sample !== false) {
    log('The database has customers but no demo seed: it is used as it is, without sample data.');
  }
  if (payments.sandbox) await restoreSandbox(payments.sandbox, store);

  const models = createModelSource(options.openRouter);
  const keycloak = options.keycloak
    ? createKeycloakAuthenticate({
        url: options.keycloak.url,
        realm: options.keycloak.realm,
        clientId: options.keycloak.clientId,
        ...(options.keycloak.customerClaim === undefined ? {} : { customerIdClaim: options.keycloak.customerClaim }),
      })
    : null;
  if (options.keycloak) {
    const { url, realm, clientId } = options.keycloak;
    log(`Keycloak: bearer tokens of realm "${realm}" at ${url} for client "${clientId}" are accepted beside the demo sign-in.`);
  }
  const sessions = createSessions(secrets.sessionKey, keycloak);
  const handler = createTallyHandler({
    tally,
    billing,
    byok,
    notifier,
    renderPdf: (report) => renderReportPdf(report),
    authenticate: (request) => sessions.authenticate(request),
    clock,
    onError: (error) => onError(error),
  });
  webhook = loggedWebhooks({ db, clock, handle: handler, onError });
  // Payment webhooks are logged for the health score; the sandbox's own deliveries call `webhook` directly.
  const paymentWebhook = webhook;
  const api = (request: Request) => (new URL(request.url).pathname === '/v1/webhooks/stripe' ? paymentWebhook(request) : handler(request));

  const reconciler = createReconciler({ store, client: models.client, clock, onError });
  const outboxTopics = Object.keys(notifier.handlers).sort();
  const health = async () =>
    scoreHealth(await measureHealth({ db, outboxTopics, reconciliation: reconciler.status(), now: clock.now() }), clock.now());
  const events = createEventHub({ db, health, onError });

  const worker = createOutboxWorker({ store, clock, handlers: notifier.handlers });
  const scheduler: Scheduler = createScheduler({
    store,
    clock,
    onError: (error) => onError(error),
    jobs: [
      {
        // Renewals the way a provider drives them (the sandbox bills, its events come back through the
        // webhook), then Tally's own period work: trials that ended, scheduled downgrades, grace periods.
        name: 'demo:billing',
        cron: '* * * * *',
        async run() {
          await tally.sweepHolds();
          await tally.expireBuckets();
          await payments.sandbox?.runBilling();
          await billing.runScheduler();
        },
      },
      // The analytics rollups, folded off the request path (docs/analytics.md, "Indexes and rollups").
      { name: 'demo:analytics-fold', cron: '* * * * *', run: async () => void (await tally.analytics.fold()) },
      { name: 'demo:low-balance-scan', cron: '17 * * * *', run: async () => void (await notifier.scanLowBalance()) },
    ],
  });

  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c.req.path, onError));

  app.all('/v1/*', (c) => api(c.req.raw));

  const principalOf = (request: Request): Promise<TallyPrincipal | null> => sessions.authenticate(request);
  const requireAdmin = async (request: Request) => {
    const principal = await principalOf(request);
    if (!principal) throw new TallyError('UNAUTHENTICATED', 'Sign in to call this route');
    if (!principal.roles.includes(ADMIN_ROLE)) throw new TallyError('FORBIDDEN', 'This route is for admins');
    return principal;
  };

  app.post('/demo/sign-in', async (c) => {
    const body = objectBody(await readJsonBody(c.req.raw), ['as']);
    const as = body.as;
    if (typeof as !== 'string' || as === '') {
      throw new TallyError('VALIDATION', 'as must be a customer id or "admin"', { issues: [{ path: ['as'], message: 'invalid' }] });
    }
    let principal: TallyPrincipal;
    if (as === 'admin') principal = sessions.admin();
    else {
      if (!(await store.getCustomer(as))) throw new TallyError('NOT_FOUND', `No customer "${as}"`, { details: { customerId: as } });
      principal = sessions.customer(as);
    }
    return c.body(null, 204, { 'set-cookie': sessions.signInCookie(sessions.sign(principal), c.req.raw), 'cache-control': 'no-store' });
  });

  app.post('/demo/sign-out', (c) => c.body(null, 204, { 'set-cookie': sessions.signOutCookie(c.req.raw), 'cache-control': 'no-store' }));

  app.get('/demo/session', async (c) => {
    const principal = await principalOf(c.req.raw);
    return c.json({ principal: principal ? { customerId: principal.customerId, roles: principal.roles } : null }, 200, {
      'cache-control': 'no-store',
    });
  });

  app.get('/demo/customers', async (c) => c.json({ customers: await pickerCustomers(store) }, 200, { 'cache-control': 'no-store' }));

  app.post('/demo/playground', async (c) => {
    const principal = await principalOf(c.req.raw);
    if (!principal) throw new TallyError('UNAUTHENTICATED', 'Sign in to call this route');
    if (principal.customerId === null) throw new TallyError('FORBIDDEN', 'The playground is for customers: sign in as one');
    const request = parsePlaygroundRequest(await readJsonBody(c.req.raw));
    try {
      const answer = await runPlayground({
        tally,
        models,
        customerId: principal.customerId,
        request,
        idempotencyKey: c.req.header('idempotency-key') ?? null,
      });
      return c.json(answer, 200, { 'cache-control': 'no-store' });
    } catch (error) {
      throw playgroundError(error);
    }
  });

  app.get('/demo/health', async (c) => {
    await requireAdmin(c.req.raw);
    return c.json(await health(), 200, { 'cache-control': 'no-store' });
  });

  app.get('/demo/events', async (c) => {
    const principal = await principalOf(c.req.raw);
    if (!principal) throw new TallyError('UNAUTHENTICATED', 'Sign in to listen to live events');
    // Subscribed before the response starts, so whatever happens after the client hears the headers reaches it.
    const queue: LiveEvent[] = [];
    let deliver: ((event: LiveEvent) => void) | null = null;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    c.req.raw.signal.addEventListener('abort', () => finish(), { once: true });
    const unsubscribe = await events.subscribe({
      principal,
      send: (event) => (deliver ? deliver(event) : queue.push(event)),
      end: () => finish(),
    });
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => finish());
      let writing = Promise.resolve();
      const write = (task: () => Promise<void>) => {
        writing = writing.then(task).catch(() => finish());
      };
      deliver = (event) => write(() => stream.writeSSE({ event: event.event, data: JSON.stringify(event.data) }));
      write(() => stream.write(': connected\n\n').then(() => undefined));
      for (const event of queue.splice(0)) deliver(event);
      const keepAlive = setInterval(() => write(() => stream.write(': keep-alive\n\n').then(() => undefined)), 15_000);
      await finished;
      clearInterval(keepAlive);
      unsubscribe();
      await writing;
    });
  });

  app.all('/demo/*', (c) => problemResponse(404, 'ROUTE_NOT_FOUND', `No route at ${c.req.path}`, c.req.path));

  if (payments.sandbox) app.route('/', sandboxPages(payments.sandbox, catalog));

  // The API docs portal (src/server/docs): Scalar at /docs, Redoc at /redoc, guides, the document with code samples.
  app.route(
    '/',
    createDocsApp({
      openapi: async () => (await handler(new Request(`${publicUrl}/v1/openapi.json`))).json() as Promise<object>,
      apiBase: '',
    }),
  );

  app.route('/', staticApp(options.distDir));
  app.notFound((c) => c.text('Not found', 404));

  if (options.background !== false) {
    worker.start(1_000);
    scheduler.start(30_000);
    reconciler.start();
  }

  let closing: Promise<void> | null = null;
  return {
    app,
    close() {
      closing ??= (async () => {
        await events.close();
        await Promise.all([worker.stop(), scheduler.stop(), reconciler.stop()]);
        await db.close();
      })();
      return closing;
    },
    tally,
    billing,
    store,
    db,
    sandbox: payments.sandbox,
    notifier,
    mail,
    models,
    reconciler,
    events,
    sessions,
    tokens: { admin: sessions.sign(sessions.admin()), customer: sessions.sign(sessions.customer(DEMO_CUSTOMER)) },
    seeded,
    description: {
      database: db.kind === 'pglite' ? `PGlite in ${db.location}` : `Postgres at ${db.location}`,
      payments: payments.description,
      models: models.description,
    },
    health,
    deliverOutbox: () => worker.runOnce(),
  };
}
