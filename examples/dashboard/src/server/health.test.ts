/** The health score's formula (CONTRACT.md): each signal's thresholds, the sum, the floor and the status. */
import { describe, expect, it } from 'vitest';
import { type HealthMeasurements, scoreHealth } from './health.ts';
import { ppmToBps } from './reconciler.ts';

const AT = new Date('2026-11-26T12:00:00.000Z');

const calm: HealthMeasurements = {
  outboxLagSeconds: 0,
  outboxTopics: ['email.send'],
  failedWebhooks24h: 0,
  deadLetters: 0,
  reconciliation: { kind: 'off' },
  databaseLatencyMs: 0.4,
};

const reconciled = (driftBps: number): HealthMeasurements['reconciliation'] => ({
  kind: 'reconciled',
  at: AT,
  comparedCalls: 12,
  driftBps,
  report: {} as never,
});

function penalty(changes: Partial<HealthMeasurements>, id: string): number {
  const report = scoreHealth({ ...calm, ...changes }, AT);
  return report.signals.find((signal) => signal.id === id)?.penalty as number;
}

describe('scoreHealth', () => {
  it('is 100 and healthy when every signal is calm, with every signal explained', () => {
    const report = scoreHealth(calm, AT);
    expect(report).toMatchObject({ score: 100, status: 'healthy', measuredAt: '2026-11-26T12:00:00.000Z' });
    expect(report.signals.map((signal) => [signal.id, signal.weight])).toEqual([
      ['outbox_lag', 25],
      ['failed_webhooks', 20],
      ['dead_letters', 20],
      ['reconciliation_drift', 20],
      ['database_latency', 15],
    ]);
    expect(report.signals.reduce((sum, signal) => sum + signal.weight, 0)).toBe(100);
    const drift = report.signals.find((signal) => signal.id === 'reconciliation_drift');
    expect(drift).toMatchObject({ value: null, penalty: 0 });
    expect(drift?.explanation).toContain('Not run');
  });

  it('charges each signal its warning penalty past the first threshold and its weight past the second', () => {
    const table: Array<[string, Array<[Partial<HealthMeasurements>, number]>]> = [
      [
        'outbox_lag',
        [
          [{ outboxLagSeconds: 60 }, 0],
          [{ outboxLagSeconds: 61 }, 10],
          [{ outboxLagSeconds: 600 }, 10],
          [{ outboxLagSeconds: 601 }, 25],
        ],
      ],
      [
        'failed_webhooks',
        [
          [{ failedWebhooks24h: 1 }, 10],
          [{ failedWebhooks24h: 4 }, 10],
          [{ failedWebhooks24h: 5 }, 20],
        ],
      ],
      [
        'dead_letters',
        [
          [{ deadLetters: 1 }, 10],
          [{ deadLetters: 9 }, 10],
          [{ deadLetters: 10 }, 20],
        ],
      ],
      [
        'reconciliation_drift',
        [
          [{ reconciliation: reconciled(50) }, 0],
          [{ reconciliation: reconciled(50.01) }, 10],
          [{ reconciliation: reconciled(200) }, 10],
          [{ reconciliation: reconciled(200.01) }, 20],
          [{ reconciliation: { kind: 'pending' } }, 0],
        ],
      ],
      [
        'database_latency',
        [
          [{ databaseLatencyMs: 50 }, 0],
          [{ databaseLatencyMs: 50.5 }, 5],
          [{ databaseLatencyMs: 251 }, 15],
        ],
      ],
    ];
    for (const [id, rows] of table) {
      for (const [changes, expected] of rows) expect(penalty(changes, id), `${id} ${JSON.stringify(changes)}`).toBe(expected);
    }
  });

  it('sums the penalties into the score, floors it at 0 and names the status by it', () => {
    const degraded = scoreHealth({ ...calm, outboxLagSeconds: 120, deadLetters: 1 }, AT);
    expect(degraded).toMatchObject({ score: 80, status: 'degraded' });
    expect(scoreHealth({ ...calm, deadLetters: 2, databaseLatencyMs: 60 }, AT)).toMatchObject({ score: 85, status: 'healthy' });
    expect(scoreHealth({ ...calm, outboxLagSeconds: 700, failedWebhooks24h: 1 }, AT)).toMatchObject({ score: 65, status: 'degraded' });
    expect(scoreHealth({ ...calm, outboxLagSeconds: 700, failedWebhooks24h: 9, deadLetters: 1 }, AT)).toMatchObject({
      score: 45,
      status: 'failing',
    });
    const worst = scoreHealth(
      { ...calm, outboxLagSeconds: 9999, failedWebhooks24h: 9, deadLetters: 99, reconciliation: reconciled(9000), databaseLatencyMs: 900 },
      AT,
    );
    expect(worst).toMatchObject({ score: 0, status: 'failing' });
    expect(worst.signals.every((signal) => signal.penalty === signal.weight)).toBe(true);
  });

  it('turns reconciliation ppm into basis points exactly, whatever the sign', () => {
    expect(ppmToBps(12_345n)).toBe(123.45);
    expect(ppmToBps(-20_000n)).toBe(200);
    expect(ppmToBps(null)).toBe(0);
  });
});
