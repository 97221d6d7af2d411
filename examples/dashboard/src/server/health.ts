/**
 * The system health score of the admin page: five real signals, each with a warning and a critical
 * threshold that cost a fixed penalty; score = 100 − Σ penalties, floored at 0 (CONTRACT.md has the
 * table). `measureHealth` reads the signals, `scoreHealth` turns them into the report, so the
 * formula is tested without waiting for a database to be slow.
 */
import type { DemoDatabase } from './database.ts';
import type { ReconciliationStatus } from './reconciler.ts';

export type HealthStatus = 'healthy' | 'degraded' | 'failing';

export interface HealthSignal {
  id: string;
  label: string;
  /** Null when it could not be measured (no reconciliation has run). */
  value: number | null;
  unit: string;
  /** The most this signal can take off the score. */
  weight: number;
  penalty: number;
  explanation: string;
}

export interface HealthReport {
  score: number;
  status: HealthStatus;
  signals: HealthSignal[];
  measuredAt: string;
}

export interface HealthMeasurements {
  /** Seconds the oldest undelivered outbox message (of a delivered topic) has waited; 0 when none waits. */
  outboxLagSeconds: number;
  /** The topics those messages are of (the ones this server's workers deliver). */
  outboxTopics: readonly string[];
  failedWebhooks24h: number;
  deadLetters: number;
  reconciliation: ReconciliationStatus;
  /** Median of the `select 1` round trips, milliseconds. */
  databaseLatencyMs: number;
}

interface Rule {
  id: string;
  label: string;
  unit: string;
  /** Above (or at, for counts) `warn`: `warnPenalty`; above `critical`: the whole weight. */
  warn: number;
  critical: number;
  warnPenalty: number;
  weight: number;
  /** Counts cross a threshold when they reach it; measured amounts when they exceed it. */
  inclusive: boolean;
}

export const HEALTH_RULES = {
  outboxLag: { id: 'outbox_lag', label: 'Outbox lag', unit: 's', warn: 60, critical: 600, warnPenalty: 10, weight: 25, inclusive: false },
  failedWebhooks: {
    id: 'failed_webhooks',
    label: 'Failed webhook deliveries',
    unit: 'deliveries',
    warn: 1,
    critical: 5,
    warnPenalty: 10,
    weight: 20,
    inclusive: true,
  },
  deadLetters: {
    id: 'dead_letters',
    label: 'Dead letters',
    unit: 'messages',
    warn: 1,
    critical: 10,
    warnPenalty: 10,
    weight: 20,
    inclusive: true,
  },
  drift: {
    id: 'reconciliation_drift',
    label: 'Reconciliation drift',
    unit: 'bps',
    warn: 50,
    critical: 200,
    warnPenalty: 10,
    weight: 20,
    inclusive: false,
  },
  latency: {
    id: 'database_latency',
    label: 'Database latency',
    unit: 'ms',
    warn: 50,
    critical: 250,
    warnPenalty: 5,
    weight: 15,
    inclusive: false,
  },
} as const satisfies Record<string, Rule>;

/** Score at or above which the system is `healthy`, and at or above which it is only `degraded`. */
export const HEALTHY_FROM = 85;
export const DEGRADED_FROM = 50;

function penaltyOf(rule: Rule, value: number | null): number {
  if (value === null) return 0;
  const crosses = (threshold: number) => (rule.inclusive ? value >= threshold : value > threshold);
  if (crosses(rule.critical)) return rule.weight;
  if (crosses(rule.warn)) return rule.warnPenalty;
  return 0;
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function standing(rule: Rule, penalty: number, warnText: string, criticalText: string): string {
  const where = penalty === rule.weight ? 'Now: critical' : penalty > 0 ? 'Now: warning' : 'Now: fine';
  return `${warnText} costs ${rule.warnPenalty} points, ${criticalText} costs ${rule.weight}. ${where}${penalty > 0 ? ` (−${penalty})` : ''}.`;
}

function signal(rule: Rule, value: number | null, text: (penalty: number) => string): HealthSignal {
  const penalty = penaltyOf(rule, value);
  return { id: rule.id, label: rule.label, value, unit: rule.unit, weight: rule.weight, penalty, explanation: text(penalty) };
}

export function scoreHealth(m: HealthMeasurements, measuredAt: Date): HealthReport {
  const R = HEALTH_RULES;
  const drift = m.reconciliation;
  const signals: HealthSignal[] = [
    signal(R.outboxLag, m.outboxLagSeconds, (penalty) => {
      const waiting =
        m.outboxLagSeconds === 0
          ? 'Nothing is waiting.'
          : `The oldest message has waited ${plural(m.outboxLagSeconds, 'second', 'seconds')}.`;
      return `How long the oldest outbox message has waited for delivery (emails and other events this server sends: ${m.outboxTopics.join(', ')}). A message waits when its sink fails and is retried with backoff. ${waiting} ${standing(R.outboxLag, penalty, `Over ${R.outboxLag.warn} s`, `over ${R.outboxLag.critical} s`)}`;
    }),
    signal(R.failedWebhooks, m.failedWebhooks24h, (penalty) => {
      return `Payment-provider webhooks (Stripe's, or the sandbox's) that were refused or could not be applied in the last 24 hours: ${plural(m.failedWebhooks24h, 'delivery', 'deliveries')}. Each one is a payment, renewal or tier change the ledger may not know of. ${standing(R.failedWebhooks, penalty, `${R.failedWebhooks.warn} or more`, `${R.failedWebhooks.critical} or more`)}`;
    }),
    signal(R.deadLetters, m.deadLetters, (penalty) => {
      return `Outbox messages the workers gave up on after their last retry: ${plural(m.deadLetters, 'message', 'messages')}. Nothing is lost (retry them from the dead-letter list), but nobody was told. ${standing(R.deadLetters, penalty, `${R.deadLetters.warn} or more`, `${R.deadLetters.critical} or more`)}`;
    }),
    signal(R.drift, drift.kind === 'reconciled' ? drift.driftBps : null, (penalty) => {
      const thresholds = standing(R.drift, penalty, `Over ${R.drift.warn} bps`, `over ${R.drift.critical} bps`);
      switch (drift.kind) {
        case 'off':
          return `Compares what Tally charged for each managed model call with what OpenRouter reports it cost. Not run: the demo uses its mock model (set OPENROUTER_API_KEY to reconcile), so it costs nothing. ${thresholds}`;
        case 'pending':
          return `Compares what Tally charged for each managed model call with what OpenRouter reports it cost. Not run yet: the first run starts shortly after start-up, then every 15 minutes, so it costs nothing for now. ${thresholds}`;
        case 'reconciled':
          return `What Tally charged for managed model calls in the last 24 hours against what OpenRouter reports they cost: ${plural(drift.comparedCalls, 'call', 'calls')} compared, |drift| ÷ charged = ${drift.driftBps} bps (1 bps = 0.01 %)${drift.comparedCalls === 0 ? ', nothing to compare yet' : ''}. ${thresholds}`;
      }
    }),
    signal(R.latency, m.databaseLatencyMs, (penalty) => {
      return `Median of five "select 1" round trips to the database: ${m.databaseLatencyMs} ms. Every balance check and charge waits on it. ${standing(R.latency, penalty, `Over ${R.latency.warn} ms`, `over ${R.latency.critical} ms`)}`;
    }),
  ];
  const score = Math.max(0, 100 - signals.reduce((sum, s) => sum + s.penalty, 0));
  const status: HealthStatus = score >= HEALTHY_FROM ? 'healthy' : score >= DEGRADED_FROM ? 'degraded' : 'failing';
  return { score, status, signals, measuredAt: measuredAt.toISOString() };
}

const DAY_MS = 86_400_000;
const LATENCY_SAMPLES = 5;

/** Reads every signal now. `now` is the clock the app writes with (the outbox's times come from it). */
export async function measureHealth(input: {
  db: DemoDatabase;
  outboxTopics: readonly string[];
  reconciliation: ReconciliationStatus;
  now: Date;
}): Promise<HealthMeasurements> {
  const { db, now } = input;
  const timings: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const started = performance.now();
    await db.query('select 1');
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  const median = timings[Math.floor(LATENCY_SAMPLES / 2)] as number;

  const [oldest] = await db.query<{ created_at: Date | string | null }>(
    'select min(created_at) as created_at from tally_outbox where delivered_at is null and not dead and topic = any (string_to_array($1, $2))',
    [input.outboxTopics.join('\n'), '\n'],
  );
  const oldestAt = oldest?.created_at ? new Date(oldest.created_at).getTime() : null;
  const [dead] = await db.query<{ n: number | string | bigint }>('select count(*) as n from tally_outbox where dead');
  const [failed] = await db.query<{ n: number | string | bigint }>(
    'select count(*) as n from demo_webhook_deliveries where status >= 400 and received_at > $1',
    [new Date(now.getTime() - DAY_MS)],
  );
  return {
    outboxLagSeconds: oldestAt === null ? 0 : Math.max(0, Math.floor((now.getTime() - oldestAt) / 1000)),
    outboxTopics: input.outboxTopics,
    failedWebhooks24h: Number(failed?.n ?? 0),
    deadLetters: Number(dead?.n ?? 0),
    reconciliation: input.reconciliation,
    databaseLatencyMs: Math.round(median * 100) / 100,
  };
}
