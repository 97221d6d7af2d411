import { TallyError } from '../errors/index.js';

/**
 * A tiny, framework-free query cache for the typed client: keyed reads with stable snapshots
 * (the shape `useSyncExternalStore` needs), one load per key at a time, and invalidation by key
 * prefix after mutations. It knows nothing of React; `@tally/react` binds it.
 */

/** A query's identity, e.g. `['tally', 'usage', { groupBy: 'day' }]`. Compared by value, element by element. */
export type QueryKey = readonly unknown[];

export type QueryStatus = 'loading' | 'success' | 'error';

/**
 * What a query looks like right now. The same object is returned until something changes, so it
 * can be compared with `===`.
 */
export interface QuerySnapshot<T> {
  /** `loading` until the first load settles; afterwards the outcome of the latest one. */
  readonly status: QueryStatus;
  /** The last successful result; kept while refetching and after a failed refetch. */
  readonly data: T | undefined;
  /** The latest load's error; null once a load succeeds. */
  readonly error: Error | null;
  /** A load is in flight (the first one or a refetch). */
  readonly fetching: boolean;
}

export interface CacheMutateOptions {
  /** Key prefixes to invalidate once the mutation settles, e.g. `[['tally', 'balance']]`. */
  invalidates?: readonly QueryKey[];
}

export interface TallyCache {
  /**
   * The snapshot for `key`. Starts `load` when the key has no data yet or was invalidated and no
   * load is in flight; concurrent reads share one load. A failed query is not retried by reading
   * (that would loop): invalidate it to try again.
   */
  read<T>(key: QueryKey, load: () => Promise<T>): QuerySnapshot<T>;
  /** The snapshot for `key` without starting a load; undefined for a key never read. */
  peek<T>(key: QueryKey): QuerySnapshot<T> | undefined;
  /** Calls `listener` whenever the snapshot for `key` changes. Returns the unsubscribe function. */
  subscribe(key: QueryKey, listener: () => void): () => void;
  /**
   * Every cached key that starts with `prefix` is out of date: subscribed keys and keys with a load
   * in flight are loaded again at once (the earlier load's late result is ignored), the others on
   * their next read. Resolves when those loads settle; their errors land in the snapshots, never here.
   */
  invalidate(prefix: QueryKey): Promise<void>;
  /** Runs `fn`, then invalidates `options.invalidates` (on failure too: a timed-out write may have landed). */
  mutate<R>(fn: () => Promise<R>, options?: CacheMutateOptions): Promise<R>;
  /** Replaces the data for `key` (e.g. with a write's response); supersedes a load in flight. */
  set<T>(key: QueryKey, data: T): void;
  /** Forgets every key that starts with `prefix` (all keys without one); subscribers see `loading`. */
  clear(prefix?: QueryKey): void;
}

interface Entry {
  readonly parts: readonly string[];
  snapshot: QuerySnapshot<unknown>;
  load: (() => Promise<unknown>) | null;
  /** A load whose result still counts is running; a newer load, a `set` or a `clear` ends that. */
  inFlight: boolean;
  generation: number;
  stale: boolean;
  readonly listeners: Set<() => void>;
}

const INITIAL: QuerySnapshot<never> = Object.freeze({ status: 'loading', data: undefined, error: null, fetching: false });

const success = (data: unknown): Partial<QuerySnapshot<unknown>> => ({ status: 'success', data, error: null, fetching: false });

function needFunction(value: unknown, message: string): void {
  if (typeof value !== 'function') throw new TallyError('VALIDATION', message);
}

export function createTallyCache(): TallyCache {
  const entries = new Map<string, Entry>();

  function entryFor(key: QueryKey): Entry {
    const parts = keyParts(key);
    const id = parts.join(',');
    let entry = entries.get(id);
    if (!entry) {
      entry = { parts, snapshot: INITIAL, load: null, inFlight: false, generation: 0, stale: true, listeners: new Set() };
      entries.set(id, entry);
    }
    return entry;
  }

  /** Replaces the snapshot when a field changed; says whether it did. */
  function update(entry: Entry, next: Partial<QuerySnapshot<unknown>>): boolean {
    const current = entry.snapshot as unknown as Record<string, unknown>;
    // `next` holds snapshot fields only, so comparing its own fields is comparing the whole.
    if (Object.entries(next).every(([field, value]) => current[field] === value)) return false;
    entry.snapshot = Object.freeze({ ...entry.snapshot, ...next });
    return true;
  }

  function notify(entry: Entry): void {
    // A listener may unsubscribe others while we iterate: copy first.
    for (const listener of [...entry.listeners]) listener();
  }

  function publish(entry: Entry, next: Partial<QuerySnapshot<unknown>>): void {
    if (update(entry, next)) notify(entry);
  }

  /** Makes a load in flight irrelevant: its late result is dropped. */
  function supersede(entry: Entry, stale: boolean): void {
    entry.generation++;
    entry.inFlight = false;
    entry.stale = stale;
  }

  /**
   * Starts a load for `entry`. `quiet` defers the notification to a microtask: `read` runs while a
   * component renders, and telling other components to update in the middle of that is an error.
   */
  async function start(entry: Entry, quiet = false): Promise<void> {
    const load = entry.load;
    if (!load) return;
    supersede(entry, false);
    const generation = entry.generation;
    entry.inFlight = true;
    if (!quiet) publish(entry, { fetching: true });
    else if (update(entry, { fetching: true })) {
      const told = entry.snapshot;
      // Skipped when a later change has already told the listeners.
      queueMicrotask(() => {
        if (entry.snapshot === told) notify(entry);
      });
    }
    let outcome: Partial<QuerySnapshot<unknown>>;
    try {
      outcome = success(await load());
    } catch (error) {
      outcome = { status: 'error', error: asError(error), fetching: false };
    }
    if (generation === entry.generation) {
      entry.inFlight = false;
      publish(entry, outcome);
    }
  }

  function matching(prefix: QueryKey): Entry[] {
    const parts = keyParts(prefix);
    return [...entries.values()].filter((entry) => parts.every((part, i) => entry.parts[i] === part));
  }

  async function invalidate(prefix: QueryKey): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const entry of matching(prefix)) {
      entry.stale = true;
      // A load already in flight may have read the data before the change: supersede it.
      if (entry.listeners.size > 0 || entry.inFlight) loads.push(start(entry));
    }
    await Promise.all(loads);
  }

  return {
    read<T>(key: QueryKey, load: () => Promise<T>): QuerySnapshot<T> {
      needFunction(load, 'read(key, load) needs a load function');
      const entry = entryFor(key);
      entry.load = load;
      if (entry.stale && !entry.inFlight) void start(entry, true);
      return entry.snapshot as QuerySnapshot<T>;
    },

    peek<T>(key: QueryKey): QuerySnapshot<T> | undefined {
      return entries.get(queryKeyHash(key))?.snapshot as QuerySnapshot<T> | undefined;
    },

    subscribe(key: QueryKey, listener: () => void): () => void {
      needFunction(listener, 'subscribe(key, listener) needs a listener function');
      const { listeners } = entryFor(key);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    invalidate,

    async mutate<R>(fn: () => Promise<R>, options: CacheMutateOptions = {}): Promise<R> {
      needFunction(fn, 'mutate(fn) needs a function');
      const prefixes = options.invalidates ?? [];
      // Check the prefixes before writing, so a bad option fails with nothing sent.
      for (const prefix of prefixes) keyParts(prefix);
      try {
        return await fn();
      } finally {
        await Promise.all(prefixes.map(invalidate));
      }
    },

    set<T>(key: QueryKey, data: T): void {
      const entry = entryFor(key);
      supersede(entry, false);
      publish(entry, success(data));
    },

    clear(prefix: QueryKey = []): void {
      for (const entry of matching(prefix)) {
        supersede(entry, true);
        // Subscribers hold on to their entry, so keep it for them and let their next read load it.
        if (entry.listeners.size === 0) {
          entries.delete(entry.parts.join(','));
        } else if (entry.snapshot !== INITIAL) {
          entry.snapshot = INITIAL;
          notify(entry);
        }
      }
    },
  };
}

/**
 * A key as comparable strings, one per element. Objects compare by value with their keys sorted,
 * so `{ from, to }` and `{ to, from }` are the same query; bigints keep every digit.
 */
export function keyParts(key: QueryKey): string[] {
  if (!Array.isArray(key)) throw new TallyError('VALIDATION', 'A query key must be an array');
  return key.map((part, index) => {
    try {
      return stableJson(part);
    } catch (cause) {
      throw new TallyError('VALIDATION', `Query key element ${index} cannot be compared: ${(cause as Error).message}`, {
        cause,
        issues: [{ path: [index], message: 'not a plain value' }],
      });
    }
  });
}

/** The key as one string, e.g. for a hook's dependency list. */
export function queryKeyHash(key: QueryKey): string {
  return keyParts(key).join(',');
}

function stableJson(value: unknown, seen: unknown[] = []): string {
  const type = typeof value;
  if (type === 'bigint') return `${value}n`;
  // JSON would turn NaN and Infinity into null and -0 into 0.
  if (type === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (type === 'string') return JSON.stringify(value);
  if (value == null || type === 'boolean') return String(value);
  if (type !== 'object') throw new Error(`a ${type} has no value to compare`);
  if (seen.includes(value)) throw new Error('circular value');
  const inner = [...seen, value];
  // An array in a template literal is its items joined by commas.
  if (Array.isArray(value)) return `[${value.map((item) => stableJson(item, inner))}]`;
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new Error('only plain objects, arrays and dates');
  const record = value as Record<string, unknown>;
  const fields = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${stableJson(record[name], inner)}`);
  return `{${fields}}`;
}

function asError(error: unknown): Error {
  if (error instanceof Error || TallyError.is(error)) return error as Error;
  return new TallyError('INTERNAL', `A query failed with a non-Error value: ${String(error)}`, { cause: error });
}
