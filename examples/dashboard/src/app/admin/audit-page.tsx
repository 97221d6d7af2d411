import type { WireAuditReport } from '@tally/core/http';
import { CreditAmount } from '@tally/react';
import { useId, useRef, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { ErrorNotice, formatTime, Page } from '../page.tsx';

/** The ledger's system accounts: where credits come from and go to (a source is negative, a sink positive). */
const SYSTEM_ACCOUNTS: Record<string, string> = {
  'system:grants': 'Plan allowances',
  'system:purchases': 'Credit purchases',
  'system:coupons': 'Coupons',
  'system:adjustments': 'Adjustments',
  'system:revenue': 'Spent on calls',
  'system:expired': 'Expired',
  'system:unlimited': 'Unlimited plans',
};

/**
 * Runs the ledger audit on demand: the journal must sum to zero, every bucket must match its
 * entries, no hold may outlive its call. A clean run says so; a dirty one lists each issue.
 */
export function AuditPage() {
  const { client } = useDashboard();
  const [state, setState] = useState<
    | { status: 'idle' }
    | { status: 'running' }
    | { status: 'done'; report: WireAuditReport; at: string }
    | { status: 'error'; error: unknown }
  >({
    status: 'idle',
  });
  const resultRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const issuesId = useId();

  const run = async () => {
    if (state.status === 'running') return;
    setState({ status: 'running' });
    try {
      const report = await client.admin.audit();
      setState({ status: 'done', report, at: new Date().toISOString() });
    } catch (error) {
      setState({ status: 'error', error });
    }
    resultRef.current?.focus();
  };

  return (
    <Page
      title="Ledger audit"
      intro="Checks that every credit is accounted for: the journal balances, buckets match their entries, holds are released."
    >
      <div className="dash-row">
        <button type="button" className="tally-button" aria-disabled={state.status === 'running' || undefined} onClick={run}>
          {state.status === 'running' ? 'Auditing…' : state.status === 'done' ? 'Run the audit again' : 'Run the audit'}
        </button>
      </div>
      <p role="status" className="dash-visually-hidden">
        {state.status === 'running'
          ? 'Auditing the ledger…'
          : state.status === 'done'
            ? state.report.ok
              ? 'The ledger is consistent.'
              : `The audit found ${state.report.issues.length} issues.`
            : state.status === 'error'
              ? 'The audit could not run.'
              : ''}
      </p>
      <div ref={resultRef} tabIndex={-1} className="dash-audit-result">
        {state.status === 'error' ? (
          <ErrorNotice error={state.error} title="The audit could not run." />
        ) : state.status === 'done' ? (
          <section className="tally-card" aria-labelledby={titleId}>
            <h2 id={titleId} className="tally-card__title">
              {state.report.ok ? 'The ledger is consistent' : `${state.report.issues.length} issues found`}
            </h2>
            <p className="tally-note" data-tone={state.report.ok ? 'positive' : 'negative'}>
              {state.report.ok
                ? `Clean at ${formatTime(state.at)}: every entry, bucket and hold adds up.`
                : `At ${formatTime(state.at)} the audit found problems; each one is listed below.`}
            </p>
            <dl className="tally-totals">
              <div className="tally-totals__row">
                <dt>Customers</dt>
                <dd>{state.report.customers.toLocaleString('en-US')}</dd>
              </div>
              <div className="tally-totals__row">
                <dt>Journal entries</dt>
                <dd>{state.report.entries.toLocaleString('en-US')}</dd>
              </div>
              <div className="tally-totals__row">
                <dt>Credit buckets</dt>
                <dd>{state.report.buckets.toLocaleString('en-US')}</dd>
              </div>
              <div className="tally-totals__row">
                <dt>Open holds</dt>
                <dd>{state.report.holds.toLocaleString('en-US')}</dd>
              </div>
              <div className="tally-totals__row" data-emphasis="">
                <dt>Journal total (0 when balanced)</dt>
                <dd>
                  <CreditAmount micros={BigInt(state.report.totalMicros)} maxFractionDigits={6} minFractionDigits={0} />
                </dd>
              </div>
              {Object.entries(state.report.systemBalances).map(([account, micros]) => (
                <div key={account} className="tally-totals__row">
                  <dt>{SYSTEM_ACCOUNTS[account] ?? account}</dt>
                  <dd>
                    <CreditAmount micros={BigInt(micros)} maxFractionDigits={6} minFractionDigits={0} />
                  </dd>
                </div>
              ))}
            </dl>
            {state.report.issues.length > 0 ? (
              <>
                <h3 id={issuesId} className="dash-subtitle">
                  Issues
                </h3>
                <table className="dash-table" aria-labelledby={issuesId}>
                  <thead>
                    <tr>
                      <th scope="col">Check</th>
                      <th scope="col">Where</th>
                      <th scope="col">Expected</th>
                      <th scope="col">Found</th>
                    </tr>
                  </thead>
                  <tbody>
                    {state.report.issues.map((issue) => (
                      <tr key={`${issue.code}|${issue.subject}`}>
                        <th scope="row" data-label="Check">
                          <code>{issue.code}</code>
                        </th>
                        <td data-label="Where">{issue.subject}</td>
                        <td data-label="Expected">{issue.expected}</td>
                        <td data-label="Found">{issue.actual}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            ) : null}
          </section>
        ) : state.status === 'idle' ? (
          <p className="tally-muted">The audit reads the whole ledger; on the demo's data it takes a moment.</p>
        ) : null}
      </div>
    </Page>
  );
}
