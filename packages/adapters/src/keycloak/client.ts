import { TallyError } from '@tally/core';
import ky, { HTTPError, type KyInstance } from 'ky';

export interface KeycloakClientOptions {
  /** The server root, e.g. `https://sso.example.com` (add `/auth` for pre-17 servers). */
  baseUrl: string;
  realm: string;
  /** A confidential client with Service Accounts enabled and the realm-management `manage-users` role. */
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

/** Keycloak's `UserRepresentation`, as far as Tally reads it; other fields pass through untouched. */
export interface KeycloakUser {
  id: string;
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  enabled?: boolean;
  emailVerified?: boolean;
  requiredActions?: string[];
  /** Null or absent when the user has none. */
  attributes?: Record<string, string[]> | null;
  [key: string]: unknown;
}

export interface KeycloakClient {
  /** `NOT_FOUND` when the realm has no such user. */
  getUser(id: string): Promise<KeycloakUser>;
  /**
   * `PUT /users/{id}`. A representation with `attributes` REPLACES the stored map (attributes left out
   * are deleted), so read, change and send the whole map.
   */
  updateUser(id: string, representation: Partial<KeycloakUser>): Promise<void>;
}

interface Token {
  value: string;
  /** When to stop using it: shortly before Keycloak's `expires_in`. */
  renewAt: number;
}

type KeycloakErrorBody = { error?: string; error_description?: string; errorMessage?: string; field?: string };

function keycloakError(error: unknown, what: string): TallyError {
  if (TallyError.is(error)) return error;
  if (error instanceof HTTPError) {
    const status = error.response.status;
    const body: KeycloakErrorBody = typeof error.data === 'object' && error.data !== null ? (error.data as KeycloakErrorBody) : {};
    const reason = body.errorMessage ?? body.error_description ?? body.error ?? `HTTP ${status}`;
    const details = {
      status,
      error: body.error ?? null,
      errorMessage: body.errorMessage ?? body.error_description ?? null,
      field: body.field ?? null,
    };
    const code =
      status === 404 ? 'NOT_FOUND' : status === 408 || status === 429 || status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED';
    return new TallyError(code, `Keycloak ${what} failed: ${status} ${reason}`, { cause: error, details });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new TallyError('PROVIDER_UNAVAILABLE', `Keycloak ${what} failed: ${reason}`, { cause: error, details: { status: null } });
}

/**
 * A Keycloak admin REST client on a service account: client-credentials tokens are cached until
 * shortly before they expire, and renewed once when Keycloak answers 401. No retries of its own:
 * the outbox retries with backoff.
 */
export function createKeycloakClient(options: KeycloakClientOptions): KeycloakClient {
  for (const key of ['baseUrl', 'realm', 'clientId', 'clientSecret'] as const) {
    if (!options[key]) throw new TallyError('VALIDATION', `Keycloak needs ${key}`);
  }
  const root = options.baseUrl.replace(/\/+$/, '');
  const realm = encodeURIComponent(options.realm);
  const http: KyInstance = ky.create({
    timeout: options.timeoutMs ?? 10_000,
    retry: 0,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const admin = http.extend({ prefix: `${root}/admin/realms/${realm}` });
  let token: Token | null = null;
  let pending: Promise<Token> | null = null;

  async function requestToken(): Promise<Token> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
    });
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = await http.post(`${root}/realms/${realm}/protocol/openid-connect/token`, { body: form }).json();
    } catch (error) {
      throw keycloakError(error, 'token request');
    }
    const lifetime = Number(body.expires_in);
    if (typeof body.access_token !== 'string' || !Number.isFinite(lifetime) || lifetime <= 0) {
      throw new TallyError('PROVIDER_REJECTED', 'Keycloak token answer has no access_token/expires_in');
    }
    const ms = lifetime * 1000;
    return { value: body.access_token, renewAt: Date.now() + ms - Math.min(30_000, ms / 2) };
  }

  /** The cached token, or one new request shared by every caller waiting for it. */
  async function accessToken(): Promise<string> {
    if (token && Date.now() < token.renewAt) return token.value;
    pending ??= requestToken().finally(() => {
      pending = null;
    });
    token = await pending;
    return token.value;
  }

  async function call<T>(what: string, send: (bearer: string) => Promise<T>): Promise<T> {
    const bearer = await accessToken();
    try {
      return await send(bearer);
    } catch (error) {
      if (!(error instanceof HTTPError) || error.response.status !== 401) throw keycloakError(error, what);
    }
    // Revoked or expired early: one new token, one more try.
    if (token?.value === bearer) token = null;
    const fresh = await accessToken();
    try {
      return await send(fresh);
    } catch (error) {
      throw keycloakError(error, what);
    }
  }

  const userPath = (id: string) => {
    if (!id) throw new TallyError('VALIDATION', 'a Keycloak user id is required');
    return `users/${encodeURIComponent(id)}`;
  };

  return {
    async getUser(id) {
      const path = userPath(id);
      return await call('GET user', (bearer) => admin.get(path, { headers: { Authorization: `Bearer ${bearer}` } }).json<KeycloakUser>());
    },
    async updateUser(id, representation) {
      const path = userPath(id);
      await call('PUT user', (bearer) => admin.put(path, { json: representation, headers: { Authorization: `Bearer ${bearer}` } }));
    },
  };
}
