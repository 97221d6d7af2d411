import { type Clock, checkScheduledJob, type EmailStore, systemClock, TallyError } from '@tally/core';
import { Cron } from 'croner';

/** The part of a `TallyStore` the scheduler uses: every Tally store has it (docs/notifications.md, "Scheduler"). */
export type SchedulerStore = Pick<EmailStore, 'claimScheduledRun' | 'completeScheduledRun' | 'lastScheduledRun'>;

export interface ScheduledJob {
  /** Unique within the scheduler, 1–255 visible ASCII characters; the store keys claimed slots by it. */
  name: string;
  /** A cron expression in UTC (croner syntax): five fields, or six with seconds first. */
  cron: string;
  /**
   * Does the work for `slot`. Must be idempotent: a run whose lease ran out is run again, and one
   * catch-up run stands for every slot missed while no instance was up.
   */
  run(slot: Date): Promise<void>;
}

export interface SchedulerOptions {
  store: SchedulerStore;
  jobs: ScheduledJob[];
  clock?: Clock;
  /** How long a claim keeps other instances off a slot; longer than the slowest run. Default 5 minutes. */
  leaseMs?: number;
  /** Hears every run that threw and every store call that failed. Default: `console.error`. */
  onError?: (error: unknown, run: { job: string; slot: Date }) => void;
}

export interface ScheduledRunResult {
  job: string;
  /** The latest slot of the job at or before now. */
  slot: Date;
  /** True when this call ran the job for `slot` and it completed. */
  ran: boolean;
}

export interface Scheduler {
  /**
   * For each job, claims the latest slot at or before now unless it already completed, and runs it
   * when the claim wins. Jobs run side by side; a failing one never stops the others. A job whose
   * first slot is still to come is left out.
   */
  runDue(): Promise<ScheduledRunResult[]>;
  /** Calls `runDue` now and then every `pollMs` (default 30 s) until `stop()`; a pass in flight is never doubled. */
  start(pollMs?: number): void;
  /** Ends polling; resolves once every run in flight has finished. */
  stop(): Promise<void>;
}

const DEFAULT_LEASE_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 30_000;
const DAY_MS = 86_400_000;

function invalid(field: string, message: string, details: Record<string, unknown> = {}): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field, ...details } });
}

function wholeMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > DAY_MS) {
    throw invalid(field, `must be a whole number of milliseconds from 1 to ${DAY_MS}`);
  }
  return value;
}

/** The job's schedule; `VALIDATION` for anything that is not a cron expression with a run after `now`. */
function schedule(job: ScheduledJob, now: Date): Cron {
  const bad = (message: string) => invalid('cron', message, { job: job.name });
  if (typeof job.cron !== 'string') throw bad('must be a cron expression');
  let cron: Cron;
  try {
    // No callback and paused: croner computes times only and starts no timer.
    cron = new Cron(job.cron, { timezone: 'UTC', paused: true });
  } catch (error) {
    throw bad(`"${job.cron}" is not a cron expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Croner also takes a date for a one-off run; a scheduler of periodic jobs does not.
  if (cron.getOnce() !== null) throw bad(`"${job.cron}" is a date, not a cron expression`);
  if (cron.nextRun(now) === null) throw bad(`"${job.cron}" never runs again (e.g. February 30th)`);
  return cron;
}

/**
 * Runs periodic jobs (monthly reset notices, the low-balance scan, provider sync) on cron slots,
 * safely from any number of app instances sharing one store: each slot is claimed in the store, so
 * it runs once. After downtime only the latest missed slot runs, once (docs/notifications.md).
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const leaseMs = options.leaseMs === undefined ? DEFAULT_LEASE_MS : wholeMs(options.leaseMs, 'leaseMs');
  const onError = options.onError ?? ((error: unknown) => console.error('[tally/scheduler]', error));
  if (!Array.isArray(options.jobs) || options.jobs.length === 0) throw invalid('jobs', 'must list at least one job');
  const now = clock.now();
  const jobs = options.jobs.map((job) => {
    const name = checkScheduledJob(job?.name);
    if (typeof job.run !== 'function') throw invalid('run', 'must be a function', { job: name });
    return { name, cron: schedule(job, now), run: job.run };
  });
  const names = jobs.map((job) => job.name);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) throw invalid('name', `is used by more than one job: ${repeated[0]}`, { job: repeated[0] });

  /** Jobs this instance is running now: a run that outlives its lease is not started a second time here. */
  const busy = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let polling = false;

  async function runJob(job: (typeof jobs)[number], slot: Date): Promise<boolean> {
    const last = await store.lastScheduledRun(job.name);
    if (last !== null && last.getTime() >= slot.getTime()) return false;
    const at = clock.now();
    const claimed = await store.claimScheduledRun({ job: job.name, slot, at, leaseUntil: new Date(at.getTime() + leaseMs) });
    if (!claimed) return false;
    // A run that throws is not completed: its lease runs out and a later pass (here or elsewhere) retries it.
    await job.run(new Date(slot.getTime()));
    await store.completeScheduledRun({ job: job.name, slot, at: clock.now() });
    return true;
  }

  async function due(job: (typeof jobs)[number], now: Date): Promise<ScheduledRunResult | null> {
    // The latest slot at or before now (croner's previous run is strictly before its reference).
    const slot = job.cron.previousRuns(1, new Date(now.getTime() + 1))[0];
    if (slot === undefined) return null;
    if (busy.has(job.name)) return { job: job.name, slot, ran: false };
    busy.add(job.name);
    try {
      return { job: job.name, slot, ran: await runJob(job, slot) };
    } catch (error) {
      onError(error, { job: job.name, slot: new Date(slot.getTime()) });
      return { job: job.name, slot, ran: false };
    } finally {
      busy.delete(job.name);
    }
  }

  function runDue(): Promise<ScheduledRunResult[]> {
    const now = clock.now();
    const pass = Promise.all(jobs.map((job) => due(job, now))).then((results) =>
      results.filter((result): result is ScheduledRunResult => result !== null),
    );
    inFlight.add(pass);
    const settled = () => inFlight.delete(pass);
    pass.then(settled, settled);
    return pass;
  }

  return {
    runDue,

    start(pollMs = DEFAULT_POLL_MS) {
      const interval = wholeMs(pollMs, 'pollMs');
      if (polling) return;
      polling = true;
      const tick = async () => {
        timer = null;
        // A pass rejects only when onError itself throws; polling goes on regardless.
        await runDue().catch(() => undefined);
        if (polling) {
          timer = setTimeout(tick, interval);
          // A server keeps the process alive; the scheduler alone should not.
          (timer as { unref?: () => void }).unref?.();
        }
      };
      void tick();
    },

    async stop() {
      polling = false;
      if (timer) clearTimeout(timer);
      timer = null;
      while (inFlight.size > 0) await Promise.allSettled(inFlight);
    },
  };
}
