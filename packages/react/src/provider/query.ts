import { type QueryKey, type QuerySnapshot, queryKeyHash } from '@tally/core/client';
import { useCallback, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { TallyClientLike } from './client.js';
import { useTally } from './provider.js';

export interface TallyQueryResult<T> extends QuerySnapshot<T> {
  /** Loads the query again (also after an error); resolves when it settles. */
  refetch(): Promise<void>;
}

export interface TallyQueryOptions {
  /**
   * `false` holds the query back (e.g. until a tier is picked, or while a write is in flight): it is
   * neither loaded nor refreshed, and shows what the cache already has, else `loading`, not fetching.
   */
  enabled?: boolean;
}

const IDLE: QuerySnapshot<never> = Object.freeze({ status: 'loading', data: undefined, error: null, fetching: false });

/**
 * Reads `key` from the provider's cache, loading it with `load(client)` when needed, and re-renders
 * when it changes (useSyncExternalStore). The building block of every data hook.
 */
export function useTallyQuery<T>(key: QueryKey, load: (client: TallyClientLike) => Promise<T>, options: TallyQueryOptions = {}) {
  const { cache, client } = useTally();
  const enabled = options.enabled ?? true;
  const hash = queryKeyHash(key);
  // Callers build the key inline; keep one array per distinct key so the subscription stays put.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the hash is the key's identity
  const stableKey = useMemo(() => key, [hash]);
  // Not subscribed while disabled, so an invalidation doesn't load it behind the caller's back.
  const subscribe = useCallback(
    (listener: () => void) => (enabled ? cache.subscribe(stableKey, listener) : () => {}),
    [cache, stableKey, enabled],
  );
  const getSnapshot = (): QuerySnapshot<T> => (enabled ? cache.read(stableKey, () => load(client)) : (cache.peek<T>(stableKey) ?? IDLE));
  // On the server nothing is loaded: render what the cache already has, else the loading state.
  const getServerSnapshot = (): QuerySnapshot<T> => cache.peek<T>(stableKey) ?? IDLE;
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
  const refetch = useCallback(() => cache.invalidate(stableKey), [cache, stableKey]);
  return useMemo<TallyQueryResult<T>>(() => ({ ...snapshot, refetch }), [snapshot, refetch]);
}

export type MutationStatus = 'idle' | 'pending' | 'success' | 'error';

export interface TallyMutation<A extends unknown[], R> {
  /** Runs the write; resolves with its result after the affected queries are fresh, rejects with its error. */
  mutate(...args: A): Promise<R>;
  status: MutationStatus;
  data: R | undefined;
  error: Error | null;
  /** Back to `idle`, e.g. when a form is edited after an error. */
  reset(): void;
}

interface MutationState<R> {
  status: MutationStatus;
  data: R | undefined;
  error: Error | null;
}

const IDLE_MUTATION: MutationState<never> = { status: 'idle', data: undefined, error: null };

/**
 * A write through the client that invalidates `invalidates` (key prefixes) when it settles. The
 * state is the latest call's: an older call that settles later does not overwrite it.
 */
export function useTallyMutation<A extends unknown[], R>(
  write: (client: TallyClientLike, ...args: A) => Promise<R>,
  invalidates: readonly QueryKey[],
): TallyMutation<A, R> {
  const { cache, client } = useTally();
  const [state, setState] = useState<MutationState<R>>(IDLE_MUTATION);
  const latest = useRef(0);
  const writeRef = useRef(write);
  writeRef.current = write;
  const invalidatesHash = invalidates.map(queryKeyHash).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the hash stands for the prefixes
  const mutate = useCallback(
    async (...args: A): Promise<R> => {
      const call = ++latest.current;
      setState({ status: 'pending', data: undefined, error: null });
      try {
        const data = await cache.mutate(() => writeRef.current(client, ...args), { invalidates });
        if (call === latest.current) setState({ status: 'success', data, error: null });
        return data;
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        if (call === latest.current) setState({ status: 'error', data: undefined, error: failure });
        throw failure;
      }
    },
    [cache, client, invalidatesHash],
  );
  const reset = useCallback(() => {
    latest.current++;
    setState(IDLE_MUTATION);
  }, []);
  return useMemo(() => ({ ...state, mutate, reset }), [state, mutate, reset]);
}
