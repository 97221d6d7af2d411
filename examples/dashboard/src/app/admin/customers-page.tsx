import { TallyError } from '@tally/core';
import type { WireAdminCustomer } from '@tally/core/http';
import { CreditAmount, useTallyQuery } from '@tally/react';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { microsToDecimal } from '../credits.ts';
import { errorMessage } from '../demo-api.ts';
import { isLedgerEvent, useLiveEvent } from '../live.tsx';
import { ErrorNotice, formatDateTime, Loading, Page, tierName } from '../page.tsx';
import { MAX_REASON, parseCreditChange } from './credit-forms.ts';

const PAGE_SIZE = 20;
const STATUS: Record<string, string> = { trialing: 'Trial', active: 'Active', past_due: 'Past due', canceled: 'Canceled' };

export const customersKey = (search: string, cursor: string | undefined) =>
  ['dashboard', 'admin', 'customers', { search, cursor }] as const;
export const customerKey = (id: string) => ['dashboard', 'admin', 'customer', id] as const;

/** Grant or adjust one customer's credits, with a reason; the idempotency key lasts until the form changes. */
function CreditChangeForm({ customerId, kind }: { customerId: string; kind: 'grant' | 'adjust' }) {
  const { client, cache } = useDashboard();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; text: string } | { ok: false; error: unknown } | null>(null);
  const idempotencyKey = useRef<string | null>(null);
  const id = useId();
  const invalidField = outcome && !outcome.ok && TallyError.is(outcome.error, 'VALIDATION') ? outcome.error.issues[0]?.path[0] : undefined;

  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    // A changed form is a new request; the same form sent twice is one.
    idempotencyKey.current = null;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    let input: { amountMicros: string; reason: string };
    try {
      input = parseCreditChange(kind, amount, reason);
    } catch (error) {
      setOutcome({ ok: false, error });
      return;
    }
    idempotencyKey.current ??= crypto.randomUUID();
    setPending(true);
    setOutcome(null);
    try {
      const result =
        kind === 'grant'
          ? await client.admin.grant(
              customerId,
              { amountMicros: input.amountMicros, description: input.reason },
              { idempotencyKey: idempotencyKey.current },
            )
          : await client.admin.adjust(customerId, input, { idempotencyKey: idempotencyKey.current });
      idempotencyKey.current = null;
      setAmount('');
      setReason('');
      const verb = kind === 'grant' ? 'Granted' : 'Adjusted by';
      const available = BigInt(result.balance.availableMicros);
      setOutcome({
        ok: true,
        text: `${result.replayed ? 'Already done: ' : ''}${verb} ${microsToDecimal(input.amountMicros)} credits. Available now: ${microsToDecimal(available.toString())} credits.`,
      });
      void cache.invalidate(customerKey(customerId));
    } catch (error) {
      setOutcome({ ok: false, error });
    } finally {
      setPending(false);
    }
  };

  const title = kind === 'grant' ? 'Grant credits' : 'Adjust credits';
  return (
    <form className="tally-form dash-subcard" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="dash-subtitle">
        {title}
      </h3>
      <p className="tally-muted">
        {kind === 'grant'
          ? 'Adds credits to an adjustment bucket.'
          : 'Adds credits, or takes them with a minus sign (never more than are available).'}
      </p>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={`${id}-amount`}>
          Amount (credits)
        </label>
        <input
          id={`${id}-amount`}
          className="tally-input"
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          aria-invalid={invalidField === 'amount' || undefined}
          onChange={(event) => edit(setAmount)(event.target.value)}
        />
      </div>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={`${id}-reason`}>
          Reason
        </label>
        <input
          id={`${id}-reason`}
          className="tally-input"
          maxLength={MAX_REASON}
          autoComplete="off"
          value={reason}
          aria-invalid={invalidField === 'reason' || undefined}
          onChange={(event) => edit(setReason)(event.target.value)}
        />
      </div>
      <div className="dash-row">
        <button type="submit" className="tally-button" aria-disabled={pending || undefined}>
          {pending ? 'Saving…' : title}
        </button>
      </div>
      <div role="status" className="dash-form-status">
        {outcome ? (
          <p className="tally-note" data-tone={outcome.ok ? 'positive' : 'negative'}>
            {outcome.ok ? outcome.text : errorMessage(outcome.error)}
          </p>
        ) : null}
      </div>
    </form>
  );
}

/** One customer: balance and subscription, and the two credit forms. */
function CustomerDetail({ customerId, onClose }: { customerId: string; onClose: () => void }) {
  const { client, cache } = useDashboard();
  const detail = useTallyQuery(customerKey(customerId), () => client.admin.customer(customerId));
  const heading = useRef<HTMLHeadingElement>(null);
  const titleId = useId();

  useEffect(() => {
    heading.current?.focus();
  }, []);
  useLiveEvent('ledger', (data) => {
    if (isLedgerEvent(data) && data.customerId === customerId) void cache.invalidate(customerKey(customerId));
  });

  const data = detail.data;
  return (
    <section className="tally-card dash-detail" aria-labelledby={titleId} aria-busy={detail.fetching || undefined}>
      <div className="dash-row dash-row--spread">
        <h2 id={titleId} ref={heading} tabIndex={-1} className="tally-card__title">
          {customerId}
        </h2>
        <button type="button" className="tally-button" data-variant="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {detail.status === 'loading' ? (
        <Loading label="Loading the customer…" />
      ) : detail.status === 'error' && !data ? (
        <ErrorNotice error={detail.error} title="The customer could not be loaded." onRetry={() => void detail.refetch()} />
      ) : data ? (
        <dl className="tally-totals">
          <div className="tally-totals__row">
            <dt>Plan</dt>
            <dd>
              {tierName(data.customer.tier)}
              {data.subscription ? ` · ${STATUS[data.subscription.status] ?? data.subscription.status}` : ''}
            </dd>
          </div>
          <div className="tally-totals__row" data-emphasis="">
            <dt>Available</dt>
            <dd>{data.balance.unlimited ? 'Unlimited' : <CreditAmount micros={BigInt(data.balance.availableMicros)} />}</dd>
          </div>
          <div className="tally-totals__row">
            <dt>Held for calls in progress</dt>
            <dd>
              <CreditAmount micros={BigInt(data.balance.heldMicros)} />
            </dd>
          </div>
          <div className="tally-totals__row">
            <dt>Owed</dt>
            <dd>
              <CreditAmount micros={BigInt(data.balance.debtMicros)} />
            </dd>
          </div>
        </dl>
      ) : null}
      <div className="dash-grid">
        <CreditChangeForm customerId={customerId} kind="grant" />
        <CreditChangeForm customerId={customerId} kind="adjust" />
      </div>
    </section>
  );
}

/** Search customers by id, page through them, and open one to grant or adjust credits. */
export function CustomersPage() {
  const { client } = useDashboard();
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [selected, setSelected] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const list = useTallyQuery(customersKey(search, cursor), () =>
    client.admin.customers({ search: search || undefined, cursor, limit: PAGE_SIZE }),
  );
  const searchId = useId();
  const tableId = useId();
  const returnFocus = useRef<HTMLButtonElement | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSearch(draft.trim().slice(0, 100));
    setCursors([undefined]);
  };

  const close = () => {
    setSelected(null);
    queueMicrotask(() => returnFocus.current?.focus());
  };

  const rows: WireAdminCustomer[] = list.data?.items ?? [];
  return (
    <Page
      title="Customers"
      intro="Find a customer by id; open one to grant or adjust credits. Every change needs a reason and lands in the ledger."
    >
      <search className="dash-search">
        <form onSubmit={submit} className="dash-search__form">
          <label className="tally-field__label" htmlFor={searchId}>
            Search customers
          </label>
          <div className="dash-row">
            <input
              id={searchId}
              type="search"
              className="tally-input dash-search__input"
              value={draft}
              maxLength={100}
              placeholder="Part of a customer id"
              onChange={(event) => setDraft(event.target.value)}
            />
            <button type="submit" className="tally-button">
              Search
            </button>
          </div>
        </form>
      </search>

      {selected ? <CustomerDetail key={selected} customerId={selected} onClose={close} /> : null}

      <section className="dash-section" aria-labelledby={tableId} aria-busy={list.fetching || undefined}>
        <h2 id={tableId} className="dash-section-title">
          {search ? `Customers matching “${search}”` : 'All customers'}
        </h2>
        {list.status === 'loading' ? (
          <Loading label="Loading customers…" />
        ) : list.status === 'error' && !list.data ? (
          <ErrorNotice error={list.error} title="The customers could not be loaded." onRetry={() => void list.refetch()} />
        ) : rows.length === 0 ? (
          <p className="dash-empty">No customers match.</p>
        ) : (
          <table className="dash-table">
            <caption className="dash-visually-hidden">Customers, in id order</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Plan</th>
                <th scope="col">Status</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="dash-visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((customer) => (
                <tr key={customer.id} data-selected={customer.id === selected || undefined}>
                  <th scope="row" data-label="Customer">
                    <code>{customer.id}</code>
                  </th>
                  <td data-label="Plan">{customer.unlimited ? `${tierName(customer.tier)} (unlimited)` : tierName(customer.tier)}</td>
                  <td data-label="Status">
                    {customer.subscriptionStatus ? (STATUS[customer.subscriptionStatus] ?? customer.subscriptionStatus) : '—'}
                  </td>
                  <td data-label="Since">{formatDateTime(customer.createdAt)}</td>
                  <td data-label="Actions" data-align="end">
                    <button
                      type="button"
                      className="tally-button"
                      data-variant="secondary"
                      aria-label={`Manage ${customer.id}`}
                      onClick={(event) => {
                        returnFocus.current = event.currentTarget;
                        setSelected(customer.id);
                      }}
                    >
                      Manage
                    </button>
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
            Previous page
          </button>
          <button
            type="button"
            className="tally-button"
            data-variant="secondary"
            disabled={!list.data?.nextCursor}
            onClick={() => {
              const next = list.data?.nextCursor;
              if (next) setCursors((stack) => [...stack, next]);
            }}
          >
            Next page
          </button>
        </div>
      </section>
    </Page>
  );
}
