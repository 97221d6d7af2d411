import { type Clock, isFreeModel, TallyError } from '@tally/core';
import ky, { type KyInstance } from 'ky';
import { JsonDecimal, nanoToJson, parseExactJson, stringifyExactJson, usdToNano } from './exact-json.js';
import { type OpenRouterPrice, type OpenRouterPricing, parseOpenRouterPricing } from './pricing.js';

export const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

export interface OpenRouterRetryOptions {
  /** Retries after the first attempt. Default 2. */
  limit?: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxMs, baseMs × 2ⁿ)) ("full jitter"). Default 500 ms. */
  baseMs?: number;
  /** Cap of one wait. A `Retry-After` longer than this is not waited for: the call fails at once. Default 10 s. */
  maxMs?: number;
}

export interface OpenRouterBreakerOptions {
  /** Consecutive failed attempts (5xx, 408, timeout, network error) that open the circuit. Default 5. */
  failures?: number;
  /** How long an open circuit fails fast before one probe request is let through. Default 30 s. */
  cooldownMs?: number;
}

export interface OpenRouterGenerationPollOptions {
  /** Lookups of a generation that still answers 404 before `NOT_FOUND`. Default 6. */
  attempts?: number;
  /** Wait before the n-th repeat: min(maxMs, baseMs × 2ⁿ), jittered down by at most half. Default 500 ms. */
  baseMs?: number;
  /** Default 4 s. */
  maxMs?: number;
}

export interface OpenRouterClientOptions {
  /** An API key (`sk-or-v1-…`): `/models`, `/key`, `/generation`. */
  apiKey?: string;
  /** A management key: `/credits` and key provisioning (`/keys`). */
  managementKey?: string;
  /** Default `https://openrouter.ai/api/v1`. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  retry?: OpenRouterRetryOptions;
  breaker?: OpenRouterBreakerOptions;
  generation?: OpenRouterGenerationPollOptions;
  /** Reads the time for the circuit breaker. Default: the system clock. */
  clock?: Clock;
  /** Random numbers in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Waits between attempts. Default: `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Sent as `HTTP-Referer` (app attribution). */
  appUrl?: string;
  /** Sent as `X-OpenRouter-Title` (app attribution). */
  appTitle?: string;
}

/** A model of `GET /models` with its price parsed exactly. */
export interface OpenRouterListedModel {
  id: string;
  name: string;
  contextLength: number | null;
  /** OpenRouter's pricing as sent; numbers in it (e.g. `discount`) as their exact decimal text. */
  pricing: OpenRouterPricing;
  /** The list price (before `discount` and `overrides`), femto-USD per token, or `dynamic` for `-1`. */
  price: OpenRouterPrice;
  /** An id ending in `:free`, or every price zero. */
  free: boolean;
}

export interface OpenRouterModelList {
  models: OpenRouterListedModel[];
  /** Models left out because a price can't be kept exactly (or is malformed), with the reason. */
  rejected: Array<{ id: string; error: TallyError }>;
}

/** Spend in nano-USD: all time and per UTC day, week (Mon–Sun) and month. */
export interface OpenRouterSpend {
  total: bigint;
  daily: bigint;
  weekly: bigint;
  monthly: bigint;
}

/** Credit limit and spend of a key. Amounts are nano-USD (1e-9 USD). */
export interface OpenRouterKeyLimits {
  label: string;
  /** `null`: unlimited. */
  limitNanoUsd: bigint | null;
  /** `null`: unlimited. */
  limitRemainingNanoUsd: bigint | null;
  /** `daily`, `weekly`, `monthly`, or `null` (the limit never resets). */
  limitReset: string | null;
  includeByokInLimit: boolean;
  usage: OpenRouterSpend;
  byokUsage: OpenRouterSpend;
  expiresAt: Date | null;
}

/** `GET /key`: the key the client calls with. */
export interface OpenRouterCurrentKey extends OpenRouterKeyLimits {
  isFreeTier: boolean;
  isManagementKey: boolean;
}

/** A provisioned key (`/keys`), referenced by its hash. */
export interface OpenRouterKey extends OpenRouterKeyLimits {
  hash: string;
  name: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date | null;
  creatorUserId: string | null;
  workspaceId: string | null;
}

/** A new key: the plaintext `key` is returned by OpenRouter only once, here. */
export interface OpenRouterCreatedKey {
  key: string;
  info: OpenRouterKey;
}

/** `GET /credits`: the account's purchased credits and spend, nano-USD. */
export interface OpenRouterCredits {
  totalCreditsNanoUsd: bigint;
  totalUsageNanoUsd: bigint;
  /** total − usage; negative when the account is overdrawn. */
  remainingNanoUsd: bigint;
}

export type OpenRouterLimitReset = 'daily' | 'weekly' | 'monthly';

export interface OpenRouterCreateKeyInput {
  name: string;
  /** Credit limit in nano-USD; `null` or absent: unlimited. */
  limitNanoUsd?: bigint | null;
  limitReset?: OpenRouterLimitReset | null;
  includeByokInLimit?: boolean;
  expiresAt?: Date | null;
  creatorUserId?: string;
  workspaceId?: string;
}

export interface OpenRouterUpdateKeyInput {
  name?: string;
  disabled?: boolean;
  limitNanoUsd?: bigint | null;
  limitReset?: OpenRouterLimitReset | null;
  includeByokInLimit?: boolean;
}

export interface OpenRouterListKeysInput {
  includeDisabled?: boolean;
  offset?: number;
  workspaceId?: string;
}

export interface OpenRouterRotateKeyInput {
  /** Default: the old key's name. */
  name?: string;
  /**
   * Called with the new key before the old one is retired: store or deploy it here. When it
   * throws, the new key is deleted again and the old one is left working.
   */
  onCreated?: (created: OpenRouterCreatedKey) => void | Promise<void>;
  /** What happens to the old key once the new one is in place. Default `disable` (kept for its usage history). */
  retire?: 'disable' | 'delete';
}

export interface OpenRouterRotation {
  created: OpenRouterCreatedKey;
  previous: OpenRouterKey;
  /** `failed`: the new key works but the old one could not be retired; see `retireError` and retry `updateKey`. */
  retired: 'disabled' | 'deleted' | 'failed';
  retireError?: TallyError;
}

/** `GET /generation`: what one call cost, nano-USD. */
export interface OpenRouterGeneration {
  id: string;
  model: string;
  providerName: string | null;
  createdAt: Date;
  /** What OpenRouter charged to the account's credits. */
  totalCostNanoUsd: bigint;
  /** The provider's own charge on BYOK calls; `null` (or 0) otherwise. */
  upstreamInferenceCostNanoUsd: bigint | null;
  /** Can be negative (cache writes). */
  cacheDiscountNanoUsd: bigint | null;
  isByok: boolean;
  streamed: boolean;
  cancelled: boolean;
  finishReason: string | null;
  tokensPrompt: number | null;
  tokensCompletion: number | null;
  nativeTokensPrompt: number | null;
  nativeTokensCompletion: number | null;
  nativeTokensReasoning: number | null;
  nativeTokensCached: number | null;
}

/** The circuit breaker's state, for health checks. */
export interface OpenRouterCircuit {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  /** While open: when the next probe may go. */
  openUntil: Date | null;
}

export interface OpenRouterClient {
  /** `GET /models`. A model whose price can't be kept exactly is listed in `rejected`, never rounded. */
  listModels(): Promise<OpenRouterModelList>;
  /** `GET /key`: limit, remaining credit and spend of the API key (or of the management key when there is none). */
  getKey(): Promise<OpenRouterCurrentKey>;
  /** `GET /credits` (management key). */
  getCredits(): Promise<OpenRouterCredits>;
  /** `POST /keys` (management key). Not retried after a 5xx or timeout: the key may exist; check `listKeys`. */
  createKey(input: OpenRouterCreateKeyInput): Promise<OpenRouterCreatedKey>;
  /** `GET /keys/{hash}`; `NOT_FOUND` for an unknown hash. */
  getKeyByHash(hash: string): Promise<OpenRouterKey>;
  /** `GET /keys`. */
  listKeys(input?: OpenRouterListKeysInput): Promise<OpenRouterKey[]>;
  /** `PATCH /keys/{hash}`; `NOT_FOUND` for an unknown hash. */
  updateKey(hash: string, input: OpenRouterUpdateKeyInput): Promise<OpenRouterKey>;
  /** `DELETE /keys/{hash}`; `NOT_FOUND` for an unknown hash. */
  deleteKey(hash: string): Promise<void>;
  /**
   * Replaces a key without a moment in which the customer has none: create the new key (same
   * settings) → `onCreated` (store it) → disable the old one → delete it when `retire: 'delete'`.
   * A limit that never resets moves over as the old key's remaining credit, so rotating mints no
   * credit; a resetting limit is copied as is. Spend on the old key between the read and its
   * retirement is not carried over.
   */
  rotateKey(hash: string, input?: OpenRouterRotateKeyInput): Promise<OpenRouterRotation>;
  /**
   * `GET /generation?id=`: the cost of one call. OpenRouter answers 404 for a while after the call,
   * so a 404 is polled again with backoff (`generation` option) before it becomes `NOT_FOUND`.
   */
  getGeneration(id: string): Promise<OpenRouterGeneration>;
  circuit(): OpenRouterCircuit;
}

type KeyKind = 'api' | 'management' | 'any' | 'optional';

interface Call {
  what: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  key: KeyKind;
  searchParams?: Record<string, string>;
  body?: unknown;
  /** Whether a repeat is harmless after a 5xx or timeout. 429 is always retried (nothing was done). */
  idempotent: boolean;
  /** Answer a 404 instead of throwing. */
  allow404?: boolean;
}

interface Answer {
  status: number;
  value: unknown;
  attempts: number;
}

interface Failure {
  status: number | null;
  code: unknown;
  message: string;
  retryAfterMs?: number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorBody(text: string): { code: unknown; message: string | null; metadata: unknown } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; metadata?: unknown } };
    const error = body?.error;
    if (typeof error !== 'object' || error === null) return { code: null, message: null, metadata: null };
    return {
      code: error.code ?? null,
      message: typeof error.message === 'string' ? error.message : null,
      metadata: error.metadata ?? null,
    };
  } catch {
    return { code: null, message: null, metadata: null };
  }
}

/** `Retry-After` in seconds or as an HTTP date → ms; null when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function unexpected(what: string, message: string): TallyError {
  return new TallyError('PROVIDER_UNAVAILABLE', `OpenRouter ${what} answered unexpectedly: ${message}`, {
    details: { reason: 'invalid_response' },
  });
}

/** Typed readers over an exactly parsed body; a wrong shape is `PROVIDER_UNAVAILABLE`. */
function reader(what: string) {
  const fail = (field: string, expected: string) => unexpected(what, `${field} is not ${expected}`);
  const record = (value: unknown, field: string): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof JsonDecimal) throw fail(field, 'an object');
    return value as Record<string, unknown>;
  };
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string') throw fail(field, 'a string');
    return value;
  };
  const textOrNull = (value: unknown, field: string): string | null => (value === null || value === undefined ? null : text(value, field));
  const flag = (value: unknown, field: string, fallback?: boolean): boolean => {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') throw fail(field, 'a boolean');
    return value;
  };
  const usd = (value: unknown, field: string): bigint => {
    if (!(value instanceof JsonDecimal)) throw fail(field, 'a number');
    return usdToNano(value, field);
  };
  const usdOrNull = (value: unknown, field: string): bigint | null => (value === null || value === undefined ? null : usd(value, field));
  const count = (value: unknown, field: string): number | null => {
    if (value === null || value === undefined) return null;
    if (!(value instanceof JsonDecimal) || !/^\d+$/.test(value.text)) throw fail(field, 'a count');
    return Number(value.text);
  };
  const date = (value: unknown, field: string): Date => {
    const parsed = new Date(text(value, field));
    if (Number.isNaN(parsed.getTime())) throw fail(field, 'a date');
    return parsed;
  };
  const dateOrNull = (value: unknown, field: string): Date | null => (value === null || value === undefined ? null : date(value, field));
  return { record, text, textOrNull, flag, usd, usdOrNull, count, date, dateOrNull };
}

function keyLimits(read: ReturnType<typeof reader>, data: Record<string, unknown>): OpenRouterKeyLimits {
  const spend = (prefix: string, required: boolean): OpenRouterSpend => {
    const amount = (field: string) => (!required && data[field] === undefined ? 0n : read.usd(data[field], field));
    return {
      total: amount(prefix),
      daily: data[`${prefix}_daily`] === undefined ? 0n : read.usd(data[`${prefix}_daily`], `${prefix}_daily`),
      weekly: data[`${prefix}_weekly`] === undefined ? 0n : read.usd(data[`${prefix}_weekly`], `${prefix}_weekly`),
      monthly: data[`${prefix}_monthly`] === undefined ? 0n : read.usd(data[`${prefix}_monthly`], `${prefix}_monthly`),
    };
  };
  return {
    label: read.text(data.label, 'label'),
    limitNanoUsd: read.usdOrNull(data.limit, 'limit'),
    limitRemainingNanoUsd: read.usdOrNull(data.limit_remaining, 'limit_remaining'),
    limitReset: read.textOrNull(data.limit_reset, 'limit_reset'),
    includeByokInLimit: read.flag(data.include_byok_in_limit, 'include_byok_in_limit', false),
    usage: spend('usage', true),
    byokUsage: spend('byok_usage', false),
    expiresAt: read.dateOrNull(data.expires_at, 'expires_at'),
  };
}

function provisionedKey(read: ReturnType<typeof reader>, value: unknown): OpenRouterKey {
  const data = read.record(value, 'data');
  return {
    hash: read.text(data.hash, 'hash'),
    name: read.text(data.name, 'name'),
    disabled: read.flag(data.disabled, 'disabled'),
    ...keyLimits(read, data),
    createdAt: read.date(data.created_at, 'created_at'),
    updatedAt: read.dateOrNull(data.updated_at, 'updated_at'),
    creatorUserId: read.textOrNull(data.creator_user_id, 'creator_user_id'),
    workspaceId: read.textOrNull(data.workspace_id, 'workspace_id'),
  };
}

/** Numbers as their exact decimal text, for handing parsed data back to callers. */
function plain(value: unknown): unknown {
  if (value instanceof JsonDecimal) return value.text;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(result, key, { value: plain(item), enumerable: true, writable: true, configurable: true });
    }
    return result;
  }
  return value;
}

function limitJson(limit: bigint | null | undefined, field: string): JsonDecimal | null | undefined {
  if (limit === undefined || limit === null) return limit;
  if (typeof limit !== 'bigint' || limit < 0n) {
    throw new TallyError('VALIDATION', `${field} must be a non-negative bigint of nano-USD or null`, { details: { field } });
  }
  return nanoToJson(limit);
}

function checkHash(hash: string): string {
  if (typeof hash !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(hash)) {
    throw new TallyError('VALIDATION', 'An OpenRouter key hash is a non-empty string of letters, digits, "_" or "-"');
  }
  return hash;
}

const LIMIT_RESETS = new Set<unknown>(['daily', 'weekly', 'monthly', null, undefined]);

function checkLimitReset(value: unknown): void {
  if (!LIMIT_RESETS.has(value)) throw new TallyError('VALIDATION', 'limitReset must be daily, weekly, monthly or null');
}

/**
 * An OpenRouter REST client on ky. Every call goes through the same policy: 429, 408, 5xx, timeouts
 * and network errors are retried with full-jitter exponential backoff (honouring `Retry-After` up to
 * `retry.maxMs`); a 402 (the OpenRouter account or key is out of credit) and every other 4xx are
 * never retried. After `breaker.failures` consecutive failed attempts the circuit opens: calls fail
 * at once with `PROVIDER_UNAVAILABLE` until `breaker.cooldownMs` has passed, then one probe call is let
 * through (half-open) and its outcome closes or reopens the circuit.
 *
 * Errors: 402 → `PROVIDER_REJECTED` with `details.outOfCredit: true` (not `PAYMENT_FAILED`, which is
 * the customer's payment to the app, nor `INSUFFICIENT_CREDITS`, which is a customer's Tally
 * balance: this is the operator's OpenRouter balance); other 4xx → `PROVIDER_REJECTED` (404 on a
 * resource → `NOT_FOUND`); retries exhausted, open circuit, timeout → `PROVIDER_UNAVAILABLE`.
 * `details` carries `status` and OpenRouter's `code` and `message`. Amounts are bigint nano-USD,
 * read from the digits of the JSON text, never through a float.
 */
export function createOpenRouterClient(options: OpenRouterClientOptions = {}): OpenRouterClient {
  const retryLimit = options.retry?.limit ?? 2;
  const baseMs = options.retry?.baseMs ?? 500;
  const maxMs = options.retry?.maxMs ?? 10_000;
  const failuresToOpen = options.breaker?.failures ?? 5;
  const cooldownMs = options.breaker?.cooldownMs ?? 30_000;
  const pollAttempts = options.generation?.attempts ?? 6;
  const pollBaseMs = options.generation?.baseMs ?? 500;
  const pollMaxMs = options.generation?.maxMs ?? 4_000;
  const now = options.clock ? () => (options.clock as Clock).now().getTime() : () => Date.now();
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  for (const [name, value] of Object.entries({
    retryLimit,
    baseMs,
    maxMs,
    failuresToOpen,
    cooldownMs,
    pollAttempts,
    pollBaseMs,
    pollMaxMs,
  })) {
    if (!Number.isInteger(value) || value < 0)
      throw new TallyError('VALIDATION', `OpenRouter client option ${name} must be a non-negative integer`);
  }
  if (failuresToOpen < 1 || pollAttempts < 1)
    throw new TallyError('VALIDATION', 'breaker.failures and generation.attempts must be at least 1');

  const headers: Record<string, string> = {};
  if (options.appUrl) headers['HTTP-Referer'] = options.appUrl;
  if (options.appTitle) headers['X-OpenRouter-Title'] = options.appTitle;
  const http: KyInstance = ky.create({
    prefix: options.baseUrl ?? OPENROUTER_BASE_URL,
    timeout: options.timeoutMs ?? 30_000,
    retry: 0,
    throwHttpErrors: false,
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  // Circuit breaker.
  let state: OpenRouterCircuit['state'] = 'closed';
  let consecutiveFailures = 0;
  let openedAt = 0;
  let probing = false;

  /** May an attempt go? Moves an open circuit whose cooldown is over to half-open with one probe. */
  function admit(): boolean {
    if (state === 'open') {
      if (now() - openedAt < cooldownMs) return false;
      state = 'half-open';
      probing = false;
    }
    if (state === 'half-open') {
      if (probing) return false;
      probing = true;
    }
    return true;
  }
  function succeeded(): void {
    state = 'closed';
    consecutiveFailures = 0;
    probing = false;
  }
  function failed(): void {
    consecutiveFailures++;
    probing = false;
    if (state === 'half-open' || consecutiveFailures >= failuresToOpen) {
      state = 'open';
      openedAt = now();
    }
  }

  function keyFor(kind: KeyKind, what: string): string | null {
    const key = kind === 'management' ? options.managementKey : kind === 'any' ? (options.apiKey ?? options.managementKey) : options.apiKey;
    if (key) return key;
    if (kind === 'optional') return null;
    const needed = kind === 'management' ? 'a managementKey' : 'an apiKey';
    throw new TallyError('VALIDATION', `OpenRouter ${what} needs ${needed}`);
  }

  function unavailable(call: Call, attempts: number, last: Failure | null, reason: string, cause?: unknown): TallyError {
    const status = last?.status ?? null;
    const details = {
      status,
      code: last?.code ?? null,
      message: last?.message ?? null,
      attempts,
      reason,
      ...(last?.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs }),
    };
    const why = last ? `${status ?? 'no answer'} ${last.message}` : reason;
    return new TallyError('PROVIDER_UNAVAILABLE', `OpenRouter ${call.what} is unavailable (${reason}): ${why}`, { cause, details });
  }

  function rejected(call: Call, status: number, text: string): TallyError {
    const body = errorBody(text);
    const details = { status, code: body.code, message: body.message, metadata: body.metadata };
    const said = body.message ?? `HTTP ${status}`;
    if (status === 402) {
      return new TallyError('PROVIDER_REJECTED', `OpenRouter ${call.what}: the OpenRouter account or key is out of credit (402: ${said})`, {
        details: { ...details, outOfCredit: true },
      });
    }
    if (status === 404 && call.path !== 'models') {
      return new TallyError('NOT_FOUND', `OpenRouter ${call.what}: not found (${said})`, { details });
    }
    return new TallyError('PROVIDER_REJECTED', `OpenRouter ${call.what} was rejected (${status}: ${said})`, { details });
  }

  async function send(call: Call): Promise<Answer> {
    const key = keyFor(call.key, call.what);
    const requestHeaders: Record<string, string> = key ? { Authorization: `Bearer ${key}` } : {};
    const payload = call.body === undefined ? undefined : stringifyExactJson(call.body);
    if (payload !== undefined) requestHeaders['Content-Type'] = 'application/json';
    let last: Failure | null = null;
    for (let attempt = 0; ; attempt++) {
      if (!admit()) throw unavailable(call, attempt, last, 'circuit open');
      let response: Response;
      let text: string;
      try {
        response = await http(call.path, {
          method: call.method,
          headers: requestHeaders,
          ...(call.searchParams ? { searchParams: call.searchParams } : {}),
          ...(payload === undefined ? {} : { body: payload }),
        });
        text = await response.text();
      } catch (error) {
        failed();
        const message = error instanceof Error ? error.message : String(error);
        last = { status: null, code: null, message };
        if (!call.idempotent || attempt >= retryLimit) throw unavailable(call, attempt + 1, last, 'no answer', error);
        await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt)));
        continue;
      }
      const status = response.status;
      if (response.ok || (status === 404 && call.allow404)) {
        succeeded();
        let value: unknown;
        try {
          value = status === 404 ? null : parseExactJson(text);
        } catch (error) {
          throw new TallyError('PROVIDER_UNAVAILABLE', `OpenRouter ${call.what} answered ${status} with a body that is not JSON`, {
            cause: error,
            details: { status, reason: 'invalid_response' },
          });
        }
        return { status, value, attempts: attempt + 1 };
      }
      const retryable = status === 429 || status === 408 || status >= 500;
      if (!retryable) {
        succeeded();
        throw rejected(call, status, text);
      }
      // A 429 is the server answering; it says nothing about an outage.
      if (status === 429) succeeded();
      else failed();
      const body = errorBody(text);
      const wait = retryAfterMs(response.headers.get('Retry-After'), now());
      last = { status, code: body.code, message: body.message ?? `HTTP ${status}`, ...(wait === null ? {} : { retryAfterMs: wait }) };
      if (attempt >= retryLimit) throw unavailable(call, attempt + 1, last, 'retries exhausted');
      if (!call.idempotent && status !== 429) throw unavailable(call, attempt + 1, last, 'not retried: the request may have taken effect');
      if (wait !== null && wait > maxMs) throw unavailable(call, attempt + 1, last, `Retry-After exceeds ${maxMs} ms`);
      await sleep(wait ?? Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt)));
    }
  }

  async function keyData(call: Call): Promise<OpenRouterKey> {
    const answer = await send(call);
    const read = reader(call.what);
    return provisionedKey(read, read.record(answer.value, 'body').data);
  }

  function keyBody(input: OpenRouterCreateKeyInput | OpenRouterUpdateKeyInput): Record<string, unknown> {
    checkLimitReset(input.limitReset);
    return {
      limit: limitJson(input.limitNanoUsd, 'limitNanoUsd'),
      limit_reset: input.limitReset,
      include_byok_in_limit: input.includeByokInLimit,
    };
  }

  const client: OpenRouterClient = {
    async listModels() {
      const what = 'GET /models';
      const answer = await send({ what, method: 'get', path: 'models', key: 'optional', idempotent: true });
      const read = reader(what);
      const data = read.record(answer.value, 'body').data;
      if (!Array.isArray(data)) throw unexpected(what, 'data is not a list');
      const result: OpenRouterModelList = { models: [], rejected: [] };
      for (const item of data) {
        const model = read.record(item, 'model');
        const id = read.text(model.id, 'id');
        try {
          const pricing = plain(read.record(model.pricing, `${id} pricing`)) as OpenRouterPricing;
          const price = parseOpenRouterPricing(pricing);
          const contextLength = model.context_length instanceof JsonDecimal ? read.count(model.context_length, 'context_length') : null;
          result.models.push({
            id,
            name: typeof model.name === 'string' ? model.name : id,
            contextLength,
            pricing,
            price,
            free: price.kind === 'fixed' ? isFreeModel(id, price.price) : isFreeModel(id),
          });
        } catch (error) {
          if (!TallyError.is(error)) throw error;
          result.rejected.push({ id, error });
        }
      }
      return result;
    },

    async getKey() {
      const what = 'GET /key';
      const answer = await send({ what, method: 'get', path: 'key', key: 'any', idempotent: true });
      const read = reader(what);
      const data = read.record(read.record(answer.value, 'body').data, 'data');
      return {
        ...keyLimits(read, data),
        isFreeTier: read.flag(data.is_free_tier, 'is_free_tier', false),
        isManagementKey: read.flag(data.is_management_key ?? data.is_provisioning_key, 'is_management_key', false),
      };
    },

    async getCredits() {
      const what = 'GET /credits';
      const answer = await send({ what, method: 'get', path: 'credits', key: 'management', idempotent: true });
      const read = reader(what);
      const data = read.record(read.record(answer.value, 'body').data, 'data');
      const totalCreditsNanoUsd = read.usd(data.total_credits, 'total_credits');
      const totalUsageNanoUsd = read.usd(data.total_usage, 'total_usage');
      return { totalCreditsNanoUsd, totalUsageNanoUsd, remainingNanoUsd: totalCreditsNanoUsd - totalUsageNanoUsd };
    },

    async createKey(input) {
      if (typeof input?.name !== 'string' || input.name.trim() === '') throw new TallyError('VALIDATION', 'An OpenRouter key needs a name');
      if (input.expiresAt !== undefined && input.expiresAt !== null && Number.isNaN(input.expiresAt.getTime?.())) {
        throw new TallyError('VALIDATION', 'expiresAt must be a valid Date or null');
      }
      const what = 'POST /keys';
      const body = {
        name: input.name,
        ...keyBody(input),
        expires_at: input.expiresAt === undefined ? undefined : (input.expiresAt?.toISOString() ?? null),
        creator_user_id: input.creatorUserId,
        workspace_id: input.workspaceId,
      };
      const answer = await send({ what, method: 'post', path: 'keys', key: 'management', body, idempotent: false });
      const read = reader(what);
      const root = read.record(answer.value, 'body');
      return { key: read.text(root.key, 'key'), info: provisionedKey(read, root.data) };
    },

    async getKeyByHash(hash) {
      return keyData({ what: 'GET /keys/{hash}', method: 'get', path: `keys/${checkHash(hash)}`, key: 'management', idempotent: true });
    },

    async listKeys(input = {}) {
      const what = 'GET /keys';
      const searchParams: Record<string, string> = {};
      if (input.includeDisabled !== undefined) searchParams.include_disabled = String(input.includeDisabled);
      if (input.offset !== undefined) {
        if (!Number.isInteger(input.offset) || input.offset < 0)
          throw new TallyError('VALIDATION', 'offset must be a non-negative integer');
        searchParams.offset = String(input.offset);
      }
      if (input.workspaceId !== undefined) searchParams.workspace_id = input.workspaceId;
      const answer = await send({ what, method: 'get', path: 'keys', key: 'management', searchParams, idempotent: true });
      const read = reader(what);
      const data = read.record(answer.value, 'body').data;
      if (!Array.isArray(data)) throw unexpected(what, 'data is not a list');
      return data.map((item) => provisionedKey(read, item));
    },

    async updateKey(hash, input) {
      const body = { name: input?.name, disabled: input?.disabled, ...keyBody(input ?? {}) };
      if (Object.values(body).every((value) => value === undefined))
        throw new TallyError('VALIDATION', 'updateKey needs at least one change');
      if (body.name !== undefined && (typeof body.name !== 'string' || body.name.trim() === '')) {
        throw new TallyError('VALIDATION', 'An OpenRouter key name must be a non-empty string');
      }
      return keyData({
        what: 'PATCH /keys/{hash}',
        method: 'patch',
        path: `keys/${checkHash(hash)}`,
        key: 'management',
        body,
        idempotent: true,
      });
    },

    async deleteKey(hash) {
      const what = 'DELETE /keys/{hash}';
      const answer = await send({
        what,
        method: 'delete',
        path: `keys/${checkHash(hash)}`,
        key: 'management',
        idempotent: true,
        allow404: true,
      });
      if (answer.status !== 404) return;
      // A 404 after a retried attempt is our own earlier attempt having succeeded.
      if (answer.attempts > 1) return;
      throw new TallyError('NOT_FOUND', `OpenRouter ${what}: no key ${hash}`, { details: { status: 404, hash } });
    },

    async rotateKey(hash, input = {}) {
      const retire = input.retire ?? 'disable';
      if (retire !== 'disable' && retire !== 'delete') throw new TallyError('VALIDATION', 'retire must be disable or delete');
      const previous = await client.getKeyByHash(hash);
      if (previous.disabled) throw new TallyError('CONFLICT', `OpenRouter key ${hash} is disabled; rotating it would re-enable access`);
      let limitNanoUsd = previous.limitNanoUsd;
      if (limitNanoUsd !== null && previous.limitReset === null) {
        const remaining = previous.limitRemainingNanoUsd ?? limitNanoUsd;
        limitNanoUsd = remaining > 0n ? remaining : 0n;
      }
      const created = await client.createKey({
        name: input.name ?? previous.name,
        limitNanoUsd,
        limitReset: previous.limitReset as OpenRouterLimitReset | null,
        includeByokInLimit: previous.includeByokInLimit,
        expiresAt: previous.expiresAt,
        ...(previous.workspaceId ? { workspaceId: previous.workspaceId } : {}),
      });
      if (input.onCreated) {
        try {
          await input.onCreated(created);
        } catch (error) {
          try {
            await client.deleteKey(created.info.hash);
          } catch (cleanup) {
            throw new TallyError('PROVIDER_UNAVAILABLE', `onCreated failed and the new key ${created.info.hash} could not be deleted`, {
              cause: error,
              details: { orphanKeyHash: created.info.hash, cleanupError: cleanup instanceof Error ? cleanup.message : String(cleanup) },
            });
          }
          throw error;
        }
      }
      try {
        await client.updateKey(hash, { disabled: true });
        if (retire === 'delete') await client.deleteKey(hash);
        return { created, previous, retired: retire === 'delete' ? 'deleted' : 'disabled' };
      } catch (error) {
        const retireError = TallyError.is(error)
          ? error
          : new TallyError('PROVIDER_UNAVAILABLE', `Retiring OpenRouter key ${hash} failed`, { cause: error });
        return { created, previous, retired: 'failed', retireError };
      }
    },

    async getGeneration(id) {
      if (typeof id !== 'string' || id.trim() === '') throw new TallyError('VALIDATION', 'A generation id is a non-empty string');
      const what = 'GET /generation';
      for (let poll = 0; poll < pollAttempts; poll++) {
        const answer = await send({
          what,
          method: 'get',
          path: 'generation',
          key: 'api',
          searchParams: { id },
          idempotent: true,
          allow404: true,
        });
        if (answer.status !== 404) {
          const read = reader(what);
          const data = read.record(read.record(answer.value, 'body').data, 'data');
          return {
            id: read.text(data.id, 'id'),
            model: read.text(data.model, 'model'),
            providerName: read.textOrNull(data.provider_name, 'provider_name'),
            createdAt: read.date(data.created_at, 'created_at'),
            totalCostNanoUsd: read.usd(data.total_cost, 'total_cost'),
            upstreamInferenceCostNanoUsd: read.usdOrNull(data.upstream_inference_cost, 'upstream_inference_cost'),
            cacheDiscountNanoUsd: read.usdOrNull(data.cache_discount, 'cache_discount'),
            isByok: read.flag(data.is_byok, 'is_byok', false),
            streamed: read.flag(data.streamed, 'streamed', false),
            cancelled: read.flag(data.cancelled, 'cancelled', false),
            finishReason: read.textOrNull(data.finish_reason, 'finish_reason'),
            tokensPrompt: read.count(data.tokens_prompt, 'tokens_prompt'),
            tokensCompletion: read.count(data.tokens_completion, 'tokens_completion'),
            nativeTokensPrompt: read.count(data.native_tokens_prompt, 'native_tokens_prompt'),
            nativeTokensCompletion: read.count(data.native_tokens_completion, 'native_tokens_completion'),
            nativeTokensReasoning: read.count(data.native_tokens_reasoning, 'native_tokens_reasoning'),
            nativeTokensCached: read.count(data.native_tokens_cached, 'native_tokens_cached'),
          };
        }
        if (poll < pollAttempts - 1) {
          const ceiling = Math.min(pollMaxMs, pollBaseMs * 2 ** poll);
          await sleep(Math.floor(ceiling / 2 + (random() * ceiling) / 2));
        }
      }
      throw new TallyError('NOT_FOUND', `OpenRouter has no generation ${id} after ${pollAttempts} lookups`, {
        details: { status: 404, id, attempts: pollAttempts },
      });
    },

    circuit() {
      const open = state === 'open';
      return { state, consecutiveFailures, openUntil: open ? new Date(openedAt + cooldownMs) : null };
    },
  };
  return client;
}
