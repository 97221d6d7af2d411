/**
 * A stateful msw fake of Microsoft Entra's client-credentials token endpoint and Microsoft Graph
 * `POST /v1.0/users/{id | userPrincipalName}/sendMail`, shaped after the documented requests and
 * answers (token form and JSON, AADSTS error bodies, 202 with an empty body, Graph's
 * `{"error":{"code","message","innerError"}}`, 429 with `Retry-After`). It refuses what Graph refuses:
 * an unknown, expired or revoked bearer token (401), a header name without `x-` (400
 * `InvalidInternetMessageHeader`), an empty or over-long header list (400
 * `InvalidInternetMessageHeaderCollection`). Not part of the published entry points.
 */
import { type Clock, systemClock } from '@tally/core';
import { HttpResponse, http } from 'msw';

export interface GraphFakeOptions {
  /** Default `11111111-2222-4333-8444-555555555555`. */
  tenantId?: string;
  /** Default `aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee`. */
  clientId?: string;
  /** Default `tally~graph~secret`. */
  clientSecret?: string;
  /** Mailboxes that exist (ids or user principal names). Default `['billing@contoso.com']`. */
  mailboxes?: string[];
  /** `expires_in` of issued tokens. Default 3599, as Entra issues them. */
  tokenLifetimeSeconds?: number;
  /** Judges token expiry; share the transport's fake clock. Default: the system clock. */
  clock?: Clock;
  /** Default `https://login.microsoftonline.com`. */
  authorityUrl?: string;
  /** Default `https://graph.microsoft.com`; the token scope must be its origin + `/.default`. */
  graphUrl?: string;
}

/** One mail Graph accepted (202). */
export interface GraphSentMail {
  mailbox: string;
  message: Record<string, unknown>;
  saveToSentItems: unknown;
  token: string;
}

export interface GraphFakeRequest {
  kind: 'token' | 'sendMail';
  status: number;
  /** The token request's form fields, or the sendMail JSON body. */
  body: unknown;
}

const GENERIC_CODES: Record<number, [string, string]> = {
  400: ['BadRequest', 'The request is malformed or incorrect.'],
  401: ['InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'],
  403: ['ErrorAccessDenied', 'Access is denied. Check credentials and try again.'],
  404: ['ErrorItemNotFound', 'The specified object was not found in the store.'],
  500: ['generalException', 'An unspecified error has occurred.'],
  502: ['badGateway', 'The service could not be reached.'],
  503: ['serviceNotAvailable', 'The service is temporarily unavailable for maintenance or is overloaded.'],
  504: ['gatewayTimeout', 'The gateway timed out.'],
};

export function createGraphFake(options: GraphFakeOptions = {}) {
  const tenantId = options.tenantId ?? '11111111-2222-4333-8444-555555555555';
  const clientId = options.clientId ?? 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
  const clientSecret = options.clientSecret ?? 'tally~graph~secret';
  const mailboxes = new Set((options.mailboxes ?? ['billing@contoso.com']).map((mailbox) => mailbox.toLowerCase()));
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  const clock = options.clock ?? systemClock;
  const authorityUrl = (options.authorityUrl ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const graphUrl = (options.graphUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  const scope = `${new URL(graphUrl).origin}/.default`;

  /** Issued tokens and when each stops working (ms on `clock`). */
  const tokens = new Map<string, number>();
  const sent: GraphSentMail[] = [];
  const requests: GraphFakeRequest[] = [];
  const throttles: string[] = [];
  const failures: number[] = [];
  const tokenFailures: number[] = [];
  let issued = 0;
  let requestCount = 0;

  const requestId = () => `00000000-0000-4000-8000-${String(++requestCount).padStart(12, '0')}`;

  function logged(kind: GraphFakeRequest['kind'], body: unknown, response: Response): Response {
    requests.push({ kind, status: response.status, body });
    return response;
  }

  function graphError(status: number, code: string, message: string, headers?: Record<string, string>): Response {
    const date = clock.now().toISOString().slice(0, 19);
    const id = requestId();
    return HttpResponse.json(
      { error: { code, message, innerError: { date, 'request-id': id, 'client-request-id': id } } },
      { status, ...(headers ? { headers } : {}) },
    );
  }

  function entraError(status: number, error: string, code: number, description: string): Response {
    const trace = requestId();
    const timestamp = clock.now().toISOString().replace('T', ' ').slice(0, 19);
    return HttpResponse.json(
      {
        error,
        error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${trace}\r\nTimestamp: ${timestamp}Z`,
        error_codes: [code],
        timestamp: `${timestamp}Z`,
        trace_id: trace,
        correlation_id: trace,
        error_uri: `${authorityUrl}/error?code=${code}`,
      },
      { status },
    );
  }

  /** Graph's checks of a sendMail body; null when it is acceptable. */
  function refuseBody(body: unknown): Response | null {
    const bad = (message: string) => graphError(400, 'ErrorInvalidRequest', message);
    if (typeof body !== 'object' || body === null) return graphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    const { message, saveToSentItems } = body as { message?: Record<string, unknown>; saveToSentItems?: unknown };
    if (typeof message !== 'object' || message === null) return bad("The 'message' parameter is required.");
    if (
      saveToSentItems !== undefined &&
      typeof saveToSentItems !== 'boolean' &&
      saveToSentItems !== 'true' &&
      saveToSentItems !== 'false'
    ) {
      return graphError(400, 'BadRequest', "Cannot convert the literal to the expected type 'Edm.Boolean'.");
    }
    if (message.subject !== undefined && typeof message.subject !== 'string') return bad('Invalid subject.');
    const content = message.body as { contentType?: unknown; content?: unknown } | undefined;
    if (content !== undefined) {
      if (typeof content.contentType !== 'string' || !/^(html|text)$/i.test(content.contentType)) {
        return graphError(400, 'BadRequest', `Requested value '${String(content.contentType)}' was not found.`);
      }
      if (typeof content.content !== 'string') return bad('Invalid body content.');
    }
    const recipients = message.toRecipients;
    const valid = (entry: unknown) => {
      const address = (entry as { emailAddress?: { address?: unknown } } | null)?.emailAddress?.address;
      return typeof address === 'string' && /^[^\s@]+@[^\s@]+$/.test(address);
    };
    if (!Array.isArray(recipients) || recipients.length === 0) {
      return graphError(
        400,
        'ErrorInvalidRecipients',
        'At least one recipient is not valid., A message can\u2019t be sent because it contains no recipients.',
      );
    }
    if (!recipients.every(valid)) return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    const headers = message.internetMessageHeaders;
    if (headers !== undefined) {
      if (!Array.isArray(headers) || headers.length === 0 || headers.length > 5) {
        return graphError(
          400,
          'InvalidInternetMessageHeaderCollection',
          'Maximum number of headers in one message should be less than or equal to 5.',
        );
      }
      for (const header of headers as Array<{ name?: unknown; value?: unknown }>) {
        if (typeof header?.name !== 'string' || typeof header.value !== 'string') return bad('Invalid internet message header.');
        if (!/^x-/i.test(header.name)) {
          return graphError(
            400,
            'InvalidInternetMessageHeader',
            `The internet message header name '${header.name}' should start with 'x-' or 'X-'.`,
          );
        }
      }
    }
    return null;
  }

  const handlers = [
    http.post(`${authorityUrl}/:tenant/oauth2/v2.0/token`, async ({ request, params }) => {
      const form = new URLSearchParams(await request.text());
      const body = Object.fromEntries(form);
      const answer = (response: Response) => logged('token', body, response);
      const failure = tokenFailures.shift();
      if (failure !== undefined)
        return answer(entraError(failure, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'));
      if (params.tenant !== tenantId) {
        return answer(entraError(400, 'invalid_request', 90002, `Tenant '${String(params.tenant)}' not found.`));
      }
      if (request.headers.get('content-type')?.split(';')[0]?.trim() !== 'application/x-www-form-urlencoded') {
        return answer(entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'."));
      }
      let id = form.get('client_id');
      let secret = form.get('client_secret');
      const basic = /^Basic (.+)$/.exec(request.headers.get('authorization') ?? '');
      if (basic) {
        const [basicId = null, basicSecret = null] = Buffer.from(basic[1] as string, 'base64')
          .toString('utf8')
          .split(':')
          .map(decodeURIComponent);
        id = basicId;
        secret = basicSecret;
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return answer(entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'));
      }
      if (id !== clientId) {
        return answer(
          entraError(
            400,
            'unauthorized_client',
            700016,
            `Application with identifier '${id ?? ''}' was not found in the directory '${tenantId}'.`,
          ),
        );
      }
      if (secret !== clientSecret) {
        return answer(
          entraError(
            400,
            'invalid_client',
            7000215,
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
          ),
        );
      }
      if (form.get('scope') !== scope) {
        return answer(
          entraError(
            400,
            'invalid_scope',
            70011,
            `The provided value for the input parameter 'scope' is not valid. The scope ${form.get('scope') ?? ''} is not valid.`,
          ),
        );
      }
      issued++;
      const token = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-fake-${issued}`;
      tokens.set(token, clock.now().getTime() + lifetimeSeconds * 1000);
      return answer(
        HttpResponse.json({ token_type: 'Bearer', expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: token }),
      );
    }),

    http.post(`${graphUrl}/v1.0/users/:mailbox/sendMail`, async ({ request, params }) => {
      const text = await request.text();
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        body = text;
      }
      const answer = (response: Response) => logged('sendMail', body, response);
      const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
      const until = bearer === undefined ? undefined : tokens.get(bearer);
      if (bearer === undefined || until === undefined || clock.now().getTime() >= until) {
        return answer(graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'));
      }
      const throttle = throttles.shift();
      if (throttle !== undefined) {
        return answer(graphError(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': throttle }));
      }
      const failure = failures.shift();
      if (failure !== undefined) {
        const [code, message] = GENERIC_CODES[failure] ?? ['UnknownError', `HTTP ${failure}`];
        return answer(graphError(failure, code, message));
      }
      const mailbox = decodeURIComponent(String(params.mailbox));
      if (!mailboxes.has(mailbox.toLowerCase())) {
        return answer(graphError(404, 'ErrorInvalidUser', `The requested user '${mailbox}' is invalid.`));
      }
      if (request.headers.get('content-type')?.split(';')[0]?.trim() !== 'application/json') {
        return answer(graphError(415, 'UnsupportedMediaType', 'Content-Type must be application/json.'));
      }
      const refused = refuseBody(typeof body === 'string' ? null : body);
      if (refused) return answer(refused);
      const accepted = body as { message: Record<string, unknown>; saveToSentItems?: unknown };
      sent.push({ mailbox, message: accepted.message, saveToSentItems: accepted.saveToSentItems, token: bearer });
      return answer(new HttpResponse(null, { status: 202 }));
    }),
  ];

  return {
    tenantId,
    clientId,
    clientSecret,
    /** The first mailbox, the one to send as. */
    sender: [...mailboxes][0] as string,
    authorityUrl,
    graphUrl,
    handlers,
    /** Every mail Graph accepted, in order. */
    sent,
    /** Every request the fake answered, in order. */
    requests,
    /** Requests to the token endpoint, answered or refused. */
    get tokenRequests() {
      return requests.filter((entry) => entry.kind === 'token').length;
    },
    /** Tokens issued so far. */
    get tokensIssued() {
      return issued;
    },
    /** Every issued token stops working at once (as after a revocation); the next sendMail gets 401. */
    expireTokens() {
      tokens.clear();
    },
    /** The next `count` sendMail requests get 429 `TooManyRequests` with `Retry-After: retryAfter`. */
    throttleNext(count: number, retryAfter: string) {
      for (let i = 0; i < count; i++) throttles.push(retryAfter);
    },
    /** The next `count` sendMail requests (with a live token) get `status` and a Graph error body. */
    failNext(count: number, status: number) {
      for (let i = 0; i < count; i++) failures.push(status);
    },
    /** The next `count` token requests get `status` (`temporarily_unavailable`, AADSTS90033). */
    failTokenNext(count: number, status: number) {
      for (let i = 0; i < count; i++) tokenFailures.push(status);
    },
  };
}

export type GraphFake = ReturnType<typeof createGraphFake>;
