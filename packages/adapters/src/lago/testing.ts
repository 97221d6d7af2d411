/**
 * A stateful fake of the Lago REST API for msw, shaped after lago-api's controllers and services:
 * customers upserted by external_id, subscriptions by external_id (upgrade now, downgrade pending),
 * events unique per (external_subscription_id, transaction_id) with all-or-nothing batches of ≤ 100,
 * and a switch that answers 503 for the next N requests. Not part of the published entry points.
 */
import { HttpResponse, http } from 'msw';

export interface FakeLagoOptions {
  /** Default `https://api.getlago.com/api/v1`. */
  baseUrl?: string;
  /** The key the fake accepts as `Authorization: Bearer …`. Default `lago_test_key`. */
  apiKey?: string;
  /** Known plan codes with their yearly amount in cents (decides upgrade vs downgrade). Default: any code, all equal. */
  plans?: Record<string, number>;
  /** A PEM public key served (base64) at `GET /webhooks/public_key`. */
  webhookPublicKeyPem?: string;
}

export interface FakeLagoEvent {
  lago_id: string;
  transaction_id: string;
  lago_customer_id: null;
  code: string;
  timestamp: string;
  precise_total_amount_cents: null;
  properties: Record<string, unknown>;
  lago_subscription_id: null;
  external_subscription_id: string;
  created_at: string;
}

export interface FakeLagoSubscription {
  lago_id: string;
  external_id: string;
  external_customer_id: string;
  lago_customer_id: string;
  plan_code: string;
  status: 'active' | 'pending' | 'canceled' | 'terminated';
  billing_time: 'calendar' | 'anniversary';
  started_at: string;
  ending_at: null;
  terminated_at: string | null;
  next_plan_code: string | null;
  downgrade_plan_date: string | null;
  current_billing_period_started_at: string;
  current_billing_period_ending_at: string | null;
  plan: Record<string, never>;
}

export interface FakeLagoRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

const MAX_BATCH = 100;

function problem(status: number, body: Record<string, unknown>) {
  const error = { 401: 'Unauthorized', 404: 'Not Found', 422: 'Unprocessable Entity', 503: 'Service Unavailable' }[status] ?? 'Error';
  return HttpResponse.json({ status, error, ...body }, { status });
}

function validation(details: Record<string, unknown>) {
  return problem(422, { code: 'validation_errors', error_details: details, error_extra: {} });
}

/** Unix seconds (number or numeric string, decimals = ms) → ISO time; null when not numeric, as Lago's `Float()` would refuse. */
function eventTime(value: unknown, now: Date): string | null {
  if (value === undefined || value === null) return now.toISOString();
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d+(\.\d+)?$/.test(text.trim())) return null;
  const [whole = '0', fraction = ''] = text.trim().split('.');
  const ms = Number(whole) * 1000 + (whole.startsWith('-') ? -1 : 1) * Number(fraction.padEnd(3, '0').slice(0, 3));
  return new Date(ms).toISOString();
}

export function createFakeLago(options: FakeLagoOptions = {}) {
  const base = (options.baseUrl ?? 'https://api.getlago.com/api/v1').replace(/\/$/, '');
  const apiKey = options.apiKey ?? 'lago_test_key';
  const customers = new Map<string, Record<string, unknown> & { lago_id: string; external_id: string }>();
  const subscriptions: FakeLagoSubscription[] = [];
  const events = new Map<string, FakeLagoEvent>();
  const requests: FakeLagoRequest[] = [];
  let downFor = 0;
  let ids = 0;
  const id = (prefix: string) => `${prefix}_${String(++ids).padStart(6, '0')}`;
  const now = () => new Date();

  function upsertCustomer(externalId: string, fields: Record<string, unknown> = {}) {
    const existing = customers.get(externalId);
    const customer = existing ?? { lago_id: id('cus'), external_id: externalId, created_at: now().toISOString() };
    for (const [key, value] of Object.entries(fields)) if (key !== 'lago_id' && value !== undefined) customer[key] = value;
    customers.set(externalId, customer);
    return customer;
  }

  function storeEvent(input: Record<string, unknown>, timestamp: string): FakeLagoEvent {
    const event: FakeLagoEvent = {
      lago_id: id('evt'),
      transaction_id: String(input.transaction_id),
      lago_customer_id: null,
      code: String(input.code),
      timestamp,
      precise_total_amount_cents: null,
      properties: (input.properties as Record<string, unknown>) ?? {},
      lago_subscription_id: null,
      external_subscription_id: String(input.external_subscription_id),
      created_at: now().toISOString(),
    };
    events.set(`${event.external_subscription_id}\u0000${event.transaction_id}`, event);
    return event;
  }

  type Checked = { ok: true; timestamp: string } | { ok: false; errors: Record<string, string[]> };

  /** Lago's per-event validation; `batch` holds the keys taken by earlier events of the same batch. */
  function checkEvent(input: unknown, batch: Set<string>): Checked {
    if (typeof input !== 'object' || input === null) return { ok: false, errors: { transaction_id: ['value_is_mandatory'] } };
    const event = input as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    if (typeof event.transaction_id !== 'string' || event.transaction_id === '') errors.transaction_id = ['value_is_mandatory'];
    if (typeof event.code !== 'string' || event.code === '') errors.code = ['value_is_mandatory'];
    const timestamp = eventTime(event.timestamp, now());
    if (timestamp === null) return { ok: false, errors: { timestamp: ['invalid_format'] } };
    if (Object.keys(errors).length > 0) return { ok: false, errors };
    const key = `${String(event.external_subscription_id)}\u0000${event.transaction_id}`;
    if (events.has(key) || batch.has(key)) return { ok: false, errors: { transaction_id: ['value_already_exist'] } };
    batch.add(key);
    return { ok: true, timestamp };
  }

  function editable(customerId: string, externalId: string) {
    return subscriptions.find(
      (s) => s.external_customer_id === customerId && s.external_id === externalId && (s.status === 'active' || s.status === 'pending'),
    );
  }

  function planAmount(code: string): number {
    return options.plans?.[code] ?? 0;
  }

  async function read(request: Request): Promise<unknown> {
    const text = await request.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  type Route = (request: Request, body: unknown, params: Record<string, string>) => Response | Promise<Response>;

  /** Auth, the outage switch and the request log around every route. */
  function route(method: 'get' | 'post' | 'delete', path: string, handle: Route) {
    return http[method](`${base}${path}`, async ({ request, params }) => {
      const body = request.method === 'GET' || request.method === 'DELETE' ? null : await read(request);
      const log = (response: Response) => {
        requests.push({ method: request.method, path: new URL(request.url).pathname, body, status: response.status });
        return response;
      };
      if (downFor > 0) {
        downFor--;
        return log(problem(503, {}));
      }
      if (request.headers.get('authorization') !== `Bearer ${apiKey}`) return log(problem(401, {}));
      if (body === undefined) return log(problem(400, { error: 'BadRequest: invalid JSON' }));
      return log(await handle(request, body, params as Record<string, string>));
    });
  }

  const handlers = [
    route('post', '/customers', (_request, body) => {
      const input = (body as { customer?: Record<string, unknown> } | null)?.customer;
      if (!input || typeof input.external_id !== 'string' || input.external_id === '') {
        return validation({ external_id: ['value_is_mandatory'] });
      }
      return HttpResponse.json({ customer: upsertCustomer(input.external_id, input) });
    }),

    route('post', '/subscriptions', (_request, body) => {
      const input = (body as { subscription?: Record<string, unknown> } | null)?.subscription ?? {};
      const customerId = input.external_customer_id;
      const externalId = input.external_id;
      const planCode = input.plan_code;
      if (typeof customerId !== 'string' || customerId === '') return validation({ external_customer_id: ['value_is_mandatory'] });
      if (typeof externalId !== 'string' || externalId === '') return validation({ external_id: ['value_is_mandatory'] });
      if (typeof planCode !== 'string' || (options.plans && !(planCode in options.plans))) {
        return problem(404, { code: 'plan_not_found' });
      }
      const customer = upsertCustomer(customerId);
      const current = editable(customerId, externalId);
      if (!current) {
        if (subscriptions.some((s) => s.external_id === externalId && s.status === 'active')) {
          return validation({ external_id: ['value_already_exist'] });
        }
        const at = now().toISOString();
        const created: FakeLagoSubscription = {
          lago_id: id('sub'),
          external_id: externalId,
          external_customer_id: customerId,
          lago_customer_id: customer.lago_id,
          plan_code: planCode,
          status: 'active',
          billing_time: input.billing_time === 'anniversary' ? 'anniversary' : 'calendar',
          started_at: at,
          ending_at: null,
          terminated_at: null,
          next_plan_code: null,
          downgrade_plan_date: null,
          current_billing_period_started_at: at,
          current_billing_period_ending_at: null,
          plan: {},
        };
        subscriptions.push(created);
        return HttpResponse.json({ subscription: created });
      }
      if (current.plan_code !== planCode) {
        if (planAmount(planCode) >= planAmount(current.plan_code)) {
          current.plan_code = planCode;
          current.next_plan_code = null;
          current.downgrade_plan_date = null;
        } else {
          current.next_plan_code = planCode;
          current.downgrade_plan_date = current.current_billing_period_ending_at;
        }
      }
      return HttpResponse.json({ subscription: current });
    }),

    route('delete', '/subscriptions/:externalId', (_request, _body, params) => {
      const current = subscriptions.find((s) => s.external_id === params.externalId && s.status === 'active');
      if (!current) return problem(404, { code: 'subscription_not_found' });
      current.status = 'terminated';
      current.terminated_at = now().toISOString();
      return HttpResponse.json({ subscription: current });
    }),

    route('post', '/events', (_request, body) => {
      const input = (body as { event?: unknown } | null)?.event;
      const checked = checkEvent(input, new Set());
      if (!checked.ok) return validation(checked.errors);
      return HttpResponse.json({ event: storeEvent(input as Record<string, unknown>, checked.timestamp) });
    }),

    route('post', '/events/batch', (_request, body) => {
      const list = (body as { events?: unknown } | null)?.events;
      if (!Array.isArray(list) || list.length === 0) return validation({ events: ['no_events'] });
      if (list.length > MAX_BATCH) return validation({ events: ['too_many_events'] });
      const taken = new Set<string>();
      const errors: Record<string, unknown> = {};
      const times: string[] = [];
      list.forEach((input, index) => {
        const checked = checkEvent(input, taken);
        if (checked.ok) times.push(checked.timestamp);
        else errors[String(index)] = checked.errors;
      });
      // All or nothing, as on Lago's Postgres event store.
      if (Object.keys(errors).length > 0) return validation(errors);
      return HttpResponse.json({ events: list.map((input, index) => storeEvent(input, times[index] as string)) });
    }),

    route('get', '/webhooks/public_key', () => {
      if (!options.webhookPublicKeyPem) return problem(404, { code: 'public_key_not_found' });
      return new HttpResponse(Buffer.from(options.webhookPublicKeyPem, 'utf8').toString('base64'), {
        headers: { 'content-type': 'text/plain' },
      });
    }),
  ];

  return {
    baseUrl: base,
    apiKey,
    handlers,
    customers,
    subscriptions,
    /** Stored events by `external_subscription_id` + NUL + `transaction_id`. */
    events,
    requests,
    /** The next `n` requests (any route) answer 503. */
    down(n: number) {
      downFor = n;
    },
  };
}

export type FakeLago = ReturnType<typeof createFakeLago>;
