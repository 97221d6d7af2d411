import { createMemoryStore } from '@tally/core';
import { runLedgerSimulation, SimulationFailure, simulationSeed } from '@tally/core/testing';
import { describe, expect, it } from 'vitest';

const seed = simulationSeed(process.env.TALLY_SIM_SEED);
const operations = Number(process.env.TALLY_SIM_OPERATIONS ?? 1_000_000);

describe('seeded ledger simulation (memory store)', () => {
  it(`runs ${operations.toLocaleString('en-US')} random operations with faults and ends with a clean audit (seed ${seed})`, async () => {
    console.log(`ledger simulation on the memory store: seed ${seed} (replay with TALLY_SIM_SEED=${seed})`);
    const result = await runLedgerSimulation({ store: createMemoryStore(), seed, operations, customers: 200 });
    expect(result.audit.issues).toEqual([]);
    expect(result.audit.totalMicros).toBe(0n);
    // Every kind of fault was injected, many times.
    for (const fault of ['fault:duplicate', 'fault:abort', 'fault:expired-hold', 'fault:period-jump', 'fault:conflict']) {
      expect(result.counts[fault] ?? 0).toBeGreaterThan(operations / 1000);
    }
  }, 600_000);

  it('is deterministic: the same seed gives the same outcomes', async () => {
    const a = await runLedgerSimulation({ store: createMemoryStore(), seed: 424242, operations: 5_000 });
    const b = await runLedgerSimulation({ store: createMemoryStore(), seed: 424242, operations: 5_000 });
    const c = await runLedgerSimulation({ store: createMemoryStore(), seed: 424243, operations: 5_000 });
    expect(a.digest).toBe(b.digest);
    expect(a.counts).toEqual(b.counts);
    expect(c.digest).not.toBe(a.digest);
  });

  it('catches a store that charges a retried request twice, and names the seed that reproduces it', async () => {
    const store = createMemoryStore();
    const seen = new Set<string>();
    // The bug the ledger exists to prevent: a retry that is treated as a new request.
    const forgetful = {
      ...store,
      spend: (command: Parameters<typeof store.spend>[0]) => {
        const retried = seen.has(command.idempotencyKey);
        seen.add(command.idempotencyKey);
        return store.spend(retried ? { ...command, idempotencyKey: `${command.idempotencyKey}:again` } : command);
      },
    };
    await expect(runLedgerSimulation({ store: forgetful, seed: 11, operations: 20_000 })).rejects.toSatisfy(
      (error: unknown) => error instanceof SimulationFailure && error.seed === 11 && /TALLY_SIM_SEED=11/.test(error.message),
    );
  });
});
