import { describe, expect, it } from 'vitest';
import { sampleCatalog } from '../catalog/index.js';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from './memory-store.js';
import { createTally, type Tally } from './tally.js';

// Every ledger method answers with a promise, bad input included: a caller that chains `.catch` or
// collects calls in `Promise.allSettled` must see a rejected promise, never an exception thrown while
// the call is being made.
const BAD: Array<[string, (tally: Tally) => Promise<unknown>]> = [
  ['grant', (t) => t.grant({ customerId: 'acme', kind: 'purchased', amountMicros: '1.5', idempotencyKey: 'g' })],
  ['spend', (t) => t.spend({ customerId: 'acme', amountMicros: -1n, idempotencyKey: 's' })],
  ['recordUsage', (t) => t.recordUsage({ customerId: '', amountMicros: 1n, idempotencyKey: 'u' })],
  ['recordUsageBatch', (t) => t.recordUsageBatch([])],
  ['adjust', (t) => t.adjust({ customerId: 'acme', amountMicros: 0n, reason: 'none', idempotencyKey: 'a' })],
  ['reserve', (t) => t.reserve({ customerId: 'acme', amountMicros: 1n, ttlMs: -5, idempotencyKey: 'r' })],
  ['capture', (t) => t.capture({ holdId: '', amountMicros: 1n, idempotencyKey: 'c' })],
  ['release', (t) => t.release({ holdId: '' })],
  ['transactions', (t) => t.transactions({ limit: 0 })],
  ['spendCaps.set', (t) => t.spendCaps.set({ customerId: 'acme', dailyMicros: -1n })],
  ['spendCaps.list', (t) => t.spendCaps.list('')],
  ['balance', (t) => t.balance('')],
];

describe('the Tally facade', () => {
  it.each(BAD)('%s rejects bad input with a VALIDATION error instead of throwing', async (_, call) => {
    const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore() });
    await tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = call(tally);
    }).not.toThrow();
    await expect(pending).rejects.toSatisfy((error) => TallyError.is(error, 'VALIDATION'));
    expect((await tally.audit()).entries).toBe(0);
  });
});
