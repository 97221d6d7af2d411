/**
 * A stateful fake of OpenRouter's REST API for msw (`@tally/adapters/openrouter/testing`), shaped
 * after the OpenAPI spec: run tests and the demo without a key.
 *
 * ```ts
 * const fake = createOpenRouterFake({ creditsNanoUsd: 10_000_000_000n }); // $10 of account credit
 * const server = setupServer(...fake.handlers);
 * const client = createOpenRouterClient({ apiKey: fake.apiKey, managementKey: fake.managementKey });
 * ```
 *
 * `createOpenRouterFake(options?)` → `OpenRouterFake`:
 * - `handlers`: msw handlers for `GET /models`, `POST /chat/completions` (JSON, or SSE with
 *   `stream: true`: content chunks, then one chunk with empty `choices` and `usage` incl. `cost`,
 *   then `data: [DONE]`; the generation id is the body `id` and the `X-Generation-Id` header),
 *   `GET /generation?id=` (404 for the first `generationNotFoundPolls` lookups of an id),
 *   `GET /key`, `GET /credits` and `/keys` CRUD (management key only).
 * - `apiKey`, `managementKey`, `baseUrl`: what to point a client at.
 * - State: `account()` (credits and spend), `keys()` (every key with its spend), `generations()`,
 *   `requests` (every request seen: method, path, query, authorization, body text and status).
 * - Money: each completion costs tokens × the model's price (`openrouter/auto`, priced `-1`, bills
 *   as the model it routes to), rounded half-up to nano-USD once; the cost is added to the calling
 *   key's spend and the account's `total_usage`. A paid call is answered 402 when the account has
 *   no credit left or the key's limit (per its `limit_reset` period) is used up; a `:free` model
 *   only when the account balance is negative. The whole completion is charged when it is accepted,
 *   also if the client stops reading a stream.
 * - Tokens: prompt = ⌈characters of the messages ÷ 4⌉, completion = ⌈characters of the reply ÷ 4⌉
 *   (capped by `max_completion_tokens`/`max_tokens`, then `finish_reason: "length"`); `nextUsage()`
 *   sets exact counts (incl. cached and reasoning tokens) for the next completion.
 * - Switches (each may be limited to one path: `'/models'`, `'/keys/{hash}'`, …): `outage(true|false)` (every
 *   request 500), `fail({ status, times })`, `rateLimit({ times, retryAfterSeconds })` (429 with
 *   `Retry-After`), `delay({ ms, times })` (answers late: client timeouts), `addCredits(nanoUsd)`.
 * - The fake's own choices where the spec is silent: 401 `Missing Authentication header` / `Invalid
 *   credentials` (also for a disabled or expired key, and for a management key on inference), 402
 *   messages, a 400 for an unknown model, and `/keys` listing every inference key of the account.
 */
import { type Clock, femtoToNanoUsd, type ModelPrice, providerCost, systemClock } from '@tally/core';
import { type HttpHandler, HttpResponse, http } from 'msw';
import { JsonDecimal, nanoToJson, parseExactJson, stringifyExactJson, usdToNano } from './exact-json.js';
import { parseOpenRouterPricing } from './pricing.js';

export interface OpenRouterFakeModel {
  id: string;
  name?: string;
  /** USD decimal strings, as `GET /models` sends them; `-1` for a router model. */
  pricing: { prompt: string; completion: string; [key: string]: string };
  contextLength?: number;
  /** For a `-1` (dynamic) model: the model a call is routed to and billed as. */
  routesTo?: string;
}

export interface OpenRouterFakeOptions {
  /** Default `https://openrouter.ai/api/v1`. */
  baseUrl?: string;
  /** The account's inference key. Default `sk-or-v1-fake-api-key`. */
  apiKey?: string;
  /** The account's management key. Default `sk-or-v1-fake-management-key`. */
  managementKey?: string;
  /** Credits purchased on the account, nano-USD. Default 100 USD. */
  creditsNanoUsd?: bigint;
  /** Default: `OPENROUTER_FAKE_MODELS`. */
  models?: OpenRouterFakeModel[];
  /** Lookups of a new generation answered 404 before it is found. Default 2. */
  generationNotFoundPolls?: number;
  /** The assistant's reply. Default: a fixed sentence naming the model. */
  reply?: (input: { model: string; messages: unknown[] }) => string;
  /** Wait between SSE chunks, ms. Default 0. */
  chunkDelayMs?: number;
  clock?: Clock;
}

/** A key as the fake keeps it. Amounts are nano-USD. */
export interface OpenRouterFakeKey {
  hash: string;
  key: string;
  name: string;
  label: string;
  disabled: boolean;
  management: boolean;
  limitNanoUsd: bigint | null;
  limitReset: 'daily' | 'weekly' | 'monthly' | null;
  includeByokInLimit: boolean;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date | null;
  workspaceId: string;
  creatorUserId: string | null;
  /** Each charged call. */
  spend: Array<{ at: Date; nanoUsd: bigint }>;
}

export interface OpenRouterFakeGeneration {
  id: string;
  model: string;
  keyHash: string;
  costNanoUsd: bigint;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  streamed: boolean;
  finishReason: 'stop' | 'length';
  createdAt: Date;
  /** 404 answers left before the generation is found. */
  notFoundPolls: number;
}

export interface OpenRouterFakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  body: string;
  status: number;
}

export interface OpenRouterFakeUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  reasoningTokens?: number;
}

export interface OpenRouterFake {
  handlers: HttpHandler[];
  baseUrl: string;
  apiKey: string;
  managementKey: string;
  requests: OpenRouterFakeRequest[];
  account(): { totalCreditsNanoUsd: bigint; totalUsageNanoUsd: bigint };
  keys(): OpenRouterFakeKey[];
  generations(): OpenRouterFakeGeneration[];
  addCredits(nanoUsd: bigint): void;
  /** Exact token counts for the next completion. */
  nextUsage(usage: OpenRouterFakeUsage): void;
  outage(on: boolean): void;
  fail(input?: { status?: number; times?: number; path?: string }): void;
  rateLimit(input?: { times?: number; retryAfterSeconds?: number; path?: string }): void;
  delay(input: { ms: number; times?: number; path?: string }): void;
}

/** Sample models: the sample catalog's, plus a `:free` one and OpenRouter's `-1` auto router. */
export const OPENROUTER_FAKE_MODELS: OpenRouterFakeModel[] = [
  {
    id: 'openai/gpt-4o-mini',
    name: 'OpenAI: GPT-4o-mini',
    pricing: { prompt: '0.00000015', completion: '0.0000006', request: '0', input_cache_read: '0.000000075' },
  },
  {
    id: 'openai/gpt-4o',
    name: 'OpenAI: GPT-4o',
    pricing: { prompt: '0.0000025', completion: '0.00001', request: '0', input_cache_read: '0.00000125' },
  },
  {
    id: 'anthropic/claude-sonnet-4',
    name: 'Anthropic: Claude Sonnet 4',
    pricing: { prompt: '0.000003', completion: '0.000015', input_cache_read: '0.0000003', input_cache_write: '0.00000375' },
    contextLength: 200_000,
  },
  {
    id: 'google/gemini-2.0-flash-lite',
    name: 'Google: Gemini 2.0 Flash Lite',
    pricing: { prompt: '0.000000075', completion: '0.0000003' },
    contextLength: 1_048_576,
  },
  { id: 'mistralai/mistral-nemo', name: 'Mistral: Mistral Nemo', pricing: { prompt: '0.00000001875', completion: '0.00000007' } },
  { id: 'meta-llama/llama-3.3-70b-instruct:free', name: 'Meta: Llama 3.3 70B Instruct (free)', pricing: { prompt: '0', completion: '0' } },
  {
    id: 'openrouter/auto',
    name: 'Auto Router',
    pricing: { prompt: '-1', completion: '-1' },
    contextLength: 2_000_000,
    routesTo: 'openai/gpt-4o-mini',
  },
];

type Intervention =
  | { kind: 'fail'; status: number; times: number; path?: string }
  | { kind: 'rate'; retryAfterSeconds: number; times: number; path?: string }
  | { kind: 'delay'; ms: number; times: number; path?: string };

const NANO_PER_USD = 1_000_000_000n;
const DAY_MS = 86_400_000;

function hex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function exactJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new HttpResponse(stringifyExactJson(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return exactJson({ error: { code: status, message } }, status, headers);
}

/** Start of the UTC day, ISO week (Monday) and month of `now`. */
function periodStarts(now: Date): { daily: number; weekly: number; monthly: number } {
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    daily: day,
    weekly: day - ((now.getUTCDay() + 6) % 7) * DAY_MS,
    monthly: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
  };
}

function textOf(messages: unknown[]): string {
  return messages
    .map((message) => {
      const content = (message as { content?: unknown })?.content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
      return '';
    })
    .join('');
}

/** A fresh fake OpenRouter account; see the module comment for what it serves. */
export function createOpenRouterFake(options: OpenRouterFakeOptions = {}): OpenRouterFake {
  const base = (options.baseUrl ?? 'https://openrouter.ai/api/v1').replace(/\/$/, '');
  const basePath = new URL(base).pathname.replace(/\/$/, '');
  const clock = options.clock ?? systemClock;
  const notFoundPolls = options.generationNotFoundPolls ?? 2;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const models = options.models ?? OPENROUTER_FAKE_MODELS;
  const prices = new Map<string, ModelPrice | 'dynamic'>();
  for (const model of models) {
    // A model priced in a way Tally can't keep exactly is listed but can't be called (502).
    try {
      const price = parseOpenRouterPricing(model.pricing);
      prices.set(model.id, price.kind === 'fixed' ? price.price : 'dynamic');
    } catch {}
  }
  let totalCredits = options.creditsNanoUsd ?? 100n * NANO_PER_USD;
  const keys = new Map<string, OpenRouterFakeKey>();
  const generations = new Map<string, OpenRouterFakeGeneration>();
  const requests: OpenRouterFakeRequest[] = [];
  const interventions: Intervention[] = [];
  const usageQueue: OpenRouterFakeUsage[] = [];
  let down = false;
  let sequence = 0;

  function addKey(key: string, fields: Partial<OpenRouterFakeKey> & { name: string }): OpenRouterFakeKey {
    const record: OpenRouterFakeKey = {
      hash: hex(32),
      key,
      label: `${key.slice(0, 12)}...${key.slice(-4)}`,
      disabled: false,
      management: false,
      limitNanoUsd: null,
      limitReset: null,
      includeByokInLimit: false,
      expiresAt: null,
      createdAt: clock.now(),
      updatedAt: null,
      workspaceId: '0df9e665-d932-5740-b2c7-b52af166bc11',
      creatorUserId: null,
      spend: [],
      ...fields,
    };
    keys.set(record.hash, record);
    return record;
  }
  const apiKey = addKey(options.apiKey ?? 'sk-or-v1-fake-api-key', { name: 'Default' }).key;
  const managementKey = addKey(options.managementKey ?? 'sk-or-v1-fake-management-key', { name: 'Management', management: true }).key;

  let deletedSpend = 0n;
  const totalUsage = () =>
    [...keys.values()].reduce((sum, key) => sum + key.spend.reduce((total, entry) => total + entry.nanoUsd, 0n), deletedSpend);

  function spendOf(key: OpenRouterFakeKey) {
    const starts = periodStarts(clock.now());
    const since = (start: number) =>
      key.spend.filter((entry) => entry.at.getTime() >= start).reduce((sum, entry) => sum + entry.nanoUsd, 0n);
    return {
      total: key.spend.reduce((sum, entry) => sum + entry.nanoUsd, 0n),
      daily: since(starts.daily),
      weekly: since(starts.weekly),
      monthly: since(starts.monthly),
    };
  }

  function remaining(key: OpenRouterFakeKey): bigint | null {
    if (key.limitNanoUsd === null) return null;
    const spend = spendOf(key);
    return key.limitNanoUsd - (key.limitReset === null ? spend.total : spend[key.limitReset]);
  }

  function limitsJson(key: OpenRouterFakeKey) {
    const spend = spendOf(key);
    const left = remaining(key);
    return {
      label: key.label,
      limit: key.limitNanoUsd === null ? null : nanoToJson(key.limitNanoUsd),
      limit_remaining: left === null ? null : nanoToJson(left),
      limit_reset: key.limitReset,
      include_byok_in_limit: key.includeByokInLimit,
      usage: nanoToJson(spend.total),
      usage_daily: nanoToJson(spend.daily),
      usage_weekly: nanoToJson(spend.weekly),
      usage_monthly: nanoToJson(spend.monthly),
      byok_usage: nanoToJson(0n),
      byok_usage_daily: nanoToJson(0n),
      byok_usage_weekly: nanoToJson(0n),
      byok_usage_monthly: nanoToJson(0n),
    };
  }

  function keyJson(key: OpenRouterFakeKey) {
    return {
      hash: key.hash,
      name: key.name,
      ...limitsJson(key),
      disabled: key.disabled,
      created_at: key.createdAt.toISOString(),
      updated_at: key.updatedAt?.toISOString() ?? null,
      expires_at: key.expiresAt?.toISOString() ?? null,
      creator_user_id: key.creatorUserId,
      workspace_id: key.workspaceId,
      external_user: null,
    };
  }

  function modelJson(model: OpenRouterFakeModel) {
    const context = model.contextLength ?? 131_072;
    return {
      id: model.id,
      canonical_slug: model.id,
      name: model.name ?? model.id,
      created: 1_727_282_430,
      description: `${model.name ?? model.id} (served by the Tally OpenRouter fake)`,
      context_length: new JsonDecimal(String(context)),
      architecture: {
        modality: 'text->text',
        input_modalities: ['text'],
        output_modalities: ['text'],
        tokenizer: 'Other',
        instruct_type: null,
      },
      pricing: model.pricing,
      top_provider: { context_length: new JsonDecimal(String(context)), max_completion_tokens: null, is_moderated: false },
      per_request_limits: null,
      supported_parameters: ['temperature', 'top_p', 'max_tokens', 'tools'],
      default_parameters: null,
      supported_voices: null,
      expiration_date: null,
      knowledge_cutoff: null,
      links: { details: `/api/v1/models/${model.id}/endpoints` },
    };
  }

  type Auth = { ok: true; key: OpenRouterFakeKey } | { ok: false; response: Response };

  function authenticate(request: Request): Auth {
    const header = request.headers.get('authorization');
    if (!header) return { ok: false, response: error(401, 'Missing Authentication header') };
    const token = header.replace(/^Bearer\s+/i, '');
    const key = [...keys.values()].find((candidate) => candidate.key === token);
    const expired = key?.expiresAt ? key.expiresAt.getTime() <= clock.now().getTime() : false;
    if (!key || key.disabled || expired) return { ok: false, response: error(401, 'Invalid credentials') };
    return { ok: true, key };
  }

  function needManagement(request: Request): Auth {
    const auth = authenticate(request);
    if (auth.ok && !auth.key.management) return { ok: false, response: error(403, 'Only management keys can perform this operation') };
    return auth;
  }

  function needInference(request: Request): Auth {
    const auth = authenticate(request);
    if (auth.ok && auth.key.management) return { ok: false, response: error(401, 'Invalid credentials') };
    return auth;
  }

  function intervene(path: string): Intervention | null {
    const index = interventions.findIndex((item) => item.times > 0 && (item.path === undefined || item.path === path));
    if (index < 0) return null;
    const found = interventions[index] as Intervention;
    found.times--;
    if (found.times === 0) interventions.splice(index, 1);
    return found;
  }

  type Route = (request: Request, body: string, params: Record<string, string>) => Response | Promise<Response>;

  function route(method: 'get' | 'post' | 'patch' | 'delete', path: string, handle: Route) {
    return http[method](`${base}${path}`, async ({ request, params }) => {
      const url = new URL(request.url);
      const relative = url.pathname.slice(basePath.length) || '/';
      const body = method === 'get' || method === 'delete' ? '' : await request.text();
      const respond = (response: Response) => {
        requests.push({
          method: request.method,
          path: relative,
          query: Object.fromEntries(url.searchParams),
          authorization: request.headers.get('authorization'),
          body,
          status: response.status,
        });
        return response;
      };
      if (down) return respond(error(500, 'Internal Server Error'));
      const intervention = intervene(relative.startsWith('/keys/') ? '/keys/{hash}' : relative);
      if (intervention?.kind === 'fail')
        return respond(error(intervention.status, intervention.status >= 500 ? 'Internal Server Error' : 'Request failed'));
      if (intervention?.kind === 'rate') {
        return respond(error(429, 'Rate limit exceeded', { 'Retry-After': String(intervention.retryAfterSeconds) }));
      }
      if (intervention?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, intervention.ms));
      return respond(await handle(request, body, params as Record<string, string>));
    });
  }

  function readBody(body: string): Record<string, unknown> | null {
    try {
      const value = parseExactJson(body);
      return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonDecimal)
        ? (value as Record<string, unknown>)
        : null;
    } catch {
      return null;
    }
  }

  /** `limit` of a /keys body: nano-USD, null, or 'invalid'; undefined when absent. */
  function readLimit(value: unknown): bigint | null | undefined | 'invalid' {
    if (value === undefined || value === null) return value;
    if (!(value instanceof JsonDecimal)) return 'invalid';
    try {
      const nano = usdToNano(value, 'limit');
      return nano < 0n ? 'invalid' : nano;
    } catch {
      return 'invalid';
    }
  }

  const RESETS = new Set<unknown>(['daily', 'weekly', 'monthly', null]);

  function completion(request: Request, body: string): Response | Promise<Response> {
    const auth = needInference(request);
    if (!auth.ok) return auth.response;
    const input = readBody(body);
    const model = input?.model;
    const messages = input?.messages;
    if (typeof model !== 'string' || !Array.isArray(messages) || messages.length === 0) return error(400, 'Invalid request parameters');
    const listed = models.find((candidate) => candidate.id === model);
    if (!listed) return error(400, `${model} is not a valid model ID`);
    const billedAs =
      prices.get(model) === 'dynamic' ? (listed.routesTo ?? models.find((m) => prices.get(m.id) !== 'dynamic')?.id ?? model) : model;
    const price = prices.get(billedAs);
    if (price === undefined || price === 'dynamic') return error(502, 'Provider returned error');
    const free = billedAs.endsWith(':free') || (price.input === 0n && price.output === 0n);
    const balance = totalCredits - totalUsage();
    const keyLeft = remaining(auth.key);
    if (free ? balance < 0n : balance <= 0n) return error(402, 'Insufficient credits. Add more using https://openrouter.ai/credits');
    if (!free && keyLeft !== null && keyLeft <= 0n) return error(402, 'Insufficient credits: this key has reached its limit');

    const fullReply = options.reply?.({ model: billedAs, messages }) ?? `Hello! This is ${billedAs} answering through the OpenRouter fake.`;
    const maxValue = input?.max_completion_tokens ?? input?.max_tokens;
    const maxTokens = maxValue instanceof JsonDecimal && /^\d+$/.test(maxValue.text) ? Number(maxValue.text) : null;
    const preset = usageQueue.shift();
    let reply = fullReply;
    let completionTokens = preset?.completionTokens ?? Math.ceil(fullReply.length / 4);
    let finishReason: 'stop' | 'length' = 'stop';
    if (maxTokens !== null && completionTokens > maxTokens) {
      completionTokens = maxTokens;
      reply = fullReply.slice(0, maxTokens * 4);
      finishReason = 'length';
    }
    const promptTokens = preset?.promptTokens ?? Math.max(1, Math.ceil(textOf(messages).length / 4));
    const cachedTokens = preset?.cachedTokens ?? 0;
    const reasoningTokens = preset?.reasoningTokens ?? 0;
    const cost = providerCost(
      { inputTokens: promptTokens, cachedInputTokens: cachedTokens, outputTokens: completionTokens, reasoningTokens },
      price,
    );
    const promptCost = femtoToNanoUsd(
      providerCost({ inputTokens: promptTokens, cachedInputTokens: cachedTokens, outputTokens: 0, requests: 0 }, price).femtoUsd,
    );
    const createdAt = clock.now();
    const id = `gen-${Math.floor(createdAt.getTime() / 1000)}-${String(++sequence).padStart(4, '0')}${hex(4)}`;
    const streamed = input?.stream === true;
    auth.key.spend.push({ at: createdAt, nanoUsd: cost.nanoUsd });
    generations.set(id, {
      id,
      model: billedAs,
      keyHash: auth.key.hash,
      costNanoUsd: cost.nanoUsd,
      promptTokens,
      completionTokens,
      cachedTokens,
      reasoningTokens,
      streamed,
      finishReason,
      createdAt,
      notFoundPolls: notFoundPolls,
    });

    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: reasoningTokens },
      cost: nanoToJson(cost.nanoUsd),
      is_byok: false,
      cost_details: {
        upstream_inference_cost: null,
        upstream_inference_prompt_cost: nanoToJson(promptCost),
        upstream_inference_completions_cost: nanoToJson(cost.nanoUsd - promptCost),
      },
    };
    const created = Math.floor(createdAt.getTime() / 1000);
    const head = { id, provider: 'Fake', model: billedAs, created };
    const headers = { 'X-Generation-Id': id };
    if (!streamed) {
      return exactJson(
        {
          ...head,
          object: 'chat.completion',
          system_fingerprint: null,
          choices: [
            { index: 0, finish_reason: finishReason, native_finish_reason: finishReason, message: { role: 'assistant', content: reply } },
          ],
          usage,
        },
        200,
        headers,
      );
    }
    const pieces = reply.match(/.{1,12}/gs) ?? [''];
    const events = [': OPENROUTER PROCESSING\n\n'];
    pieces.forEach((piece, index) => {
      const last = index === pieces.length - 1;
      const chunk = {
        ...head,
        object: 'chat.completion.chunk',
        choices: [
          {
            index: 0,
            delta: index === 0 ? { role: 'assistant', content: piece } : { content: piece },
            finish_reason: last ? finishReason : null,
            ...(last ? { native_finish_reason: finishReason } : {}),
          },
        ],
      };
      events.push(`data: ${stringifyExactJson(chunk)}\n\n`);
    });
    events.push(`data: ${stringifyExactJson({ ...head, object: 'chat.completion.chunk', choices: [], usage })}\n\n`, 'data: [DONE]\n\n');
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = events.shift();
        if (next === undefined) {
          controller.close();
          return;
        }
        if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
        controller.enqueue(encoder.encode(next));
      },
    });
    return new HttpResponse(stream, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...headers } });
  }

  function generationJson(generation: OpenRouterFakeGeneration) {
    return {
      id: generation.id,
      request_id: `req-${generation.id.slice(4)}`,
      session_id: null,
      upstream_id: `chatcmpl-${generation.id.slice(4)}`,
      model: generation.model,
      provider_name: 'Fake',
      router: null,
      api_type: 'completions',
      app_id: null,
      created_at: generation.createdAt.toISOString(),
      streamed: generation.streamed,
      cancelled: false,
      finish_reason: generation.finishReason,
      native_finish_reason: generation.finishReason,
      tokens_prompt: generation.promptTokens,
      tokens_completion: generation.completionTokens,
      native_tokens_prompt: generation.promptTokens,
      native_tokens_completion: generation.completionTokens,
      native_tokens_reasoning: generation.reasoningTokens,
      native_tokens_cached: generation.cachedTokens,
      native_tokens_completion_images: 0,
      total_cost: nanoToJson(generation.costNanoUsd),
      usage: nanoToJson(generation.costNanoUsd),
      upstream_inference_cost: null,
      cache_discount: null,
      is_byok: false,
      latency: 250,
      generation_time: 200,
      moderation_latency: null,
      num_media_prompt: 0,
      num_media_completion: 0,
      num_input_audio_prompt: 0,
      num_search_results: 0,
      num_fetches: 0,
      origin: '',
      http_referer: null,
      user_agent: null,
      external_user: null,
      preset_id: null,
      service_tier: null,
      web_search_engine: null,
      data_region: 'global',
      provider_responses: null,
      workspace_id: null,
    };
  }

  const handlers = [
    route('get', '/models', () => exactJson({ data: models.map(modelJson), total_count: models.length, links: { next: null } })),

    route('post', '/chat/completions', completion),

    route('get', '/generation', (request) => {
      const auth = needInference(request);
      if (!auth.ok) return auth.response;
      const id = new URL(request.url).searchParams.get('id');
      const generation = id ? generations.get(id) : undefined;
      if (!generation) return error(404, 'Generation not found');
      if (generation.notFoundPolls > 0) {
        generation.notFoundPolls--;
        return error(404, 'Generation not found');
      }
      return exactJson({ data: generationJson(generation) });
    }),

    route('get', '/key', (request) => {
      const auth = authenticate(request);
      if (!auth.ok) return auth.response;
      const key = auth.key;
      return exactJson({
        data: {
          ...limitsJson(key),
          is_free_tier: totalCredits === 0n,
          is_management_key: key.management,
          is_provisioning_key: key.management,
          creator_user_id: key.creatorUserId,
          expires_at: key.expiresAt?.toISOString() ?? null,
          rate_limit: { requests: -1, interval: '10s', note: 'This field is deprecated and safe to ignore.' },
          free_model_daily_requests: { used: 0, limit: 1000, remaining: 1000 },
          allowed_data_regions: ['global'],
          organization_id: null,
          workspace_id: key.workspaceId,
        },
      });
    }),

    route('get', '/credits', (request) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      return exactJson({ data: { total_credits: nanoToJson(totalCredits), total_usage: nanoToJson(totalUsage()) } });
    }),

    route('get', '/keys', (request) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      const query = new URL(request.url).searchParams;
      const includeDisabled = query.get('include_disabled') === 'true';
      const offset = Number(query.get('offset') ?? '0');
      if (!Number.isInteger(offset) || offset < 0) return error(400, 'Invalid request parameters');
      const workspace = query.get('workspace_id');
      const listed = [...keys.values()].filter(
        (key) => !key.management && (includeDisabled || !key.disabled) && (workspace === null || key.workspaceId === workspace),
      );
      return exactJson({ data: listed.slice(offset, offset + 100).map(keyJson) });
    }),

    route('post', '/keys', (request, body) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      const input = readBody(body);
      const limit = readLimit(input?.limit);
      const expires = input?.expires_at;
      const expiresAt = typeof expires === 'string' ? new Date(expires) : null;
      if (
        !input ||
        typeof input.name !== 'string' ||
        input.name === '' ||
        limit === 'invalid' ||
        !RESETS.has(input.limit_reset ?? null) ||
        (input.include_byok_in_limit !== undefined && typeof input.include_byok_in_limit !== 'boolean') ||
        (expires !== undefined && expires !== null && (expiresAt === null || Number.isNaN(expiresAt.getTime())))
      ) {
        return error(400, 'Invalid request parameters');
      }
      const created = addKey(`sk-or-v1-${hex(32)}`, {
        name: input.name,
        limitNanoUsd: limit ?? null,
        limitReset: (input.limit_reset ?? null) as OpenRouterFakeKey['limitReset'],
        includeByokInLimit: input.include_byok_in_limit === true,
        expiresAt,
        ...(typeof input.workspace_id === 'string' ? { workspaceId: input.workspace_id } : {}),
        creatorUserId: typeof input.creator_user_id === 'string' ? input.creator_user_id : null,
      });
      return exactJson({ data: keyJson(created), key: created.key }, 201);
    }),

    route('get', '/keys/:hash', (request, _body, params) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      const key = keys.get(params.hash ?? '');
      if (!key || key.management) return error(404, 'Resource not found');
      return exactJson({ data: keyJson(key) });
    }),

    route('patch', '/keys/:hash', (request, body, params) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      const key = keys.get(params.hash ?? '');
      if (!key || key.management) return error(404, 'Resource not found');
      const input = readBody(body);
      const limit = readLimit(input?.limit);
      if (
        !input ||
        (input.name !== undefined && (typeof input.name !== 'string' || input.name === '')) ||
        (input.disabled !== undefined && typeof input.disabled !== 'boolean') ||
        limit === 'invalid' ||
        (input.limit_reset !== undefined && !RESETS.has(input.limit_reset)) ||
        (input.include_byok_in_limit !== undefined && typeof input.include_byok_in_limit !== 'boolean')
      ) {
        return error(400, 'Invalid request parameters');
      }
      if (typeof input.name === 'string') key.name = input.name;
      if (typeof input.disabled === 'boolean') key.disabled = input.disabled;
      if (limit !== undefined) key.limitNanoUsd = limit;
      if (input.limit_reset !== undefined) key.limitReset = input.limit_reset as OpenRouterFakeKey['limitReset'];
      if (typeof input.include_byok_in_limit === 'boolean') key.includeByokInLimit = input.include_byok_in_limit;
      key.updatedAt = clock.now();
      return exactJson({ data: keyJson(key) });
    }),

    route('delete', '/keys/:hash', (request, _body, params) => {
      const auth = needManagement(request);
      if (!auth.ok) return auth.response;
      const key = keys.get(params.hash ?? '');
      if (!key || key.management) return error(404, 'Resource not found');
      // Its spend stays on the account.
      deletedSpend += spendOf(key).total;
      keys.delete(key.hash);
      return exactJson({ deleted: true });
    }),
  ];

  return {
    handlers,
    baseUrl: base,
    apiKey,
    managementKey,
    requests,
    account: () => ({ totalCreditsNanoUsd: totalCredits, totalUsageNanoUsd: totalUsage() }),
    keys: () => [...keys.values()].map((key) => ({ ...key, spend: [...key.spend] })),
    generations: () => [...generations.values()].map((generation) => ({ ...generation })),
    addCredits(nanoUsd) {
      totalCredits += nanoUsd;
    },
    nextUsage(usage) {
      usageQueue.push(usage);
    },
    outage(on) {
      down = on;
    },
    fail(input = {}) {
      interventions.push({
        kind: 'fail',
        status: input.status ?? 500,
        times: input.times ?? 1,
        ...(input.path ? { path: input.path } : {}),
      });
    },
    rateLimit(input = {}) {
      interventions.push({
        kind: 'rate',
        retryAfterSeconds: input.retryAfterSeconds ?? 1,
        times: input.times ?? 1,
        ...(input.path ? { path: input.path } : {}),
      });
    },
    delay(input) {
      interventions.push({ kind: 'delay', ms: input.ms, times: input.times ?? 1, ...(input.path ? { path: input.path } : {}) });
    },
  };
}
