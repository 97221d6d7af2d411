import { type Clock, type ModelPrice, systemClock, TallyError } from '@tally/core';
import type { OpenRouterClient, OpenRouterListedModel } from './client.js';
import type { OpenRouterPrice } from './pricing.js';

/** `live`: fetched by this lookup; `cache`: within the TTL; `fallback`: stale, because the refresh failed. */
export type OpenRouterPriceSource = 'live' | 'cache' | 'fallback';

export type OpenRouterCatalogPrice = OpenRouterPrice & {
  model: string;
  free: boolean;
  source: OpenRouterPriceSource;
  /** When these prices were fetched from OpenRouter. */
  fetchedAt: Date;
};

/** One lookup answered from stale prices because OpenRouter could not be reached (or refused). */
export interface OpenRouterFallback {
  model: string;
  at: Date;
  /** Age of the prices used: when they were fetched. */
  fetchedAt: Date;
  /** Why the refresh failed. */
  error: TallyError;
}

export interface OpenRouterCatalogOptions {
  client: Pick<OpenRouterClient, 'listModels'>;
  /** How long fetched prices are used before a refresh. Default 1 hour. */
  ttlMs?: number;
  /** After a failed refresh, stale prices are served this long before the next attempt. Default 60 s. */
  retryMs?: number;
  clock?: Clock;
  /** Called (synchronously) for every lookup answered from stale prices. */
  onFallback?: (fallback: OpenRouterFallback) => void;
  /** How many fallbacks `fallbacks().recent` keeps. Default 100. */
  keep?: number;
}

export interface OpenRouterCatalog {
  /**
   * A model's price. Unknown model → `UNKNOWN_MODEL`; a price that can't be kept exactly →
   * `PRICE_UNAVAILABLE`; no prices ever fetched and OpenRouter unreachable → `PROVIDER_UNAVAILABLE`.
   */
  price(model: string): Promise<OpenRouterCatalogPrice>;
  /** The fixed price (femto-USD per token), e.g. for `tallyMiddleware({ price })`; `dynamic` → `PRICE_UNAVAILABLE`. */
  modelPrice(model: string): Promise<ModelPrice>;
  /** Fetches now, whatever the TTL. Throws when OpenRouter fails (the cached prices stay). */
  refresh(): Promise<void>;
  /** Every lookup answered from stale prices: how many, and the most recent ones. */
  fallbacks(): { count: number; recent: OpenRouterFallback[] };
}

interface Snapshot {
  models: Map<string, OpenRouterListedModel>;
  rejected: Map<string, TallyError>;
  fetchedAt: Date;
}

function asTallyError(error: unknown): TallyError {
  if (TallyError.is(error)) return error;
  return new TallyError(
    'PROVIDER_UNAVAILABLE',
    `Fetching OpenRouter prices failed: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );
}

/**
 * OpenRouter's model prices, cached for `ttlMs`. When a refresh fails, the last known prices keep
 * serving, and each such answer says so: `source: 'fallback'`, an `onFallback` call and an entry in
 * `fallbacks()`. Concurrent lookups share one refresh.
 */
export function createOpenRouterCatalog(options: OpenRouterCatalogOptions): OpenRouterCatalog {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const retryMs = options.retryMs ?? 60_000;
  const keep = options.keep ?? 100;
  const clock = options.clock ?? systemClock;
  for (const [name, value] of Object.entries({ ttlMs, retryMs, keep })) {
    if (!Number.isInteger(value) || value < 0)
      throw new TallyError('VALIDATION', `OpenRouter catalog option ${name} must be a non-negative integer`);
  }

  let snapshot: Snapshot | null = null;
  let failedAt: number | null = null;
  let lastError: TallyError | null = null;
  let inflight: Promise<Snapshot> | null = null;
  let fallbackCount = 0;
  const recent: OpenRouterFallback[] = [];

  function fetchShared(): Promise<Snapshot> {
    inflight ??= (async () => {
      try {
        const list = await options.client.listModels();
        const next: Snapshot = {
          models: new Map(list.models.map((model) => [model.id, model])),
          rejected: new Map(list.rejected.map(({ id, error }) => [id, error])),
          fetchedAt: clock.now(),
        };
        snapshot = next;
        failedAt = null;
        lastError = null;
        return next;
      } catch (error) {
        failedAt = clock.now().getTime();
        lastError = asTallyError(error);
        throw lastError;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  async function current(): Promise<{ prices: Snapshot; source: OpenRouterPriceSource }> {
    const now = clock.now().getTime();
    if (snapshot && now - snapshot.fetchedAt.getTime() < ttlMs) return { prices: snapshot, source: 'cache' };
    if (snapshot && failedAt !== null && now - failedAt < retryMs) return { prices: snapshot, source: 'fallback' };
    try {
      return { prices: await fetchShared(), source: 'live' };
    } catch (error) {
      if (snapshot) return { prices: snapshot, source: 'fallback' };
      const cause = asTallyError(error);
      throw new TallyError('PROVIDER_UNAVAILABLE', `No OpenRouter prices are known and they could not be fetched: ${cause.message}`, {
        cause,
        details: { ...cause.details, reason: cause.code },
      });
    }
  }

  const catalog: OpenRouterCatalog = {
    async price(model) {
      if (typeof model !== 'string' || model === '') throw new TallyError('VALIDATION', 'A model id is a non-empty string');
      const { prices, source } = await current();
      const rejected = prices.rejected.get(model);
      if (rejected) {
        throw new TallyError('PRICE_UNAVAILABLE', `OpenRouter's price for "${model}" can't be used exactly: ${rejected.message}`, {
          cause: rejected,
          details: { model },
        });
      }
      const listed = prices.models.get(model);
      if (!listed) {
        throw new TallyError('UNKNOWN_MODEL', `OpenRouter lists no model "${model}"`, {
          details: { model, stale: source === 'fallback', fetchedAt: prices.fetchedAt.toISOString() },
        });
      }
      if (source === 'fallback') {
        const fallback: OpenRouterFallback = {
          model,
          at: clock.now(),
          fetchedAt: prices.fetchedAt,
          error: lastError ?? new TallyError('PROVIDER_UNAVAILABLE', 'OpenRouter prices could not be refreshed'),
        };
        fallbackCount++;
        recent.push(fallback);
        if (recent.length > keep) recent.splice(0, recent.length - keep);
        options.onFallback?.(fallback);
      }
      return { ...listed.price, model, free: listed.free, source, fetchedAt: prices.fetchedAt };
    },

    async modelPrice(model) {
      const found = await catalog.price(model);
      if (found.kind === 'dynamic') {
        throw new TallyError('PRICE_UNAVAILABLE', `OpenRouter prices "${model}" per call (-1): use the cost it reports`, {
          details: { model, dynamic: true },
        });
      }
      return found.price;
    },

    async refresh() {
      await fetchShared();
    },

    fallbacks() {
      return { count: fallbackCount, recent: [...recent] };
    },
  };
  return catalog;
}
