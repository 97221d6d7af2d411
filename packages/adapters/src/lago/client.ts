import { TallyError } from '@tally/core';
import ky, { HTTPError, type KyInstance } from 'ky';

/** Lago's `POST /events/batch` limit (`LAGO_EVENTS_BATCH_MAX_LENGTH`). */
export const LAGO_EVENTS_BATCH_MAX = 100;

const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];

export interface LagoRetryOptions {
  /** Retries after the first attempt. Default 2. */
  limit?: number;
  /** First wait; doubles per retry. Default 300 ms. */
  baseMs?: number;
  /** Cap of one wait, also for `Retry-After`/rate-limit headers. Default 5 s. */
  maxMs?: number;
}

export interface LagoClientOptions {
  apiKey: string;
  /** Default `https://api.getlago.com/api/v1`; EU: `https://api.eu.getlago.com/api/v1`; self-hosted: `<host>/api/v1`. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** 408/429/5xx, timeouts and network errors are retried a few times with jittered, capped backoff. */
  retry?: LagoRetryOptions;
}

/** `POST /customers` body: an upsert by `external_id`; only the keys sent are overwritten. */
export interface LagoCustomerInput {
  external_id: string;
  name?: string;
  email?: string;
  currency?: string;
  [key: string]: unknown;
}

export interface LagoCustomer {
  lago_id: string;
  external_id: string;
  [key: string]: unknown;
}

export interface LagoSubscriptionInput {
  external_customer_id: string;
  plan_code: string;
  /** Lago's idempotency key for the subscription; the same id with another plan is a plan change. */
  external_id: string;
  billing_time?: 'calendar' | 'anniversary';
  name?: string;
  [key: string]: unknown;
}

export interface LagoSubscription {
  lago_id: string;
  external_id: string;
  external_customer_id: string;
  plan_code: string;
  status: 'active' | 'pending' | 'canceled' | 'terminated' | 'incomplete';
  next_plan_code?: string | null;
  [key: string]: unknown;
}

export interface LagoEventInput {
  /** Dedupe key, unique per `external_subscription_id` on Lago's Postgres event store. */
  transaction_id: string;
  external_subscription_id: string;
  /** The billable metric's code. */
  code: string;
  /** Unix seconds, decimals for milliseconds. Default: when Lago receives it. */
  timestamp?: number | string;
  properties?: Record<string, unknown>;
}

export interface LagoEventsResult {
  /** Events Lago stored on this call. */
  sent: number;
  /** `transaction_id`s Lago already had (a delivery retried after a lost answer): delivered before. */
  duplicates: string[];
}

export interface LagoClient {
  upsertCustomer(customer: LagoCustomerInput): Promise<LagoCustomer>;
  /** Creates the subscription, or changes its plan when one with this `external_id` exists (upgrade now, downgrade at Lago's next billing day). */
  createOrUpdateSubscription(subscription: LagoSubscriptionInput): Promise<LagoSubscription>;
  /** Terminates now. `null` when Lago has no such subscription (already terminated or never created). */
  terminateSubscription(externalId: string): Promise<LagoSubscription | null>;
  /** One event; a `transaction_id` Lago already has counts as delivered (`duplicate: true`). */
  sendEvent(event: LagoEventInput): Promise<{ duplicate: boolean }>;
  /**
   * At most 100 events in one all-or-nothing batch. When Lago refuses it only because some
   * `transaction_id`s already exist, the rest is sent again without them.
   */
  sendEvents(events: LagoEventInput[]): Promise<LagoEventsResult>;
  /** The PEM key that verifies `jwt` webhook signatures (`GET /webhooks/public_key`). */
  webhookPublicKey(): Promise<string>;
}

type LagoErrorBody = { status?: number; error?: string; code?: string; error_details?: Record<string, unknown> };

function errorBody(data: unknown): LagoErrorBody {
  return typeof data === 'object' && data !== null ? (data as LagoErrorBody) : {};
}

/** Turns whatever the HTTP layer threw into a TallyError: retryable statuses and transport failures are PROVIDER_UNAVAILABLE. */
function lagoError(error: unknown, what: string): TallyError {
  if (TallyError.is(error)) return error;
  if (error instanceof HTTPError) {
    const status = error.response.status;
    const body = errorBody(error.data);
    const details = { status, code: body.code ?? null, error: body.error ?? null, error_details: body.error_details ?? null };
    const code = RETRY_STATUSES.includes(status) ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED';
    const reason = body.code ?? body.error ?? `HTTP ${status}`;
    return new TallyError(code, `Lago ${what} failed: ${status} ${reason}`, { cause: error, details });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new TallyError('PROVIDER_UNAVAILABLE', `Lago ${what} failed: ${reason}`, { cause: error, details: { status: null } });
}

function isAlreadyExist(errors: unknown): boolean {
  if (typeof errors !== 'object' || errors === null) return false;
  const entries = Object.entries(errors);
  return (
    entries.length === 1 &&
    entries[0]?.[0] === 'transaction_id' &&
    Array.isArray(entries[0][1]) &&
    entries[0][1].length > 0 &&
    entries[0][1].every((value) => value === 'value_already_exist')
  );
}

/** The batch indexes Lago refused as duplicates, or null when the 422 says anything else. */
function duplicateIndexes(error: TallyError, length: number): Set<number> | null {
  if (error.details.status !== 422 || error.details.code !== 'validation_errors') return null;
  const details = error.details.error_details;
  if (typeof details !== 'object' || details === null) return null;
  const indexes = new Set<number>();
  for (const [key, errors] of Object.entries(details)) {
    if (!/^\d{1,3}$/.test(key) || Number(key) >= length || !isAlreadyExist(errors)) return null;
    indexes.add(Number(key));
  }
  return indexes.size > 0 ? indexes : null;
}

function eventKey(event: LagoEventInput): string {
  return `${event.external_subscription_id}\u0000${event.transaction_id}`;
}

/** A Lago REST client with the few calls Tally's sink needs. */
export function createLagoClient(options: LagoClientOptions): LagoClient {
  if (!options.apiKey) throw new TallyError('VALIDATION', 'Lago needs an apiKey');
  const retry = options.retry ?? {};
  const baseMs = retry.baseMs ?? 300;
  const maxMs = retry.maxMs ?? 5_000;
  const http: KyInstance = ky.create({
    prefix: options.baseUrl ?? 'https://api.getlago.com/api/v1',
    headers: { Authorization: `Bearer ${options.apiKey}` },
    timeout: options.timeoutMs ?? 10_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    retry: {
      limit: retry.limit ?? 2,
      // Every call is idempotent on Lago's side (upserts, external ids, transaction ids), POST included.
      methods: ['get', 'post', 'put', 'delete'],
      statusCodes: RETRY_STATUSES,
      afterStatusCodes: [429, 503],
      maxRetryAfter: maxMs,
      retryOnTimeout: true,
      delay: (attempt) => Math.min(maxMs, baseMs * 2 ** (attempt - 1)),
      jitter: (delay) => delay / 2 + Math.random() * (delay / 2),
    },
  });

  async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw lagoError(error, what);
    }
  }

  async function postBatch(events: LagoEventInput[]): Promise<void> {
    await call('POST /events/batch', () => http.post('events/batch', { json: { events } }).json());
  }

  return {
    async upsertCustomer(customer) {
      if (!customer.external_id) throw new TallyError('VALIDATION', 'a Lago customer needs an external_id');
      const body = await call('POST /customers', () => http.post('customers', { json: { customer } }).json<{ customer: LagoCustomer }>());
      return body.customer;
    },

    async createOrUpdateSubscription(subscription) {
      if (!subscription.external_id || !subscription.external_customer_id || !subscription.plan_code) {
        throw new TallyError('VALIDATION', 'a Lago subscription needs external_id, external_customer_id and plan_code');
      }
      const body = await call('POST /subscriptions', () =>
        http.post('subscriptions', { json: { subscription } }).json<{ subscription: LagoSubscription }>(),
      );
      return body.subscription;
    },

    async terminateSubscription(externalId) {
      if (!externalId) throw new TallyError('VALIDATION', 'terminating a Lago subscription needs its external_id');
      try {
        const body = await call('DELETE /subscriptions', () =>
          http.delete(`subscriptions/${encodeURIComponent(externalId)}`).json<{ subscription: LagoSubscription }>(),
        );
        return body.subscription;
      } catch (error) {
        if (TallyError.is(error) && error.details.status === 404) return null;
        throw error;
      }
    },

    async sendEvent(event) {
      try {
        await call('POST /events', () => http.post('events', { json: { event } }).json());
        return { duplicate: false };
      } catch (error) {
        if (TallyError.is(error) && error.details.status === 422 && isAlreadyExist(error.details.error_details)) return { duplicate: true };
        throw error;
      }
    },

    async sendEvents(events) {
      if (events.length > LAGO_EVENTS_BATCH_MAX) {
        throw new TallyError('VALIDATION', `Lago takes at most ${LAGO_EVENTS_BATCH_MAX} events per batch, got ${events.length}`, {
          details: { count: events.length, max: LAGO_EVENTS_BATCH_MAX },
        });
      }
      const duplicates: string[] = [];
      // The same key twice in one batch would make Lago refuse it; the first one stands for both.
      const seen = new Set<string>();
      let pending: LagoEventInput[] = [];
      for (const event of events) {
        if (!event.transaction_id || !event.external_subscription_id || !event.code) {
          throw new TallyError('VALIDATION', 'a Lago event needs transaction_id, external_subscription_id and code');
        }
        const key = eventKey(event);
        if (seen.has(key)) duplicates.push(event.transaction_id);
        else pending.push(event);
        seen.add(key);
      }
      // Each refusal removes at least one event, so this ends; usually after one or two calls.
      while (pending.length > 0) {
        try {
          await postBatch(pending);
          return { sent: pending.length, duplicates };
        } catch (error) {
          const indexes = TallyError.is(error) ? duplicateIndexes(error, pending.length) : null;
          if (!indexes) throw error;
          for (const index of indexes) duplicates.push((pending[index] as LagoEventInput).transaction_id);
          pending = pending.filter((_, index) => !indexes.has(index));
        }
      }
      return { sent: 0, duplicates };
    },

    async webhookPublicKey() {
      const encoded = await call('GET /webhooks/public_key', () => http.get('webhooks/public_key').text());
      let pem = '';
      try {
        pem = atob(encoded.trim());
      } catch {
        // Not base64: refused below.
      }
      if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
        throw new TallyError('PROVIDER_REJECTED', 'Lago answered GET /webhooks/public_key with something that is not a base64 PEM key');
      }
      return pem;
    },
  };
}
