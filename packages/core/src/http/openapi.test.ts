import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOpenApiDocument } from './openapi.js';
import { routes } from './routes.js';
import * as s from './schemas.js';
import { allowedCaller, callSample, createHarness, ROUTE_SAMPLES, seedCustomers } from './test-support.js';

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  security: unknown[];
  parameters: Array<{ name: string; in: string; required: boolean; description: string; schema: Json; example?: unknown }>;
  requestBody?: { content: Record<string, { schema: { $ref: string }; example: unknown }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: { $ref?: string; type?: string }; example: unknown }> }
  >;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
  tags: Array<{ name: string; description: string }>;
}

const doc = createOpenApiDocument() as unknown as Document;

/** Every `$ref` anywhere in a value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') out.push(item);
      else refs(item, out);
    }
  }
  return out;
}

/** Every exported zod schema of schemas.ts, by export name. */
const exported = (Object.entries(s) as Array<[string, unknown]>).filter(
  (entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType,
);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with every route of the table, once, under its method and path', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe('Tally API');
    const operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => `${op.operationId} ${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(routes.map((r) => `${r.id} ${r.method} ${r.path}`).sort());
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(doc.tags.map((t) => t.name).sort()).toEqual(['admin', 'customer', 'public', 'webhook']);
  });

  it('gives every operation a summary, a description, its scope as tag, security, and examples', () => {
    for (const route of routes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()] as Operation;
      expect(op.summary.length, route.id).toBeGreaterThan(3);
      expect(op.description.length, route.id).toBeGreaterThan(20);
      expect(op.tags).toEqual([route.scope]);
      expect(op.security).toEqual(route.scope === 'customer' || route.scope === 'admin' ? [{ bearerAuth: [] }] : []);
      const content = op.responses[String(route.response.status)]?.content ?? {};
      expect(Object.keys(content).sort(), route.id).toEqual([...(route.response.media ?? ['application/json'])].sort());
      for (const [media, body] of Object.entries(content)) {
        // Text answers are strings; a PDF is bytes.
        if (media === 'application/pdf') expect(body.schema, `${route.id} ${media}`).toEqual({ type: 'string', format: 'binary' });
        else if (media !== 'application/json') expect(body.schema, `${route.id} ${media}`).toEqual({ type: 'string' });
      }
      const success = content['application/json'];
      if (success || !route.response.media) {
        expect(success?.example, route.id).toBeDefined();
        expect(success?.schema.$ref).toMatch(/^#\/components\/schemas\/\w+$/);
        expect(route.response.schema.safeParse(success?.example).success, `${route.id} response example`).toBe(true);
      }
      expect(op.responses.default?.content?.['application/problem+json']).toBeDefined();
      if (route.scope === 'customer' || route.scope === 'admin')
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      if (route.body) {
        const request = op.requestBody?.content['application/json'];
        expect(request?.example, route.id).toBeDefined();
        expect(route.body.safeParse(request?.example).success, `${route.id} request example`).toBe(true);
      }
      for (const parameter of op.parameters) {
        expect(parameter.description.length, `${route.id} ${parameter.name}`).toBeGreaterThan(2);
        expect(parameter.example, `${route.id} ${parameter.name}`).toBeDefined();
      }
      const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      expect(pathParams.sort()).toEqual([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      expect(op.parameters.some((p) => p.name === 'Idempotency-Key')).toBe(route.mutation);
    }
  });

  it('resolves every $ref to a component, and every component is a JSON Schema object', () => {
    for (const ref of refs(doc)) {
      const id = ref.replace('#/components/schemas/', '');
      expect(doc.components.schemas[id], ref).toBeDefined();
    }
    for (const [id, schema] of Object.entries(doc.components.schemas)) {
      expect(schema.$schema, id).toBeUndefined();
      expect(schema.$id, id).toBeUndefined();
      expect(typeof schema.description, id).toBe('string');
      expect(schema.example, id).toBeDefined();
    }
    expect(doc.components.schemas.Balance).toMatchObject({ type: 'object', additionalProperties: false });
    expect((doc.components.schemas.Balance as { properties: Json }).properties.buckets).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/Bucket' },
      description: expect.any(String),
      example: expect.any(Array),
    });
  });

  it('is plain JSON (the handler serves it as is)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});

describe('the schemas', () => {
  it('every exported schema has a description and an example it accepts', () => {
    expect(exported.length).toBeGreaterThan(40);
    for (const [name, schema] of exported) {
      const meta = z.globalRegistry.get(schema);
      if (name.endsWith('Params')) {
        // Path parameters are described field by field.
        for (const field of Object.values((schema as z.ZodObject).shape))
          expect(z.globalRegistry.get(field as z.ZodType)?.description, name).toBeTruthy();
        continue;
      }
      expect(meta?.description, name).toBeTruthy();
      expect(meta && 'example' in meta, name).toBe(true);
      expect(schema.safeParse(meta?.example).success, `${name}'s example`).toBe(true);
    }
  });

  it('integer strings take /^-?\\d{1,30}$/ only', () => {
    const micros = s.balanceSchema.shape.balanceMicros;
    for (const good of ['0', '-1', '123456789012345678901234567890']) expect(micros.safeParse(good).success).toBe(true);
    for (const bad of ['', '1.5', '1e3', '+1', ' 1', '0x10', '1234567890123456789012345678901', 1])
      expect(micros.safeParse(bad).success).toBe(false);
  });
});

describe('every route answers with its own schema', () => {
  it.each(routes.map((route) => [route.id, route] as const))('%s', async (_id, route) => {
    const h = await createHarness();
    await seedCustomers(h);
    const sample = await ROUTE_SAMPLES[route.id]?.(h);
    if (!sample) throw new Error(`no sample for ${route.id}`);
    const response = await callSample(h, route, allowedCaller(route), sample);
    expect(response.status).toBe(route.response.status);
    if (route.response.media && !route.response.media.includes('application/json')) {
      // A page, not JSON: it says so, and it is a whole document.
      expect(response.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8$/);
      expect(await response.text()).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>$/);
      return;
    }
    const parsed = route.response.schema.safeParse(await response.json());
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
