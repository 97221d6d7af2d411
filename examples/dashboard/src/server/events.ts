/**
 * Live events for the app (`GET /demo/events`, server-sent events): `ledger` when the journal gets new
 * entries for a customer (polled every second while anyone listens), `health` every 10 s for admins.
 * A customer hears only of their own entries.
 */
import type { TallyPrincipal } from '@tally/core/http';
import type { DemoDatabase } from './database.ts';
import type { HealthReport } from './health.ts';

export type LiveEvent = { event: 'ledger'; data: { customerId: string; at: string } } | { event: 'health'; data: HealthReport };

export interface Listener {
  principal: TallyPrincipal;
  send(event: LiveEvent): void;
  /** Ends the stream (the server is closing). */
  end(): void;
}

export interface EventHub {
  /**
   * Starts delivering to the listener; resolves (with its unsubscribe) once the journal position it
   * starts from is known, so every entry written after that reaches it.
   */
  subscribe(listener: Listener): Promise<() => void>;
  /** Ends every stream and stops polling. */
  close(): Promise<void>;
  /** Listeners now (for tests and the start-up message). */
  size(): number;
}

const POLL_MS = 1_000;
const HEALTH_MS = 10_000;
/**
 * Entry ids come from a sequence, but a transaction that took an id earlier may commit after one that
 * took a later id. Each poll looks this far below the highest id seen, skipping ids already reported.
 */
const LOOKBACK = 500n;

const isAdmin = (principal: TallyPrincipal) => principal.roles.includes('admin');

export function createEventHub(options: {
  db: DemoDatabase;
  health: () => Promise<HealthReport>;
  onError: (error: unknown) => void;
}): EventHub {
  const listeners = new Set<Listener>();
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let healthTimer: ReturnType<typeof setInterval> | null = null;
  let polling: Promise<void> | null = null;
  let highest: bigint | null = null;
  /** Entries up to this id were there before anyone listened: never reported. */
  let start = 0n;
  const seen = new Set<bigint>();
  let closed = false;

  async function baseline(): Promise<void> {
    const [row] = await options.db.query<{ id: string | null }>('select max(id)::text as id from tally_entries');
    highest = BigInt(row?.id ?? '0');
    start = highest;
    seen.clear();
  }

  async function poll(): Promise<void> {
    if (highest === null) return baseline();
    const low = highest - LOOKBACK > start ? highest - LOOKBACK : start;
    const rows = await options.db.query<{ id: string; customer_id: string; created_at: Date | string }>(
      'select id::text as id, customer_id, created_at from tally_entries where id > $1 order by id limit 2000',
      [low.toString()],
    );
    const latest = new Map<string, Date>();
    for (const row of rows) {
      const id = BigInt(row.id);
      if (seen.has(id)) continue;
      seen.add(id);
      if (id > highest) highest = id;
      const at = new Date(row.created_at);
      const before = latest.get(row.customer_id);
      if (!before || before < at) latest.set(row.customer_id, at);
    }
    const floor = highest - LOOKBACK;
    for (const id of seen) if (id <= floor) seen.delete(id);
    for (const [customerId, at] of latest) {
      const event: LiveEvent = { event: 'ledger', data: { customerId, at: at.toISOString() } };
      for (const listener of listeners) {
        if (isAdmin(listener.principal) || listener.principal.customerId === customerId) listener.send(event);
      }
    }
  }

  function schedulePoll(delay: number) {
    if (closed || listeners.size === 0) return;
    pollTimer = setTimeout(async () => {
      pollTimer = null;
      polling = poll().catch(options.onError);
      await polling;
      polling = null;
      schedulePoll(POLL_MS);
    }, delay);
  }

  async function sendHealth(targets: Listener[]) {
    if (targets.length === 0) return;
    try {
      const report = await options.health();
      for (const listener of targets) if (listeners.has(listener)) listener.send({ event: 'health', data: report });
    } catch (error) {
      options.onError(error);
    }
  }

  const admins = () => [...listeners].filter((listener) => isAdmin(listener.principal));

  return {
    async subscribe(listener) {
      if (closed) {
        listener.end();
        return () => {};
      }
      if (listeners.size === 0 && !pollTimer) {
        // Nobody listened: start from the newest entry, so only what happens from now on is reported.
        await polling;
        if (listeners.size === 0 && !pollTimer) {
          polling = baseline();
          await polling.finally(() => {
            polling = null;
          });
        }
      }
      listeners.add(listener);
      if (!pollTimer && !polling) schedulePoll(POLL_MS);
      if (isAdmin(listener.principal)) {
        void sendHealth([listener]);
        healthTimer ??= setInterval(() => void sendHealth(admins()), HEALTH_MS);
      }
      return () => {
        listeners.delete(listener);
        if (admins().length === 0 && healthTimer) {
          clearInterval(healthTimer);
          healthTimer = null;
        }
        if (listeners.size === 0 && pollTimer) {
          clearTimeout(pollTimer);
          pollTimer = null;
        }
      };
    },
    async close() {
      closed = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (healthTimer) clearInterval(healthTimer);
      pollTimer = null;
      healthTimer = null;
      for (const listener of [...listeners]) listener.end();
      listeners.clear();
      await polling;
    },
    size: () => listeners.size,
  };
}
