// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { signalValue } from './admin/health-page.tsx';
import { adminPrincipal, createTestServer, problem, renderApp, SAMPLE_HEALTH } from './test-support.tsx';

afterEach(cleanup);

describe('health page', () => {
  it('shows the score and every signal with its value, penalty and explanation', async () => {
    const server = await createTestServer(adminPrincipal);
    renderApp(server, '/admin/health');

    expect(await screen.findByRole('heading', { level: 1, name: 'System health' })).toBeTruthy();
    const score = await screen.findByRole('region', { name: 'Health score' });
    expect(within(score).getByText('72')).toBeTruthy();
    expect(within(score).getByText('Degraded')).toBeTruthy();
    expect(score.querySelector('meter')?.getAttribute('value')).toBe('72');

    const table = screen.getByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(SAMPLE_HEALTH.signals.length);
    for (const [index, signal] of SAMPLE_HEALTH.signals.entries()) {
      const row = rows[index] as HTMLElement;
      expect(within(row).getByRole('rowheader').textContent).toBe(signal.label);
      expect(row.textContent).toContain(signalValue(signal));
      expect(row.textContent).toContain(signal.penalty > 0 ? `−${signal.penalty}` : '0');
      expect(row.textContent).toContain(`of ${signal.weight}`);
      expect(row.textContent).toContain(signal.explanation);
    }
    expect(rows[3]?.textContent).toContain('not measured');
    // The formula on the page adds up the penalties shown.
    expect(screen.getByText('100 − 28 = 72')).toBeTruthy();
  });

  it('takes a new measurement from the event stream', async () => {
    const server = await createTestServer(adminPrincipal);
    renderApp(server, '/admin/health');
    await screen.findByRole('region', { name: 'Health score' });
    const stream = server.streams.at(-1);
    stream?.open();
    stream?.emit('health', {
      ...SAMPLE_HEALTH,
      score: 100,
      status: 'healthy',
      signals: SAMPLE_HEALTH.signals.map((s) => ({ ...s, penalty: 0 })),
    });
    await waitFor(() => expect(screen.getByText('Healthy')).toBeTruthy());
    expect(screen.getByText('100 − 0 = 100')).toBeTruthy();
    // A pushed report needs no request of its own.
    expect(server.requests.filter((request) => request.path === '/demo/health')).toHaveLength(1);
  });

  it("says why when the report can't be loaded", async () => {
    const server = await createTestServer(adminPrincipal);
    const original = server.env.fetch;
    server.env.fetch = async (request) =>
      new URL(request.url).pathname === '/demo/health'
        ? problem(503, 'PROVIDER_UNAVAILABLE', 'The database did not answer.')
        : original(request);
    renderApp(server, '/admin/health');
    expect((await screen.findByRole('alert')).textContent).toContain('The database did not answer.');
  });
});
