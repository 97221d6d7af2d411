import type { z } from 'zod';
import type { Report } from '../analytics/report.js';
import type { Billing } from '../billing/service.js';
import type { ByokKeys } from '../byok/keys.js';
import { TallyError, type TallyErrorIssue } from '../errors/index.js';
import type { Tally } from '../ledger/tally.js';
import type { Notifier } from '../notifications/email.js';
import { type Clock, systemClock } from '../time/index.js';
import { createOpenApiDocument } from './openapi.js';
import { problem, problemFromError, problemResponse } from './problem.js';
import type { AnyRoute, RouteDeps, RouteRequirement, TallyPrincipal } from './route.js';
import { routes as ROUTES } from './routes.js';

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** `Idempotency-Key`: 1-200 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const ADMIN_ROLE = 'admin';
const CUSTOMER_ID = /^[\x21-\x7e]{1,255}$/;

export interface TallyHandlerOptions {
  tally: Tally;
  /** Enables subscriptions, coupons, credit packs, auto-recharge and the payment webhook. */
  billing?: Billing;
  /** Enables the `/v1/byok` routes. */
  byok?: ByokKeys;
  /** Enables the admin email routes and `/v1/unsubscribe` (`createNotifier`). */
  notifier?: Notifier;
  /**
   * Renders a report as a PDF (`renderReportPdf` from `@tally/adapters/pdf`): enables `format=pdf`
   * on the admin analytics routes.
   */
  renderPdf?: (report: Report) => Promise<Uint8Array>;
  /**
   * Who is calling: `{ customerId, roles }`, or null when the request carries no valid credentials
   * (401). Called for customer and admin routes only. Throwing `TallyError('UNAUTHENTICATED')` is a 401 too.
   */
  authenticate(request: Request): Promise<TallyPrincipal | null>;
  /** Where the routes are mounted, e.g. `/api` for `/api/v1/me`. Default `''`. */
  basePath?: string;
  /** Raw-request handlers of provider webhooks. Default for `stripe`: `billing.webhookResponse`. */
  webhooks?: { stripe?: (request: Request) => Promise<Response>; lago?: (request: Request) => Promise<Response> };
  checkoutUrls?: {
    /** Where the payment-method portal sends the customer back when the request names no `returnUrl`. Default: the request's origin. */
    portalReturnUrl?: string;
    /** Origins a client's `returnUrl` may be on. Default: the origin of `portalReturnUrl` and the request's own. */
    allowedReturnOrigins?: string[];
  };
  /** Providers customers may store keys for. Default `['openrouter']`. */
  byokProviders?: string[];
  /** The same clock the Tally reads (a fake one in tests). */
  clock?: Clock;
  /** Hears every error that became a 5xx (the response says nothing about it). Default: `console.error`. */
  onError?: (error: unknown, request: Request) => void;
}

export type TallyHandler = (request: Request) => Promise<Response>;

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  route: AnyRoute;
  segments: Segment[];
}

function compile(route: AnyRoute): CompiledRoute {
  const segments = route.path
    .split('/')
    .slice(1)
    .map((part): Segment => (part.startsWith('{') && part.endsWith('}') ? { param: part.slice(1, -1) } : { literal: part }));
  return { route, segments };
}

/** Path parameters when `parts` fits the route's path, else null. Literal segments only match literally. */
function matchPath(compiled: CompiledRoute, parts: string[]): Record<string, string> | null {
  if (parts.length !== compiled.segments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of compiled.segments.entries()) {
    const part = parts[index] as string;
    if ('literal' in segment) {
      if (segment.literal !== part) return null;
    } else {
      if (part === '') return null;
      params[segment.param] = part;
    }
  }
  return params;
}

/** Literal segments before parameters: `/a/b` wins over `/a/{x}` for the same method. */
const specificity = (compiled: CompiledRoute) => compiled.segments.map((s) => ('literal' in s ? '0' : '1')).join('');

function requirementMet(requirement: RouteRequirement | undefined, options: TallyHandlerOptions): boolean {
  switch (requirement) {
    case undefined:
      return true;
    case 'billing':
      return !!options.billing;
    case 'byok':
      return !!options.byok;
    case 'notifier':
      return !!options.notifier;
    case 'stripe-webhook':
      return !!(options.webhooks?.stripe ?? options.billing);
    case 'lago-webhook':
      return !!options.webhooks?.lago;
  }
}

const ENABLED_BY: Record<RouteRequirement, string> = {
  billing: 'the `billing` option',
  byok: 'the `byok` option',
  notifier: 'the `notifier` option',
  'stripe-webhook': 'the `billing` or `webhooks.stripe` option',
  'lago-webhook': 'the `webhooks.lago` option',
};

function validation(message: string, issues: TallyErrorIssue[]): TallyError {
  return new TallyError('VALIDATION', message, { issues });
}

function zodIssues(error: z.ZodError, prefix: Array<string | number> = []): TallyErrorIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))],
    message: issue.message,
  }));
}

/** A body field that names an idempotency key: the key belongs in the Idempotency-Key header (as in Stripe's API). */
const IDEMPOTENCY_FIELD = /^idempotency[-_]?key$/i;

function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = zodIssues(result.error);
    const misplacedKey = result.error.issues.some(
      (issue) => issue.code === 'unrecognized_keys' && issue.keys.some((key) => IDEMPOTENCY_FIELD.test(key)),
    );
    if (misplacedKey) issues.push({ path: [], message: 'send the idempotency key in the Idempotency-Key header, not the body' });
    const summary = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw validation(`Invalid ${what}: ${summary}`, issues);
  }
  return result.data;
}

function queryObject(url: URL): Record<string, string> {
  // No prototype: `?__proto__=x` is then an unknown parameter like any other, not a prototype write.
  const query: Record<string, string> = Object.create(null);
  for (const [key, value] of url.searchParams) {
    if (Object.hasOwn(query, key))
      throw validation(`Query parameter "${key}" is given more than once`, [{ path: [key], message: 'given more than once' }]);
    query[key] = value;
  }
  return query;
}

function isJson(contentType: string | null): boolean {
  const mime = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mime === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
}

/** The body as text, read at most `MAX_BODY_BYTES` far: a larger one is refused without reading the rest. */
async function readBody(request: Request): Promise<string> {
  const tooLarge = () => new TallyError('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes`);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validation('The body is not valid UTF-8', [{ path: [], message: 'not UTF-8' }]);
  }
}

async function parseBody(request: Request): Promise<unknown> {
  const text = await readBody(request);
  // An empty body is an empty object: bodiless POSTs (cancel, resume, …) need no `{}`.
  if (text.trim() === '') return {};
  if (!isJson(request.headers.get('content-type'))) {
    throw new TallyError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies are JSON: send Content-Type: application/json');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw validation('The body is not valid JSON', [{ path: [], message: 'not JSON' }]);
  }
}

function base64url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The key handed to the ledger: the caller's key scoped to who sent it (the ledger's key space is
 * shared by all, so two customers choosing the same key must not meet), hashed to a fixed length.
 * Without a header every call is a new one: retries need the header to be safe.
 */
async function scopedIdempotencyKey(request: Request, owner: string): Promise<string> {
  const header = request.headers.get('idempotency-key');
  if (header === null) return `http:once:${crypto.randomUUID()}`;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw validation('Idempotency-Key must be 1-200 visible ASCII characters', [{ path: ['Idempotency-Key'], message: 'invalid' }]);
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${owner}\n${header}`));
  return `http:${base64url(digest)}`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

function normalizeBasePath(basePath: string | undefined): string {
  const base = (basePath ?? '').replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) throw new TallyError('VALIDATION', 'basePath must start with "/"');
  return base;
}

/** The routes a handler with these options serves (the others answer 404 naming the option). */
export function enabledRoutes(options: Pick<TallyHandlerOptions, 'billing' | 'byok' | 'webhooks'>): AnyRoute[] {
  return ROUTES.filter((route) => requirementMet(route.requires, options as TallyHandlerOptions));
}

/**
 * The HTTP API as a Fetch handler (`Request → Response`): mount it in Node's http server, Hono,
 * Next.js, Bun or a worker. Every route of routes.ts under `basePath`; errors are problem+json with
 * a stable code. See docs/http.md.
 */
export function createTallyHandler(options: TallyHandlerOptions): TallyHandler {
  const basePath = normalizeBasePath(options.basePath);
  for (const url of [options.checkoutUrls?.portalReturnUrl, ...(options.checkoutUrls?.allowedReturnOrigins ?? [])]) {
    if (url !== undefined && !URL.canParse(url)) throw new TallyError('VALIDATION', `checkoutUrls: "${url}" is not an absolute URL`);
  }
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? ((error: unknown) => console.error('[tally/http]', error));
  const compiled = ROUTES.map(compile).sort((a, b) => specificity(a).localeCompare(specificity(b)));
  let openapi: Record<string, unknown> | null = null;
  const deps: RouteDeps = {
    tally: options.tally,
    billing: options.billing ?? null,
    byok: options.byok ?? null,
    notifier: options.notifier ?? null,
    renderPdf: options.renderPdf ?? null,
    byokProviders: Object.freeze([...(options.byokProviders ?? ['openrouter'])]),
    webhooks: { stripe: options.webhooks?.stripe ?? null, lago: options.webhooks?.lago ?? null },
    portal: {
      returnUrl: options.checkoutUrls?.portalReturnUrl ?? null,
      allowedOrigins: options.checkoutUrls?.allowedReturnOrigins ?? null,
    },
    openapi: () => {
      openapi ??= createOpenApiDocument({ routes: enabledRoutes(options), basePath });
      return openapi;
    },
  };

  async function authorize(route: AnyRoute, request: Request): Promise<TallyPrincipal | null> {
    if (route.scope === 'public' || route.scope === 'webhook') return null;
    const principal = await options.authenticate(request);
    if (principal === null || typeof principal !== 'object') throw new TallyError('UNAUTHENTICATED', 'Sign in to call this route');
    const roles = Array.isArray(principal.roles) ? principal.roles : [];
    if (route.scope === 'admin') {
      if (!roles.includes(ADMIN_ROLE)) throw new TallyError('FORBIDDEN', 'This route is for admins');
      return { customerId: null, roles };
    }
    if (typeof principal.customerId !== 'string' || !CUSTOMER_ID.test(principal.customerId)) {
      throw new TallyError('FORBIDDEN', 'This route is for customers');
    }
    return { customerId: principal.customerId, roles };
  }

  async function serve(request: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (basePath !== '' && path !== basePath && !path.startsWith(`${basePath}/`)) {
      throw new TallyError('ROUTE_NOT_FOUND', `No route at ${path}`);
    }
    const parts = path.slice(basePath.length).split('/').slice(1);
    const matches = compiled.map((c) => ({ c, params: matchPath(c, parts) })).filter((m) => m.params !== null);
    if (matches.length === 0) throw new TallyError('ROUTE_NOT_FOUND', `No route at ${path}`);
    const match = matches.find((m) => m.c.route.method === request.method);
    if (!match) {
      const allow = [...new Set(matches.map((m) => m.c.route.method))].sort().join(', ');
      return problemResponse(problem({ status: 405, code: 'METHOD_NOT_ALLOWED', detail: `${path} takes ${allow}`, instance: path }), {
        allow,
      });
    }
    const route = match.c.route;
    if (!requirementMet(route.requires, options)) {
      throw new TallyError(
        'ROUTE_NOT_FOUND',
        `${route.method} ${route.path} is off: it needs ${ENABLED_BY[route.requires as RouteRequirement]}`,
      );
    }
    const principal = await authorize(route, request);

    const rawParams: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.params as Record<string, string>)) {
      try {
        rawParams[name] = decodeURIComponent(value);
      } catch {
        throw validation(`Path parameter "${name}" is not valid percent-encoding`, [{ path: [name], message: 'bad encoding' }]);
      }
    }
    const params = route.params ? parseWith(route.params, rawParams, 'path') : {};
    const query = route.query ? parseWith(route.query, queryObject(url), 'query') : {};
    const owner = principal?.customerId != null ? `customer:${principal.customerId}` : `scope:${route.scope}`;
    const idempotencyKey = route.mutation ? await scopedIdempotencyKey(request, owner) : '';
    const body = route.body ? parseWith(route.body, await parseBody(request), 'body') : undefined;

    const result = await route.handle({
      request,
      params,
      query,
      body,
      deps,
      now: clock.now(),
      idempotencyKey,
      ...(route.scope === 'customer' ? { customerId: principal?.customerId as string } : {}),
      ...(route.scope === 'admin' ? { principal: principal as TallyPrincipal } : {}),
    });
    return result instanceof Response ? result : json(route.response.status, result);
  }

  return async function handle(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return problemResponse(problem({ status: 400, code: 'VALIDATION', detail: 'The request URL is not valid' }));
    }
    try {
      return await serve(request, url);
    } catch (error) {
      const { body, internal } = problemFromError(error, url.pathname);
      if (internal) onError(error, request);
      const headers: Record<string, string> = body.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
      return problemResponse(body, headers);
    }
  };
}
