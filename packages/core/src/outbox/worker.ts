import { TallyError } from '../errors/index.js';
import type { OutboxMessage, TallyStore } from '../ledger/types.js';
import { type Clock, systemClock } from '../time/index.js';

/** Delivers one message to a sink. Throwing means "try again later". */
export type OutboxHandler = (message: OutboxMessage) => Promise<void>;

/**
 * Delivers the messages of one topic claimed in one round, in one call. All or nothing: returning
 * completes every message; throwing retries (or dead-letters) every message with that error.
 */
export type OutboxBatchHandler = (messages: OutboxMessage[]) => Promise<void>;

export interface OutboxWorkerOptions {
  store: TallyStore;
  /** One handler per topic. Messages of other topics are left for other workers. */
  handlers?: Record<string, OutboxHandler>;
  /** One batch handler per topic, for sinks with a bulk API. A topic has a handler or a batch handler, not both. */
  batchHandlers?: Record<string, OutboxBatchHandler>;
  clock?: Clock;
  /** Messages claimed per round, so also the most a batch handler gets in one call. Default 50. */
  batchSize?: number;
  /** How long a claim keeps other workers off a message. Default 60 s. */
  leaseMs?: number;
  /** Attempts before a message becomes a dead letter. Default 10. */
  maxAttempts?: number;
  /** Exponential backoff between attempts: base × 2^(attempt−1), capped, with full jitter. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** [0, 1) source for jitter; inject a seeded one in tests. */
  random?: () => number;
}

export interface OutboxRound {
  claimed: number;
  delivered: number;
  retried: number;
  dead: number;
}

/** The wait a sink's error asks for (`TallyError` `details.retryAfterMs`), or 0. */
function retryAfterMs(error: unknown): number {
  if (!TallyError.is(error)) return 0;
  const wait = error.details.retryAfterMs;
  return typeof wait === 'number' && Number.isSafeInteger(wait) && wait > 0 ? wait : 0;
}

/** The wait before the next attempt: full jitter over an exponentially growing, capped window. */
export function outboxBackoffMs(attempts: number, random: () => number, baseMs = 1_000, maxMs = 15 * 60_000): number {
  const window = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(window / 2 + random() * (window / 2));
}

/**
 * Moves outbox messages to their sinks. Several workers (in several processes) can run at once:
 * each claim is exclusive (`FOR UPDATE SKIP LOCKED` on Postgres) and leased, so a worker that dies
 * only delays its messages until the lease ends. Delivery is at least once; sinks dedupe on
 * `message.dedupeKey`.
 */
export function createOutboxWorker(options: OutboxWorkerOptions) {
  const { store } = options;
  const handlers = options.handlers ?? {};
  const batchHandlers = options.batchHandlers ?? {};
  const clock = options.clock ?? systemClock;
  const batchSize = options.batchSize ?? 50;
  const leaseMs = options.leaseMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const random = options.random ?? Math.random;
  const topics = [...Object.keys(handlers), ...Object.keys(batchHandlers)];
  if (topics.length === 0) throw new TallyError('VALIDATION', 'an outbox worker needs at least one handler');
  const both = Object.keys(batchHandlers).filter((topic) => Object.hasOwn(handlers, topic));
  if (both.length > 0) {
    throw new TallyError('VALIDATION', `topic ${both.join(', ')} has both a handler and a batch handler`, { details: { topics: both } });
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new TallyError('VALIDATION', 'batchSize must be 1-1000');
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<OutboxRound> | null = null;

  async function fail(message: OutboxMessage, error: unknown, round: OutboxRound): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    const now = clock.now();
    if (message.attempts >= maxAttempts) {
      await store.failOutbox(message.id, reason, null, now);
      round.dead++;
    } else {
      // A sink that was told when to come back (HTTP 429 Retry-After) is not tried sooner than that.
      const wait = Math.max(
        outboxBackoffMs(message.attempts, random, options.backoff?.baseMs, options.backoff?.maxMs),
        retryAfterMs(error),
      );
      await store.failOutbox(message.id, reason, new Date(now.getTime() + wait), now);
      round.retried++;
    }
  }

  async function deliverOne(message: OutboxMessage, round: OutboxRound): Promise<void> {
    const handler = handlers[message.topic];
    try {
      if (!handler) throw new Error(`no handler for topic ${message.topic}`);
      await handler(message);
      await store.completeOutbox(message.id, clock.now());
      round.delivered++;
    } catch (error) {
      await fail(message, error, round);
    }
  }

  async function deliverBatch(handler: OutboxBatchHandler, messages: OutboxMessage[], round: OutboxRound): Promise<void> {
    try {
      await handler(messages);
    } catch (error) {
      for (const message of messages) await fail(message, error, round);
      return;
    }
    const now = clock.now();
    for (const message of messages) await store.completeOutbox(message.id, now);
    round.delivered += messages.length;
  }

  async function runOnce(): Promise<OutboxRound> {
    const at = clock.now();
    const messages = await store.claimOutbox({ limit: batchSize, leaseUntil: new Date(at.getTime() + leaseMs), at, topics });
    const round: OutboxRound = { claimed: messages.length, delivered: 0, retried: 0, dead: 0 };
    // A batch topic's messages go out together where its first message stands in the claim order.
    const batches = new Map<string, OutboxMessage[]>();
    for (const message of messages) {
      if (!Object.hasOwn(batchHandlers, message.topic)) continue;
      const batch = batches.get(message.topic);
      if (batch) batch.push(message);
      else batches.set(message.topic, [message]);
    }
    for (const message of messages) {
      const batch = batches.get(message.topic);
      if (!batch) {
        await deliverOne(message, round);
      } else if (batch[0] === message) {
        await deliverBatch(batchHandlers[message.topic] as OutboxBatchHandler, batch, round);
      }
    }
    return round;
  }

  return {
    /** Claims and delivers one batch. */
    runOnce,
    /** Polls every `intervalMs` until `stop()`; a full batch polls again at once. */
    start(intervalMs = 1_000) {
      if (timer || running) return;
      const tick = async () => {
        running = runOnce();
        let round: OutboxRound | null = null;
        try {
          round = await running;
        } catch {
          // The store was unreachable; try again next tick. Nothing is lost: the messages stay in the outbox.
        } finally {
          running = null;
        }
        timer = setTimeout(tick, round && round.claimed === batchSize ? 0 : intervalMs);
      };
      timer = setTimeout(tick, 0);
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running.catch(() => undefined);
    },
  };
}
