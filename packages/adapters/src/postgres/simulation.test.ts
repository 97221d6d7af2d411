import { createMemoryStore } from '@tally/core';
import { runLedgerSimulation, simulationSeed } from '@tally/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createPostgresStore } from './index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('simulation');
});
afterAll(async () => {
  await db.drop();
});

const seed = simulationSeed(process.env.TALLY_SIM_SEED);
const operations = Number(process.env.TALLY_SIM_PG_OPERATIONS ?? 50_000);

/** The first outcome two runs disagree on, with the lines around it. */
function firstDivergence(a: string[], b: string[]): string | null {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return `line ${i}:\n  postgres: ${a[i]}\n  memory:   ${b[i]}\n  before:   ${a[i - 1]}`;
  }
  return null;
}

describe('seeded ledger simulation on Postgres', () => {
  it(`runs ${operations.toLocaleString('en-US')} operations with faults, audits clean, and agrees with the memory store (seed ${seed})`, async () => {
    console.log(`ledger simulation on Postgres: seed ${seed} (replay with TALLY_SIM_SEED=${seed})`);
    const store = createPostgresStore({ connectionString: db.url, schema: 'simulation', max: 4 });
    await store.migrate();
    try {
      const postgresTrace: string[] = [];
      const memoryTrace: string[] = [];
      const onPostgres = await runLedgerSimulation({ store, seed, operations, customers: 100, trace: (line) => postgresTrace.push(line) });
      expect(onPostgres.audit.issues).toEqual([]);
      // The same seed on the memory store must reach the same outcomes, operation by operation.
      const inMemory = await runLedgerSimulation({
        store: createMemoryStore(),
        seed,
        operations,
        customers: 100,
        trace: (line) => memoryTrace.push(line),
      });
      expect(firstDivergence(postgresTrace, memoryTrace)).toBeNull();
      expect(onPostgres.counts).toEqual(inMemory.counts);
      expect(onPostgres.digest).toBe(inMemory.digest);
    } finally {
      await store.close();
    }
  }, 900_000);
});
