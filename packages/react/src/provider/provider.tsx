import { createTallyCache, type TallyCache } from '@tally/core/client';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import type { TallyClientLike } from './client.js';

export interface TallyProviderProps {
  /** `createTallyClient({ baseUrl })` from `@tally/core/client`, or any object with the same methods. */
  client: TallyClientLike;
  /** Share one cache between providers or with code outside React. Default: one per client. */
  cache?: TallyCache;
  /** BCP 47 locale for amounts and dates. Default `en-US`. */
  locale?: string;
  /** IANA time zone for dates. Default: the browser's. */
  timeZone?: string;
  /**
   * Opens a checkout, invoice or billing-portal URL. Default: `window.location.assign(url)`; pass
   * your router's navigation, or open a new tab.
   */
  navigate?: (url: string) => void;
  children?: ReactNode;
}

export interface TallyContextValue {
  client: TallyClientLike;
  cache: TallyCache;
  locale: string;
  timeZone: string | undefined;
  navigate: (url: string) => void;
}

const TallyContext = createContext<TallyContextValue | null>(null);

function assignLocation(url: string): void {
  window.location.assign(url);
}

/** Gives the hooks and widgets below it a client, a cache and display settings. */
export function TallyProvider({ client, cache, locale = 'en-US', timeZone, navigate = assignLocation, children }: TallyProviderProps) {
  // A new client may speak for another customer: its answers must not mix with the old cache.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new client must get a new cache
  const ownCache = useMemo(() => (cache ? null : createTallyCache()), [cache, client]);
  const value = useMemo<TallyContextValue>(
    () => ({ client, cache: cache ?? (ownCache as TallyCache), locale, timeZone, navigate }),
    [client, cache, ownCache, locale, timeZone, navigate],
  );
  return <TallyContext.Provider value={value}>{children}</TallyContext.Provider>;
}

/** The provider's client, cache and settings; throws when used outside `<TallyProvider>`. */
export function useTally(): TallyContextValue {
  const value = useContext(TallyContext);
  if (!value) throw new Error('Tally hooks and widgets must be rendered inside <TallyProvider client={…}>.');
  return value;
}
