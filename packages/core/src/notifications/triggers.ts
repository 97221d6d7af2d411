/**
 * Which outbox events become which mails (docs/notifications.md, "Triggers"). Each handler reads what
 * the mail needs and hands it to `notify` under a key fixed by the event, so an event delivered twice,
 * or a thousand charges crossing the low-balance line at once, enqueue one mail: the outbox's unique
 * dedupe key does the deduplication, inside the store, under concurrency.
 */
import type { SubscriptionRecord } from '../billing/types.js';
import { type Catalog, findTier, type Tier } from '../catalog/schema.js';
import { TallyError } from '../errors/index.js';
import { type Balance, type Entry, type OutboxMessage, SYSTEM_ACCOUNTS, type TallyStore } from '../ledger/types.js';
import { addInterval } from '../time/index.js';
import type { EmailTemplateData, EmailTemplateId } from './email.js';

/** The events the notifier listens to, besides the ledger's own `credits.*`. */
export const NOTIFICATION_TOPICS = {
  customerCreated: 'customer.created',
  tierChanged: 'tier.changed',
  creditsCharged: 'credits.charged',
  creditsGranted: 'credits.granted',
  couponRedeemed: 'coupon.redeemed',
  paymentFailed: 'payment.failed',
} as const;

/** The payload of `tier.changed` (written by billing when a subscription record is saved). */
export interface TierChangedEvent {
  customerId: string;
  from: string;
  to: string;
  direction: 'upgrade' | 'downgrade';
  /** `now`: the record's tier changed; `scheduled`: a move to a lower tier was scheduled for `effectiveAt`. */
  timing: 'now' | 'scheduled';
  effectiveAt: string;
  at: string;
}

const rankOf = (catalog: Catalog, tier: string): number => catalog.tiers.findIndex((candidate) => candidate.id === tier);

/**
 * The `tier.changed` message a save of `next` over `previous` causes, or null: when the tier itself
 * changed (`now`), or when a scheduled move to a lower tier appeared (`scheduled`). Tiers the catalog
 * no longer has are skipped rather than thrown on, so a catalog edit never fails a billing save.
 */
export function tierChangeMessage(
  catalog: Catalog,
  previous: SubscriptionRecord | null,
  next: SubscriptionRecord,
): { topic: string; payload: string; dedupeKey: string; at: Date } | null {
  if (!previous) return null;
  let change: Pick<TierChangedEvent, 'from' | 'to' | 'timing'> & { effectiveAt: Date };
  const scheduled = next.scheduledChange;
  const before = previous.scheduledChange;
  if (previous.tier !== next.tier) {
    change = { from: previous.tier, to: next.tier, timing: 'now', effectiveAt: next.updatedAt };
  } else if (scheduled?.tier && (before?.tier !== scheduled.tier || before.at.getTime() !== scheduled.at.getTime())) {
    change = { from: next.tier, to: scheduled.tier, timing: 'scheduled', effectiveAt: scheduled.at };
  } else {
    return null;
  }
  const from = rankOf(catalog, change.from);
  const to = rankOf(catalog, change.to);
  if (from < 0 || to < 0 || from === to) return null;
  if (change.timing === 'scheduled' && to > from) return null; // upgrades take effect at once, never scheduled
  const event: TierChangedEvent = {
    customerId: next.customerId,
    from: change.from,
    to: change.to,
    direction: to > from ? 'upgrade' : 'downgrade',
    timing: change.timing,
    effectiveAt: change.effectiveAt.toISOString(),
    at: next.updatedAt.toISOString(),
  };
  return {
    topic: NOTIFICATION_TOPICS.tierChanged,
    payload: JSON.stringify(event),
    dedupeKey: `${NOTIFICATION_TOPICS.tierChanged}:${next.customerId}:${next.version}`,
    at: next.updatedAt,
  };
}

/**
 * The message `tally.customers.upsert` writes for a new customer. It names no tier: which tier a
 * customer was created on can depend on the order provider events arrived in, and the welcome mail
 * shows the tier the customer is on when it is sent.
 */
export function customerCreatedMessage(customerId: string, at: Date) {
  return {
    topic: NOTIFICATION_TOPICS.customerCreated,
    payload: JSON.stringify({ customerId, at: at.toISOString() }),
    dedupeKey: `${NOTIFICATION_TOPICS.customerCreated}:${customerId}`,
    at,
  };
}

export interface TriggerContext {
  store: TallyStore;
  catalog: Catalog;
  subscriptionOf(customerId: string): Promise<SubscriptionRecord | null>;
  notify<T extends EmailTemplateId>(template: T, data: EmailTemplateData[T], dedupeKey: string): Promise<boolean>;
  /** Low balance: available below allowance × bps / 10,000. */
  thresholdBps: number;
}

const DAY_MS = 86_400_000;
/** Grants scanned back for the previous allowance before giving up (one period's grants are a handful). */
const MAX_GRANT_PAGES = 10;
const GRANT_PAGE = 100;

// ---- Reading event payloads: written by Tally itself, so a bad one is a bug; VALIDATION, and the outbox retries then keeps it as a dead letter.

function fieldsOf(message: OutboxMessage): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.payload);
  } catch {
    parsed = null;
  }
  if (typeof parsed !== 'object' || parsed === null) throw badPayload(message, 'is not a JSON object');
  return parsed as Record<string, unknown>;
}

const badPayload = (message: OutboxMessage, problem: string) =>
  new TallyError('VALIDATION', `${message.topic} payload ${problem}`, { details: { topic: message.topic, messageId: message.id } });

function str(message: OutboxMessage, fields: Record<string, unknown>, key: string): string {
  const value = fields[key];
  if (typeof value !== 'string' || value === '') throw badPayload(message, `has no ${key}`);
  return value;
}

function dateField(message: OutboxMessage, fields: Record<string, unknown>, key: string): Date {
  const date = new Date(str(message, fields, key));
  if (!Number.isFinite(date.getTime())) throw badPayload(message, `has an invalid ${key}`);
  return date;
}

function optionalDate(message: OutboxMessage, fields: Record<string, unknown>, key: string): Date | null {
  return fields[key] === null || fields[key] === undefined ? null : dateField(message, fields, key);
}

function bigintField(message: OutboxMessage, fields: Record<string, unknown>, key: string): bigint {
  const value = fields[key];
  if (typeof value !== 'string' || !/^-?\d{1,30}$/.test(value)) throw badPayload(message, `has no integer ${key}`);
  return BigInt(value);
}

function intField(message: OutboxMessage, fields: Record<string, unknown>, key: string): number {
  const value = fields[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badPayload(message, `has no integer ${key}`);
  return value;
}

const allowanceOf = (tier: Tier): bigint | null => (tier.allowance === 'unlimited' ? null : tier.allowance);

/** The period a low-balance mail is counted in, the allowance measured against, and when it renews. */
interface AllowanceLine {
  period: string;
  allowanceMicros: bigint;
  renewsAt: Date | null;
}

/**
 * Turns events into mails. `lowBalance(customerId, at)` is also what the scheduled scan runs for each
 * customer.
 */
export function createTriggers(context: TriggerContext) {
  const { store, catalog, notify } = context;
  const bps = BigInt(context.thresholdBps);
  const below = (availableMicros: bigint, allowanceMicros: bigint) => availableMicros * 10_000n < allowanceMicros * bps;
  const tierOf = (id: string) => findTier(catalog, id);

  /**
   * The allowance the customer's balance is measured against. Normally the live allowance buckets:
   * those sharing the latest expiry are the current period's (its grant plus any upgrade top-up), and
   * the period is named by that expiry. Once they are spent to zero the balance no longer lists them;
   * then the current subscription period stands in (same expiry, so the same period name), read only
   * when the customer is under the line even against the tier's full allowance.
   */
  async function allowanceLine(balance: Balance, at: Date): Promise<AllowanceLine | null> {
    const live = balance.buckets.filter((bucket) => bucket.kind === 'allowance');
    if (live.length > 0) {
      const expiry = (time: Date | null) => (time === null ? Number.POSITIVE_INFINITY : time.getTime());
      const latest = Math.max(...live.map((bucket) => expiry(bucket.expiresAt)));
      const period = live.filter((bucket) => expiry(bucket.expiresAt) === latest);
      const first = period.reduce((a, b) => (a.createdAt.getTime() <= b.createdAt.getTime() ? a : b));
      return {
        // An allowance that never expires has no period: it is counted once, by its first bucket.
        period: first.expiresAt === null ? `bucket:${first.id}` : first.expiresAt.toISOString(),
        allowanceMicros: period.reduce((sum, bucket) => sum + bucket.grantedMicros, 0n),
        renewsAt: first.expiresAt,
      };
    }
    const tier = catalog.tiers.find((candidate) => candidate.id === balance.tier);
    const full = tier ? allowanceOf(tier) : null;
    if (!full || !below(balance.availableMicros, full)) return null;
    const subscription = await context.subscriptionOf(balance.customerId);
    if (!subscription || (subscription.status !== 'active' && subscription.status !== 'trialing')) return null;
    if (subscription.currentPeriodStart.getTime() > at.getTime() || subscription.currentPeriodEnd.getTime() <= at.getTime()) return null;
    const current = catalog.tiers.find((candidate) => candidate.id === subscription.tier);
    const allowanceMicros = current ? allowanceOf(current) : null;
    if (!allowanceMicros) return null;
    return { period: subscription.currentPeriodEnd.toISOString(), allowanceMicros, renewsAt: subscription.currentPeriodEnd };
  }

  /** Enqueues the low-balance mail when the customer is under the line; true when it was new. One balance read. */
  async function lowBalance(customerId: string, at: Date): Promise<boolean> {
    const balance = await store.balance(customerId, at);
    if (balance.unlimited) return false;
    const line = await allowanceLine(balance, at);
    if (!line || !below(balance.availableMicros, line.allowanceMicros)) return false;
    return notify(
      'low_balance',
      {
        customerId,
        customerName: null,
        remainingMicros: balance.balanceMicros - balance.heldMicros,
        allowanceMicros: line.allowanceMicros,
        renewsAt: line.renewsAt,
      },
      `low_balance:${customerId}:${line.period}`,
    );
  }

  /** The ledger entry of a grant operation: the `credits.granted` payload names the operation, not always the bucket. */
  async function grantEntry(customerId: string, operationId: string, at: Date): Promise<Entry | null> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_GRANT_PAGES; page++) {
      const found = await store.listEntries({
        customerId,
        kinds: ['grant'],
        from: at,
        to: new Date(at.getTime() + 1),
        limit: GRANT_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      const entry = found.items.find((item) => item.operationId === operationId);
      if (entry) return entry;
      if (!found.nextCursor) return null;
      cursor = found.nextCursor;
    }
    return null;
  }

  /** The customer's allowance grant before `entry`, newest first; null when `entry` is the first. */
  async function previousAllowance(customerId: string, entry: Entry): Promise<Entry | null> {
    let cursor = entry.id;
    for (let page = 0; page < MAX_GRANT_PAGES; page++) {
      const found = await store.listEntries({ customerId, kinds: ['grant'], cursor, limit: GRANT_PAGE });
      const previous = found.items.find((item) => item.fromAccount === SYSTEM_ACCOUNTS.grants);
      if (previous) return previous;
      if (!found.nextCursor) return null;
      cursor = found.nextCursor;
    }
    return null;
  }

  /**
   * `monthly_reset` for an allowance grant that starts a period: not the customer's first allowance
   * (the welcome mail covers that) and not a top-up inside a period an earlier allowance grant already
   * started (an upgrade's allowance difference: the tier-change mail covers that). Decided by grant
   * times in the journal, not by which buckets are still live, so a handler that runs late decides
   * the same. A period that a tier switch starts (a trial left early for a paid tier) gets it too,
   * next to the tier-change mail.
   */
  async function monthlyReset(message: OutboxMessage): Promise<void> {
    const fields = fieldsOf(message);
    // The memory store's payload names the bucket kind; SQL stores' do not, and the entry tells.
    if (fields.bucketKind !== undefined && fields.bucketKind !== 'allowance') return;
    const customerId = str(message, fields, 'customerId');
    const at = dateField(message, fields, 'at');
    const entry = await grantEntry(customerId, str(message, fields, 'operationId'), at);
    if (!entry || entry.fromAccount !== SYSTEM_ACCOUNTS.grants || entry.bucketId === null) return;

    let start: Date;
    let end: Date;
    let tier: Tier;
    const subscription = await context.subscriptionOf(customerId);
    if (
      subscription &&
      subscription.status !== 'canceled' &&
      subscription.currentPeriodStart.getTime() <= at.getTime() &&
      at.getTime() < subscription.currentPeriodEnd.getTime()
    ) {
      start = subscription.currentPeriodStart;
      end = subscription.currentPeriodEnd;
      tier = tierOf(subscription.tier);
    } else {
      // No subscription period holds the grant (an app's own allowance, or the provider's renewal
      // arriving before its subscription update): the period is the bucket's lifetime.
      const expiresAt =
        typeof fields.expiresAt === 'string'
          ? new Date(fields.expiresAt)
          : ((await store.balance(customerId, at)).buckets.find((bucket) => bucket.id === entry.bucketId)?.expiresAt ?? null);
      if (expiresAt === null || !Number.isFinite(expiresAt.getTime())) return;
      const customer = await store.getCustomer(customerId);
      if (!customer) return;
      tier = tierOf(customer.tier);
      end = expiresAt;
      start = addInterval(end, tier.interval, -1);
    }
    const previous = await previousAllowance(customerId, entry);
    if (!previous || previous.createdAt.getTime() >= start.getTime()) return;
    await notify(
      'monthly_reset',
      { customerId, customerName: null, tierName: tier.name, allowanceMicros: entry.amountMicros, periodStart: start, periodEnd: end },
      `monthly_reset:${entry.bucketId}`,
    );
  }

  const handlers: Record<string, (message: OutboxMessage) => Promise<void>> = {
    async [NOTIFICATION_TOPICS.customerCreated](message) {
      const fields = fieldsOf(message);
      const customerId = str(message, fields, 'customerId');
      const customer = await store.getCustomer(customerId);
      if (!customer) throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
      const tier = tierOf(customer.tier);
      await notify(
        'welcome',
        { customerId, customerName: null, tierName: tier.name, allowanceMicros: allowanceOf(tier) },
        `welcome:${customerId}`,
      );
    },

    async [NOTIFICATION_TOPICS.creditsCharged](message) {
      const fields = fieldsOf(message);
      await lowBalance(str(message, fields, 'customerId'), dateField(message, fields, 'at'));
    },

    [NOTIFICATION_TOPICS.creditsGranted]: monthlyReset,

    async [NOTIFICATION_TOPICS.couponRedeemed](message) {
      const fields = fieldsOf(message);
      const customerId = str(message, fields, 'customerId');
      const at = dateField(message, fields, 'at');
      const benefit = fields.benefit as Record<string, unknown> | null;
      if (typeof benefit !== 'object' || benefit === null) throw badPayload(message, 'has no benefit');
      let data: EmailTemplateData['coupon_redeemed']['benefit'];
      if (benefit.type === 'credits') {
        const days = benefit.expiresInDays;
        if (days !== null && (typeof days !== 'number' || !Number.isSafeInteger(days)))
          throw badPayload(message, 'has a bad expiresInDays');
        // The coupon bucket's expiry, as the store computed it: days of 24 hours from the redemption.
        data = {
          type: 'credits',
          amountMicros: bigintField(message, benefit, 'amountMicros'),
          expiresAt: days === null ? null : new Date(at.getTime() + days * DAY_MS),
        };
      } else if (benefit.type === 'percent_off') {
        data = {
          type: 'percent_off',
          percentOffBps: intField(message, benefit, 'percentOffBps'),
          durationPeriods: intField(message, benefit, 'durationPeriods'),
        };
      } else {
        throw badPayload(message, 'has an unknown benefit type');
      }
      await notify(
        'coupon_redeemed',
        { customerId, customerName: null, code: str(message, fields, 'code'), benefit: data },
        `coupon_redeemed:${str(message, fields, 'redemptionId')}`,
      );
    },

    async [NOTIFICATION_TOPICS.tierChanged](message) {
      const fields = fieldsOf(message);
      const direction = fields.direction;
      const timing = fields.timing;
      if (direction !== 'upgrade' && direction !== 'downgrade') throw badPayload(message, 'has no direction');
      if (timing !== 'now' && timing !== 'scheduled') throw badPayload(message, 'has no timing');
      const from = tierOf(str(message, fields, 'from'));
      const to = tierOf(str(message, fields, 'to'));
      await notify(
        direction === 'upgrade' ? 'tier_upgraded' : 'tier_downgraded',
        {
          customerId: str(message, fields, 'customerId'),
          customerName: null,
          fromTierName: from.name,
          toTierName: to.name,
          timing,
          effectiveAt: dateField(message, fields, 'effectiveAt'),
          priceMinor: to.price,
          currency: catalog.currency,
          allowanceMicros: allowanceOf(to),
        },
        `tier:${message.dedupeKey}`,
      );
    },

    async [NOTIFICATION_TOPICS.paymentFailed](message) {
      const fields = fieldsOf(message);
      const invoiceId = str(message, fields, 'invoiceId');
      const attemptCount = intField(message, fields, 'attemptCount');
      await notify(
        'payment_failed',
        {
          customerId: str(message, fields, 'customerId'),
          customerName: null,
          amountDueMinor: bigintField(message, fields, 'amountDueCents'),
          currency: catalog.currency,
          attemptCount,
          nextAttemptAt: optionalDate(message, fields, 'nextAttemptAt'),
        },
        `payment_failed:${invoiceId}:${attemptCount}`,
      );
    },
  };

  return { handlers, lowBalance };
}
