/**
 * Which notifications a customer receives (docs/notifications.md). Every category is on until the
 * customer turns it off; a required category cannot be turned off. Every store checks changes with
 * `checkNotificationChanges`, so the memory store, PGlite and Postgres refuse the same input with
 * the same `VALIDATION`.
 */
import { TallyError } from '../errors/index.js';

export interface NotificationCategoryInfo {
  id: string;
  /** A required category is always sent: turning it off is refused. */
  required: boolean;
  /** Why a required category cannot be turned off, for the settings page; null for the others. */
  reason: string | null;
}

/** Every category, in the order a settings page lists them. */
export const NOTIFICATION_CATEGORIES = [
  { id: 'welcome', required: false, reason: null },
  { id: 'low_balance', required: false, reason: null },
  { id: 'monthly_reset', required: false, reason: null },
  { id: 'coupon_redeemed', required: false, reason: null },
  { id: 'tier_changed', required: false, reason: null },
  {
    id: 'payment_failed',
    required: true,
    reason: 'Access to your account depends on a working payment method, so a failed payment is always reported.',
  },
  { id: 'provider_balance_low', required: false, reason: null },
] as const satisfies ReadonlyArray<NotificationCategoryInfo>;
// Frozen as well as typed readonly: it is shared by every store and caller.
for (const category of NOTIFICATION_CATEGORIES) Object.freeze(category);
Object.freeze(NOTIFICATION_CATEGORIES);

export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number]['id'];

export interface NotificationPreferences {
  customerId: string;
  /** Every category, on (true) or off. */
  categories: Record<NotificationCategory, boolean>;
  /** When they were last set; null while the customer has the defaults. */
  updatedAt: Date | null;
}

export interface SetNotificationPreferencesCommand {
  customerId: string;
  /** Only the categories to change; the others keep their values. */
  changes: Partial<Record<NotificationCategory, boolean>>;
  at: Date;
}

const BY_ID: ReadonlyMap<string, NotificationCategoryInfo> = new Map(NOTIFICATION_CATEGORIES.map((category) => [category.id, category]));

export function isNotificationCategory(value: unknown): value is NotificationCategory {
  return typeof value === 'string' && BY_ID.has(value);
}

function invalid(field: string, message: string, details: Record<string, unknown> = {}): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field, ...details } });
}

/**
 * Checks `changes` and returns a plain copy of it. Unknown categories, values other than true or
 * false, and turning off a required category are `VALIDATION` (details name the category).
 */
export function checkNotificationChanges(changes: unknown): Partial<Record<NotificationCategory, boolean>> {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw invalid('changes', 'must be an object of category ids to true or false');
  }
  const out: Partial<Record<NotificationCategory, boolean>> = {};
  for (const [id, value] of Object.entries(changes)) {
    const category = BY_ID.get(id);
    const field = `changes.${id}`;
    if (!category) {
      throw invalid(field, `is not a notification category (${NOTIFICATION_CATEGORIES.map((c) => c.id).join(', ')})`, { category: id });
    }
    if (typeof value !== 'boolean') throw invalid(field, 'must be true or false', { category: id });
    if (category.required && !value) throw invalid(field, `cannot be turned off: ${category.reason}`, { category: id, required: true });
    out[id as NotificationCategory] = value;
  }
  return out;
}

/** Checks a `setNotificationPreferences` command (the customer's existence is the store's to check). */
export function checkSetNotificationPreferences(command: SetNotificationPreferencesCommand): SetNotificationPreferencesCommand {
  if (typeof command !== 'object' || command === null) throw invalid('command', 'must be an object');
  // NUL can be in no id (Postgres refuses it in text), so every store refuses it alike.
  if (typeof command.customerId !== 'string' || command.customerId.includes('\0'))
    throw invalid('customerId', 'must be a string without NUL');
  const changes = checkNotificationChanges(command.changes);
  const at = command.at;
  if (!(at instanceof Date) || !Number.isFinite(at.getTime())) throw invalid('at', 'must be a valid date');
  return { customerId: command.customerId, changes, at: new Date(at.getTime()) };
}

/**
 * A customer's preferences from what a store kept: the categories ever set, over the defaults (on).
 * Stored ids that are no longer categories are ignored, so a category added later starts on.
 */
export function notificationPreferences(
  customerId: string,
  stored: Readonly<Record<string, unknown>> | null,
  updatedAt: Date | null,
): NotificationPreferences {
  const categories = {} as Record<NotificationCategory, boolean>;
  for (const { id } of NOTIFICATION_CATEGORIES) {
    const value = stored && Object.hasOwn(stored, id) ? stored[id] : undefined;
    categories[id] = typeof value === 'boolean' ? value : true;
  }
  return { customerId, categories, updatedAt: updatedAt === null ? null : new Date(updatedAt.getTime()) };
}
