/**
 * `authenticate` for `createTallyHandler` from Keycloak access tokens, verified with WebCrypto alone.
 *
 * What Keycloak publishes and signs (checked against Keycloak's docs and source):
 * - The realm's enabled public keys are a JWK set at `/realms/{realm}/protocol/openid-connect/certs`
 *   ("Certificate endpoint", https://www.keycloak.org/securing-apps/oidc-layers; keycloak/keycloak
 *   docs/documentation/securing_apps/topics/oidc/available-endpoints.adoc). Each key has `kid`, `kty`,
 *   `alg`, `use` (`sig`, or `enc` for the realm's RSA-OAEP encryption key, which never signs), `n`/`e`
 *   or `crv`/`x`/`y`, and `x5c`/`x5t`/`x5t#S256` (JWKSServerUtils.toJwk, JWKBuilder). Keys rotate: a
 *   new active key gets a new `kid` and the old one stays listed while it is enabled.
 * - An access token's header is `{ alg, typ: "JWT", kid }` (RS256 unless the realm says otherwise); its
 *   claims: `iss` = `{url}/realms/{realm}`, `sub` (the user id), `typ: "Bearer"` (ID tokens say `ID`,
 *   refresh tokens `Refresh`), `azp` (the client the token was issued to), `aud` (`account` by default;
 *   a service is added by an Audience mapper: server admin guide, "Audience support"),
 *   `realm_access.roles`, `resource_access[clientId].roles`, `exp`, `iat`.
 *
 * What the handler makes of it: a missing, malformed, forged, expired or foreign token is `null`, which
 * `createTallyHandler` answers with 401 `UNAUTHENTICATED` (`WWW-Authenticate: Bearer`). A key set that
 * cannot be had is not the caller's fault and must not look like a logout: it throws
 * `TallyError('PROVIDER_UNAVAILABLE')` (unreachable, timeout, 408/429/5xx; the handler answers 503 and
 * its `onError` hears it) or `TallyError('PROVIDER_REJECTED')` (any other status, e.g. 404 for a realm
 * name that is wrong, or an answer that is no JWK set; 502).
 */
import { TallyError } from '@tally/core';
import type { TallyPrincipal } from '@tally/core/http';

/** The claims of a Keycloak access token, as far as Tally reads them; other claims pass through. */
export interface KeycloakAccessToken {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  azp?: string;
  typ?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  realm_access?: { roles?: string[] };
  resource_access?: Record<string, { roles?: string[] }>;
  [claim: string]: unknown;
}

export interface KeycloakAuthenticateOptions {
  /** The server root, e.g. `https://sso.example.com` (add `/auth` for pre-17 servers). */
  url: string;
  realm: string;
  /** The client (API) tokens must be meant for: `aud` contains it, or `azp` is it. */
  clientId: string;
  /**
   * The Tally customer id: the name of a claim holding it (default `sub`, the Keycloak user id), or a
   * function of the verified claims, e.g. for an organization claim. Null: a caller that is no customer.
   */
  customerIdClaim?: string | ((claims: KeycloakAccessToken) => string | null);
  /**
   * The principal's roles. Default: the realm roles (`realm_access.roles`) and the client's roles
   * (`resource_access[clientId].roles`), which this function gets as `roles` to map or extend.
   */
  roles?: (claims: KeycloakAccessToken, roles: string[]) => string[];
  /** Slack for `exp` and `nbf` against clocks that drift. Default 30. */
  clockToleranceSeconds?: number;
  /**
   * A token naming a key the cached set lacks refetches the set, at most this often. Default 30. (So a
   * key Keycloak activates within this long of the last fetch is refused until the cooldown is over.)
   */
  jwksCooldownSeconds?: number;
  /** The key set is fetched again when older than this, so a key Keycloak dropped stops working. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** Per key-set request. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** The time (a fake clock's in tests). Default: the system clock. */
  now?: () => Date;
}

type Claims = KeycloakAccessToken;
type Jwk = Record<string, unknown>;

interface Algorithm {
  kty: 'RSA' | 'EC';
  crv?: string;
  key: RsaHashedImportParams | EcKeyImportParams;
  verify: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
}

/**
 * The signature algorithms WebCrypto verifies: RS*, PS* and ES* with SHA-256/384/512. Anything else,
 * `none` and the HMAC family above all (a public key is no secret), is refused by not being listed.
 */
function algorithm(alg: unknown): Algorithm | null {
  const match = typeof alg === 'string' ? /^(RS|PS|ES)(256|384|512)$/.exec(alg) : null;
  if (!match) return null;
  const bits = match[2] as string;
  const hash = `SHA-${bits}`;
  if (match[1] === 'ES') {
    const namedCurve = `P-${bits === '512' ? '521' : bits}`;
    return { kty: 'EC', crv: namedCurve, key: { name: 'ECDSA', namedCurve }, verify: { name: 'ECDSA', hash } };
  }
  const name = match[1] === 'PS' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
  return { kty: 'RSA', key: { name, hash }, verify: { name, saltLength: Number(bits) / 8 } };
}

/** Strict base64url (no padding, no stray characters) to bytes; null for anything else. */
function base64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[\w-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function jsonObject(part: string): Record<string, unknown> | null {
  const bytes = base64url(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item) => typeof item === 'string') : []);
const seconds = (value: unknown, fallback: number, name: string): number => {
  const result = value ?? fallback;
  if (typeof result !== 'number' || !Number.isFinite(result) || result < 0) {
    throw new TallyError('VALIDATION', `Keycloak authenticate: ${name} must be a number of at least 0`);
  }
  return result;
};

/** Longer than any access token a header carries; refused before any work. */
const MAX_TOKEN_LENGTH = 16_384;

/**
 * `authenticate` for `createTallyHandler`: reads `Authorization: Bearer <access token>`, verifies the
 * token against the realm's JWK set (cached by `kid`) and maps its claims to `{ customerId, roles }`.
 * No header or an invalid token: null. See the module comment for what throws.
 *
 *   const authenticate = createKeycloakAuthenticate({ url: 'https://sso.example.com', realm: 'app', clientId: 'tally-api' });
 *   const handler = createTallyHandler({ tally, authenticate });
 */
export function createKeycloakAuthenticate(options: KeycloakAuthenticateOptions): (request: Request) => Promise<TallyPrincipal | null> {
  for (const key of ['url', 'realm', 'clientId'] as const) {
    if (typeof options[key] !== 'string' || !options[key]) throw new TallyError('VALIDATION', `Keycloak authenticate needs ${key}`);
  }
  const root = options.url.replace(/\/+$/, '');
  if (!URL.canParse(root) || !/^https?:$/.test(new URL(root).protocol)) {
    throw new TallyError('VALIDATION', `Keycloak authenticate: url must be an absolute http(s) URL, got "${options.url}"`);
  }
  const { clientId } = options;
  const issuer = `${root}/realms/${encodeURIComponent(options.realm)}`;
  const certsUrl = `${issuer}/protocol/openid-connect/certs`;
  const tolerance = seconds(options.clockToleranceSeconds, 30, 'clockToleranceSeconds');
  const cooldownMs = seconds(options.jwksCooldownSeconds, 30, 'jwksCooldownSeconds') * 1000;
  const maxAgeMs = seconds(options.jwksMaxAgeSeconds, 600, 'jwksMaxAgeSeconds') * 1000;
  if (maxAgeMs < cooldownMs)
    throw new TallyError('VALIDATION', 'Keycloak authenticate: jwksMaxAgeSeconds must not be below jwksCooldownSeconds');
  const customerIdClaim = options.customerIdClaim ?? 'sub';
  if (typeof customerIdClaim !== 'function' && (typeof customerIdClaim !== 'string' || !customerIdClaim)) {
    throw new TallyError('VALIDATION', 'Keycloak authenticate: customerIdClaim must be a claim name or a function');
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = () => (options.now ? options.now() : new Date()).getTime();

  // The key set and its history: when it was last fetched well, when last tried, and how that failed.
  let keys: Jwk[] = [];
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let triedAt = Number.NEGATIVE_INFINITY;
  let failure: TallyError | null = null;
  let pending: Promise<void> | null = null;
  // Imported keys by `kid` and algorithm (a CryptoKey is bound to one); null for one WebCrypto refused.
  const imported = new Map<string, Promise<CryptoKey | null>>();

  async function fetchKeys(): Promise<Jwk[]> {
    const fail = (code: 'PROVIDER_UNAVAILABLE' | 'PROVIDER_REJECTED', why: string, status: number | null, cause?: unknown) =>
      new TallyError(code, `Keycloak's signing keys (${certsUrl}) ${why}`, { cause, details: { url: certsUrl, status } });
    let response: Response;
    try {
      response = await doFetch(certsUrl, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw fail('PROVIDER_UNAVAILABLE', `are unreachable: ${error instanceof Error ? error.message : String(error)}`, null, error);
    }
    const { status } = response;
    if (!response.ok) {
      const code = status === 408 || status === 429 || status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED';
      throw fail(code, `answered ${status}${status === 404 ? ' (is the realm name right?)' : ''}`, status);
    }
    let body: { keys?: unknown };
    try {
      body = await response.json();
    } catch (error) {
      if (error instanceof SyntaxError) throw fail('PROVIDER_REJECTED', 'answered something that is not JSON', status, error);
      throw fail('PROVIDER_UNAVAILABLE', 'broke off', status, error);
    }
    if (!Array.isArray(body?.keys)) throw fail('PROVIDER_REJECTED', 'answered no JWK set (no "keys" array)', status);
    // Keycloak lists its encryption key beside the signing keys; only keys meant for signatures count.
    return body.keys.filter(
      (jwk): jwk is Jwk => typeof jwk === 'object' && jwk !== null && typeof jwk.kid === 'string' && (jwk.use ?? 'sig') === 'sig',
    );
  }

  function load(): Promise<void> {
    pending ??= (async () => {
      triedAt = now();
      try {
        keys = await fetchKeys();
        fetchedAt = triedAt;
        failure = null;
        imported.clear();
      } catch (error) {
        failure = error as TallyError;
        throw error;
      }
    })().finally(() => {
      pending = null;
    });
    return pending;
  }

  const find = (kid: string, alg: string, spec: Algorithm) =>
    keys.find((jwk) => jwk.kid === kid && (jwk.alg ?? alg) === alg && jwk.kty === spec.kty && (!spec.crv || jwk.crv === spec.crv));

  /**
   * The key a token names. A `kid` the cached set lacks (Keycloak rotated its keys) refetches the set,
   * but at most once per cooldown whatever the tokens say, so a flood of made-up `kid`s cannot turn
   * into a flood of requests to Keycloak. Within the cooldown after a failed fetch, the failure stands.
   */
  async function keyFor(kid: string, alg: string, spec: Algorithm): Promise<CryptoKey | null> {
    const fresh = now() - fetchedAt < maxAgeMs;
    let jwk = fresh ? find(kid, alg, spec) : undefined;
    if (!jwk) {
      if (pending) await pending;
      else if (now() - triedAt >= cooldownMs) await load();
      else if (failure) throw failure;
      jwk = find(kid, alg, spec);
      if (!jwk) return null;
    }
    const cacheKey = `${kid} ${alg}`;
    let key = imported.get(cacheKey);
    if (!key) {
      const material = spec.kty === 'RSA' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
      key = crypto.subtle.importKey('jwk', material as JsonWebKey, spec.key, false, ['verify']).catch(() => null);
      imported.set(cacheKey, key);
    }
    return key;
  }

  /** The claims' verdict, before any key is fetched or signature checked: cheap refusals first. */
  function acceptable(claims: Claims): boolean {
    const at = now() / 1000;
    const { aud, exp, nbf } = claims;
    if (claims.iss !== issuer) return false;
    if (!(Array.isArray(aud) ? aud.includes(clientId) : aud === clientId) && claims.azp !== clientId) return false;
    if (claims.typ !== undefined && claims.typ !== 'Bearer') return false;
    if (typeof exp !== 'number' || at >= exp + tolerance) return false;
    if (nbf !== undefined && (typeof nbf !== 'number' || at + tolerance < nbf)) return false;
    return true;
  }

  /** The principal of verified claims. The app's own mappings returning the wrong type is its bug: a 500. */
  function principal(claims: Claims): TallyPrincipal {
    let customerId: unknown;
    if (typeof customerIdClaim === 'function') {
      customerId = customerIdClaim(claims);
      if (customerId !== null && typeof customerId !== 'string')
        throw new TypeError('Keycloak authenticate: customerIdClaim must return a string or null');
    } else {
      // A token without the claim (or with something else in it) is a caller that is no customer.
      customerId = typeof claims[customerIdClaim] === 'string' ? claims[customerIdClaim] : null;
    }
    const client = claims.resource_access;
    const clientRoles = client && typeof client === 'object' && Object.hasOwn(client, clientId) ? client[clientId]?.roles : [];
    let roles = [...new Set([...strings(claims.realm_access?.roles), ...strings(clientRoles)])];
    if (options.roles) {
      const mapped: unknown = options.roles(claims, roles);
      if (!Array.isArray(mapped) || mapped.some((role) => typeof role !== 'string')) {
        throw new TypeError('Keycloak authenticate: roles must return an array of strings');
      }
      roles = mapped;
    }
    return { customerId: customerId === '' ? null : (customerId as string | null), roles };
  }

  return async function authenticate(request) {
    const match = /^bearer +([\w.-]+) *$/i.exec(request.headers.get('authorization') ?? '');
    const token = match?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
    const header = jsonObject(headerPart);
    const claims = jsonObject(payloadPart) as Claims | null;
    const signature = base64url(signaturePart);
    const spec = algorithm(header?.alg);
    // `crit` names extensions a verifier must understand to accept the token; this one knows none.
    if (!header || !claims || !signature || !spec || typeof header.kid !== 'string' || header.crit !== undefined) return null;
    if (!acceptable(claims)) return null;
    const key = await keyFor(header.kid, header.alg as string, spec);
    if (!key) return null;
    const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
    const valid = await crypto.subtle.verify(spec.verify, key, signature, signed).catch(() => false);
    return valid ? principal(claims) : null;
  };
}
