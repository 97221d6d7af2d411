import { type ReactNode, useId, useState } from 'react';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { integer } from '../format/amounts.js';
import { formatDateTime } from '../format/dates.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireEntry } from '../provider/wire.js';
import { EmptyState, ErrorState, LoadingState } from '../status/status-views.js';
import { useTransactions } from './hooks.js';

export interface TransactionHistoryProps {
  /** The heading. Default "Transactions". */
  title?: string;
  /** Entries per page. Default 20. */
  pageSize?: number;
  className?: string;
}

const KIND_LABELS: Record<WireEntry['kind'], string> = {
  grant: 'Credits added',
  spend: 'Spent',
  capture: 'Usage',
  usage: 'Usage',
  expire: 'Expired',
  adjust: 'Adjustment',
  clawback: 'Refund',
};

const FILTERS: Array<{ value: '' | WireEntry['kind']; label: string }> = [
  { value: '', label: 'All' },
  { value: 'grant', label: 'Credits added' },
  { value: 'usage', label: 'Usage' },
  { value: 'capture', label: 'Metered calls' },
  { value: 'spend', label: 'Spent' },
  { value: 'expire', label: 'Expired' },
  { value: 'adjust', label: 'Adjustments' },
  { value: 'clawback', label: 'Refunds' },
];

/**
 * The ledger entries, newest first, filterable by kind and paged by cursor. A table on wide
 * screens; on narrow ones (a container query in styles.css) each row becomes a card.
 */
export function TransactionHistory({ title = 'Transactions', pageSize = 20, className }: TransactionHistoryProps) {
  const { locale, timeZone } = useTally();
  const [kind, setKind] = useState<'' | WireEntry['kind']>('');
  // The cursors of the pages visited: the last one is shown, popping goes back.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useTransactions({ cursor, kind: kind || undefined, limit: pageSize });
  const filterId = useId();
  const captionId = useId();

  let body: ReactNode;
  if (page.status === 'loading') body = <LoadingState label="Loading transactions…" lines={4} />;
  else if (page.status === 'error' && !page.data)
    body = <ErrorState error={page.error} title="The transactions could not be loaded." onRetry={page.refetch} />;
  else if (!page.data || page.data.items.length === 0) {
    body = (
      <EmptyState>
        {kind ? 'No transactions of this kind yet.' : 'No transactions yet. Credits you receive and spend will show up here.'}
      </EmptyState>
    );
  } else {
    body = (
      <div className="tally-table-wrap">
        <table className="tally-table" aria-labelledby={captionId}>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Description</th>
              <th scope="col">Type</th>
              <th scope="col" data-align="end">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((entry) => (
              <tr key={entry.id}>
                <td data-label="Date">{formatDateTime(entry.createdAt, locale, timeZone)}</td>
                <td data-label="Description">{describeEntry(entry, locale)}</td>
                <td data-label="Type">{KIND_LABELS[entry.kind]}</td>
                <td data-label="Amount" data-align="end">
                  <CreditAmount micros={integer(entry.amountMicros)} locale={locale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  const next = page.data?.nextCursor ?? null;
  return (
    <section className={cx('tally-card tally-transactions', className)} aria-labelledby={captionId} aria-busy={page.fetching || undefined}>
      <div className="tally-transactions__header">
        <h2 id={captionId} className="tally-card__title">
          {title}
        </h2>
        <div className="tally-field tally-field--inline">
          <label className="tally-field__label" htmlFor={filterId}>
            Show
          </label>
          <select
            id={filterId}
            className="tally-input"
            value={kind}
            onChange={(event) => {
              setKind(event.currentTarget.value as '' | WireEntry['kind']);
              setCursors([undefined]);
            }}
          >
            {FILTERS.map((filter) => (
              <option key={filter.value} value={filter.value}>
                {filter.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {body}
      {cursors.length > 1 || next ? (
        <nav className="tally-pager" aria-label={`${title} pages`}>
          <button
            type="button"
            className="tally-button"
            data-variant="secondary"
            aria-disabled={cursors.length <= 1 || undefined}
            onClick={() => setCursors((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack))}
          >
            Newer
          </button>
          <span className="tally-muted">Page {cursors.length}</span>
          <button
            type="button"
            className="tally-button"
            data-variant="secondary"
            aria-disabled={!next || undefined}
            onClick={() => {
              if (next) setCursors((stack) => [...stack, next]);
            }}
          >
            Older
          </button>
        </nav>
      ) : null}
    </section>
  );
}

/** The entry's own description, else what its usage says (model and tokens), else its kind. */
function describeEntry(entry: WireEntry, locale: string): string {
  if (entry.description) return entry.description;
  if (entry.usage) {
    // Token counts are integer strings: bigint keeps them exact, Intl groups the digits.
    const count = (value: string) => integer(value, 'token count').toLocaleString(locale);
    const tokens = `${count(entry.usage.inputTokens)} in / ${count(entry.usage.outputTokens)} out tokens`;
    return `${entry.usage.model} · ${tokens}${entry.usage.keySource === 'byok' ? ' · your key' : ''}`;
  }
  return KIND_LABELS[entry.kind];
}
