/**
 * The playground's language models, as AI SDK 7 models (`LanguageModelV4`) for `tallyMiddleware`:
 *
 * - without `OPENROUTER_API_KEY`, a local mock: a fixed kind of reply and deterministic usage
 *   (⌈characters ÷ 4⌉ tokens in and out), priced from the catalog. Nothing leaves the machine.
 * - with it, OpenRouter's chat completions API (JSON, or SSE when streaming), reporting OpenRouter's
 *   `usage.cost` in `providerMetadata.openrouter.usage` where the metering middleware reads it, and the
 *   generation id that reconciliation looks up later.
 */
import { createOpenRouterCatalog, createOpenRouterClient, type OpenRouterClient } from '@tally/adapters/openrouter';
import { type ModelPrice, TallyError } from '@tally/core';
import type { LanguageModel } from 'ai';

export type LanguageModelV4 = Extract<LanguageModel, { readonly specificationVersion: 'v4' }>;
type CallOptions = Parameters<LanguageModelV4['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<LanguageModelV4['doGenerate']>>;
type StreamResult = Awaited<ReturnType<LanguageModelV4['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
type Usage = GenerateResult['usage'];
type FinishReason = GenerateResult['finishReason'];
type ProviderMetadata = NonNullable<GenerateResult['providerMetadata']>;

export interface OpenRouterSettings {
  apiKey: string;
  /** Default `https://openrouter.ai/api/v1`. */
  baseUrl?: string;
  /** Default: the global `fetch` (tests hand in one that answers from a fake of OpenRouter). */
  fetch?: typeof globalThis.fetch;
}

/** Where the playground's models come from: what `modelFor` builds with and what the middleware prices by. */
export interface ModelSource {
  kind: 'mock' | 'openrouter';
  /** For the start-up message. */
  description: string;
  model(modelId: string): LanguageModelV4;
  /** Per-token prices for `tallyMiddleware({ price })`; undefined: the catalog's. */
  price: ((modelId: string) => Promise<ModelPrice | undefined>) | undefined;
  /** The OpenRouter client (generation lookups for reconciliation); null for the mock. */
  client: OpenRouterClient | null;
}

export function createModelSource(openRouter: OpenRouterSettings | undefined): ModelSource {
  if (!openRouter) {
    return {
      kind: 'mock',
      description: 'local mock model (set OPENROUTER_API_KEY for OpenRouter)',
      model: createMockModel,
      price: undefined,
      client: null,
    };
  }
  const client = createOpenRouterClient({
    apiKey: openRouter.apiKey,
    ...(openRouter.baseUrl ? { baseUrl: openRouter.baseUrl } : {}),
    ...(openRouter.fetch ? { fetch: openRouter.fetch } : {}),
    appTitle: 'Tally demo dashboard',
  });
  const prices = createOpenRouterCatalog({ client });
  const chat = createOpenRouterChat(openRouter);
  return {
    kind: 'openrouter',
    description: 'OpenRouter (OPENROUTER_API_KEY)',
    model: chat,
    price: (modelId) => prices.modelPrice(modelId),
    client,
  };
}

// ---- the prompt as text

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The prompt as chat messages of text. Files, tools and tool results are not what this demo sends: `VALIDATION`. */
function chatMessages(prompt: CallOptions['prompt']): ChatMessage[] {
  const textOnly = () => new TallyError('VALIDATION', 'The demo models take text prompts only');
  return prompt.map((message): ChatMessage => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
      case 'assistant': {
        let content = '';
        for (const part of message.content) {
          if (part.type === 'text') content += part.text;
          else if (part.type !== 'reasoning') throw textOnly();
        }
        return { role: message.role, content };
      }
      default:
        throw textOnly();
    }
  });
}

const tokensOf = (characters: number) => Math.ceil(characters / 4);

function usageOf(input: number, output: number, cached = 0, reasoning = 0): Usage {
  return {
    inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: output, text: output - reasoning, reasoning },
  };
}

function abortError(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The call was aborted', 'AbortError');
}

// ---- the mock

/** The mock's answer: the same for the same model and prompt. */
export function mockReply(modelId: string, prompt: string): string {
  const question = prompt.replace(/\s+/g, ' ').trim();
  const excerpt = question.length > 120 ? `${question.slice(0, 117)}…` : question;
  return (
    `This is ${modelId}, played by the demo's local mock model (no OPENROUTER_API_KEY is set, so no real model was called). ` +
    `You asked: “${excerpt}”. ` +
    'The call was metered exactly like a real one: the worst case was reserved before the call, and the tokens used were charged at ' +
    "the model's price with your tier's markup."
  );
}

/** A deterministic `LanguageModelV4`: usage ⌈characters ÷ 4⌉ each way, `maxOutputTokens` honoured. */
export function createMockModel(modelId: string): LanguageModelV4 {
  function answer(options: CallOptions) {
    if (options.abortSignal?.aborted) throw abortError(options.abortSignal);
    const messages = chatMessages(options.prompt);
    const promptCharacters = messages.reduce((sum, message) => sum + message.content.length, 0);
    const lastUser = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    let text = mockReply(modelId, lastUser);
    let finish: FinishReason = { unified: 'stop', raw: 'stop' };
    const limit = options.maxOutputTokens;
    if (limit !== undefined && tokensOf(text.length) > limit) {
      text = text.slice(0, limit * 4);
      finish = { unified: 'length', raw: 'length' };
    }
    return { text, finish, usage: usageOf(tokensOf(promptCharacters), tokensOf(text.length)) };
  }
  return {
    specificationVersion: 'v4',
    provider: 'tally-demo.mock',
    modelId,
    supportedUrls: {},
    async doGenerate(options) {
      const { text, finish, usage } = answer(options);
      return {
        content: [{ type: 'text', text }],
        finishReason: finish,
        usage,
        warnings: [],
        response: { modelId, timestamp: new Date() },
      };
    },
    async doStream(options) {
      const { text, finish, usage } = answer(options);
      const words = text.match(/\S+\s*/g) ?? [];
      const parts: StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', modelId, timestamp: new Date() },
        { type: 'text-start', id: 'text' },
      ];
      for (let i = 0; i < words.length; i += 4) parts.push({ type: 'text-delta', id: 'text', delta: words.slice(i, i + 4).join('') });
      parts.push({ type: 'text-end', id: 'text' }, { type: 'finish', finishReason: finish, usage });
      let next = 0;
      const stream = new ReadableStream<StreamPart>({
        pull(controller) {
          if (options.abortSignal?.aborted) {
            controller.error(abortError(options.abortSignal));
            return;
          }
          const part = parts[next++];
          if (part) controller.enqueue(part);
          else controller.close();
        },
      });
      return { stream };
    },
  };
}

// ---- OpenRouter

const OPENROUTER_URL = 'https://openrouter.ai/api/v1';
const TIMEOUT_MS = 120_000;

interface WireUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
  cost?: unknown;
  cost_details?: { upstream_inference_cost?: unknown } | null;
}

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
const usd = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined);

function wireUsage(usage: WireUsage | undefined): { usage: Usage; metadata: ProviderMetadata | undefined } {
  const input = count(usage?.prompt_tokens);
  const output = count(usage?.completion_tokens);
  const cached = count(usage?.prompt_tokens_details?.cached_tokens);
  const reasoning = count(usage?.completion_tokens_details?.reasoning_tokens);
  const cost = usd(usage?.cost);
  const upstream = usd(usage?.cost_details?.upstream_inference_cost);
  const metadata: ProviderMetadata | undefined =
    cost === undefined
      ? undefined
      : {
          openrouter: {
            usage: {
              ...(input === undefined ? {} : { promptTokens: input }),
              ...(output === undefined ? {} : { completionTokens: output }),
              cost,
              ...(upstream === undefined ? {} : { costDetails: { upstreamInferenceCost: upstream } }),
            },
          },
        };
  return {
    usage: {
      inputTokens: {
        total: input,
        noCache: input === undefined ? undefined : input - (cached ?? 0),
        cacheRead: cached,
        cacheWrite: undefined,
      },
      outputTokens: { total: output, text: output === undefined ? undefined : output - (reasoning ?? 0), reasoning },
    },
    metadata,
  };
}

function finishReason(raw: unknown): FinishReason {
  const text = typeof raw === 'string' ? raw : undefined;
  const unified =
    text === 'stop'
      ? 'stop'
      : text === 'length'
        ? 'length'
        : text === 'content_filter'
          ? 'content-filter'
          : text === 'tool_calls'
            ? 'tool-calls'
            : text === 'error'
              ? 'error'
              : 'other';
  return { unified, raw: text };
}

/** OpenRouter's error status as a TallyError: 408, 429 and 5xx may pass (`PROVIDER_UNAVAILABLE`), the rest will not. */
async function httpError(response: Response): Promise<TallyError> {
  let message = `OpenRouter answered ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') message = `OpenRouter answered ${response.status}: ${body.error.message}`;
  } catch {
    // Not JSON: the status says enough.
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  const details = {
    status: response.status,
    ...(Number.isSafeInteger(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  };
  const passing = response.status === 408 || response.status === 429 || response.status >= 500;
  return new TallyError(passing ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED', message, { details });
}

/** A model factory for OpenRouter's `POST /chat/completions`, text in and out. */
export function createOpenRouterChat(settings: OpenRouterSettings): (modelId: string) => LanguageModelV4 {
  const baseUrl = (settings.baseUrl ?? OPENROUTER_URL).replace(/\/+$/, '');

  async function post(modelId: string, options: CallOptions, stream: boolean): Promise<Response> {
    const body = {
      model: modelId,
      messages: chatMessages(options.prompt),
      stream,
      ...(options.maxOutputTokens === undefined ? {} : { max_completion_tokens: options.maxOutputTokens }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.topP === undefined ? {} : { top_p: options.topP }),
      ...(options.stopSequences === undefined ? {} : { stop: options.stopSequences }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    };
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, timeout]) : timeout;
    let response: Response;
    try {
      // The global fetch is looked up per call, so anything that instruments it later (msw in tests) sees the call.
      response = await (settings.fetch ?? globalThis.fetch)(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${settings.apiKey}`,
          'content-type': 'application/json',
          'x-openrouter-title': 'Tally demo dashboard',
        },
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (options.abortSignal?.aborted) throw abortError(options.abortSignal);
      throw new TallyError('PROVIDER_UNAVAILABLE', 'OpenRouter could not be reached', { cause: error });
    }
    if (!response.ok) throw await httpError(response);
    return response;
  }

  return (modelId) => ({
    specificationVersion: 'v4',
    provider: 'openrouter.chat',
    modelId,
    supportedUrls: {},
    async doGenerate(options) {
      const response = await post(modelId, options, false);
      const json = (await response.json()) as {
        id?: unknown;
        model?: unknown;
        choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>;
        usage?: WireUsage;
      };
      const choice = json.choices?.[0];
      const text = typeof choice?.message?.content === 'string' ? choice.message.content : '';
      const { usage, metadata } = wireUsage(json.usage);
      const id = typeof json.id === 'string' ? json.id : (response.headers.get('x-generation-id') ?? undefined);
      return {
        content: text === '' ? [] : [{ type: 'text', text }],
        finishReason: finishReason(choice?.finish_reason),
        usage,
        ...(metadata ? { providerMetadata: metadata } : {}),
        warnings: [],
        response: { ...(id ? { id } : {}), modelId: typeof json.model === 'string' ? json.model : modelId },
      };
    },
    async doStream(options) {
      const response = await post(modelId, options, true);
      if (!response.body) throw new TallyError('PROVIDER_UNAVAILABLE', 'OpenRouter sent no stream');
      return { stream: sseParts(response.body, modelId) };
    },
  });
}

/** OpenRouter's SSE (`data: <chunk>` lines, `: comments`, `data: [DONE]`) as AI SDK stream parts. */
function sseParts(body: ReadableStream<Uint8Array>, modelId: string): ReadableStream<StreamPart> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let textStarted = false;
  let metadataSent = false;
  let finished = false;
  let finish: FinishReason = { unified: 'other', raw: undefined };
  let usage: WireUsage | undefined;

  function end(controller: ReadableStreamDefaultController<StreamPart>) {
    if (finished) return;
    finished = true;
    if (textStarted) controller.enqueue({ type: 'text-end', id: 'text' });
    const reported = wireUsage(usage);
    controller.enqueue({
      type: 'finish',
      finishReason: finish,
      usage: reported.usage,
      ...(reported.metadata ? { providerMetadata: reported.metadata } : {}),
    });
    controller.close();
  }

  /** Handles one line; true when it enqueued something. */
  function line(text: string, controller: ReadableStreamDefaultController<StreamPart>): boolean {
    if (!text.startsWith('data:')) return false;
    const data = text.slice(5).trim();
    if (data === '[DONE]') {
      end(controller);
      return true;
    }
    let chunk: {
      id?: unknown;
      model?: unknown;
      error?: { message?: unknown };
      choices?: Array<{ delta?: { content?: unknown }; finish_reason?: unknown }>;
      usage?: WireUsage;
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      controller.enqueue({ type: 'error', error: new TallyError('PROVIDER_UNAVAILABLE', 'OpenRouter sent a chunk that is not JSON') });
      return true;
    }
    let enqueued = false;
    if (!metadataSent && typeof chunk.id === 'string') {
      metadataSent = true;
      controller.enqueue({ type: 'response-metadata', id: chunk.id, modelId: typeof chunk.model === 'string' ? chunk.model : modelId });
      enqueued = true;
    }
    if (chunk.error) {
      const message = typeof chunk.error.message === 'string' ? chunk.error.message : 'error';
      controller.enqueue({ type: 'error', error: new TallyError('PROVIDER_UNAVAILABLE', `OpenRouter stopped the stream: ${message}`) });
      finish = { unified: 'error', raw: 'error' };
      enqueued = true;
    }
    const choice = chunk.choices?.[0];
    if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') {
      if (!textStarted) {
        textStarted = true;
        controller.enqueue({ type: 'text-start', id: 'text' });
      }
      controller.enqueue({ type: 'text-delta', id: 'text', delta: choice.delta.content });
      enqueued = true;
    }
    if (choice?.finish_reason) finish = finishReason(choice.finish_reason);
    if (chunk.usage) usage = chunk.usage;
    return enqueued;
  }

  return new ReadableStream<StreamPart>({
    start(controller) {
      controller.enqueue({ type: 'stream-start', warnings: [] });
    },
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          end(controller);
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        let enqueued = false;
        for (let index = buffer.indexOf('\n'); index !== -1; index = buffer.indexOf('\n')) {
          const text = buffer.slice(0, index).replace(/\r$/, '');
          buffer = buffer.slice(index + 1);
          if (line(text, controller)) enqueued = true;
          if (finished) {
            await reader.cancel().catch(() => {});
            return;
          }
        }
        if (enqueued) return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
