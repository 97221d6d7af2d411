import { type OutboxHandler, type OutboxMessage, TallyError } from '@tally/core';
import type { KeycloakClient, KeycloakUser } from './client.js';

export interface KeycloakSinkOptions {
  client: KeycloakClient;
  /** The Keycloak user id of a Tally customer. Default: the customer id itself. */
  userIdFor?: (customerId: string) => string | Promise<string>;
}

export interface KeycloakSink {
  handlers: { 'subscription.updated': OutboxHandler };
}

/** The user attributes the sink writes. */
export const KEYCLOAK_ATTRIBUTES = ['tally_tier', 'tally_status', 'tally_version'] as const;

const STATUSES = ['trialing', 'active', 'past_due', 'canceled'];

interface Update {
  customerId: string;
  tier: string;
  status: string;
  version: number;
}

function parseUpdate(message: OutboxMessage): Update {
  let value: Record<string, unknown> | null = null;
  try {
    value = JSON.parse(message.payload);
  } catch {
    // Refused below.
  }
  const fail = (what: string) =>
    new TallyError('VALIDATION', `outbox message ${message.id} (${message.topic}): ${what}`, { details: { id: message.id } });
  if (typeof value !== 'object' || value === null) throw fail('payload is not a JSON object');
  const { customerId, tier, status, version } = value;
  if (typeof customerId !== 'string' || customerId === '') throw fail('customerId must be a customer id');
  if (typeof tier !== 'string' || tier === '') throw fail('tier must be a tier id');
  if (typeof status !== 'string' || !STATUSES.includes(status)) throw fail(`status must be one of ${STATUSES.join(', ')}`);
  if (!Number.isSafeInteger(version) || (version as number) < 0) throw fail('version must be a non-negative integer');
  return { customerId, tier, status, version: version as number };
}

/** The version stored on the user, or null when there is none (or it is not a number Tally wrote). */
function storedVersion(user: KeycloakUser): number | null {
  const value = user.attributes?.tally_version?.[0];
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

/**
 * Mirrors the subscription onto the Keycloak user as attributes `tally_tier`, `tally_status` and
 * `tally_version`, so apps can gate features on the token. Read-merge-write (Keycloak's PUT replaces
 * the whole attribute map), then read back: a realm that silently drops undeclared attributes is
 * reported, not ignored. An update older than the user's `tally_version` is skipped.
 */
export function createKeycloakSink(options: KeycloakSinkOptions): KeycloakSink {
  const { client } = options;
  const userIdFor = options.userIdFor ?? ((customerId: string) => customerId);

  return {
    handlers: {
      async 'subscription.updated'(message) {
        const update = parseUpdate(message);
        const userId = await userIdFor(update.customerId);
        const user = await client.getUser(userId);
        const current = storedVersion(user);
        if (current !== null && update.version < current) return;
        const wanted: Record<(typeof KEYCLOAK_ATTRIBUTES)[number], string> = {
          tally_tier: update.tier,
          tally_status: update.status,
          tally_version: String(update.version),
        };
        const attributes: Record<string, string[]> = { ...(user.attributes ?? {}) };
        for (const [name, value] of Object.entries(wanted)) attributes[name] = [value];
        // The whole representation goes back, so fields the PUT might reset keep their values; `access` is computed.
        const { access: _computed, ...representation } = user;
        await client.updateUser(userId, { ...representation, attributes });

        const after = await client.getUser(userId);
        const newer = storedVersion(after);
        // Another worker wrote a newer update in between: that one stands.
        if (newer !== null && newer > update.version) return;
        const dropped = KEYCLOAK_ATTRIBUTES.filter((name) => after.attributes?.[name]?.[0] !== wanted[name]);
        if (dropped.length > 0) {
          throw new TallyError(
            'PROVIDER_REJECTED',
            `Keycloak accepted but did not keep the user attributes ${dropped.join(', ')} of user ${userId}: the realm's user profile ` +
              `does not declare them and its unmanagedAttributePolicy drops undeclared attributes. Declare ${KEYCLOAK_ATTRIBUTES.join(', ')} ` +
              `in the realm's user profile (Realm settings → User profile), or set unmanagedAttributePolicy to ADMIN_EDIT.`,
            { details: { userId, dropped } },
          );
        }
      },
    },
  };
}
