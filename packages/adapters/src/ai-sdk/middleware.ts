import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Middleware,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
} from '@ai-sdk/provider';
import {
  type CaptureResult,
  type ChargeResult,
  type CustomerRecord,
  chargeForKeySource,
  type ModelPrice,
  modelForPowerLevel,
  POWER_LEVELS,
  type PowerLevel,
  priceCall,
  type Tally,
  TallyError,
  type UsageInput,
} from '@tally/core';
import { reportedCost } from './cost.js';
import { addText, countContent, emptyCount, estimatePromptTokens, type TextCount, tokensOf } from './estimate.js';

export type KeySource = 'managed' | 'byok';

/** One model call as metered: what `onCharge` receives once the call is settled. */
export interface MeteredCall {
  customerId: string;
  endUserId: string | null;
  model: string;
  operation: 'generate' | 'stream';
  /** Index of this model call within the middleware (a tool loop makes one call per step). */
  step: number;
  /**
   * `completed`: the provider finished. `aborted`: the stream was cancelled before the provider
   * reported usage; tokens are estimated. `failed`: the stream reported an error but also usage.
   */
  outcome: 'completed' | 'aborted' | 'failed';
  keySource: KeySource;
  /** A free model (price 0 or an id ending in `:free`): nothing charged. */
  free: boolean;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** True when any token count is an estimate (see estimate.ts) instead of the provider's report. */
  estimated: boolean;
  /** What the call cost the provider side: for BYOK, what the customer's own key paid. */
  providerCostNanoUsd: bigint;
  /** `reported`: the provider's own figure (OpenRouter's `usage.cost`); `computed`: tokens × price. */
  costSource: 'reported' | 'computed';
  markupBps: number;
  /** Credit micros charged: 0 for free models; for BYOK the catalog's platform fee (`byok.platformFeeBps`, default 0). */
  chargeMicros: bigint;
  catalogVersion: string;
  generationId: string | null;
  /** The reservation this call settled; null when none was needed (free, BYOK without a platform fee). */
  holdId: string | null;
  /**
   * The ledger's answer; null when nothing went to the ledger (free, BYOK without a platform fee, zero
   * charge): such a call is in the call log instead (`tally.listUncharged`).
   */
  ledger: CaptureResult | ChargeResult | null;
}

export interface TallyMiddlewareOptions {
  tally: Tally;
  customerId: string;
  /** The customer's own user or API key the call is made for: held to its spend caps, and named in each entry's description. */
  endUserId?: string;
  /**
   * The request's idempotency key (1–200 visible ASCII characters). Each model call derives its ledger
   * keys from it and its step index, so a retried request is charged once. Default: a random key.
   */
  idempotencyKey?: string;
  /** When set, a call is refused (`FORBIDDEN`) unless its model is this level's model for the customer's tier. */
  powerLevel?: PowerLevel;
  estimate?: {
    /** Output tokens reserved when the call sets no `maxOutputTokens`. Default 4096. */
    maxOutputTokens?: number;
    /** Prompt tokens counted per file or image. Default 2000. */
    tokensPerFile?: number;
  };
  /** Per-token prices of a model (e.g. from the OpenRouter catalog). Default: the catalog's `models`. */
  price?: (modelId: string) => ModelPrice | undefined | Promise<ModelPrice | undefined>;
  /** How long a reservation lives if the call never settles. Default 10 minutes. */
  holdTtlMs?: number;
  /**
   * `byok`: the call runs on the customer's own provider key (see `routeModel`): no markup, and only the
   * catalog's `byok.platformFeeBps` of the provider cost is charged (when that is 0 nothing is reserved
   * or charged, and the call goes to the call log). Default `managed`.
   */
  keySource?: KeySource;
  /** Called once per settled model call (not for calls that failed and were released). Awaited; its errors propagate. */
  onCharge?: (call: MeteredCall) => void | Promise<void>;
  /**
   * Ledger errors nobody else can see: a failed release after a failed call, a failed settlement of a
   * cancelled stream. Without this they are dropped; the hold then expires after `holdTtlMs`, so the
   * ledger stays consistent and the call is not charged.
   */
  onError?: (error: unknown) => void;
}

interface Call {
  operation: 'generate' | 'stream';
  step: number;
  attempt: number;
  modelId: string;
  tier: string;
  price: ModelPrice | undefined;
  promptTokens: number;
  holdId: string | null;
}

/** What a finished (or interrupted) call reported. */
interface Report {
  usage: LanguageModelV4Usage | undefined;
  metadata: SharedV4ProviderMetadata | undefined;
  generationId: string | null;
  output: TextCount;
  reasoning: TextCount;
}

const KEY = /^[\x21-\x7e]{1,200}$/;
const MAX_TTL_MS = 366 * 24 * 3600 * 1000;

function positiveInteger(value: number | undefined, fallback: number, label: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TallyError('VALIDATION', `${label} must be a ${allowZero ? 'non-negative' : 'positive'} whole number`, {
      details: { field: label },
    });
  }
  return value;
}

const tokenCount = (value: number | undefined): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

/**
 * Meters every model call made through `wrapLanguageModel` on the Tally ledger: reserve the worst
 * case before the provider is called (`INSUFFICIENT_CREDITS` stops the call), capture the actual cost
 * after it (the provider's reported cost when there is one, else tokens × price, marked up for the
 * customer's tier), release when it fails. One middleware per request: its steps share the
 * request's idempotency key. See the README section "AI SDK metering" for every rule.
 */
export function tallyMiddleware(options: TallyMiddlewareOptions): LanguageModelV4Middleware {
  const { tally, customerId, onCharge, onError } = options;
  const catalog = tally.catalog;
  const endUserId = options.endUserId ?? null;
  // Spend caps count the end user's reserves and charges (SPEND_CAP_EXCEEDED stops the call before the provider).
  const endUser = endUserId === null ? {} : { endUserId };
  const keySource = options.keySource ?? 'managed';
  if (keySource !== 'managed' && keySource !== 'byok') throw new TallyError('VALIDATION', 'keySource must be "managed" or "byok"');
  if (options.powerLevel !== undefined && !POWER_LEVELS.includes(options.powerLevel)) {
    throw new TallyError('VALIDATION', `powerLevel must be one of ${POWER_LEVELS.join(', ')}`);
  }
  const maxOutputTokens = positiveInteger(options.estimate?.maxOutputTokens, 4096, 'estimate.maxOutputTokens');
  const tokensPerFile = positiveInteger(options.estimate?.tokensPerFile, 2000, 'estimate.tokensPerFile', true);
  const holdTtlMs = positiveInteger(options.holdTtlMs, 600_000, 'holdTtlMs');
  if (holdTtlMs > MAX_TTL_MS) throw new TallyError('VALIDATION', 'holdTtlMs must be at most a year');
  const baseKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
  if (typeof baseKey !== 'string' || !KEY.test(baseKey)) {
    throw new TallyError('VALIDATION', 'idempotencyKey must be 1-200 visible ASCII characters without spaces');
  }

  let customer: Promise<CustomerRecord> | undefined;
  const getCustomer = () => {
    customer ??= tally.customers.get(customerId).catch((error: unknown) => {
      customer = undefined;
      throw error;
    });
    return customer;
  };

  // Step indexes: a call that failed and was released gives its index back, so the provider retry that
  // follows (and the same step of a retried request) uses it again; `attempts` skips keys already spent.
  let nextStep = 0;
  const freeSteps: number[] = [];
  const attempts = new Map<number, number>();
  const takeStep = () => {
    if (freeSteps.length === 0) return nextStep++;
    freeSteps.sort((a, b) => a - b);
    return freeSteps.shift() as number;
  };
  const giveBack = (call: Call, nextAttempt: number) => {
    attempts.set(call.step, nextAttempt);
    freeSteps.push(call.step);
  };
  const keyOf = (call: Call) => `${baseKey}:ai:${call.step}.${call.attempt}`;
  const report = (error: unknown) => onError?.(error);

  async function begin(model: LanguageModelV4, params: LanguageModelV4CallOptions, operation: Call['operation']): Promise<Call> {
    const record = await getCustomer();
    const modelId = model.modelId;
    if (options.powerLevel !== undefined) {
      const expected = modelForPowerLevel(catalog, record.tier, options.powerLevel);
      if (expected !== modelId) {
        throw new TallyError(
          'FORBIDDEN',
          `Power level "${options.powerLevel}" on tier "${record.tier}" uses "${expected}", not "${modelId}"`,
          {
            details: { model: modelId, expected, tier: record.tier, powerLevel: options.powerLevel },
          },
        );
      }
    }
    const price = (options.price ? await options.price(modelId) : catalog.models[modelId]) ?? undefined;
    const promptTokens = estimatePromptTokens(params, tokensPerFile);
    const outputTokens = tokenCount(params.maxOutputTokens) || maxOutputTokens;
    const reasoningCostsMore = price?.reasoning !== undefined && price.reasoning > price.output;
    // Refuses an unpriced model (UNKNOWN_MODEL) before anything is reserved or called.
    const worst = priceCall({
      catalog,
      tier: record.tier,
      model: modelId,
      usage: { inputTokens: promptTokens, outputTokens, reasoningTokens: reasoningCostsMore ? outputTokens : 0 },
      ...(price ? { price } : {}),
    });
    const step = takeStep();
    const call: Call = {
      operation,
      step,
      attempt: attempts.get(step) ?? 0,
      modelId,
      tier: record.tier,
      price,
      promptTokens,
      holdId: null,
    };
    const worstMicros = chargeForKeySource(catalog, worst, keySource);
    if (worstMicros === 0n) return call;
    try {
      await reserve(call, worstMicros);
    } catch (error) {
      // A refused reserve stores nothing under its key, so the same attempt may be tried again.
      giveBack(call, call.attempt);
      throw error;
    }
    return call;
  }

  /**
   * Reserves under the step's key. A replayed key means an earlier request with this idempotency key got
   * here: if that hold was captured the step is paid and the call is refused (`CONFLICT`); if it is still
   * active (that request died mid-call) this call settles it; if it was released or expired it charged
   * nothing, and the next attempt key is tried.
   */
  async function reserve(call: Call, amountMicros: bigint): Promise<void> {
    for (;;) {
      const result = await tally.reserve({ customerId, ...endUser, amountMicros, ttlMs: holdTtlMs, idempotencyKey: keyOf(call) });
      const status = result.replayed ? (await tally.store.getHold(result.hold.id))?.status : 'active';
      if (status === 'active') {
        call.holdId = result.hold.id;
        attempts.set(call.step, call.attempt);
        return;
      }
      if (status === 'captured') {
        throw new TallyError('CONFLICT', `Model call ${call.step} of request "${baseKey}" was already charged`, {
          details: { idempotencyKey: baseKey, step: call.step, holdId: result.hold.id },
        });
      }
      call.attempt += 1;
    }
  }

  /** The call failed: release the hold (nothing charged) and give the step back for a retry. */
  async function fail(call: Call): Promise<void> {
    giveBack(call, call.holdId ? call.attempt + 1 : call.attempt);
    if (!call.holdId) return;
    try {
      await tally.release({ holdId: call.holdId, idempotencyKey: `${keyOf(call)}:release` });
    } catch (error) {
      report(error);
    }
  }

  async function settle(call: Call, result: Report, outcome: MeteredCall['outcome']): Promise<void> {
    const { usage } = result;
    let estimated = false;
    let inputTokens = tokenCount(usage?.inputTokens.total);
    if (inputTokens === undefined) {
      inputTokens = call.promptTokens;
      estimated = true;
    }
    let outputTokens = tokenCount(usage?.outputTokens.total);
    let reasoningTokens = tokenCount(usage?.outputTokens.reasoning) ?? 0;
    if (outputTokens === undefined) {
      outputTokens = tokensOf(result.output);
      reasoningTokens = tokensOf(result.reasoning);
      estimated = true;
    }
    const cachedInputTokens = Math.min(tokenCount(usage?.inputTokens.cacheRead) ?? 0, inputTokens);
    reasoningTokens = Math.min(reasoningTokens, outputTokens);
    const tokens = { inputTokens, cachedInputTokens, outputTokens, reasoningTokens };
    const reported = reportedCost(result.metadata);
    const byok = keySource === 'byok';
    // BYOK through OpenRouter's BYOK setting: `usage.cost` is OpenRouter's fee and the provider's charge is
    // upstream. On the customer's own OpenRouter key (no upstream figure) `usage.cost` is what that key paid.
    const reportedNano = byok ? (reported.upstream ?? reported.cost) : reported.cost;
    const priced = priceCall({
      catalog,
      tier: call.tier,
      model: call.modelId,
      usage: tokens,
      ...(call.price ? { price: call.price } : {}),
      ...(reportedNano !== undefined ? { reportedCostNanoUsd: reportedNano } : {}),
    });
    const chargeMicros = chargeForKeySource(catalog, priced, keySource);
    const markupBps = byok ? 0 : priced.markupBps;
    const usageInput: UsageInput = {
      model: call.modelId,
      ...tokens,
      providerCostNanoUsd: priced.providerCostNanoUsd,
      markupBps,
      catalogVersion: priced.catalogVersion,
      generationId: result.generationId,
      keySource,
    };
    const description = `ai-sdk ${call.operation} ${call.modelId}${endUserId === null ? '' : ` for ${endUserId}`}`.slice(0, 500);
    const key = keyOf(call);
    const recordUsage = () =>
      tally.recordUsage({
        customerId,
        ...endUser,
        amountMicros: chargeMicros,
        usage: usageInput,
        description,
        idempotencyKey: `${key}:usage`,
      });
    let ledger: CaptureResult | ChargeResult | null = null;
    if (call.holdId) {
      try {
        ledger = await tally.capture({
          holdId: call.holdId,
          amountMicros: chargeMicros,
          usage: usageInput,
          description,
          idempotencyKey: `${key}:capture`,
        });
      } catch (error) {
        // The call outlived its hold: the usage happened, so it is recorded (never refused) instead.
        if (!TallyError.is(error, 'HOLD_EXPIRED')) throw error;
        if (chargeMicros > 0n) ledger = await recordUsage();
      }
    } else if (chargeMicros > 0n) {
      ledger = await recordUsage();
    }
    if (chargeMicros === 0n) {
      // No usage entry for a call that charged nothing (a free model, BYOK without a fee, a hold captured
      // at 0): the call log keeps it instead, under the key its charge would have had, so a retried
      // request is logged once.
      await tally.recordUncharged([
        {
          customerId,
          endUserId,
          model: call.modelId,
          ...tokens,
          providerCostNanoUsd: priced.providerCostNanoUsd,
          keySource,
          free: priced.free,
          catalogVersion: priced.catalogVersion,
          generationId: result.generationId || null,
          idempotencyKey: `${key}:usage`,
        },
      ]);
    }
    await onCharge?.({
      customerId,
      endUserId,
      model: call.modelId,
      operation: call.operation,
      step: call.step,
      outcome,
      keySource,
      free: priced.free,
      ...tokens,
      estimated,
      providerCostNanoUsd: priced.providerCostNanoUsd,
      costSource: priced.costSource,
      markupBps,
      chargeMicros,
      catalogVersion: priced.catalogVersion,
      generationId: result.generationId,
      holdId: call.holdId,
      ledger,
    });
  }

  return {
    specificationVersion: 'v4',

    async wrapGenerate({ doGenerate, params, model }) {
      const call = await begin(model, params, 'generate');
      let result: Awaited<ReturnType<typeof doGenerate>>;
      try {
        result = await doGenerate();
      } catch (error) {
        await fail(call);
        throw error;
      }
      await settle(
        call,
        {
          usage: result.usage,
          metadata: result.providerMetadata,
          generationId: result.response?.id ?? null,
          ...countContent(result.content),
        },
        'completed',
      );
      return result;
    },

    async wrapStream({ doStream, params, model }) {
      const call = await begin(model, params, 'stream');
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await doStream();
      } catch (error) {
        await fail(call);
        throw error;
      }
      const seen: Report = { usage: undefined, metadata: undefined, generationId: null, output: emptyCount(), reasoning: emptyCount() };
      // Tool calls whose input streamed as deltas (counted there); made when the first one comes.
      let toolInputs: Set<string> | undefined;
      let finished = false;
      let errored = false;
      let settled = false;

      // Settles exactly once, whichever of end, error and cancel comes first. The provider's usage is
      // charged whenever it was reported; an error without it releases; a cancel without it charges the
      // prompt and the output seen so far, estimated.
      const end = async (how: 'done' | 'error' | 'cancel') => {
        if (settled) return;
        settled = true;
        const reported =
          finished &&
          (seen.usage?.inputTokens.total !== undefined ||
            seen.usage?.outputTokens.total !== undefined ||
            reportedCost(seen.metadata).cost !== undefined);
        if (reported) return settle(call, seen, errored || how === 'error' ? 'failed' : 'completed');
        if (errored || how === 'error') return fail(call);
        return settle(call, seen, how === 'cancel' ? 'aborted' : 'completed');
      };

      const observe = (part: LanguageModelV4StreamPart) => {
        switch (part.type) {
          case 'text-delta':
            addText(seen.output, part.delta);
            break;
          case 'reasoning-delta':
            addText(seen.output, part.delta);
            addText(seen.reasoning, part.delta);
            break;
          case 'tool-input-delta':
            toolInputs ??= new Set();
            toolInputs.add(part.id);
            addText(seen.output, part.delta);
            break;
          case 'tool-call':
            if (!toolInputs?.has(part.toolCallId)) addText(seen.output, part.input);
            break;
          case 'response-metadata':
            if (part.id !== undefined) seen.generationId = part.id;
            break;
          case 'finish':
            finished = true;
            seen.usage = part.usage;
            seen.metadata = part.providerMetadata;
            break;
          case 'error':
            errored = true;
            break;
        }
      };

      const reader = result.stream.getReader();
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        // Reads on while the consumer still wants chunks (the same one chunk of read-ahead as a pull per
        // chunk): each call of pull costs the stream machinery promises of its own.
        async pull(controller) {
          do {
            let next: ReadableStreamReadResult<LanguageModelV4StreamPart>;
            try {
              next = await reader.read();
            } catch (error) {
              if (settled) return;
              await end('error').catch(report);
              controller.error(error);
              return;
            }
            // A read that was waiting when the consumer cancelled resolves afterwards: the cancel settled.
            if (settled) return;
            if (next.done) {
              try {
                await end('done');
                controller.close();
              } catch (error) {
                controller.error(error);
              }
              return;
            }
            observe(next.value);
            controller.enqueue(next.value);
          } while ((controller.desiredSize ?? 0) > 0);
        },
        // The consumer went away (an abort, a client disconnect): settle, and stop the provider.
        async cancel(reason) {
          // Marks the call settled before the provider's stream is cancelled: that resolves a pending read
          // as done, which must not count as a finished call.
          const settling = end('cancel').catch(report);
          await reader.cancel(reason).catch(() => {});
          await settling;
        },
      });
      return { ...result, stream };
    },
  };
}
