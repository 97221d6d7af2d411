import { TallyError } from '@tally/core';
import type { WireEmailDelivery, WireEmailTemplateId } from '@tally/core/http';
import { useTallyQuery } from '@tally/react';
import { type FormEvent, useId, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { errorMessage } from '../demo-api.ts';
import { useInterval } from '../live.tsx';
import { ErrorNotice, formatDateTime, Loading, Page } from '../page.tsx';

const TEMPLATE_NAMES: Record<string, string> = {
  welcome: 'Welcome',
  low_balance: 'Low balance',
  monthly_reset: 'Monthly reset',
  coupon_redeemed: 'Coupon redeemed',
  tier_upgraded: 'Plan upgraded',
  tier_downgraded: 'Plan downgraded',
  payment_failed: 'Payment failed',
  analytics_report: 'Analytics report',
};

const LOCALES = [
  { id: 'en', label: 'English' },
  { id: 'de', label: 'German' },
];

const STATUS_TONE: Record<WireEmailDelivery['status'], 'positive' | 'negative' | undefined> = {
  sent: 'positive',
  failed: 'negative',
  suppressed: undefined,
};

const LOG_PAGE = 20;
export const EMAIL_LOG_KEY = ['dashboard', 'admin', 'email-log'] as const;

export function templateName(id: string): string {
  return TEMPLATE_NAMES[id] ?? id;
}

/** A plausible address, checked before anything is sent (the server checks again). */
export function checkRecipient(to: string): string {
  const address = to.trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address) || address.length > 254) {
    throw new TallyError('VALIDATION', 'Send to: an email address like ops@example.com.');
  }
  return address;
}

function Preview({ template, locale }: { template: WireEmailTemplateId; locale: string }) {
  const { client } = useDashboard();
  const preview = useTallyQuery(['dashboard', 'admin', 'email-preview', template, locale], () =>
    client.admin.emails.preview(template, { locale }),
  );
  if (preview.status === 'loading') return <Loading label="Rendering the preview…" />;
  if (preview.status === 'error' && !preview.data) {
    return <ErrorNotice error={preview.error} title="The preview could not be rendered." onRetry={() => void preview.refetch()} />;
  }
  const data = preview.data;
  if (!data) return null;
  return (
    <div className="dash-preview" aria-busy={preview.fetching || undefined}>
      <p>
        <span className="tally-muted">Subject: </span>
        <strong>{data.subject}</strong>
      </p>
      {/* No scripts and its own origin: the mail's HTML can't touch the dashboard. */}
      <iframe className="dash-preview__frame" title={`${templateName(template)} email, HTML preview`} sandbox="" srcDoc={data.html} />
      <details className="dash-details">
        <summary>Plain text version</summary>
        <pre className="dash-pre">{data.text}</pre>
      </details>
    </div>
  );
}

function TestSendForm({ template, locale }: { template: WireEmailTemplateId; locale: string }) {
  const { client, cache } = useDashboard();
  const [to, setTo] = useState('');
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; delivery: WireEmailDelivery } | { ok: false; error: unknown } | null>(null);
  const id = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    let address: string;
    try {
      address = checkRecipient(to);
    } catch (error) {
      setOutcome({ ok: false, error });
      return;
    }
    setPending(true);
    setOutcome(null);
    try {
      const { delivery } = await cache.mutate(() => client.admin.emails.sendTest({ template, to: address, locale }), {
        invalidates: [EMAIL_LOG_KEY],
      });
      setOutcome({ ok: true, delivery });
    } catch (error) {
      setOutcome({ ok: false, error });
    } finally {
      setPending(false);
    }
  };

  return (
    <form className="tally-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="dash-subtitle">
        Send a test
      </h3>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={`${id}-to`}>
          Send to
        </label>
        <input
          id={`${id}-to`}
          type="email"
          className="tally-input"
          autoComplete="email"
          value={to}
          aria-invalid={(outcome && !outcome.ok && TallyError.is(outcome.error, 'VALIDATION')) || undefined}
          onChange={(event) => setTo(event.target.value)}
        />
      </div>
      <div className="dash-row">
        <button type="submit" className="tally-button" aria-disabled={pending || undefined}>
          {pending ? 'Sending…' : 'Send test email'}
        </button>
      </div>
      <div role="status" className="dash-form-status">
        {outcome ? (
          outcome.ok ? (
            <p className="tally-note" data-tone={outcome.delivery.status === 'failed' ? 'negative' : 'positive'}>
              {outcome.delivery.status === 'sent'
                ? `Sent to ${outcome.delivery.to ?? to} (${outcome.delivery.transport ?? 'mail'}).`
                : outcome.delivery.status === 'failed'
                  ? `Not sent: ${outcome.delivery.error ?? 'the mail server refused it'}.`
                  : `Suppressed (${outcome.delivery.suppression ?? 'no reason given'}).`}
            </p>
          ) : (
            <p className="tally-note" data-tone="negative">
              {errorMessage(outcome.error)}
            </p>
          )
        ) : null}
      </div>
    </form>
  );
}

function DeliveryLog() {
  const { client } = useDashboard();
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const log = useTallyQuery([...EMAIL_LOG_KEY, cursor ?? ''], () => client.admin.emails.log({ cursor, limit: LOG_PAGE }));
  const titleId = useId();
  // Mails leave through the outbox worker a moment after what caused them: the first page keeps up.
  useInterval(() => void log.refetch(), 5_000, cursor === undefined);
  const rows = log.data?.items ?? [];

  return (
    <section className="dash-section" aria-labelledby={titleId} aria-busy={log.fetching || undefined}>
      <div className="dash-row dash-row--spread">
        <h2 id={titleId} className="dash-section-title">
          Delivery log
        </h2>
        <button type="button" className="tally-button" data-variant="secondary" onClick={() => void log.refetch()}>
          Refresh log
        </button>
      </div>
      {log.status === 'loading' ? (
        <Loading label="Loading the delivery log…" />
      ) : log.status === 'error' && !log.data ? (
        <ErrorNotice error={log.error} title="The delivery log could not be loaded." onRetry={() => void log.refetch()} />
      ) : rows.length === 0 ? (
        <p className="dash-empty">No emails yet. Redeem a coupon or change a plan as a customer, or send a test above.</p>
      ) : (
        <table className="dash-table">
          <caption className="dash-visually-hidden">Emails sent, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Email</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((delivery) => (
              <tr key={delivery.id}>
                <td data-label="When">{formatDateTime(delivery.at)}</td>
                <th scope="row" data-label="Email">
                  {templateName(delivery.template)}
                  {delivery.test ? <span className="tally-badge">Test</span> : null}
                </th>
                <td data-label="To">{delivery.to ?? (delivery.customerId ? `customer ${delivery.customerId}` : '—')}</td>
                <td data-label="Subject">{delivery.subject ?? '—'}</td>
                <td data-label="Status">
                  <span data-tone={STATUS_TONE[delivery.status]}>{delivery.status}</span>
                  {delivery.suppression ? <span className="tally-muted"> ({delivery.suppression.replace('_', ' ')})</span> : null}
                  {delivery.error ? <span className="tally-muted"> {delivery.error}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="dash-pager">
        <button
          type="button"
          className="tally-button"
          data-variant="secondary"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((stack) => stack.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          className="tally-button"
          data-variant="secondary"
          disabled={!log.data?.nextCursor}
          onClick={() => {
            const next = log.data?.nextCursor;
            if (next) setCursors((stack) => [...stack, next]);
          }}
        >
          Older
        </button>
      </div>
    </section>
  );
}

/** The notification templates, previewed safely and sent as tests, and every delivery. */
export function EmailsPage() {
  const { client } = useDashboard();
  const templates = useTallyQuery(['dashboard', 'admin', 'email-templates'], () => client.admin.emails.templates());
  const [picked, setPicked] = useState<WireEmailTemplateId | null>(null);
  const [locale, setLocale] = useState('en');
  const templateId = useId();
  const localeId = useId();
  const previewId = useId();
  const list = templates.data?.templates ?? [];
  const template = picked ?? list[0]?.id ?? null;
  const info = list.find((candidate) => candidate.id === template);

  return (
    <Page title="Emails" intro="What customers receive, in each language, and what was actually sent.">
      <section className="tally-card" aria-labelledby={previewId}>
        <h2 id={previewId} className="tally-card__title">
          Templates
        </h2>
        {templates.status === 'loading' ? (
          <Loading label="Loading templates…" />
        ) : templates.status === 'error' && !templates.data ? (
          <ErrorNotice error={templates.error} title="The templates could not be loaded." onRetry={() => void templates.refetch()} />
        ) : template ? (
          <>
            <div className="dash-row dash-row--end">
              <div className="tally-field">
                <label className="tally-field__label" htmlFor={templateId}>
                  Template
                </label>
                <select
                  id={templateId}
                  className="tally-input dash-select"
                  value={template}
                  onChange={(event) => setPicked(event.target.value as WireEmailTemplateId)}
                >
                  {list.map((candidate) => (
                    <option key={candidate.id} value={candidate.id}>
                      {templateName(candidate.id)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="tally-field">
                <label className="tally-field__label" htmlFor={localeId}>
                  Language
                </label>
                <select
                  id={localeId}
                  className="tally-input dash-select"
                  value={locale}
                  onChange={(event) => setLocale(event.target.value)}
                >
                  {LOCALES.map((option) => (
                    <option key={option.id} value={option.id}>
                      {option.label}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            {info ? (
              <p className="tally-muted">
                {info.description}
                {info.required ? ' Always sent: customers cannot turn it off.' : info.category ? ' Customers can turn it off.' : ''}
              </p>
            ) : null}
            <div className="dash-grid dash-grid--wide-first">
              <Preview template={template} locale={locale} />
              <TestSendForm template={template} locale={locale} />
            </div>
          </>
        ) : (
          <p className="dash-empty">No templates.</p>
        )}
      </section>
      <DeliveryLog />
    </Page>
  );
}
