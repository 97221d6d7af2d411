import type { Clock } from '../time/index.js';

export interface FakeClock extends Clock {
  /** Moves time forward (or back, with a negative value) by `ms` milliseconds. */
  advance(ms: number): Date;
  /** Jumps to a point in time. */
  set(date: Date | string): Date;
}

/** A clock that only moves when told to: for tests, simulations and worked examples. */
export function createFakeClock(start: Date | string = '2026-01-01T00:00:00Z'): FakeClock {
  let current = new Date(start).getTime();
  if (!Number.isFinite(current)) throw new RangeError(`Invalid start time: ${String(start)}`);
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
      return new Date(current);
    },
    set(date) {
      const next = new Date(date).getTime();
      if (!Number.isFinite(next)) throw new RangeError(`Invalid time: ${String(date)}`);
      current = next;
      return new Date(current);
    },
  };
}

export {
  type ConformanceCase,
  type ConformanceContext,
  type ConformanceRunner,
  runStoreConformance,
  type StoreFactory,
  storeConformanceCases,
} from './conformance.js';
export { createMemoryEmailTransport, createTextEmailRenderer, drainOutbox, type MemoryEmailTransport } from './email.js';
export { createSeededRandom, type SeededRandom } from './random.js';
export { tallyRejection } from './rejection.js';
export { type ApplySummary, applySampleData, generateSampleData, type SampleDataOptions, type SampleEvent } from './sample-data.js';
export { runLedgerSimulation, SimulationFailure, type SimulationOptions, type SimulationResult, simulationSeed } from './simulation.js';
export { usageDetails } from './usage-details.js';
