import { type OutgoingEmail, TallyError } from '@tally/core';
import { createFakeClock, type FakeClock, tallyRejection } from '@tally/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGraphFake, type GraphFakeOptions } from '../test-support/graph-fake.js';
import { createGraphTransport, GRAPH_MAX_ATTACHMENT_BYTES, type GraphTransportOptions, parseRetryAfter } from './graph.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const UNSUBSCRIBE = '<https://billing.example.com/v1/unsubscribe?token=v1.cus_123.low_balance.sig>';

function mail(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: { address: 'billing@contoso.com', name: 'Contoso Billing' },
    to: { address: 'ada@example.org', name: 'Ada Lovelace' },
    subject: 'Your credits are running low — 残りわずか',
    html: '<!doctype html><html><body><p>74.25 credits left. <a href="https://billing.example.com/u">Unsubscribe</a></p></body></html>',
    text: '74.25 credits left. Unsubscribe: https://billing.example.com/u',
    headers: { 'List-Unsubscribe': UNSUBSCRIBE, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    dedupeKey: 'email:low_balance:cus_123:2026-11',
    ...overrides,
  };
}

function setup(fakeOptions: GraphFakeOptions = {}, options: Partial<GraphTransportOptions> = {}) {
  const clock: FakeClock = createFakeClock('2026-11-16T09:00:00Z');
  const fake = createGraphFake({ clock, ...fakeOptions });
  server.use(...fake.handlers);
  const sleeps: number[] = [];
  const transport = createGraphTransport({
    tenantId: fake.tenantId,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    sender: fake.sender,
    authorityUrl: fake.authorityUrl,
    graphUrl: fake.graphUrl,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { clock, fake, transport, sleeps };
}

describe('Microsoft Graph transport: sending', () => {
  it('sends the documented sendMail body and answers 202 with no message id', async () => {
    const { fake, transport } = setup();
    const result = await transport.send(mail({ headers: { ...mail().headers, 'X-Campaign': 'low-balance' } }));
    expect(result).toEqual({ messageId: null });
    expect(transport.name).toBe('microsoft-graph');
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ mailbox: 'billing@contoso.com', saveToSentItems: false });
    expect(fake.sent[0]?.message).toEqual({
      subject: 'Your credits are running low — 残りわずか',
      body: { contentType: 'HTML', content: mail().html },
      toRecipients: [{ emailAddress: { address: 'ada@example.org', name: 'Ada Lovelace' } }],
      internetMessageHeaders: [
        { name: 'X-Campaign', value: 'low-balance' },
        { name: 'X-Tally-Dedupe', value: 'email:low_balance:cus_123:2026-11' },
      ],
    });
  });

  it('drops List-Unsubscribe and List-Unsubscribe-Post (Graph refuses non-x names) and keeps x- headers of any case', async () => {
    const { fake, transport } = setup();
    await transport.send(mail({ headers: { ...mail().headers, 'x-entity-ref-id': 'abc', 'X-Priority-Tag': 'billing' } }));
    expect(fake.sent[0]?.message.internetMessageHeaders).toEqual([
      { name: 'x-entity-ref-id', value: 'abc' },
      { name: 'X-Priority-Tag', value: 'billing' },
      { name: 'X-Tally-Dedupe', value: 'email:low_balance:cus_123:2026-11' },
    ]);
  });

  it('refuses more x- headers than Graph takes with VALIDATION, before any request', async () => {
    const { fake, transport } = setup();
    const headers = Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`X-Extra-${n}`, String(n)]));
    const error = await tallyRejection(transport.send(mail({ headers })));
    expect(error.code).toBe('VALIDATION');
    expect(error.details).toMatchObject({ field: 'headers', count: 6 });
    expect(fake.requests).toHaveLength(0);
    // Four of the mail's own plus the dedupe header is exactly Graph's five.
    await transport.send(mail({ headers: Object.fromEntries(Object.entries(headers).slice(0, 4)) }));
    expect(fake.sent).toHaveLength(1);
  });

  it('refuses a bad mail with VALIDATION and sends nothing', async () => {
    const { fake, transport } = setup();
    for (const [overrides, field] of [
      [{ to: { address: 'nobody', name: null } }, 'to.address'],
      [{ subject: 'a\r\nb' }, 'subject'],
      [{ headers: { 'X-Bad': 'a\nb' } }, 'headers.X-Bad'],
    ] as Array<[Partial<OutgoingEmail>, string]>) {
      const error = await tallyRejection(transport.send(mail(overrides)));
      expect(error.code).toBe('VALIDATION');
      expect(error.details.field).toBe(field);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('sends attachments as fileAttachment with base64 contentBytes', async () => {
    const { fake, transport } = setup();
    const pdf = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 131 + 17) % 256);
    const csv = new TextEncoder().encode('Customer,Credits\r\ncus_1,1250.00\r\n');
    await transport.send(
      mail({
        attachments: [
          { filename: 'weekly-ops-2026-11-16.pdf', contentType: 'application/pdf', content: pdf },
          { filename: 'top-customers.csv', contentType: 'text/csv; charset=utf-8', content: csv },
        ],
      }),
    );
    const attachments = fake.sent[0]?.message.attachments as Array<Record<string, string>>;
    expect(attachments.map(({ contentBytes, ...rest }) => rest)).toEqual([
      { '@odata.type': '#microsoft.graph.fileAttachment', name: 'weekly-ops-2026-11-16.pdf', contentType: 'application/pdf' },
      { '@odata.type': '#microsoft.graph.fileAttachment', name: 'top-customers.csv', contentType: 'text/csv; charset=utf-8' },
    ]);
    expect(new Uint8Array(Buffer.from(attachments[0]?.contentBytes as string, 'base64'))).toEqual(pdf);
    expect(Buffer.from(attachments[1]?.contentBytes as string, 'base64').toString('utf8')).toBe('Customer,Credits\r\ncus_1,1250.00\r\n');
    // A mail without attachments has no attachments property at all.
    await transport.send(mail());
    expect(fake.sent[1]?.message).not.toHaveProperty('attachments');
  });

  it('refuses more than 3 MB of attachments with VALIDATION before any request; exactly 3 MB goes out', async () => {
    const { fake, transport } = setup();
    const half = new Uint8Array(GRAPH_MAX_ATTACHMENT_BYTES / 2);
    const over = mail({
      attachments: [
        { filename: 'a.pdf', contentType: 'application/pdf', content: half },
        { filename: 'b.pdf', contentType: 'application/pdf', content: new Uint8Array(GRAPH_MAX_ATTACHMENT_BYTES / 2 + 1) },
      ],
    });
    const error = await tallyRejection(transport.send(over));
    expect(error.code).toBe('VALIDATION');
    expect(error.details).toMatchObject({ field: 'attachments', bytes: GRAPH_MAX_ATTACHMENT_BYTES + 1, limitBytes: 3_145_728 });
    expect(fake.requests).toHaveLength(0);
    await transport.send(
      mail({
        attachments: [
          { filename: 'a.pdf', contentType: 'application/pdf', content: half },
          { filename: 'b.pdf', contentType: 'application/pdf', content: half },
        ],
      }),
    );
    expect(fake.sent).toHaveLength(1);
  });

  it('leaves out the recipient name when there is none and honours saveToSentItems', async () => {
    const { fake, transport } = setup({}, { saveToSentItems: true });
    await transport.send(mail({ to: { address: 'ada@example.org', name: null } }));
    expect(fake.sent[0]?.saveToSentItems).toBe(true);
    expect(fake.sent[0]?.message.toRecipients).toEqual([{ emailAddress: { address: 'ada@example.org' } }]);
  });

  it('asks a national cloud for a token scoped to its own Graph', async () => {
    const { fake, transport } = setup({ authorityUrl: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us' });
    await transport.send(mail());
    expect(fake.requests[0]?.body).toMatchObject({ scope: 'https://graph.microsoft.us/.default' });
    expect(fake.sent).toHaveLength(1);
  });
});

describe('Microsoft Graph transport: tokens', () => {
  it('requests a client-credentials token once for several sends', async () => {
    const { fake, transport } = setup();
    for (let n = 0; n < 3; n++) await transport.send(mail({ dedupeKey: `k${n}` }));
    expect(fake.tokenRequests).toBe(1);
    expect(fake.requests[0]?.body).toEqual({
      client_id: fake.clientId,
      scope: 'https://graph.microsoft.com/.default',
      client_secret: fake.clientSecret,
      grant_type: 'client_credentials',
    });
    expect(new Set(fake.sent.map((sent) => sent.token)).size).toBe(1);
  });

  it('shares one token request among concurrent sends', async () => {
    const { fake, transport } = setup();
    await Promise.all([1, 2, 3, 4, 5].map((n) => transport.send(mail({ dedupeKey: `k${n}` }))));
    expect(fake.tokenRequests).toBe(1);
    expect(fake.sent).toHaveLength(5);
  });

  it('renews the token shortly before expires_in runs out (fake clock)', async () => {
    const { clock, fake, transport } = setup();
    await transport.send(mail());
    // expires_in 3599 s; renewed five minutes early.
    clock.advance(3_200_000);
    await transport.send(mail());
    expect(fake.tokenRequests).toBe(1);
    clock.advance(100_000);
    await transport.send(mail());
    expect(fake.tokenRequests).toBe(2);
    expect(fake.sent[2]?.token).not.toBe(fake.sent[0]?.token);
    expect(fake.requests.filter((request) => request.status === 401)).toHaveLength(0);
  });

  it('gets one new token when Graph answers 401, then sends', async () => {
    const { fake, transport, sleeps } = setup();
    await transport.send(mail());
    fake.expireTokens();
    await transport.send(mail({ dedupeKey: 'after-revocation' }));
    expect(fake.tokenRequests).toBe(2);
    expect(fake.requests.map((request) => `${request.kind} ${request.status}`)).toEqual([
      'token 200',
      'sendMail 202',
      'sendMail 401',
      'token 200',
      'sendMail 202',
    ]);
    expect(sleeps).toEqual([]);
  });

  it('does not refresh twice: a second 401 is PROVIDER_REJECTED', async () => {
    const { fake, transport } = setup();
    fake.failNext(2, 401);
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ transport: 'microsoft-graph', status: 401, graphCode: 'InvalidAuthenticationToken' });
    expect(fake.tokenRequests).toBe(2);
    expect(fake.sent).toHaveLength(0);
  });

  it('a wrong secret is PROVIDER_REJECTED naming the AADSTS error, without retries', async () => {
    const { fake, transport, sleeps } = setup({}, { clientSecret: 'the-secret-id-not-its-value' });
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.message).toContain('AADSTS7000215');
    expect(error.details).toMatchObject({ transport: 'microsoft-graph', status: 400, error: 'invalid_client', aadsts: 'AADSTS7000215' });
    expect(fake.tokenRequests).toBe(1);
    expect(sleeps).toEqual([]);
    expect(fake.sent).toHaveLength(0);
  });

  it('an unknown tenant is PROVIDER_REJECTED with AADSTS90002', async () => {
    const { transport } = setup({}, { tenantId: 'fabrikam.onmicrosoft.com' });
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ error: 'invalid_request', aadsts: 'AADSTS90002' });
  });

  it('retries a token endpoint that is briefly unavailable', async () => {
    const { fake, transport, sleeps } = setup();
    fake.failTokenNext(1, 503);
    await transport.send(mail());
    expect(fake.tokenRequests).toBe(2);
    expect(sleeps).toEqual([750]);
    expect(fake.sent).toHaveLength(1);
  });
});

describe('Microsoft Graph transport: throttling and failures', () => {
  it('waits a fractional Retry-After of 2.5 s on 429, then sends', async () => {
    const { fake, transport, sleeps } = setup();
    fake.throttleNext(1, '2.5');
    await transport.send(mail());
    expect(sleeps).toEqual([2500]);
    expect(fake.sent).toHaveLength(1);
    expect(fake.tokenRequests).toBe(1);
  });

  it('persistent 429: maxRetries waits, then PROVIDER_UNAVAILABLE with retryAfterMs', async () => {
    const { fake, transport, sleeps } = setup();
    fake.throttleNext(10, '2.128');
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({
      transport: 'microsoft-graph',
      status: 429,
      graphCode: 'TooManyRequests',
      retryAfterMs: 2128,
      attempts: 4,
    });
    expect(sleeps).toEqual([2128, 2128, 2128]);
    expect(fake.sent).toHaveLength(0);
  });

  it('does not wait out a Retry-After longer than maxRetryAfterMs: PROVIDER_UNAVAILABLE at once, for the outbox', async () => {
    const { fake, transport, sleeps } = setup({}, { maxRetryAfterMs: 60_000 });
    fake.throttleNext(1, '120');
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ retryAfterMs: 120_000, attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it('backs off with jitter on 5xx and sends once Graph recovers', async () => {
    const { fake, transport, sleeps } = setup({}, { random: () => 0 });
    fake.failNext(2, 500);
    await transport.send(mail());
    // Attempt n waits in [½, 1] × 1 s × 2ⁿ; random() = 0 takes the low end.
    expect(sleeps).toEqual([500, 1000]);
    expect(fake.sent).toHaveLength(1);
  });

  it('gives up after maxRetries on persistent 5xx', async () => {
    const { fake, transport, sleeps } = setup({}, { maxRetries: 1 });
    fake.failNext(5, 502);
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ status: 502, attempts: 2 });
    expect(error.details.retryAfterMs).toBeUndefined();
    expect(sleeps).toEqual([750]);
  });

  it('403 and 400 are PROVIDER_REJECTED with Graph’s error code, never retried', async () => {
    const { fake, transport, sleeps } = setup();
    fake.failNext(1, 403);
    const denied = await tallyRejection(transport.send(mail()));
    expect(denied.code).toBe('PROVIDER_REJECTED');
    expect(denied.details).toMatchObject({ status: 403, graphCode: 'ErrorAccessDenied' });
    expect(denied.details.requestId).toEqual(expect.any(String));
    fake.failNext(1, 400);
    const bad = await tallyRejection(transport.send(mail()));
    expect(bad.details).toMatchObject({ status: 400, graphCode: 'BadRequest' });
    expect(sleeps).toEqual([]);
  });

  it('an unknown sender mailbox is PROVIDER_REJECTED', async () => {
    const { transport } = setup({}, { sender: 'nobody@contoso.com' });
    const error = await tallyRejection(transport.send(mail()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ status: 404, graphCode: 'ErrorInvalidUser' });
  });

  it('retries network errors and reports PROVIDER_UNAVAILABLE when they persist', async () => {
    let failuresLeft = 1;
    const flaky: typeof fetch = (input, init) => {
      if (String(input).includes('/sendMail') && failuresLeft-- > 0) return Promise.reject(new TypeError('fetch failed'));
      return globalThis.fetch(input, init);
    };
    const first = setup({}, { fetch: flaky });
    await first.transport.send(mail());
    expect(first.sleeps).toEqual([750]);
    expect(first.fake.sent).toHaveLength(1);

    const down: typeof fetch = () => Promise.reject(new TypeError('fetch failed'));
    const second = setup({}, { fetch: down, maxRetries: 2 });
    const error = await tallyRejection(second.transport.send(mail()));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ transport: 'microsoft-graph', status: null, attempts: 3 });
    expect(second.sleeps).toEqual([750, 1500]);
  });
});

describe('Microsoft Graph transport: options', () => {
  const base: GraphTransportOptions = {
    tenantId: 'contoso.onmicrosoft.com',
    clientId: 'app',
    clientSecret: 's',
    sender: 'billing@contoso.com',
  };

  it('refuses bad options with VALIDATION at creation', () => {
    const bad: Array<[Partial<Record<keyof GraphTransportOptions, unknown>>, string]> = [
      [{ tenantId: '' }, 'tenantId'],
      [{ tenantId: 'contoso/../x' }, 'tenantId'],
      [{ clientId: '' }, 'clientId'],
      [{ clientSecret: ' ' }, 'clientSecret'],
      [{ sender: '' }, 'sender'],
      [{ sender: 'billing@contoso.com/messages' }, 'sender'],
      [{ saveToSentItems: 'false' }, 'saveToSentItems'],
      [{ maxRetries: -1 }, 'maxRetries'],
      [{ maxRetries: 1.5 }, 'maxRetries'],
      [{ maxRetries: 11 }, 'maxRetries'],
      [{ maxRetryAfterMs: 0 }, 'maxRetryAfterMs'],
      [{ timeoutMs: -5 }, 'timeoutMs'],
      [{ authorityUrl: 'login.microsoftonline.com' }, 'authorityUrl'],
      [{ graphUrl: 'ftp://graph.microsoft.com' }, 'graphUrl'],
      [{ fetch: 'fetch' }, 'fetch'],
      [{ clock: {} }, 'clock'],
    ];
    for (const [overrides, field] of bad) {
      let error: unknown;
      try {
        createGraphTransport({ ...base, ...overrides } as GraphTransportOptions);
      } catch (caught) {
        error = caught;
      }
      expect(TallyError.is(error, 'VALIDATION'), field).toBe(true);
      expect((error as TallyError).details.field).toBe(field);
    }
    expect(createGraphTransport(base).name).toBe('microsoft-graph');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-16T09:00:00Z');
  it('reads seconds exactly, fractions included, and HTTP dates', () => {
    expect(parseRetryAfter('2.5', now)).toBe(2500);
    expect(parseRetryAfter('2.128', now)).toBe(2128);
    expect(parseRetryAfter('0.0001', now)).toBe(1);
    expect(parseRetryAfter(' 10 ', now)).toBe(10_000);
    expect(parseRetryAfter('Mon, 16 Nov 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 16 Nov 2026 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('the Graph fake refuses what Graph refuses', () => {
  async function token(fake: ReturnType<typeof createGraphFake>): Promise<string> {
    const response = await fetch(`${fake.authorityUrl}/${fake.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: fake.clientId,
        client_secret: fake.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
        grant_type: 'client_credentials',
      }),
    });
    const body = (await response.json()) as { token_type: string; expires_in: number; access_token: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    return body.access_token;
  }

  it('answers 400 to a non-x header and to an empty header list', async () => {
    const fake = createGraphFake();
    server.use(...fake.handlers);
    const bearer = await token(fake);
    const send = (internetMessageHeaders: unknown) =>
      fetch(`${fake.graphUrl}/v1.0/users/${fake.sender}/sendMail`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          message: {
            subject: 's',
            body: { contentType: 'HTML', content: '<p>x</p>' },
            toRecipients: [{ emailAddress: { address: 'ada@example.org' } }],
            internetMessageHeaders,
          },
          saveToSentItems: false,
        }),
      });
    const named = await send([{ name: 'List-Unsubscribe', value: UNSUBSCRIBE }]);
    expect(named.status).toBe(400);
    expect(await named.json()).toMatchObject({
      error: {
        code: 'InvalidInternetMessageHeader',
        message: "The internet message header name 'List-Unsubscribe' should start with 'x-' or 'X-'.",
      },
    });
    const empty = await send([]);
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: 'InvalidInternetMessageHeaderCollection' } });
    const fine = await send([{ name: 'x-ok', value: '1' }]);
    expect(fine.status).toBe(202);
    expect(await fine.text()).toBe('');
    expect(fake.sent).toHaveLength(1);
  });
});
