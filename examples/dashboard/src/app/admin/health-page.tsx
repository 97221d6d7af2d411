import { useTallyQuery } from '@tally/react';
import { useId } from 'react';
import { useDashboard } from '../context.tsx';
import type { HealthReport, HealthSignal } from '../demo-api.ts';
import { useInterval, useLiveEvent, useLiveStatus } from '../live.tsx';
import { ErrorNotice, formatDateTime, Loading, Page } from '../page.tsx';

export const HEALTH_KEY = ['dashboard', 'health'] as const;

const STATUS_TEXT: Record<HealthReport['status'], string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
};

const STATUS_TONE: Record<HealthReport['status'], 'positive' | 'warning' | 'negative'> = {
  healthy: 'positive',
  degraded: 'warning',
  failing: 'negative',
};

function isHealthReport(value: unknown): value is HealthReport {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as Partial<HealthReport>;
  return typeof report.score === 'number' && typeof report.status === 'string' && Array.isArray(report.signals);
}

export function signalValue(signal: HealthSignal): string {
  if (signal.value === null || signal.value === '') return 'not measured';
  return signal.unit ? `${signal.value} ${signal.unit}` : String(signal.value);
}

/**
 * The system's health score from real signals (outbox lag, failed webhooks, dead letters,
 * reconciliation drift, database latency), each with its value, what it costs the score and why.
 * Live: the server pushes a new measurement every few seconds; without the stream, it is polled.
 */
export function HealthPage() {
  const { demo, cache } = useDashboard();
  const health = useTallyQuery(HEALTH_KEY, () => demo.health());
  const live = useLiveStatus();
  const titleId = useId();
  const howId = useId();
  const signalsId = useId();

  useLiveEvent('health', (data) => {
    if (isHealthReport(data)) cache.set(HEALTH_KEY, data);
    else void health.refetch();
  });
  useInterval(() => void health.refetch(), 10_000, live !== 'open');

  const report = health.data;
  const totalPenalty = report ? report.signals.reduce((sum, signal) => sum + signal.penalty, 0) : 0;

  return (
    <Page title="System health" intro="One score from the signals that tell whether billing is keeping up, and what each one means.">
      {health.status === 'loading' ? (
        <Loading label="Measuring the system…" />
      ) : health.status === 'error' && !report ? (
        <ErrorNotice error={health.error} title="The health report could not be loaded." onRetry={() => void health.refetch()} />
      ) : report ? (
        <>
          {health.status === 'error' ? (
            <ErrorNotice error={health.error} title="The latest measurement failed; showing the one before." />
          ) : null}
          <section className="tally-card dash-score" aria-labelledby={titleId} aria-busy={health.fetching || undefined}>
            <h2 id={titleId} className="tally-card__title">
              Health score
            </h2>
            <div className="dash-score__row">
              <p className="dash-score__value">
                <span className="dash-score__number">{report.score}</span>
                <span className="tally-muted"> / 100</span>
              </p>
              <p className="tally-note dash-score__status" data-tone={STATUS_TONE[report.status] ?? 'warning'}>
                {STATUS_TEXT[report.status] ?? report.status}
              </p>
            </div>
            <meter className="dash-meter" min={0} max={100} low={50} high={80} optimum={100} value={report.score} aria-labelledby={titleId}>
              {report.score} of 100
            </meter>
            <p className="tally-muted">
              Measured {formatDateTime(report.measuredAt)}.{' '}
              <button type="button" className="tally-button" data-variant="secondary" onClick={() => void health.refetch()}>
                {health.fetching ? 'Measuring…' : 'Measure now'}
              </button>
            </p>
          </section>

          <section className="dash-section" aria-labelledby={howId}>
            <h2 id={howId} className="dash-section-title">
              How the score is calculated
            </h2>
            <p>
              The score starts at 100. Each signal below has a threshold; a signal past its threshold takes its penalty off the score, up to
              its weight. The score is 100 minus the penalties, never below 0:{' '}
              <strong>
                100 − {totalPenalty} = {Math.max(0, 100 - totalPenalty)}
              </strong>
              . A signal that could not be measured (for example, before the first reconciliation) costs nothing. The system is healthy at
              85 or more, degraded from 50 to 84 and failing below 50.
            </p>
          </section>

          <section className="dash-section" aria-labelledby={signalsId}>
            <h2 id={signalsId} className="dash-section-title">
              Signals
            </h2>
            <table className="dash-table">
              <caption className="dash-visually-hidden">Each signal's value, its penalty and what it means</caption>
              <thead>
                <tr>
                  <th scope="col">Signal</th>
                  <th scope="col" data-align="end">
                    Value
                  </th>
                  <th scope="col" data-align="end">
                    Penalty
                  </th>
                  <th scope="col">What it means</th>
                </tr>
              </thead>
              <tbody>
                {report.signals.map((signal) => (
                  <tr key={signal.id} data-penalized={signal.penalty > 0 || undefined}>
                    <th scope="row" data-label="Signal">
                      {signal.label}
                    </th>
                    <td data-label="Value" data-align="end">
                      {signalValue(signal)}
                    </td>
                    <td data-label="Penalty" data-align="end">
                      <span data-tone={signal.penalty > 0 ? 'negative' : undefined}>{signal.penalty > 0 ? `−${signal.penalty}` : '0'}</span>
                      <span className="tally-muted"> of {signal.weight}</span>
                    </td>
                    <td data-label="What it means">{signal.explanation}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </Page>
  );
}
