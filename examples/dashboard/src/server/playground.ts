/**
 * `POST /demo/playground`: one metered model call for the signed-in customer. The model is the one
 * the catalog's power level names for the customer's tier (`modelFor`), wrapped in `tallyMiddleware`,
 * which reserves the worst case before the call and charges what it used after it.
 */
import { createHash } from 'node:crypto';
import { type MeteredCall, modelFor, tallyMiddleware } from '@tally/adapters/ai-sdk';
import { POWER_LEVELS, type PowerLevel, type Tally, TallyError } from '@tally/core';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import type { ModelSource } from './llm.ts';
import { objectBody } from './problem.ts';

export interface PlaygroundRequest {
  prompt: string;
  powerLevel: PowerLevel;
  stream: boolean;
}

export interface PlaygroundAnswer {
  text: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  chargedMicros: string;
  balanceMicros: string;
}

const MAX_PROMPT = 4000;
/** The longest answer a playground call may produce; the reservation is sized by it. */
const MAX_OUTPUT_TOKENS = 400;
const SYSTEM = 'You are the assistant in the Tally demo playground. Answer in a few sentences.';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function parsePlaygroundRequest(body: unknown): PlaygroundRequest {
  const input = objectBody(body, ['prompt', 'powerLevel', 'stream']);
  const { prompt, powerLevel, stream } = input;
  if (typeof prompt !== 'string' || prompt.trim() === '' || prompt.length > MAX_PROMPT) {
    throw new TallyError('VALIDATION', `prompt must be text of 1 to ${MAX_PROMPT} characters, not only spaces`, {
      issues: [{ path: ['prompt'], message: 'invalid' }],
    });
  }
  if (typeof powerLevel !== 'string' || !(POWER_LEVELS as readonly string[]).includes(powerLevel)) {
    throw new TallyError('VALIDATION', `powerLevel must be one of ${POWER_LEVELS.join(', ')}`, {
      issues: [{ path: ['powerLevel'], message: 'invalid' }],
    });
  }
  if (stream !== undefined && typeof stream !== 'boolean') {
    throw new TallyError('VALIDATION', 'stream must be true or false', { issues: [{ path: ['stream'], message: 'invalid' }] });
  }
  return { prompt, powerLevel: powerLevel as PowerLevel, stream: stream === true };
}

/** The middleware's key: the caller's `Idempotency-Key` scoped to the customer (hashed), else a new one. */
function idempotencyKey(customerId: string, header: string | null): string {
  if (header === null) return `playground:${crypto.randomUUID()}`;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new TallyError('VALIDATION', 'Idempotency-Key must be 1-200 visible ASCII characters', {
      issues: [{ path: ['Idempotency-Key'], message: 'invalid' }],
    });
  }
  return `playground:${createHash('sha256').update(`${customerId}\n${header}`).digest('base64url')}`;
}

export async function runPlayground(input: {
  tally: Tally;
  models: ModelSource;
  customerId: string;
  request: PlaygroundRequest;
  idempotencyKey: string | null;
}): Promise<PlaygroundAnswer> {
  const { tally, models, customerId, request } = input;
  const customer = await tally.customers.get(customerId);
  const model = modelFor({ catalog: tally.catalog, tier: customer.tier, powerLevel: request.powerLevel, provider: models.model });
  let metered: MeteredCall | null = null;
  const wrapped = wrapLanguageModel({
    model,
    middleware: tallyMiddleware({
      tally,
      customerId,
      powerLevel: request.powerLevel,
      idempotencyKey: idempotencyKey(customerId, input.idempotencyKey),
      ...(models.price ? { price: models.price } : {}),
      onCharge: (call) => {
        metered = call;
      },
    }),
  });
  // No retries: a retry is a second call, and the customer asked for one.
  const call = { model: wrapped, system: SYSTEM, prompt: request.prompt, maxOutputTokens: MAX_OUTPUT_TOKENS, maxRetries: 0 };
  let text: string;
  if (request.stream) {
    let failure: unknown = null;
    const result = streamText({
      ...call,
      onError: ({ error }) => {
        failure ??= error;
      },
    });
    try {
      text = await result.text;
    } catch (error) {
      throw failure ?? error;
    }
    if (failure) throw failure;
  } else {
    text = (await generateText(call)).text;
  }
  const charged = metered as MeteredCall | null;
  if (!charged) throw new TallyError('INTERNAL', 'The model call finished without being metered');
  const balance = await tally.balance(customerId);
  return {
    text,
    model: charged.model,
    inputTokens: charged.inputTokens,
    outputTokens: charged.outputTokens,
    chargedMicros: charged.chargeMicros.toString(),
    balanceMicros: balance.balanceMicros.toString(),
  };
}

/**
 * What a model call's failure means for the caller: the ledger's own errors (402 insufficient
 * credits, 403 a model the tier may not use, …) as they are; the AI SDK's wrappers around them
 * unwrapped; a provider that failed otherwise as 503.
 */
export function playgroundError(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (TallyError.is(current)) return current;
    const inner = (current as { cause?: unknown; lastError?: unknown }).lastError ?? (current as { cause?: unknown }).cause;
    current = inner;
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new TallyError('PROVIDER_UNAVAILABLE', 'The model call was cut off', { cause: error });
  }
  return new TallyError('PROVIDER_UNAVAILABLE', 'The model call failed', { cause: error });
}
