import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { createMemoryStore, createTally, sampleCatalog, TallyError, type TallyStore } from '@tally/core';
import { simulateReadableStream, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { tallyMiddleware } from './index.js';

// 100 streamed calls race for one customer whose credit covers 10 of them.
//
// Each call's worst case (prompt "hi": 8 tokens, 100 output tokens, openai/gpt-4o-mini) is
// 8 × $0.00000015 + 100 × $0.0000006 = $0.0000612, and the provider reports exactly that as its
// cost, so a served call captures exactly its reservation: 61.2 micros +10 % = 67.32 → 67 micros.
// The customer holds 10 × 67 micros: whatever the interleaving, no more than 10 calls can be served.
const PER_CALL = 67n;
const CALLS = 100;
const COVERED = 10;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('aisdk');
});
afterAll(async () => {
  await db?.drop();
});

async function race(store: TallyStore) {
  const tally = createTally({ catalog: sampleCatalog, store });
  await tally.customers.upsert({ customerId: 'racer', tier: 'starter' });
  await tally.grant({ customerId: 'racer', kind: 'allowance', amountMicros: PER_CALL * BigInt(COVERED), idempotencyKey: 'grant' });

  const mock = new MockLanguageModelV4({
    modelId: 'openai/gpt-4o-mini',
    doStream: async () => ({
      stream: simulateReadableStream<LanguageModelV4StreamPart>({
        chunkDelayInMs: 2,
        chunks: [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'Hello' },
          { type: 'text-end', id: 't' },
          {
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: {
              inputTokens: { total: 8, noCache: 8, cacheRead: 0, cacheWrite: undefined },
              outputTokens: { total: 100, text: 100, reasoning: 0 },
            },
            providerMetadata: { openrouter: { usage: { cost: 0.0000612 } } },
          },
        ],
      }),
    }),
  });

  const refusals: unknown[] = [];
  const served = await Promise.all(
    Array.from({ length: CALLS }, async (_, i) => {
      const middleware = tallyMiddleware({ tally, customerId: 'racer', idempotencyKey: `race-${i}` });
      let failed = false;
      const result = streamText({
        model: wrapLanguageModel({ model: mock, middleware }),
        prompt: 'hi',
        maxOutputTokens: 100,
        maxRetries: 0,
        onError: ({ error }) => {
          failed = true;
          refusals.push(error);
        },
      });
      const text = await Promise.resolve(result.text).catch(() => '');
      return !failed && text === 'Hello';
    }),
  );

  const wins = served.filter(Boolean).length;
  expect(mock.doStreamCalls.length).toBeLessThanOrEqual(COVERED);
  expect(wins).toBe(mock.doStreamCalls.length);
  // Every call that was not served was refused before the provider, for lack of credit.
  expect(refusals).toHaveLength(CALLS - wins);
  for (const error of refusals) expect(TallyError.is(error, 'INSUFFICIENT_CREDITS')).toBe(true);

  const entries = (await tally.transactions({ customerId: 'racer', kinds: ['capture'], limit: 500 })).items;
  // One capture per served call, each of its own hold: no call charged twice.
  expect(entries).toHaveLength(wins);
  expect(new Set(entries.map((entry) => entry.holdId)).size).toBe(wins);
  expect(new Set(entries.map((entry) => entry.operationId)).size).toBe(wins);
  for (const entry of entries) expect(entry.amountMicros).toBe(PER_CALL);
  const balance = await tally.balance('racer');
  expect(balance).toMatchObject({ heldMicros: 0n, activeHolds: 0, debtMicros: 0n });
  expect(balance.balanceMicros).toBe(PER_CALL * BigInt(COVERED - wins));
  const audit = await tally.audit();
  expect(audit.issues).toEqual([]);
  return wins;
}

describe('100 concurrent streamed calls, credit for 10', () => {
  it('memory store: at most 10 served, none charged twice, audit clean', async () => {
    // All reservations are taken before any stream ends, so exactly the 10 covered calls are served.
    expect(await race(createMemoryStore())).toBe(COVERED);
  });

  it('Postgres store: at most 10 served, none charged twice, audit clean', async () => {
    const store = createPostgresStore({ connectionString: db.url, schema: 'aisdk_race', max: 20 });
    try {
      await store.migrate();
      // A refusal needs less than one call's credit available: at most 9 others in flight or done,
      // and a served call uses exactly its hold. So the covered 10 are served here too.
      expect(await race(store)).toBe(COVERED);
    } finally {
      await store.close();
    }
  });
});
