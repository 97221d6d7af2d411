/**
 * A stateful fake of Keycloak's token endpoint and admin users API for msw, shaped after Keycloak's
 * UserResource and user profile: tokens counted and expiring, a PUT with `attributes` replacing the
 * stored map, and the unmanaged-attribute policy (default DISABLED, as in Keycloak: undeclared
 * attributes are dropped with a 204). Not part of the published entry points.
 */
import { HttpResponse, http } from 'msw';

export type UnmanagedAttributePolicy = 'DISABLED' | 'ENABLED' | 'ADMIN_VIEW' | 'ADMIN_EDIT';

export interface FakeKeycloakOptions {
  /** Default `https://sso.example.com`. */
  baseUrl?: string;
  /** Default `tally`. */
  realm?: string;
  /** Default `tally-svc`. */
  clientId?: string;
  /** Default `tally-secret`. */
  clientSecret?: string;
  /** `expires_in` of issued tokens. Default 300. */
  tokenLifetimeSeconds?: number;
  /** Default `DISABLED`, Keycloak's default. */
  unmanagedAttributePolicy?: UnmanagedAttributePolicy;
  /** Attributes declared in the realm's user profile: always readable and writable. */
  declaredAttributes?: string[];
}

export interface FakeKeycloakRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

interface StoredUser {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  enabled: boolean;
  emailVerified: boolean;
  createdTimestamp: number;
  requiredActions: string[];
  attributes: Record<string, string[]>;
}

const ROOT_FIELDS = ['username', 'email', 'firstName', 'lastName'] as const;

export function createFakeKeycloak(options: FakeKeycloakOptions = {}) {
  const base = (options.baseUrl ?? 'https://sso.example.com').replace(/\/+$/, '');
  const realm = options.realm ?? 'tally';
  const clientId = options.clientId ?? 'tally-svc';
  const clientSecret = options.clientSecret ?? 'tally-secret';
  const settings = {
    policy: options.unmanagedAttributePolicy ?? ('DISABLED' as UnmanagedAttributePolicy),
    declared: new Set(options.declaredAttributes ?? []),
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 300,
  };
  /** Issued tokens and when each stops working (ms since epoch, read from `Date.now()`). */
  const tokens = new Map<string, number>();
  const users = new Map<string, StoredUser>();
  const requests: FakeKeycloakRequest[] = [];
  let issued = 0;

  const visible = (name: string) => settings.declared.has(name) || settings.policy !== 'DISABLED';
  const writable = (name: string) => settings.declared.has(name) || settings.policy === 'ENABLED' || settings.policy === 'ADMIN_EDIT';

  function representation(user: StoredUser) {
    const attributes = Object.fromEntries(Object.entries(user.attributes).filter(([name]) => visible(name)));
    const { attributes: _all, ...rest } = user;
    return {
      ...rest,
      access: { manage: true },
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    };
  }

  function authorized(request: Request): boolean {
    const match = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '');
    const until = match ? tokens.get(match[1] as string) : undefined;
    return until !== undefined && Date.now() < until;
  }

  function logged(request: Request, body: unknown, response: Response): Response {
    requests.push({ method: request.method, path: new URL(request.url).pathname, body, status: response.status });
    return response;
  }

  const admin = `${base}/admin/realms/${realm}`;

  const handlers = [
    http.post(`${base}/realms/${realm}/protocol/openid-connect/token`, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const body = Object.fromEntries(form);
      let id = form.get('client_id');
      let secret = form.get('client_secret');
      const basic = /^Basic (.+)$/.exec(request.headers.get('authorization') ?? '');
      if (basic) {
        const [basicId = null, basicSecret = null] = Buffer.from(basic[1] as string, 'base64')
          .toString('utf8')
          .split(':');
        id = basicId;
        secret = basicSecret;
      }
      if (request.headers.get('content-type')?.split(';')[0] !== 'application/x-www-form-urlencoded') {
        return logged(
          request,
          body,
          HttpResponse.json({ error: 'invalid_request', error_description: 'Missing form parameter: grant_type' }, { status: 400 }),
        );
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return logged(
          request,
          body,
          HttpResponse.json({ error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' }, { status: 400 }),
        );
      }
      if (id !== clientId || secret !== clientSecret) {
        const error = { error: 'unauthorized_client', error_description: 'Invalid client or Invalid client credentials' };
        return logged(request, body, HttpResponse.json(error, { status: 401 }));
      }
      issued++;
      const token = `kc_token_${issued}`;
      tokens.set(token, Date.now() + settings.tokenLifetimeSeconds * 1000);
      return logged(
        request,
        body,
        HttpResponse.json({
          access_token: token,
          expires_in: settings.tokenLifetimeSeconds,
          refresh_expires_in: 0,
          token_type: 'Bearer',
          'not-before-policy': 0,
          scope: 'profile email',
        }),
      );
    }),

    http.get(`${admin}/users/:id`, ({ request, params }) => {
      if (!authorized(request)) return logged(request, null, HttpResponse.json({ error: 'HTTP 401 Unauthorized' }, { status: 401 }));
      const user = users.get(String(params.id));
      if (!user) return logged(request, null, HttpResponse.json({ error: 'User not found' }, { status: 404 }));
      return logged(request, null, HttpResponse.json(representation(user)));
    }),

    http.put(`${admin}/users/:id`, async ({ request, params }) => {
      const body = (await request.json()) as Record<string, unknown>;
      if (!authorized(request)) return logged(request, body, HttpResponse.json({ error: 'HTTP 401 Unauthorized' }, { status: 401 }));
      const user = users.get(String(params.id));
      if (!user) return logged(request, body, HttpResponse.json({ error: 'User not found' }, { status: 404 }));
      for (const field of ROOT_FIELDS) if (typeof body[field] === 'string') user[field] = body[field] as string;
      if (typeof body.enabled === 'boolean') user.enabled = body.enabled;
      if (typeof body.emailVerified === 'boolean') user.emailVerified = body.emailVerified;
      if (Array.isArray(body.requiredActions)) user.requiredActions = body.requiredActions.map(String);
      const sent = body.attributes;
      if (sent !== undefined && sent !== null) {
        const map = sent as Record<string, unknown>;
        // The sent map replaces what is stored: writable attributes missing from it are removed.
        for (const name of Object.keys(user.attributes)) if (writable(name) && !(name in map)) delete user.attributes[name];
        for (const [name, values] of Object.entries(map)) {
          if (!writable(name) || (ROOT_FIELDS as readonly string[]).includes(name)) continue;
          const list = (Array.isArray(values) ? values : [values]).map(String);
          if (list.every((value) => value.trim() === '')) delete user.attributes[name];
          else user.attributes[name] = list;
        }
      }
      return logged(request, body, new HttpResponse(null, { status: 204 }));
    }),
  ];

  return {
    baseUrl: base,
    realm,
    clientId,
    clientSecret,
    handlers,
    requests,
    /** Stored users, hidden attributes included. */
    users,
    /** Tokens issued so far. */
    get tokensIssued() {
      return issued;
    },
    addUser(user: { id: string; username: string } & Partial<Omit<StoredUser, 'id' | 'username'>>) {
      users.set(user.id, {
        enabled: true,
        emailVerified: false,
        createdTimestamp: Date.parse('2026-11-01T00:00:00Z'),
        requiredActions: [],
        ...user,
        attributes: { ...(user.attributes ?? {}) },
      });
    },
    /** Every issued token stops working (as after a key rotation or a server restart without persistence). */
    revokeTokens() {
      tokens.clear();
    },
    setUnmanagedAttributePolicy(policy: UnmanagedAttributePolicy) {
      settings.policy = policy;
    },
    declareAttributes(...names: string[]) {
      for (const name of names) settings.declared.add(name);
    },
  };
}

export type FakeKeycloak = ReturnType<typeof createFakeKeycloak>;
