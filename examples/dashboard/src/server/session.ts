/**
 * Who is calling the dashboard: the demo's sign-in, and Keycloak's access tokens when configured.
 *
 * The demo's sign-in: pick any sample customer or the admin, get an HttpOnly cookie holding a signed
 * token (HMAC-SHA-256 under a key of the data folder). `authenticate` accepts that cookie, or the same
 * token as `Authorization: Bearer` for curl. A token carries no expiry and sign-out only drops the
 * cookie: fine for a local demo, not for production.
 *
 * Keycloak (the production path): with `KEYCLOAK_URL`, `KEYCLOAK_REALM` and `KEYCLOAK_CLIENT_ID` set
 * (config.ts), a bearer token that is not a demo token goes to `createKeycloakAuthenticate` from
 * `@tally/adapters/keycloak`, which verifies the realm's signed access token against the realm's keys
 * and maps it to `{ customerId: sub (or KEYCLOAK_CUSTOMER_CLAIM), roles: realm and client roles }`.
 * The demo sign-in stays beside it rather than being replaced: the React app has no login redirect of
 * its own (the picker is how a browser signs in), and demo tokens (`v1.…`) and Keycloak's JWTs
 * (`eyJ…`) cannot be mistaken for each other. The cookie, when present, is read first, as before.
 * Anyone who can reach the server can still sign in as admin through the picker, so Keycloak here
 * shows the wiring; it does not make the demo safe to expose. A production app keeps only the
 * Keycloak path: `createTallyHandler({ tally, authenticate: createKeycloakAuthenticate({ … }) })`.
 * `createKeycloakSink` then keeps `tally_tier` and `tally_status` on each Keycloak user, so the
 * identity provider and Tally agree on who may do what.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TallyPrincipal } from '@tally/core/http';

export const SESSION_COOKIE = 'tally_demo';
/** 30 days. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;
const VERSION = 'v1';
const CUSTOMER_ID = /^[\x21-\x7e]{1,255}$/;
const ADMIN: TallyPrincipal = { customerId: null, roles: ['admin'] };

/** The Keycloak realm whose access tokens the dashboard accepts (config.ts reads them from the environment). */
export interface KeycloakSettings {
  /** The server root, e.g. `https://sso.example.com`. */
  url: string;
  realm: string;
  /** The client tokens must be meant for (`aud` or `azp`). */
  clientId: string;
  /** The claim holding the Tally customer id. Default `sub`. */
  customerClaim?: string;
}

/** `authenticate` of another kind of bearer token, e.g. `createKeycloakAuthenticate(…)`. */
export type BearerAuthenticate = (request: Request) => Promise<TallyPrincipal | null>;

export interface Sessions {
  /** The token for a principal: `v1.<payload>.<mac>`, all base64url. */
  sign(principal: TallyPrincipal): string;
  /** The principal a token was signed for, or null for anything forged, altered or malformed. */
  verify(token: string): TallyPrincipal | null;
  /**
   * The request's principal: the `tally_demo` cookie, else a bearer token (a demo token, or any other
   * for the `bearer` authenticate when there is one). Null when none is valid.
   */
  authenticate(request: Request): Promise<TallyPrincipal | null>;
  /** `Set-Cookie` values. */
  signInCookie(token: string, request: Request): string;
  signOutCookie(request: Request): string;
  admin(): TallyPrincipal;
  customer(customerId: string): TallyPrincipal;
}

function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index === -1) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

/** `Secure` when the browser talks https to us (directly or through a proxy that says so). */
function secure(request: Request): string {
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',', 1)[0]?.trim();
  return (forwarded ?? new URL(request.url).protocol.replace(':', '')) === 'https' ? '; Secure' : '';
}

function principalOf(payload: unknown): TallyPrincipal | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { c, r } = payload as { c?: unknown; r?: unknown };
  if (!Array.isArray(r) || !r.every((role) => typeof role === 'string')) return null;
  if (c === null) return r.includes('admin') ? { customerId: null, roles: [...r] } : null;
  return typeof c === 'string' && CUSTOMER_ID.test(c) ? { customerId: c, roles: [...r] } : null;
}

export function createSessions(key: string, bearer: BearerAuthenticate | null = null): Sessions {
  const secret = Buffer.from(key, 'base64url');
  if (secret.byteLength < 32) throw new RangeError('the session key must be at least 32 bytes');
  const mac = (payload: string) => createHmac('sha256', secret).update(`tally-demo-session.${payload}`).digest();

  const sessions: Sessions = {
    sign(principal) {
      const payload = Buffer.from(JSON.stringify({ c: principal.customerId, r: principal.roles })).toString('base64url');
      return `${VERSION}.${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token) {
      if (token.length > 2048) return null;
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== VERSION) return null;
      const [, payload = '', signature = ''] = parts;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
      // Base64url that does not round-trip (padding, stray characters) is not a token we wrote.
      if (given.byteLength !== expected.byteLength || given.toString('base64url') !== signature) return null;
      if (!timingSafeEqual(given, expected)) return null;
      try {
        return principalOf(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      } catch {
        return null;
      }
    },
    async authenticate(request) {
      const cookie = cookieValue(request.headers.get('cookie'), SESSION_COOKIE);
      if (cookie) return sessions.verify(cookie);
      const authorization = request.headers.get('authorization');
      if (authorization?.startsWith(`Bearer ${VERSION}.`)) return sessions.verify(authorization.slice('Bearer '.length).trim());
      if (bearer) return bearer(request);
      return authorization?.startsWith('Bearer ') ? sessions.verify(authorization.slice('Bearer '.length).trim()) : null;
    },
    signInCookie: (token, request) =>
      `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MAX_AGE_SECONDS}${secure(request)}`,
    signOutCookie: (request) => `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure(request)}`,
    admin: () => ({ ...ADMIN, roles: [...ADMIN.roles] }),
    customer: (customerId) => ({ customerId, roles: [] }),
  };
  return sessions;
}
