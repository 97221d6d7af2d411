// biome-ignore lint/style/noRestrictedImports: this is @tally/core/client, the one place in core that ky belongs (see biome.json).
import ky, { isHTTPError, isNetworkError, isTimeoutError } from 'ky';
import type { MetricName } from '../analytics/metrics.js';
import type { WireMetricResult } from '../analytics/wire.js';
import { TallyError, type TallyErrorCode, type TallyErrorIssue } from '../errors/index.js';
import type {
  WireAdjustInput,
  WireAdminCustomer,
  WireAdminCustomerDetail,
  WireAdminCustomersQuery,
  WireAuditReport,
  WireAutoRecharge,
  WireBalance,
  WireByokKey,
  WireByokRemoved,
  WireCheckout,
  WireCoupon,
  WireCouponInput,
  WireCreditPack,
  WireEmailDelivery,
  WireEmailLogQuery,
  WireEmailPreview,
  WireEmailTemplateId,
  WireEmailTemplates,
  WireEmailTestInput,
  WireEntry,
  WireGrantInput,
  WireLedgerOperation,
  WireMe,
  WireMetricQuery,
  WireNotificationPreferences,
  WireNotificationPreferencesInput,
  WireOutboxMessage,
  WireOutboxRetried,
  WirePage,
  WireProblem,
  WireRedemption,
  WireSpendCap,
  WireSpendCapInput,
  WireSubscription,
  WireTierChangePreview,
  WireTierChangeResult,
  WireTiers,
  WireUsage,
  WireUsageQuery,
} from '../http/wire.js';

export interface TallyClientOptions {
  /** Where the handler is mounted (`https://api.example.com`, or `/api` in a browser); the client adds `/v1`. */
  baseUrl: string;
  /** Default: the global `fetch`. A Tally handler itself works too (tests, same-process calls). */
  fetch?: (request: Request, init?: RequestInit) => Promise<Response>;
  /** Headers for every call, asked for each time (e.g. a fresh `Authorization`). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
}

export interface MutationOptions {
  /** Reuse one key to retry a call safely; default a fresh UUID per call (kept across the client's own retries). */
  idempotencyKey?: string;
}

export interface TransactionsOptions {
  cursor?: string;
  kind?: WireEntry['kind'] | WireEntry['kind'][];
  limit?: number;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Query = Record<string, string | number | undefined>;

function isProblem(value: unknown): value is WireProblem {
  if (typeof value !== 'object' || value === null) return false;
  const problem = value as Partial<WireProblem>;
  return typeof problem.code === 'string' && typeof problem.status === 'number' && typeof problem.detail === 'string';
}

/**
 * The error a caller sees: a problem response becomes a TallyError with the problem's code (its
 * status and body in `details`); an unreachable or timed-out server is `PROVIDER_UNAVAILABLE`.
 */
async function asTallyError(error: unknown): Promise<unknown> {
  if (TallyError.is(error)) return error;
  if (isHTTPError(error)) {
    const status = error.response.status;
    const problem = error.data;
    if (isProblem(problem)) {
      const issues: TallyErrorIssue[] = Array.isArray(problem.issues) ? problem.issues : [];
      // The server's code list may be newer than this client's: the code is passed on as sent.
      return new TallyError(problem.code as TallyErrorCode, problem.detail, { issues, details: { status, problem }, cause: error });
    }
    const code: TallyErrorCode = status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'INTERNAL';
    return new TallyError(code, `The Tally API answered ${status} without a problem body`, { details: { status }, cause: error });
  }
  if (isNetworkError(error) || isTimeoutError(error)) {
    return new TallyError('PROVIDER_UNAVAILABLE', 'The Tally API could not be reached', { cause: error });
  }
  return error;
}

/** ky hands `fetch` a Request already; a string or URL is made one, so a Tally handler can stand in for fetch. */
const withRequest =
  (fetch: NonNullable<TallyClientOptions['fetch']>) =>
  (input: Request | string | URL, init?: RequestInit): Promise<Response> =>
    fetch(input instanceof Request ? input : new Request(input, init), init);

const query = (params: Query): Record<string, string> =>
  Object.fromEntries(Object.entries(params).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])));

/**
 * A typed client of `@tally/core/http` (ky). Every mutation sends an `Idempotency-Key`, the caller's
 * or a fresh UUID, and ky's own retries of that call reuse it, so a retried POST never acts twice.
 */
export function createTallyClient(options: TallyClientOptions) {
  const api = ky.create({
    prefix: `${options.baseUrl.replace(/\/+$/, '')}/v1`,
    timeout: options.timeoutMs ?? 10_000,
    // Mutations carry idempotency keys, so every method may be retried.
    retry: { limit: 2, methods: ['get', 'post', 'put', 'patch', 'delete'] },
    ...(options.fetch ? { fetch: withRequest(options.fetch) } : {}),
  });

  async function send(
    method: Method,
    path: string,
    init: { json?: unknown; searchParams?: Query; idempotencyKey?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...(await options.headers?.()) };
    if (method !== 'get') headers['idempotency-key'] = init.idempotencyKey ?? crypto.randomUUID();
    try {
      return await api(path.replace(/^\//, ''), {
        method,
        headers,
        ...(init.json !== undefined ? { json: init.json } : {}),
        ...(init.searchParams ? { searchParams: query(init.searchParams) } : {}),
      });
    } catch (error) {
      throw await asTallyError(error);
    }
  }

  async function call<T>(
    method: Method,
    path: string,
    init: { json?: unknown; searchParams?: Query; idempotencyKey?: string } = {},
  ): Promise<T> {
    const response = await send(method, path, init);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw await asTallyError(error);
    }
  }

  const metricSearch = (q: WireMetricQuery, format: 'json' | 'csv' | 'pdf', table?: number): Query => ({
    from: q.from,
    to: q.to,
    granularity: q.granularity,
    limit: q.limit,
    format: format === 'json' ? undefined : format,
    table,
  });

  const segment = encodeURIComponent;

  return {
    me: () => call<WireMe>('get', 'me'),
    balance: () => call<WireBalance>('get', 'balance'),
    usage: (params: WireUsageQuery = {}) => call<WireUsage>('get', 'usage', { searchParams: { ...params } }),
    transactions: (params: TransactionsOptions = {}) =>
      call<WirePage<WireEntry>>('get', 'transactions', {
        searchParams: {
          cursor: params.cursor,
          limit: params.limit,
          kind: Array.isArray(params.kind) ? params.kind.join(',') : params.kind,
        },
      }),
    tiers: () => call<WireTiers>('get', 'tiers'),
    previewTierChange: (tier: string) => call<WireTierChangePreview>('post', 'subscription/preview', { json: { tier } }),
    changeTier: (tier: string, opts: MutationOptions = {}) =>
      call<WireTierChangeResult>('post', 'subscription/change', { json: { tier }, ...opts }),
    cancelSubscription: () => call<WireSubscription>('post', 'subscription/cancel'),
    resumeSubscription: () => call<WireSubscription>('post', 'subscription/resume'),
    paymentMethodPortal: (params: { returnUrl?: string } = {}) => call<WireCheckout>('post', 'payment-method/portal', { json: params }),
    redeemCoupon: (code: string, opts: MutationOptions = {}) => call<WireRedemption>('post', 'coupons/redeem', { json: { code }, ...opts }),
    creditPacks: () => call<WireCreditPack[]>('get', 'credit-packs'),
    buyCreditPack: (packId: string) => call<WireCheckout>('post', `credit-packs/${segment(packId)}/checkout`),
    autoRecharge: () => call<WireAutoRecharge>('get', 'auto-recharge'),
    setAutoRecharge: (input: WireAutoRecharge) => call<WireAutoRecharge>('put', 'auto-recharge', { json: input }),
    spendCaps: () => call<WireSpendCap[]>('get', 'spend-caps'),
    setSpendCap: (input: WireSpendCapInput) => call<WireSpendCap>('put', 'spend-caps', { json: input }),
    byokKeys: () => call<WireByokKey[]>('get', 'byok'),
    setByokKey: (provider: string, apiKey: string) => call<WireByokKey>('put', `byok/${segment(provider)}`, { json: { apiKey } }),
    removeByokKey: (provider: string) => call<WireByokRemoved>('delete', `byok/${segment(provider)}`),
    notificationPreferences: () => call<WireNotificationPreferences>('get', 'notifications/preferences'),
    setNotificationPreferences: (input: WireNotificationPreferencesInput) =>
      call<WireNotificationPreferences>('put', 'notifications/preferences', { json: input }),

    admin: {
      customers: (params: WireAdminCustomersQuery = {}) =>
        call<WirePage<WireAdminCustomer>>('get', 'admin/customers', { searchParams: { ...params } }),
      customer: (id: string) => call<WireAdminCustomerDetail>('get', `admin/customers/${segment(id)}`),
      grant: (id: string, input: WireGrantInput, opts: MutationOptions = {}) =>
        call<WireLedgerOperation>('post', `admin/customers/${segment(id)}/grant`, { json: input, ...opts }),
      adjust: (id: string, input: WireAdjustInput, opts: MutationOptions = {}) =>
        call<WireLedgerOperation>('post', `admin/customers/${segment(id)}/adjust`, { json: input, ...opts }),
      coupons: () => call<WireCoupon[]>('get', 'admin/coupons'),
      createCoupon: (input: WireCouponInput) => call<WireCoupon>('post', 'admin/coupons', { json: input }),
      setCouponActive: (code: string, active: boolean) => call<WireCoupon>('patch', `admin/coupons/${segment(code)}`, { json: { active } }),
      audit: () => call<WireAuditReport>('get', 'admin/audit'),
      deadLetters: () => call<WireOutboxMessage[]>('get', 'admin/outbox/dead-letters'),
      retryDeadLetter: (id: string) => call<WireOutboxRetried>('post', `admin/outbox/dead-letters/${segment(id)}/retry`),
      emails: {
        templates: () => call<WireEmailTemplates>('get', 'admin/emails/templates'),
        preview: (template: WireEmailTemplateId, params: { locale?: string } = {}) =>
          call<WireEmailPreview>('get', `admin/emails/preview/${segment(template)}`, { searchParams: { ...params } }),
        sendTest: (input: WireEmailTestInput) => call<{ delivery: WireEmailDelivery }>('post', 'admin/emails/test', { json: input }),
        log: (params: WireEmailLogQuery = {}) =>
          call<WirePage<WireEmailDelivery>>('get', 'admin/emails/log', { searchParams: { ...params } }),
      },
      analytics: {
        /** One metric as JSON (bigints as strings): `decodeMetricResult` from `@tally/core` makes the values exact again. */
        metric: <M extends MetricName>(q: WireMetricQuery<M>) =>
          call<WireMetricResult<M>>('get', `admin/analytics/${segment(q.metric)}`, { searchParams: metricSearch(q, 'json') }),
        /** One table of the metric's report as CSV, or the whole report as PDF: the response, to save or stream. */
        export: (q: WireMetricQuery, format: 'csv' | 'pdf', options: { table?: number } = {}) =>
          send('get', `admin/analytics/${segment(q.metric)}`, { searchParams: metricSearch(q, format, options.table) }),
      },
    },
  };
}

export type TallyClient = ReturnType<typeof createTallyClient>;
