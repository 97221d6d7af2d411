import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { createTallyCache, keyParts, type QuerySnapshot, queryKeyHash } from './store.js';

/** A promise whose settlement the test controls, to order loads and mutations exactly. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader that counts its calls and answers each from a queue of deferreds. */
function scriptedLoader<T>() {
  const pending: Array<ReturnType<typeof deferred<T>>> = [];
  const load = () => {
    const next = deferred<T>();
    pending.push(next);
    return next.promise;
  };
  return { load, pending };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createTallyCache', () => {
  it('returns the same snapshot object until the query changes, and one load for concurrent reads', async () => {
    const cache = createTallyCache();
    const { load, pending } = scriptedLoader<{ balanceMicros: string }>();
    const first = cache.read(['tally', 'balance'], load);
    expect(first).toEqual({ status: 'loading', data: undefined, error: null, fetching: true });
    expect(cache.read(['tally', 'balance'], load)).toBe(first);
    expect(cache.read(['tally', 'balance'], load)).toBe(first);
    expect(pending).toHaveLength(1);

    pending[0]?.resolve({ balanceMicros: '5000000' });
    await flush();
    const loaded = cache.read(['tally', 'balance'], load);
    expect(loaded).not.toBe(first);
    expect(loaded).toEqual({ status: 'success', data: { balanceMicros: '5000000' }, error: null, fetching: false });
    expect(cache.read(['tally', 'balance'], load)).toBe(loaded);
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(pending).toHaveLength(1);
  });

  it('compares keys by value: object field order does not matter, bigints keep every digit', () => {
    expect(queryKeyHash(['usage', { from: 'a', to: 'b' }])).toBe(queryKeyHash(['usage', { to: 'b', from: 'a' }]));
    expect(queryKeyHash(['x', 9007199254740993n])).not.toBe(queryKeyHash(['x', 9007199254740992n]));
    expect(queryKeyHash(['x', 1])).not.toBe(queryKeyHash(['x', '1']));
    expect(queryKeyHash(['a,b'])).not.toBe(queryKeyHash(['a', 'b']));
    // An undefined field is the same as an absent one: `{ cursor: undefined }` is the first page.
    expect(queryKeyHash([{ cursor: undefined, kind: 'grant' }])).toBe(queryKeyHash([{ kind: 'grant' }]));
  });

  it('refuses keys it cannot compare with VALIDATION', () => {
    const cache = createTallyCache();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const key of [[circular], [new Map()], [() => 1], [Symbol('s')]]) {
      expect(() => keyParts(key)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    }
    expect(() => cache.read('balance' as unknown as readonly unknown[], async () => 1)).toThrowError(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(cache.peek(['balance'])).toBeUndefined();
  });

  it('notifies only the subscribers of the key that changed, after the render that read it', async () => {
    const cache = createTallyCache();
    const balance = scriptedLoader<number>();
    const tiers = scriptedLoader<number>();
    const seen: string[] = [];
    cache.read(['balance'], balance.load);
    cache.read(['tiers'], tiers.load);
    const stop = cache.subscribe(['balance'], () => seen.push(`balance ${cache.peek(['balance'])?.status}`));
    cache.subscribe(['tiers'], () => seen.push('tiers'));
    // The read above started the load; its `fetching` change is told in a microtask, not during the read.
    expect(seen).toEqual([]);
    await flush();
    expect(seen).toEqual(['balance loading', 'tiers']);

    balance.pending[0]?.resolve(1);
    await flush();
    expect(seen).toEqual(['balance loading', 'tiers', 'balance success']);

    stop();
    await cache.invalidate(['balance']);
    expect(seen).toHaveLength(3);
  });

  it('keeps the data while refetching and after a failed refetch, and does not retry an error by reading', async () => {
    const cache = createTallyCache();
    const { load, pending } = scriptedLoader<string>();
    cache.subscribe(['me'], () => {});
    cache.read(['me'], load);
    pending[0]?.resolve('first');
    await flush();

    const refetch = cache.invalidate(['me']);
    expect(cache.peek(['me'])).toEqual({ status: 'success', data: 'first', error: null, fetching: true });
    pending[1]?.reject(new TallyError('PROVIDER_UNAVAILABLE', 'down'));
    await refetch;
    const failed = cache.peek<string>(['me']) as QuerySnapshot<string>;
    expect(failed.status).toBe('error');
    expect(failed.data).toBe('first');
    expect(TallyError.is(failed.error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(failed.fetching).toBe(false);

    // Reading again must not start another load (a render loop would follow).
    expect(cache.read(['me'], load)).toBe(failed);
    expect(pending).toHaveLength(2);
  });

  it('wraps a thrown non-Error in an INTERNAL TallyError', async () => {
    const cache = createTallyCache();
    cache.read(['x'], () => Promise.reject('plain string'));
    await flush();
    const snapshot = cache.peek(['x']);
    expect(snapshot?.status).toBe('error');
    expect(TallyError.is(snapshot?.error, 'INTERNAL')).toBe(true);
    expect(snapshot?.error?.message).toContain('plain string');
  });

  it('settles a load that throws before returning a promise, and loads it again on invalidate', async () => {
    const cache = createTallyCache();
    let calls = 0;
    const load = (): Promise<number> => {
      calls++;
      if (calls === 1) throw new TallyError('FORBIDDEN', 'not yours');
      return Promise.resolve(calls);
    };
    cache.subscribe(['x'], () => {});
    cache.read(['x'], load);
    await flush();
    expect(cache.peek(['x'])).toMatchObject({ status: 'error', fetching: false });
    expect(TallyError.is(cache.peek(['x'])?.error, 'FORBIDDEN')).toBe(true);
    await cache.invalidate(['x']);
    expect(cache.peek(['x'])).toMatchObject({ status: 'success', data: 2, fetching: false });
  });

  it('invalidate refetches subscribed keys under the prefix at once and marks the rest stale', async () => {
    const cache = createTallyCache();
    const loads: string[] = [];
    const loader = (name: string) => async () => {
      loads.push(name);
      return `${name}#${loads.filter((n) => n === name).length}`;
    };
    cache.read(['tally', 'usage', { groupBy: 'day' }], loader('usage-day'));
    cache.read(['tally', 'usage', { groupBy: 'model' }], loader('usage-model'));
    cache.read(['tally', 'tiers'], loader('tiers'));
    cache.read(['other', 'usage'], loader('other'));
    await flush();
    cache.subscribe(['tally', 'usage', { groupBy: 'day' }], () => {});
    loads.length = 0;

    await cache.invalidate(['tally', 'usage']);
    expect(loads).toEqual(['usage-day']);
    expect(cache.peek(['tally', 'usage', { groupBy: 'day' }])?.data).toBe('usage-day#1');
    // Not subscribed: untouched until read, then loaded again.
    expect(cache.peek(['tally', 'usage', { groupBy: 'model' }])).toMatchObject({ data: 'usage-model#1', fetching: false });
    expect(cache.read(['tally', 'usage', { groupBy: 'model' }], loader('usage-model'))).toMatchObject({ fetching: true });
    await flush();
    expect(loads).toEqual(['usage-day', 'usage-model']);
    // Outside the prefix: never reloaded.
    expect(cache.read(['tally', 'tiers'], loader('tiers')).fetching).toBe(false);
    expect(cache.read(['other', 'usage'], loader('other')).fetching).toBe(false);
  });

  it('ignores the late result of a load that an invalidation superseded', async () => {
    const cache = createTallyCache();
    const { load, pending } = scriptedLoader<string>();
    cache.read(['balance'], load);
    cache.subscribe(['balance'], () => {});
    const refetch = cache.invalidate(['balance']);
    expect(pending).toHaveLength(2);
    pending[1]?.resolve('after the write');
    await refetch;
    pending[0]?.resolve('before the write');
    await flush();
    expect(cache.peek(['balance'])?.data).toBe('after the write');
  });

  it('mutate invalidates its prefixes once the write settles, also when it fails', async () => {
    const cache = createTallyCache();
    let balance = 10;
    let loads = 0;
    const load = async () => {
      loads++;
      return balance;
    };
    cache.subscribe(['tally', 'balance'], () => {});
    cache.read(['tally', 'balance'], load);
    await flush();
    expect(cache.peek(['tally', 'balance'])?.data).toBe(10);

    const result = await cache.mutate(
      async () => {
        balance = 15;
        return 'redeemed';
      },
      { invalidates: [['tally', 'balance']] },
    );
    expect(result).toBe('redeemed');
    // Fresh once mutate resolves: no stale balance after a successful write.
    expect(cache.peek(['tally', 'balance'])).toMatchObject({ status: 'success', data: 15, fetching: false });

    const failure = cache.mutate(
      async () => {
        throw new TallyError('COUPON_EXPIRED', 'expired');
      },
      { invalidates: [['tally', 'balance']] },
    );
    await expect(failure).rejects.toMatchObject({ code: 'COUPON_EXPIRED' });
    expect(loads).toBe(3);
  });

  it('mutate checks its prefixes before running the write', async () => {
    const cache = createTallyCache();
    let ran = false;
    await expect(
      cache.mutate(
        async () => {
          ran = true;
        },
        { invalidates: ['balance' as unknown as readonly unknown[]] },
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(ran).toBe(false);
  });

  it('set replaces the data and supersedes a load in flight', async () => {
    const cache = createTallyCache();
    const { load, pending } = scriptedLoader<string>();
    const seen: unknown[] = [];
    cache.read(['prefs'], load);
    cache.subscribe(['prefs'], () => seen.push(cache.peek(['prefs'])?.data));
    cache.set(['prefs'], 'from the write');
    expect(cache.peek(['prefs'])).toEqual({ status: 'success', data: 'from the write', error: null, fetching: false });
    pending[0]?.resolve('from the old read');
    await flush();
    expect(cache.peek(['prefs'])?.data).toBe('from the write');
    expect(seen).toEqual(['from the write']);
  });

  it('clear forgets data: subscribers see loading and their next read loads again', async () => {
    const cache = createTallyCache();
    let n = 0;
    const load = async () => ++n;
    const seen: unknown[] = [];
    cache.read(['tally', 'me'], load);
    cache.read(['tally', 'tiers'], load);
    await flush();
    cache.subscribe(['tally', 'me'], () => seen.push(cache.peek(['tally', 'me'])?.status));
    cache.clear(['tally']);
    expect(seen).toEqual(['loading']);
    expect(cache.peek(['tally', 'tiers'])).toBeUndefined();
    expect(cache.read(['tally', 'me'], load)).toMatchObject({ status: 'loading', fetching: true });
    await flush();
    expect(cache.peek(['tally', 'me'])).toMatchObject({ status: 'success', data: 3 });
    // The load may settle before the deferred "fetching" notice: then only the outcome is told.
    expect(seen[0]).toBe('loading');
    expect(seen.at(-1)).toBe('success');
    expect(seen.length).toBeLessThanOrEqual(3);
  });
});
