/**
 * Every webhook delivery the server answers (Stripe's, Lago's, and the sandbox's own events, which
 * take the same route) is written to `demo_webhook_deliveries`: the health score counts the ones that
 * failed in the last 24 hours.
 */
import type { Clock } from '@tally/core';
import type { DemoDatabase } from './database.ts';

export type WebhookEndpoint = (request: Request, provider?: string) => Promise<Response>;

async function failureOf(response: Response): Promise<string | null> {
  if (response.status < 400) return null;
  try {
    const body = (await response.clone().json()) as { code?: unknown; detail?: unknown };
    return [body.code, body.detail].filter((part) => typeof part === 'string').join(': ') || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/**
 * Wraps the handler's webhook routes: answers as the handler does, and logs the delivery. A delivery
 * the log can't record is reported to `onError` but still answered.
 */
export function loggedWebhooks(options: {
  db: DemoDatabase;
  clock: Clock;
  handle: (request: Request) => Promise<Response>;
  onError: (error: unknown) => void;
}): WebhookEndpoint {
  return async (request, provider) => {
    const name = provider ?? new URL(request.url).pathname.split('/')[3] ?? 'unknown';
    const response = await options.handle(request);
    const error = await failureOf(response);
    try {
      await options.db.query('insert into demo_webhook_deliveries (provider, status, error, received_at) values ($1, $2, $3, $4)', [
        name.slice(0, 40),
        response.status,
        error?.slice(0, 500) ?? null,
        options.clock.now(),
      ]);
    } catch (failure) {
      options.onError(failure);
    }
    return response;
  };
}
