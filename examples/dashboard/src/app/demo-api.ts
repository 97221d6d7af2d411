import { TallyError, type TallyErrorCode } from '@tally/core';

/** Who is signed in, as `GET /demo/session` says. */
export interface Principal {
  customerId: string | null;
  roles: string[];
}

export interface SampleCustomer {
  id: string;
  tier: string;
  name?: string;
}

export type PowerLevel = 'eco' | 'balanced' | 'precision';

export const POWER_LEVELS: ReadonlyArray<{ id: PowerLevel; label: string; description: string }> = [
  { id: 'eco', label: 'Eco', description: 'the cheapest model your plan offers' },
  { id: 'balanced', label: 'Balanced', description: 'a good model at a fair price' },
  { id: 'precision', label: 'Precision', description: 'the strongest model your plan allows' },
];

export interface PlaygroundResult {
  text: string;
  model: string;
  inputTokens: number | string;
  outputTokens: number | string;
  /** Integer string: what this call cost in credit micros. */
  chargedMicros: string;
  /** Integer string: the balance after the call. */
  balanceMicros: string;
}

export interface HealthSignal {
  id: string;
  label: string;
  /** Null when the signal could not be measured (e.g. no reconciliation has run). */
  value: number | string | null;
  unit: string;
  weight: number;
  penalty: number;
  explanation: string;
}

export interface HealthReport {
  score: number;
  status: 'healthy' | 'degraded' | 'failing';
  signals: HealthSignal[];
  measuredAt: string;
}

export function isAdmin(principal: Principal | null): boolean {
  return principal?.roles.includes('admin') ?? false;
}

function isProblem(value: unknown): value is { code?: unknown; title?: unknown; detail?: unknown; issues?: unknown } {
  return typeof value === 'object' && value !== null;
}

/**
 * A failed `/demo` response as a TallyError, like the typed client does for `/v1`: the problem's
 * `code`, and its `detail` (else its `title`) as the message people read.
 */
async function problemError(response: Response): Promise<TallyError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const problem = isProblem(body) ? body : {};
  const code = (typeof problem.code === 'string' ? problem.code : response.status >= 500 ? 'INTERNAL' : 'VALIDATION') as TallyErrorCode;
  const message =
    typeof problem.detail === 'string' && problem.detail
      ? problem.detail
      : typeof problem.title === 'string' && problem.title
        ? problem.title
        : `The server answered ${response.status}`;
  const issues = Array.isArray(problem.issues) ? problem.issues : [];
  return new TallyError(code, message, { issues, details: { status: response.status, problem: body } });
}

/** The demo server's own routes (sign-in, the playground, health), next to the `/v1` API. */
export function createDemoApi(options: { origin: string; fetch: (request: Request) => Promise<Response> }) {
  async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    const request = new Request(`${options.origin}/demo/${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    let response: Response;
    try {
      response = await options.fetch(request);
    } catch (cause) {
      throw new TallyError('PROVIDER_UNAVAILABLE', 'The dashboard server could not be reached', { cause });
    }
    if (!response.ok) throw await problemError(response);
    return response;
  }

  async function json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await send(method, path, body);
    try {
      return (await response.json()) as T;
    } catch (cause) {
      throw new TallyError('INTERNAL', `The dashboard server's answer to ${path} was not JSON`, { cause });
    }
  }

  return {
    session: async () => (await json<{ principal: Principal | null }>('GET', 'session')).principal,
    customers: async () => (await json<{ customers: SampleCustomer[] }>('GET', 'customers')).customers,
    signIn: async (as: string) => {
      await send('POST', 'sign-in', { as });
    },
    signOut: async () => {
      await send('POST', 'sign-out');
    },
    playground: (input: { prompt: string; powerLevel: PowerLevel }) => json<PlaygroundResult>('POST', 'playground', input),
    health: () => json<HealthReport>('GET', 'health'),
  };
}

export type DemoApi = ReturnType<typeof createDemoApi>;

/** What to tell people about a failed request: the problem's own words when there are any. */
export function errorMessage(error: unknown): string {
  if (TallyError.is(error) || error instanceof Error) return error.message || 'Something went wrong.';
  return 'Something went wrong.';
}
