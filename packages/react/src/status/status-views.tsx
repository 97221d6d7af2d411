import type { ReactNode } from 'react';
import { describeReadError } from './messages.js';

export interface LoadingStateProps {
  /** Read by screen readers while the skeleton shows. */
  label?: string;
  /** Skeleton bars to draw. Default 2. */
  lines?: number;
}

/** A skeleton that keeps the widget's height while data loads, announced as a status. */
export function LoadingState({ label = 'Loading…', lines = 2 }: LoadingStateProps) {
  return (
    <div className="tally-state" data-state="loading" role="status" aria-busy="true">
      <span className="tally-visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: identical placeholder bars
        <span key={i} className="tally-skeleton" aria-hidden="true" />
      ))}
    </div>
  );
}

export interface ErrorStateProps {
  error: unknown;
  /** Shows a "Try again" button. */
  onRetry?: () => void;
  /** What failed, e.g. "Your balance could not be loaded." */
  title?: string;
}

/** A failed load: what failed, why in words, and a retry. */
export function ErrorState({ error, onRetry, title }: ErrorStateProps) {
  return (
    <div className="tally-state" data-state="error" role="alert">
      {title ? <p className="tally-state__title">{title}</p> : null}
      <p className="tally-state__detail">{describeReadError(error)}</p>
      {onRetry ? (
        <button type="button" className="tally-button" data-variant="secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Nothing to show yet, said plainly. */
export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <div className="tally-state" data-state="empty">
      <p className="tally-state__detail">{children}</p>
    </div>
  );
}
