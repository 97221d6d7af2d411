/**
 * The shape of a route and what its `handle` gets. The authorization rule of a route follows from its
 * `scope` alone (handler.ts enforces it before `handle` runs):
 * - `public`: no authentication;
 * - `customer`: an authenticated caller with a customer id; `handle` gets that id and acts on it only
 *   (no customer route reads a customer id from the client);
 * - `admin`: an authenticated caller with the `admin` role;
 * - `webhook`: no authentication; the provider's signature is checked by the webhook handler.
 */

import type { z } from 'zod';
import type { Report } from '../analytics/report.js';
import type { Billing } from '../billing/service.js';
import type { ByokKeys } from '../byok/keys.js';
import type { Tally } from '../ledger/tally.js';
import type { Notifier } from '../notifications/email.js';

export const ROUTE_SCOPES = ['public', 'customer', 'admin', 'webhook'] as const;
export type RouteScope = (typeof ROUTE_SCOPES)[number];
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The handler option a route needs. Without it the route answers 404 `ROUTE_NOT_FOUND` naming the
 * option, and the served OpenAPI document leaves it out.
 */
export type RouteRequirement = 'billing' | 'byok' | 'notifier' | 'stripe-webhook' | 'lago-webhook';

/** Who `authenticate` says is calling. */
export interface TallyPrincipal {
  /** The customer the caller acts as; null for a caller that is no customer (e.g. an operator). */
  customerId: string | null;
  roles: string[];
}

/** What routes reach through: the handler's options, resolved. */
export interface RouteDeps {
  tally: Tally;
  billing: Billing | null;
  byok: ByokKeys | null;
  notifier: Notifier | null;
  /** Renders a report as PDF bytes (`renderPdf` option); null turns `format=pdf` off. */
  renderPdf: ((report: Report) => Promise<Uint8Array>) | null;
  byokProviders: readonly string[];
  webhooks: { stripe: ((request: Request) => Promise<Response>) | null; lago: ((request: Request) => Promise<Response>) | null };
  portal: { returnUrl: string | null; allowedOrigins: readonly string[] | null };
  /** The OpenAPI document of the routes this handler serves. */
  openapi(): Record<string, unknown>;
}

interface BaseContext<P, Q, B> {
  request: Request;
  params: P;
  query: Q;
  body: B;
  deps: RouteDeps;
  /** The clock's time as the route runs. */
  now: Date;
  /**
   * For mutations: the caller's `Idempotency-Key`, scoped to the caller (so two customers' keys never
   * meet), or a fresh random key when the header is absent. Empty for other routes.
   */
  idempotencyKey: string;
}

/** A customer route sees the caller's customer id; no other route sees one. */
export type RouteContext<S extends RouteScope, P, Q, B> = BaseContext<P, Q, B> &
  (S extends 'customer' ? { customerId: string } : S extends 'admin' ? { principal: TallyPrincipal } : unknown);

export interface RouteResponse<R> {
  status: 200 | 201;
  /** The JSON answer (routes that answer only HTML keep one for the types; `media` leaves it out of OpenAPI). */
  schema: z.ZodType<R>;
  /** What the route can answer; default JSON only. Text media are returned as a whole `Response`. */
  media?: ReadonlyArray<'application/json' | 'text/html' | 'text/plain' | 'text/csv' | 'application/pdf'>;
}

/** One route of the table (routes.ts). Schemas validate `params`, `query` and `body` before `handle` runs. */
export interface Route<S extends RouteScope = RouteScope, P = unknown, Q = unknown, B = unknown, R = unknown> {
  /** Stable, unique; the OpenAPI operationId. */
  id: string;
  method: HttpMethod;
  /** Under `/v1`, parameters in braces: `/v1/admin/customers/{id}`. */
  path: string;
  scope: S;
  summary: string;
  description: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** Routes with a body (every POST, PUT and PATCH) take JSON; an empty body reads as `{}`. */
  body?: z.ZodType<B>;
  response: RouteResponse<R>;
  /** Changes state and takes an `Idempotency-Key` (webhooks change state too, idempotent by the provider's event id). */
  mutation: boolean;
  requires?: RouteRequirement;
  /** The response body, or a whole `Response` (webhooks pass the provider handler's through). */
  handle(ctx: RouteContext<S, P, Q, B>): Promise<R | Response>;
}

/** A route with its types erased, as the handler and the OpenAPI generator see it. */
export type AnyRoute = Route<RouteScope, unknown, unknown, unknown, unknown>;

/** Declares a route; the generics tie `handle` to the schemas. */
export function defineRoute<S extends RouteScope, P = Record<string, never>, Q = Record<string, never>, B = undefined, R = unknown>(
  route: Route<S, P, Q, B, R>,
): AnyRoute {
  return route as unknown as AnyRoute;
}
