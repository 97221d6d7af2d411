import { PGlite } from '@electric-sql/pglite';
import { createMemoryStore, TallyError } from '@tally/core';
import { createFakeClock, type FakeClock } from '@tally/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPGliteStore } from '../pglite/index.js';
import { createPostgresStore } from '../postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createScheduler, type ScheduledJob, type SchedulerOptions, type SchedulerStore } from './index.js';

/** Two app instances: two stores on one database where the store allows it, else one store shared. */
type Instances = () => Promise<{ stores: [SchedulerStore, SchedulerStore]; cleanup: () => Promise<void> }>;

const iso = (date: Date) => date.toISOString();

/** A job that records each slot it ran; `gate`, when given, holds every run until it resolves. */
function recordingJob(name: string, cron: string, gate?: Promise<void>) {
  const runs: string[] = [];
  const job: ScheduledJob = {
    name,
    cron,
    async run(slot) {
      runs.push(iso(slot));
      await gate;
    },
  };
  return { job, runs };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function schedulers(stores: SchedulerStore[], clock: FakeClock, jobs: ScheduledJob[], options: Partial<SchedulerOptions> = {}) {
  const errors: unknown[] = [];
  const list = stores.map((store) => createScheduler({ store, jobs, clock, onError: (error) => errors.push(error), ...options }));
  return { list, errors };
}

function schedulerCases(label: string, instances: Instances) {
  describe(`scheduler on ${label}`, () => {
    it('two instances calling runDue at once run a slot once', async () => {
      const { stores, cleanup } = await instances();
      try {
        const clock = createFakeClock('2026-11-01T10:00:30Z');
        const gate = deferred();
        const { job, runs } = recordingJob('low-balance-scan', '0 * * * *', gate.promise);
        const { list, errors } = schedulers(stores, clock, [job]);
        const [a, b] = list as [ReturnType<typeof createScheduler>, ReturnType<typeof createScheduler>];
        const passes = [a.runDue(), b.runDue()];
        // The winner's run waits on the gate, so the loser finishes first: the two overlapped.
        expect(await Promise.race(passes)).toEqual([{ job: 'low-balance-scan', slot: new Date('2026-11-01T10:00:00Z'), ran: false }]);
        gate.resolve();
        const results = (await Promise.all(passes)).flat();
        expect(results.filter((r) => r.ran)).toEqual([{ job: 'low-balance-scan', slot: new Date('2026-11-01T10:00:00Z'), ran: true }]);
        expect(runs).toEqual(['2026-11-01T10:00:00.000Z']);
        // Ten more passes from both instances, all at once, later in the same hour: nothing more runs.
        clock.advance(20 * 60_000);
        const again = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).runDue()));
        expect(again.flat().filter((r) => r.ran)).toEqual([]);
        expect(runs).toHaveLength(1);
        // The next slot runs once too, however many passes race for it.
        clock.set('2026-11-01T11:00:00Z');
        const next = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).runDue()));
        expect(next.flat().filter((r) => r.ran)).toHaveLength(1);
        expect(runs).toEqual(['2026-11-01T10:00:00.000Z', '2026-11-01T11:00:00.000Z']);
        expect(errors).toEqual([]);
      } finally {
        await cleanup();
      }
    });

    it('after 10 missed slots one catch-up run covers the latest, and nothing runs the earlier ones', async () => {
      const { stores, cleanup } = await instances();
      try {
        const clock = createFakeClock('2026-11-01T00:00:05Z');
        const { job, runs } = recordingJob('monthly-reset', '0 * * * *');
        const { list, errors } = schedulers(stores, clock, [job]);
        const [a, b] = list as [ReturnType<typeof createScheduler>, ReturnType<typeof createScheduler>];
        // A first start runs the latest slot at once.
        expect(await a.runDue()).toEqual([{ job: 'monthly-reset', slot: new Date('2026-11-01T00:00:00Z'), ran: true }]);
        // Down from 00:30 to 10:20: the slots 01:00 to 10:00 were missed.
        clock.set('2026-11-01T10:20:00Z');
        const results = (await Promise.all([a.runDue(), b.runDue()])).flat();
        expect(results.filter((r) => r.ran)).toEqual([{ job: 'monthly-reset', slot: new Date('2026-11-01T10:00:00Z'), ran: true }]);
        expect(runs).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T10:00:00.000Z']);
        expect(await a.runDue()).toEqual([{ job: 'monthly-reset', slot: new Date('2026-11-01T10:00:00Z'), ran: false }]);
        expect(await b.runDue()).toEqual([{ job: 'monthly-reset', slot: new Date('2026-11-01T10:00:00Z'), ran: false }]);
        expect(runs).toHaveLength(2);
        expect(await stores[0].lastScheduledRun('monthly-reset')).toEqual(new Date('2026-11-01T10:00:00Z'));
        expect(errors).toEqual([]);
      } finally {
        await cleanup();
      }
    });

    it('a run that throws is not completed, goes to onError, and is retried once its lease ends', async () => {
      const { stores, cleanup } = await instances();
      try {
        const clock = createFakeClock('2026-11-01T10:00:10Z');
        let attempts = 0;
        const flaky: ScheduledJob = {
          name: 'provider-sync',
          cron: '0 * * * *',
          async run() {
            attempts++;
            if (attempts === 1) throw new Error('provider unreachable');
          },
        };
        const steady = recordingJob('billing', '*/15 * * * *');
        const heard: Array<{ error: unknown; run: { job: string; slot: Date } }> = [];
        const [a, b] = stores.map((store) =>
          createScheduler({
            store,
            jobs: [flaky, steady.job],
            clock,
            leaseMs: 5 * 60_000,
            onError: (error, run) => heard.push({ error, run }),
          }),
        ) as [ReturnType<typeof createScheduler>, ReturnType<typeof createScheduler>];
        const slot = new Date('2026-11-01T10:00:00Z');
        expect(await a.runDue()).toEqual([
          { job: 'provider-sync', slot, ran: false },
          { job: 'billing', slot, ran: true },
        ]);
        expect(heard).toEqual([{ error: new Error('provider unreachable'), run: { job: 'provider-sync', slot } }]);
        expect(steady.runs).toEqual(['2026-11-01T10:00:00.000Z']);
        expect(await stores[0].lastScheduledRun('provider-sync')).toBeNull();
        // Claimed at 10:00:10 with a 5-minute lease: a millisecond before 10:05:10 the lease still holds.
        clock.set(new Date(Date.parse('2026-11-01T10:05:10Z') - 1));
        await Promise.all([a.runDue(), b.runDue()]);
        expect(attempts).toBe(1);
        clock.set('2026-11-01T10:05:10Z');
        expect(await b.runDue()).toEqual([
          { job: 'provider-sync', slot, ran: true },
          { job: 'billing', slot, ran: false },
        ]);
        expect(attempts).toBe(2);
        expect(await stores[1].lastScheduledRun('provider-sync')).toEqual(slot);
        expect(await a.runDue()).toEqual([
          { job: 'provider-sync', slot, ran: false },
          { job: 'billing', slot, ran: false },
        ]);
        expect(attempts).toBe(2);
        expect(heard).toHaveLength(1);
      } finally {
        await cleanup();
      }
    });
  });
}

// ---- Postgres: two stores (two pools) on one schema are two app instances.

let postgres: TestDatabase;
let pgCases = 0;
beforeAll(async () => {
  postgres = await createTestDatabase('scheduler');
});
afterAll(async () => {
  await postgres.drop();
});

schedulerCases('Postgres, two stores', async () => {
  const schema = `scheduler_${++pgCases}`;
  const first = createPostgresStore({ connectionString: postgres.url, schema, max: 4 });
  await first.migrate();
  const second = createPostgresStore({ connectionString: postgres.url, schema, max: 4 });
  return {
    stores: [first, second],
    cleanup: async () => {
      await first.close();
      await second.close();
      await postgres.query(`drop schema ${schema} cascade`);
    },
  };
});

// ---- PGlite lives in one process: two schedulers share its one store.

let pglite: PGlite;
let pgliteCases = 0;
beforeAll(async () => {
  pglite = await PGlite.create();
});
afterAll(async () => {
  await pglite.close();
});

schedulerCases('PGlite, one store shared', async () => {
  const schema = `scheduler_${++pgliteCases}`;
  const store = await createPGliteStore({ db: pglite, schema });
  return {
    stores: [store, store],
    cleanup: async () => {
      await store.close();
      await pglite.exec(`drop schema ${schema} cascade; set search_path to public`);
    },
  };
});

schedulerCases('the memory store, shared', async () => {
  const store = createMemoryStore();
  return { stores: [store, store], cleanup: () => store.close() };
});

describe('createScheduler', () => {
  const store = createMemoryStore();
  const job: ScheduledJob = { name: 'scan', cron: '*/5 * * * *', run: async () => {} };
  const codeOf = (make: () => unknown): string | null => {
    try {
      make();
      return null;
    } catch (error) {
      return TallyError.is(error) ? `${error.code} ${String(error.details.field)}` : String(error);
    }
  };

  it('refuses invalid cron expressions, names and options with VALIDATION', () => {
    const clock = createFakeClock('2026-11-01T00:00:00Z');
    const make =
      (jobs: ScheduledJob[], options: Partial<SchedulerOptions> = {}) =>
      () =>
        createScheduler({ store, jobs, clock, ...options });
    for (const cron of ['', 'bogus', '61 * * * *', '* * * *', '0 0 30 2 *', '2026-12-01T00:00:00Z', 42 as unknown as string]) {
      expect(codeOf(make([{ ...job, cron }])), `cron ${String(cron)}`).toBe('VALIDATION cron');
    }
    expect(codeOf(make([job, { ...job, cron: '0 * * * *' }]))).toBe('VALIDATION name');
    expect(codeOf(make([{ ...job, name: 'a b' }]))).toBe('VALIDATION job');
    expect(codeOf(make([{ ...job, name: '' }]))).toBe('VALIDATION job');
    expect(codeOf(make([{ ...job, run: undefined as never }]))).toBe('VALIDATION run');
    expect(codeOf(make([]))).toBe('VALIDATION jobs');
    for (const leaseMs of [0, -1, 1.5, 86_400_001, Number.NaN]) {
      expect(codeOf(make([job], { leaseMs })), `leaseMs ${leaseMs}`).toBe('VALIDATION leaseMs');
    }
    expect(codeOf(() => createScheduler({ store, jobs: [job], clock }).start(0))).toBe('VALIDATION pollMs');
    // Five fields, six with seconds, and croner's nicknames are all cron expressions.
    for (const cron of ['0 0 1 * *', '30 0 0 * * *', '@daily', '0 9 * * MON-FRI']) expect(codeOf(make([{ ...job, cron }]))).toBeNull();
  });

  it('reads cron expressions in UTC and leaves out a job whose first slot is still to come', async () => {
    const clock = createFakeClock('2026-11-03T08:59:59Z');
    const daily = recordingJob('daily', '0 9 * * *');
    const yearly = recordingJob('new-year', '0 0 0 1 1 * 2027');
    const scheduler = createScheduler({ store: createMemoryStore(), jobs: [daily.job, yearly.job], clock });
    expect(await scheduler.runDue()).toEqual([{ job: 'daily', slot: new Date('2026-11-02T09:00:00Z'), ran: true }]);
    clock.set('2026-11-03T09:00:00Z');
    expect(await scheduler.runDue()).toEqual([{ job: 'daily', slot: new Date('2026-11-03T09:00:00Z'), ran: true }]);
    expect(daily.runs).toEqual(['2026-11-02T09:00:00.000Z', '2026-11-03T09:00:00.000Z']);
    expect(yearly.runs).toEqual([]);
  });

  it('start polls, and stop waits for the run in flight', async () => {
    const clock = createFakeClock('2026-11-01T00:00:00Z');
    const started = deferred();
    const gate = deferred();
    let finished = 0;
    const scheduler = createScheduler({
      store: createMemoryStore(),
      clock,
      jobs: [
        {
          name: 'slow',
          cron: '* * * * *',
          async run() {
            started.resolve();
            await gate.promise;
            finished++;
          },
        },
      ],
    });
    scheduler.start(1);
    await started.promise;
    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(finished).toBe(1);
  });
});
