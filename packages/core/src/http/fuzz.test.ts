import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROBLEM_STATUS } from './problem.js';
import type { AnyRoute } from './route.js';
import { routes } from './routes.js';
import * as s from './schemas.js';
import { allowedCaller, createHarness, type Harness, ROUTE_SAMPLES, routePath, seedCustomers, storeSnapshot } from './test-support.js';

const RUNS = 40;
const CODES = new Set(Object.keys(PROBLEM_STATUS));

/**
 * The property every answer must have: never a 5xx; an error is problem+json with a known code and
 * changed nothing; a success only for input the route's own schemas accept.
 */
async function checkAnswer(h: Harness, send: () => Promise<Response>, accepted: () => boolean): Promise<void> {
  const before = await storeSnapshot(h);
  const response = await send();
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  expect(h.errors).toEqual([]);
  if (response.status >= 400) {
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = s.problemSchema.parse(JSON.parse(text));
    expect(problem.status).toBe(response.status);
    expect(CODES.has(problem.code), problem.code).toBe(true);
    expect(await storeSnapshot(h)).toEqual(before);
  } else {
    expect(accepted(), `accepted input the schemas refuse: ${text}`).toBe(true);
  }
}

async function seededFor(route: AnyRoute) {
  const h = await createHarness();
  await seedCustomers(h);
  const sample = await ROUTE_SAMPLES[route.id]?.(h);
  if (!sample) throw new Error(`no sample for ${route.id}`);
  return { h, sample, path: routePath(route, sample.params), as: allowedCaller(route) };
}

const json = fc.jsonValue({ maxDepth: 3 });
/** Strings that look like the fields routes take, so the fuzzer reaches past the first check. */
const fieldName = fc.constantFrom(
  'tier',
  'code',
  'amountMicros',
  'dailyMicros',
  'monthlyMicros',
  'endUserId',
  'limit',
  'cursor',
  'kind',
  'from',
  'to',
  'groupBy',
  'search',
  'apiKey',
  'returnUrl',
  'active',
  'categories',
  'reason',
  'enabled',
  'packId',
);
const value = fc.oneof(
  json,
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e3',
    '1.5',
    '99999999999999999999999999999',
    'professional',
    'WELCOME10',
    '2026-13-01T00:00:00Z',
    '*',
    'null',
    'day',
    '__proto__',
  ),
);
const nearBody = fc.dictionary(fc.oneof(fieldName, fc.string({ maxLength: 8 })), value, { maxKeys: 5 });

describe.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))('fuzzing %s', (_name, route) => {
  // Only tests that apply are declared: a GET has no body, a route without parameters none to fuzz.
  const when = (applies: boolean) => (applies ? it : () => {});

  when(!!route.body)('arbitrary JSON bodies: a 4xx problem and nothing changed, or input the schema accepts', async () => {
    const { h, path, as, sample } = await seededFor(route);
    const body = route.body as NonNullable<AnyRoute['body']>;
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, nearBody), async (input) => {
        await checkAnswer(
          h,
          () => h.call(route.method, path, { as, body: input, ...(sample.query ? { query: sample.query } : {}) }),
          () => body.safeParse(input).success,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary query strings: a 4xx problem and nothing changed, or a query the schema accepts', async () => {
    const { h, path, as, sample } = await seededFor(route);
    const query = fc.dictionary(
      fc.oneof(fieldName, fc.string({ maxLength: 8 })),
      fc.oneof(
        fc.string({ maxLength: 12 }),
        value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      ),
      {
        minKeys: 1,
        maxKeys: 4,
      },
    );
    await fc.assert(
      fc.asyncProperty(query, async (params) => {
        const send = () =>
          h.call(route.method, path, {
            as,
            query: params,
            ...(sample.body !== undefined ? { body: sample.body } : {}),
            ...(sample.rawBody !== undefined ? { rawBody: sample.rawBody } : {}),
            ...(sample.headers ? { headers: sample.headers } : {}),
          });
        // Webhook routes take no query: the provider's handler answers for the body alone.
        await checkAnswer(h, send, () => route.scope === 'webhook' || !!route.query?.safeParse(params).success);
      }),
      { numRuns: RUNS },
    );
  });

  // A GET can't carry a body in the Fetch API.
  when(route.method !== 'GET')('raw garbage bodies under any content type: a 4xx problem, nothing changed', async () => {
    const { h, path, as } = await seededFor(route);
    const garbage = fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }).filter((text) => text.trim() !== ''),
      fc.uint8Array({ minLength: 1, maxLength: 200 }).filter((bytes) => bytes.some((b) => b > 0x20)),
    );
    const type = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', '');
    await fc.assert(
      fc.asyncProperty(garbage, type, async (raw, contentType) => {
        const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
        const parsed = (() => {
          try {
            return {
              ok: true as const,
              value: JSON.parse(typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw)),
            };
          } catch {
            return { ok: false as const };
          }
        })();
        await checkAnswer(
          h,
          () => h.call(route.method, path, { as, rawBody: raw, headers }),
          // Bodiless routes (GET, DELETE) ignore a body; a body route accepts only JSON its schema takes.
          () => !route.body || (parsed.ok && /json/.test(contentType) && route.body.safeParse(parsed.value).success),
        );
      }),
      { numRuns: RUNS },
    );
  });

  when(!!route.params)('arbitrary path parameters: a 4xx problem and nothing changed, or a parameter the schema accepts', async () => {
    const { h, as, sample } = await seededFor(route);
    const names = Object.keys(sample.params ?? {});
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: names.length, maxLength: names.length }),
        async (values) => {
          const params = Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
          await checkAnswer(
            h,
            () =>
              h.call(route.method, routePath(route, params), {
                as,
                ...(sample.body !== undefined ? { body: sample.body } : {}),
                ...(sample.query ? { query: sample.query } : {}),
              }),
            () => !!route.params?.safeParse(params).success,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});
