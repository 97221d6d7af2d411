import { formatDecimal, type OutboxHandler, type OutboxMessage, TallyError } from '@tally/core';
import { LAGO_EVENTS_BATCH_MAX, type LagoClient, type LagoEventInput } from './client.js';

export interface LagoSinkOptions {
  client: LagoClient;
  /** The billable metric's code; sum `properties.credits`. Default `tally_credits`. */
  eventCode?: string;
  /** Lago plan code of a Tally tier. Default: the tier's id. */
  planCodeFor?: (tier: string) => string;
  /** Lago subscription `external_id` of a customer. Default `tally_sub_<customerId>`. */
  externalSubscriptionIdFor?: (customerId: string) => string;
  /** For new subscriptions. Default `anniversary`, the way Tally counts periods. */
  billingTime?: 'calendar' | 'anniversary';
  /**
   * Tally's current subscription version of a customer (e.g. from the store). When given, a
   * `subscription.updated` older than it is skipped: a newer message carries the state, and a retried
   * old one must not undo it in Lago.
   */
  currentVersion?: (customerId: string) => Promise<number | null> | number | null;
}

export interface LagoSink {
  handlers: { 'subscription.updated': OutboxHandler };
  batchHandlers: { 'credits.charged': (messages: OutboxMessage[]) => Promise<void> };
}

type Json = Record<string, unknown>;

function parsePayload(message: OutboxMessage): Json {
  let value: unknown;
  try {
    value = JSON.parse(message.payload);
  } catch {
    value = null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TallyError('VALIDATION', `outbox message ${message.id} (${message.topic}) has no JSON object payload`, {
      details: { id: message.id },
    });
  }
  return value as Json;
}

function field<T>(message: OutboxMessage, payload: Json, name: string, check: (value: unknown) => value is T, expected: string): T {
  const value = payload[name];
  if (!check(value)) {
    throw new TallyError('VALIDATION', `outbox message ${message.id} (${message.topic}): ${name} must be ${expected}`, {
      details: { id: message.id, field: name },
    });
  }
  return value;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isMicros = (value: unknown): value is string => typeof value === 'string' && /^\d{1,19}$/.test(value);
const isInstant = (value: unknown): value is string => typeof value === 'string' && Number.isFinite(Date.parse(value));
const isVersion = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const STATUSES = ['trialing', 'active', 'past_due', 'canceled'] as const;
const isStatus = (value: unknown): value is (typeof STATUSES)[number] => STATUSES.includes(value as (typeof STATUSES)[number]);

/** `2026-11-16T00:00:00.123Z` → `"1794787200.123"`: Unix seconds with milliseconds, exact. */
export function lagoTimestamp(iso: string): string {
  const ms = BigInt(Date.parse(iso));
  const seconds = ms >= 0n ? ms / 1000n : -((-ms + 999n) / 1000n);
  const fraction = ms - seconds * 1000n;
  return `${seconds}.${fraction.toString().padStart(3, '0')}`;
}

/** A `credits.charged` message as a Lago usage event: `properties.credits` is the exact decimal of the micros. */
function chargeEvent(message: OutboxMessage, code: string, subscriptionIdFor: (customerId: string) => string): LagoEventInput {
  const payload = parsePayload(message);
  const customerId = field(message, payload, 'customerId', isText, 'a customer id');
  const operationId = field(message, payload, 'operationId', isText, 'an operation id');
  const micros = BigInt(field(message, payload, 'amountMicros', isMicros, 'a non-negative integer string of micros'));
  const at = field(message, payload, 'at', isInstant, 'an ISO-8601 time');
  return {
    transaction_id: `tally_op_${operationId}`,
    external_subscription_id: subscriptionIdFor(customerId),
    code,
    timestamp: lagoTimestamp(at),
    properties: { credits: formatDecimal(micros, 6) },
  };
}

/**
 * Keeps Lago in step with Tally, from the outbox: charges become usage events (batched, deduped by
 * `transaction_id = tally_op_<operationId>`), subscription changes become Lago customers and
 * subscriptions. Pass `handlers` and `batchHandlers` to `createOutboxWorker`.
 */
export function createLagoSink(options: LagoSinkOptions): LagoSink {
  const { client } = options;
  const code = options.eventCode ?? 'tally_credits';
  const planCodeFor = options.planCodeFor ?? ((tier: string) => tier);
  const subscriptionIdFor = options.externalSubscriptionIdFor ?? ((customerId: string) => `tally_sub_${customerId}`);
  const billingTime = options.billingTime ?? 'anniversary';

  return {
    batchHandlers: {
      async 'credits.charged'(messages) {
        const events = messages.map((message) => chargeEvent(message, code, subscriptionIdFor));
        // Chunks Lago already stored come back as duplicates when the whole call is retried.
        for (let start = 0; start < events.length; start += LAGO_EVENTS_BATCH_MAX) {
          await client.sendEvents(events.slice(start, start + LAGO_EVENTS_BATCH_MAX));
        }
      },
    },
    handlers: {
      async 'subscription.updated'(message) {
        const payload = parsePayload(message);
        const customerId = field(message, payload, 'customerId', isText, 'a customer id');
        const tier = field(message, payload, 'tier', isText, 'a tier id');
        const status = field(message, payload, 'status', isStatus, `one of ${STATUSES.join(', ')}`);
        const version = field(message, payload, 'version', isVersion, 'a non-negative integer');
        if (options.currentVersion) {
          const current = await options.currentVersion(customerId);
          if (current !== null && version < current) return;
        }
        const externalId = subscriptionIdFor(customerId);
        if (status === 'canceled') {
          // null: Lago has none (already terminated, or never created): the state we want.
          await client.terminateSubscription(externalId);
          return;
        }
        await client.upsertCustomer({ external_id: customerId });
        await client.createOrUpdateSubscription({
          external_customer_id: customerId,
          external_id: externalId,
          plan_code: planCodeFor(tier),
          billing_time: billingTime,
        });
      },
    },
  };
}
