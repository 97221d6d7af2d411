import { type ReactNode, useEffect, useRef } from 'react';
import { errorMessage } from './demo-api.ts';
import { hasNavigated } from './router.tsx';

export const APP_NAME = 'Tally demo';

/**
 * One page: its <h1>, the document title, and focus on the heading after an in-app navigation so
 * screen-reader and keyboard users start at the top of the new page.
 */
export function Page({ title, intro, children }: { title: string; intro?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${APP_NAME}`;
    if (hasNavigated()) heading.current?.focus();
  }, [title]);
  return (
    <div className="dash-page">
      <header className="dash-page__header">
        <h1 ref={heading} tabIndex={-1} className="dash-page__title">
          {title}
        </h1>
        {intro ? <p className="dash-page__intro">{intro}</p> : null}
      </header>
      {children}
    </div>
  );
}

/** A failed request, in the server's own words, with a retry when there is one. */
export function ErrorNotice({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div className="dash-alert" role="alert">
      <p>
        {title ? <strong>{title} </strong> : null}
        {errorMessage(error)}
      </p>
      {onRetry ? (
        <button type="button" className="tally-button" data-variant="secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <p className="dash-loading" role="status">
      {label}
    </p>
  );
}

const dateTime = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat('en-US', { timeStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : time.format(date);
}

/** `professional` → `Professional`. */
export function tierName(id: string): string {
  return id ? id.charAt(0).toUpperCase() + id.slice(1) : id;
}
