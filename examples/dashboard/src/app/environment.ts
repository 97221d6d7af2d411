/**
 * What the app takes from the browser, in one place so tests can hand it fakes: the network (`fetch`
 * and the server-sent event stream), the origin the API lives on, and where the theme choice is kept.
 */

/** The part of `EventSource` the app uses. */
export interface EventStream {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  addEventListener(type: 'open' | 'error', listener: (event: Event) => void): void;
  close(): void;
  readonly readyState: number;
}

export interface AppEnvironment {
  /** Where `/v1` and `/demo` are served: the page's own origin in the browser. */
  origin: string;
  fetch: (request: Request, init?: RequestInit) => Promise<Response>;
  /** Opens the server-sent event stream at `url` (same origin, so the session cookie goes along). */
  openEvents: (url: string) => EventStream;
  /** Opens a checkout or billing-portal URL. */
  assign: (url: string) => void;
}

export function browserEnvironment(): AppEnvironment {
  return {
    origin: window.location.origin,
    fetch: (request, init) => window.fetch(request, init),
    openEvents: (url) => new EventSource(url),
    assign: (url) => window.location.assign(url),
  };
}
