import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/**
 * A tiny router on the History API: the location is read with useSyncExternalStore, `navigate`
 * pushes (or replaces) a history entry and tells the subscribers, and `Link` is an `<a>` that
 * navigates in place for a plain click and leaves new tabs and downloads to the browser.
 */

export interface AppLocation {
  pathname: string;
  search: string;
}

const CHANGE = 'dashboard:navigate';
let current: AppLocation | null = null;
/** Set once the app has moved away from the page it loaded on: then a new page takes focus. */
let navigated = false;

function read(): AppLocation {
  const { pathname, search } = window.location;
  if (!current || current.pathname !== pathname || current.search !== search) current = { pathname, search };
  return current;
}

function subscribe(listener: () => void): () => void {
  const onChange = () => {
    navigated = true;
    listener();
  };
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

export function useLocation(): AppLocation {
  return useSyncExternalStore(subscribe, read, read);
}

/** True after the first in-app navigation (a page then moves focus to its heading). */
export function hasNavigated(): boolean {
  return navigated;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.href);
  if (url.origin !== window.location.origin) {
    window.location.assign(url.href);
    return;
  }
  const target = `${url.pathname}${url.search}${url.hash}`;
  if (options.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  window.dispatchEvent(new Event(CHANGE));
}

/** The value of one query parameter of `search`, or null. */
export function queryParam(search: string, name: string): string | null {
  return new URLSearchParams(search).get(name);
}

/** `/app/plan/` and `/app/plan` are the same page. */
export function normalizePath(pathname: string): string {
  return pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: string;
}

function isPlainClick(event: MouseEvent<HTMLAnchorElement>): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export function Link({ to, onClick, target, ...props }: LinkProps) {
  const location = useLocation();
  const path = normalizePath(new URL(to, window.location.href).pathname);
  const isCurrent = normalizePath(location.pathname) === path;
  return (
    <a
      href={to}
      target={target}
      aria-current={isCurrent ? 'page' : undefined}
      {...props}
      onClick={(event) => {
        onClick?.(event);
        if (event.defaultPrevented || !isPlainClick(event) || (target && target !== '_self') || props.download !== undefined) return;
        event.preventDefault();
        navigate(to);
      }}
    />
  );
}
