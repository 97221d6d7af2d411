/**
 * The Microsoft 365 transport: Microsoft Graph `POST /users/{sender}/sendMail` with an app-only
 * token (OAuth2 client credentials, application permission `Mail.Send`).
 *
 * Headers. Graph takes custom headers only in `message.internetMessageHeaders`, only with names that
 * start with `x-`/`X-`, at most five, and refuses an empty array: any other name fails the whole send
 * with 400 `InvalidInternetMessageHeader`. So RFC 8058 `List-Unsubscribe` and `List-Unsubscribe-Post`
 * cannot go through Graph and are left out (as `OutgoingEmail.headers` allows); the unsubscribe link
 * in the mail's body still carries the opt-out. The mail's `x-` headers and `X-Tally-Dedupe` are sent;
 * more than five of them together is `VALIDATION`. Use the SMTP transport (Exchange Online offers SMTP
 * AUTH) where one-click unsubscribe headers matter.
 *
 * Content. Graph's message has one body: the HTML goes out, the plain-text part does not. Graph sends
 * from the `sender` mailbox with its own address and display name, so `OutgoingEmail.from` is not
 * used. A 202 is Graph's whole answer: there is no message id (`messageId: null`).
 *
 * Attachments go inline as `#microsoft.graph.fileAttachment` with base64 `contentBytes`. Graph takes
 * that way only files under 3 MB (larger ones need an upload session on a draft message) and a
 * request of about 4 MB in all, so attachments of more than 3 MB together are `VALIDATION` before any
 * request: send such reports through SMTP, or attach CSV instead of PDF.
 *
 * Tokens are cached until shortly before `expires_in` runs out; concurrent sends share one token
 * request, and a 401 gets one new token and one more try.
 *
 * Retries. 429 and 503 with `Retry-After` (seconds, possibly fractional, or an HTTP date) wait that
 * long and try again, up to `maxRetries`; a `Retry-After` longer than `maxRetryAfterMs` is not waited
 * out here. 408, other 429/5xx answers, timeouts and network errors back off with jitter. When the
 * retries run out the send throws `PROVIDER_UNAVAILABLE` with `details.retryAfterMs` (when Graph named
 * one), and the outbox tries again later; a retry can at worst repeat a mail Graph took before failing,
 * which the outbox's own retry would risk as well. Other 4xx answers and refused token requests are
 * `PROVIDER_REJECTED`, naming Graph's error code or the `AADSTS` error.
 */
import { type Clock, type EmailSendResult, type EmailTransport, type OutgoingEmail, systemClock, TallyError } from '@tally/core';
import { attachmentBytes, checkOutgoingEmail, DEDUPE_HEADER } from './outgoing.js';

export interface GraphTransportOptions {
  /** The directory (tenant) id, or a verified domain such as `contoso.onmicrosoft.com`. */
  tenantId: string;
  /** The app registration's application (client) id. */
  clientId: string;
  clientSecret: string;
  /** The mailbox that sends: a user id or user principal name. The app needs `Mail.Send` on it. */
  sender: string;
  /** Keep a copy in the sender's Sent Items. Default false. */
  saveToSentItems?: boolean;
  /** Default `https://login.microsoftonline.com`. */
  authorityUrl?: string;
  /** Default `https://graph.microsoft.com`; a national cloud's Graph root also sets the token scope. */
  graphUrl?: string;
  /** Tries after the first one. Default 3. */
  maxRetries?: number;
  /** Longest `Retry-After` waited out inside one send. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Token lifetimes are measured on it. Default: the system clock. */
  clock?: Clock;
  /** Waits between tries. Default: `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
}

export interface GraphTransport extends EmailTransport {
  readonly name: 'microsoft-graph';
}

const NAME = 'microsoft-graph';
/** Graph's limit on `internetMessageHeaders` per message. */
export const GRAPH_MAX_HEADERS = 5;
/** The most attachment bytes one sendMail takes inline (3 MB; base64 makes them 4 MB, Graph's request limit). */
export const GRAPH_MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024;
/** Renew this long before a token expires (at most half its lifetime). */
const TOKEN_MARGIN_MS = 5 * 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

interface Token {
  value: string;
  renewAt: number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function invalid(message: string, field: string): TallyError {
  return new TallyError('VALIDATION', `Microsoft Graph transport: ${message}`, { details: { field, transport: NAME } });
}

function rootUrl(value: string | undefined, fallback: string, field: string): string {
  const text = value ?? fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${field} must be an absolute URL`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${field} must be an http(s) URL`, field);
  return text.replace(/\/+$/, '');
}

function checkOptions(options: GraphTransportOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options are required', 'options');
  if (typeof options.tenantId !== 'string' || !/^[A-Za-z0-9.-]+$/.test(options.tenantId)) {
    throw invalid('tenantId must be a tenant id or domain', 'tenantId');
  }
  for (const key of ['clientId', 'clientSecret'] as const) {
    if (typeof options[key] !== 'string' || options[key].trim() === '') throw invalid(`${key} is required`, key);
  }
  if (typeof options.sender !== 'string' || !/^[^\s/?#]+$/.test(options.sender)) {
    throw invalid('sender must be a user id or user principal name', 'sender');
  }
  if (options.saveToSentItems !== undefined && typeof options.saveToSentItems !== 'boolean') {
    throw invalid('saveToSentItems must be true or false', 'saveToSentItems');
  }
  const { maxRetries, maxRetryAfterMs, timeoutMs } = options;
  if (maxRetries !== undefined && (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10)) {
    throw invalid('maxRetries must be a whole number from 0 to 10', 'maxRetries');
  }
  for (const [key, value] of [
    ['maxRetryAfterMs', maxRetryAfterMs],
    ['timeoutMs', timeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw invalid(`${key} must be a positive whole number`, key);
  }
  for (const key of ['fetch', 'sleep', 'random'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw invalid(`${key} must be a function`, key);
  }
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') throw invalid('clock must have now()', 'clock');
}

/**
 * `Retry-After` → ms, or null when absent or unreadable. Seconds are read from their digits (no
 * float: `2.128` is exactly 2128 ms; finer fractions round up); an HTTP date counts from `now`.
 */
export function parseRetryAfter(header: string | null, now: number): number | null {
  const value = header?.trim() ?? '';
  if (value === '') return null;
  const seconds = /^(\d{1,9})(?:\.(\d+))?$/.exec(value);
  if (seconds) {
    const fraction = seconds[2] ?? '';
    const roundUp = /[1-9]/.test(fraction.slice(3)) ? 1 : 0;
    return Number(seconds[1]) * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0')) + roundUp;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function readJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/** A Graph error answer (`{"error":{"code","message","innerError"}}`) as a TallyError. */
function graphError(status: number, text: string, retryAfterMs: number | null): TallyError {
  const error = readJson(text).error as { code?: unknown; message?: unknown; innerError?: Record<string, unknown> } | undefined;
  const graphCode = typeof error?.code === 'string' ? error.code : null;
  const graphMessage = typeof error?.message === 'string' ? error.message : null;
  const requestId = error?.innerError?.['request-id'];
  const details = {
    transport: NAME,
    status,
    graphCode,
    graphMessage,
    requestId: typeof requestId === 'string' ? requestId : null,
    ...(retryAfterMs === null ? {} : { retryAfterMs }),
  };
  const said = `${status} ${graphCode ?? 'no error code'}${graphMessage ? `: ${graphMessage}` : ''}`;
  return retryable(status)
    ? new TallyError('PROVIDER_UNAVAILABLE', `Microsoft Graph sendMail is unavailable (${said})`, { details })
    : new TallyError('PROVIDER_REJECTED', `Microsoft Graph sendMail was rejected (${said})`, { details });
}

/** A Microsoft Entra token error (`{"error","error_description":"AADSTS…: …","error_codes"}`) as a TallyError. */
function tokenError(status: number, text: string, retryAfterMs: number | null): TallyError {
  const body = readJson(text);
  const error = typeof body.error === 'string' ? body.error : null;
  const description = typeof body.error_description === 'string' ? (body.error_description.split(/\r?\n/)[0] ?? '') : null;
  const codes = Array.isArray(body.error_codes) ? body.error_codes.filter((code): code is number => typeof code === 'number') : [];
  const aadsts = (description && /AADSTS\d+/.exec(description)?.[0]) || (codes[0] === undefined ? null : `AADSTS${codes[0]}`);
  const details = {
    transport: NAME,
    status,
    error,
    aadsts,
    errorCodes: codes,
    traceId: typeof body.trace_id === 'string' ? body.trace_id : null,
    correlationId: typeof body.correlation_id === 'string' ? body.correlation_id : null,
    ...(retryAfterMs === null ? {} : { retryAfterMs }),
  };
  const said = `${status} ${error ?? 'no error code'}${description ? `: ${description}` : ''}`;
  return retryable(status)
    ? new TallyError('PROVIDER_UNAVAILABLE', `Microsoft Entra token request is unavailable (${said})`, { details })
    : new TallyError('PROVIDER_REJECTED', `Microsoft Entra refused the token request (${aadsts ?? error ?? status}): ${said}`, { details });
}

function networkError(what: string, error: unknown): TallyError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new TallyError('PROVIDER_UNAVAILABLE', `Microsoft Graph ${what} got no answer (${reason})`, {
    cause: error,
    details: { transport: NAME, status: null },
  });
}

/** Bytes as base64, in chunks (a spread of a large array would overflow the call stack). */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let offset = 0; offset < bytes.byteLength; offset += 0x2000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x2000));
  }
  return btoa(binary);
}

/** The sendMail body; `VALIDATION` when the mail carries more `x-` headers or attachment bytes than Graph takes. */
function sendMailBody(email: OutgoingEmail, saveToSentItems: boolean) {
  const headers = [...Object.entries(email.headers).filter(([name]) => /^x-/i.test(name)), [DEDUPE_HEADER, email.dedupeKey] as const].map(
    ([name, value]) => ({ name, value }),
  );
  if (headers.length > GRAPH_MAX_HEADERS) {
    throw new TallyError(
      'VALIDATION',
      `Microsoft Graph takes at most ${GRAPH_MAX_HEADERS} x- headers per mail, ${DEDUPE_HEADER} included; this mail has ${headers.length}`,
      { details: { field: 'headers', transport: NAME, count: headers.length } },
    );
  }
  const bytes = attachmentBytes(email);
  if (bytes > GRAPH_MAX_ATTACHMENT_BYTES) {
    throw new TallyError(
      'VALIDATION',
      `Microsoft Graph takes at most ${GRAPH_MAX_ATTACHMENT_BYTES} bytes of attachments per mail; this mail has ${bytes}`,
      { details: { field: 'attachments', transport: NAME, bytes, limitBytes: GRAPH_MAX_ATTACHMENT_BYTES } },
    );
  }
  const attachments = (email.attachments ?? []).map((attachment) => ({
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.filename,
    contentType: attachment.contentType,
    contentBytes: base64(attachment.content),
  }));
  const recipient = { address: email.to.address, ...(email.to.name ? { name: email.to.name } : {}) };
  return {
    message: {
      subject: email.subject,
      body: { contentType: 'HTML', content: email.html },
      toRecipients: [{ emailAddress: recipient }],
      // Graph refuses an empty array: leave the property out instead.
      ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    },
    saveToSentItems,
  };
}

/** Sends through Microsoft Graph as `sender`. Bad options: `VALIDATION` here, at creation. */
export function createGraphTransport(options: GraphTransportOptions): GraphTransport {
  checkOptions(options);
  const authority = rootUrl(options.authorityUrl, 'https://login.microsoftonline.com', 'authorityUrl');
  const graph = rootUrl(options.graphUrl, 'https://graph.microsoft.com', 'graphUrl');
  const tokenUrl = `${authority}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`;
  const sendUrl = `${graph}/v1.0/users/${encodeURIComponent(options.sender)}/sendMail`;
  const scope = `${new URL(graph).origin}/.default`;
  const saveToSentItems = options.saveToSentItems ?? false;
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Read at call time, so a fetch patched after creation (msw) is the one used.
  const request = (url: string, init: RequestInit) =>
    (options.fetch ?? globalThis.fetch)(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const now = () => (options.clock ?? systemClock).now().getTime();
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;

  let token: Token | null = null;
  let pending: Promise<Token> | null = null;

  async function requestToken(): Promise<Token> {
    const form = new URLSearchParams({
      client_id: options.clientId,
      scope,
      client_secret: options.clientSecret,
      grant_type: 'client_credentials',
    });
    let response: Response;
    let text: string;
    try {
      response = await request(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: form.toString(),
      });
      text = await response.text();
    } catch (error) {
      throw networkError('token request', error);
    }
    if (!response.ok) throw tokenError(response.status, text, parseRetryAfter(response.headers.get('Retry-After'), now()));
    const body = readJson(text);
    const lifetimeMs = Number(body.expires_in) * 1000;
    if (typeof body.access_token !== 'string' || body.access_token === '' || !Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
      throw new TallyError('PROVIDER_UNAVAILABLE', 'Microsoft Entra token answer has no access_token/expires_in', {
        details: { transport: NAME, status: response.status, reason: 'invalid_response' },
      });
    }
    return { value: body.access_token, renewAt: now() + lifetimeMs - Math.min(TOKEN_MARGIN_MS, lifetimeMs / 2) };
  }

  /** The cached token, or one new request shared by every send waiting for it. */
  async function accessToken(): Promise<string> {
    if (token && now() < token.renewAt) return token.value;
    pending ??= requestToken().finally(() => {
      pending = null;
    });
    token = await pending;
    return token.value;
  }

  function gaveUp(last: TallyError, attempts: number, reason: string): TallyError {
    return new TallyError('PROVIDER_UNAVAILABLE', `${last.message}; ${reason} after ${attempts} attempt(s)`, {
      cause: last.cause ?? last,
      details: { ...last.details, attempts, reason },
    });
  }

  return {
    name: NAME,
    async send(email: OutgoingEmail): Promise<EmailSendResult> {
      checkOutgoingEmail(NAME, email);
      const payload = JSON.stringify(sendMailBody(email, saveToSentItems));
      let refreshed = false;
      let attempts = 0;
      for (let retries = 0; ; ) {
        attempts++;
        let failure: TallyError;
        try {
          const bearer = await accessToken();
          let response: Response;
          let text: string;
          try {
            response = await request(sendUrl, {
              method: 'POST',
              headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
              body: payload,
            });
            text = await response.text();
          } catch (error) {
            throw networkError('sendMail', error);
          }
          if (response.ok) return { messageId: null };
          if (response.status === 401 && !refreshed) {
            // Revoked or expired early: one new token, one more try (not counted as a retry).
            refreshed = true;
            if (token?.value === bearer) token = null;
            continue;
          }
          failure = graphError(response.status, text, parseRetryAfter(response.headers.get('Retry-After'), now()));
        } catch (error) {
          if (!TallyError.is(error)) throw error;
          failure = error;
        }
        if (failure.code !== 'PROVIDER_UNAVAILABLE') throw failure;
        const retryAfterMs = typeof failure.details.retryAfterMs === 'number' ? failure.details.retryAfterMs : null;
        if (retries >= maxRetries) throw gaveUp(failure, attempts, 'retries exhausted');
        if (retryAfterMs !== null && retryAfterMs > maxRetryAfterMs) {
          throw gaveUp(failure, attempts, `Retry-After exceeds ${maxRetryAfterMs} ms`);
        }
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** retries);
        await sleep(retryAfterMs ?? Math.floor(ceiling / 2 + (random() * ceiling) / 2));
        retries++;
      }
    },
  };
}
