/**
 * Reconciliation for the health score: with OpenRouter configured, every 15 minutes, compare what
 * Tally charged for the managed calls of the last 24 hours with what OpenRouter says each generation
 * cost (`reconcileProviderCosts` from `@tally/adapters/openrouter`, the same as `tally reconcile`).
 * The mock model has no provider to ask: reconciliation is then off.
 */
import { type OpenRouterClient, type ReconcileReport, reconcileProviderCosts } from '@tally/adapters/openrouter';
import type { Clock, TallyStore } from '@tally/core';

export type ReconciliationStatus =
  | { kind: 'off' }
  | { kind: 'pending' }
  | {
      kind: 'reconciled';
      at: Date;
      /** Managed calls compared with OpenRouter's cost. */
      comparedCalls: number;
      /** |charged − reported| ÷ charged, basis points (two decimals); 0 when nothing was compared. */
      driftBps: number;
      report: ReconcileReport;
    };

export interface Reconciler {
  status(): ReconciliationStatus;
  /** Runs one reconciliation of the last 24 hours now. */
  run(): Promise<ReconciliationStatus>;
  start(): void;
  stop(): Promise<void>;
}

const WINDOW_MS = 24 * 3600_000;
const EVERY_MS = 15 * 60_000;
const FIRST_AFTER_MS = 5_000;

/** ppm → bps with two decimals, exactly: 12_345 ppm → 123.45 bps. */
export function ppmToBps(ppm: bigint | null): number {
  if (ppm === null) return 0;
  const abs = ppm < 0n ? -ppm : ppm;
  return Number(abs) / 100;
}

export function createReconciler(options: {
  store: Pick<TallyStore, 'listEntries'>;
  client: Pick<OpenRouterClient, 'getGeneration'> | null;
  clock: Clock;
  onError: (error: unknown) => void;
}): Reconciler {
  let current: ReconciliationStatus = options.client ? { kind: 'pending' } : { kind: 'off' };
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<ReconciliationStatus> | null = null;
  let stopped = false;

  async function reconcile(): Promise<ReconciliationStatus> {
    const client = options.client;
    if (!client) return current;
    const to = options.clock.now();
    const report = await reconcileProviderCosts({ store: options.store, client, from: new Date(to.getTime() - WINDOW_MS), to });
    current = { kind: 'reconciled', at: to, comparedCalls: report.totals.compared, driftBps: ppmToBps(report.totals.driftPpm), report };
    return current;
  }

  const reconciler: Reconciler = {
    status: () => current,
    run() {
      running ??= reconcile().finally(() => {
        running = null;
      });
      return running;
    },
    start() {
      if (!options.client || timer || stopped) return;
      const tick = async () => {
        try {
          await reconciler.run();
        } catch (error) {
          options.onError(error);
        }
        if (!stopped) timer = setTimeout(tick, EVERY_MS);
      };
      timer = setTimeout(tick, FIRST_AFTER_MS);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
  return reconciler;
}
