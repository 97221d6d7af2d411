/**
 * The OpenAPI 3.1 document, generated from the route table and the same zod schemas the handler
 * validates with (`z.toJSONSchema`): request and response shapes are components, every operation has
 * its route id as operationId, a summary, a description, examples, and its scope as tag.
 */
import { z } from 'zod';
import type { AnyRoute, RouteScope } from './route.js';
import { routes as ALL_ROUTES } from './routes.js';
import * as s from './schemas.js';

type Json = Record<string, unknown>;

/** Named components; any other route schema gets a name from its route id. */
const RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  Problem: s.problemSchema,
  Health: s.healthSchema,
  Bucket: s.bucketSchema,
  Balance: s.balanceSchema,
  Subscription: s.subscriptionSchema,
  ProviderBalance: s.providerBalanceSchema,
  Me: s.meSchema,
  Tier: s.tierSchema,
  Tiers: s.tiersSchema,
  TierChangePreview: s.tierChangePreviewSchema,
  TierChangeResult: s.tierChangeResultSchema,
  Entry: s.entrySchema,
  EntryPage: s.entryPageSchema,
  Usage: s.usageSchema,
  CouponBenefit: s.couponBenefitSchema,
  Redemption: s.redemptionSchema,
  CreditPack: s.creditPackSchema,
  CreditPacks: s.creditPacksSchema,
  AutoRecharge: s.autoRechargeSchema,
  SpendCap: s.spendCapSchema,
  SpendCaps: s.spendCapsSchema,
  ByokKey: s.byokKeySchema,
  ByokKeys: s.byokKeysSchema,
  ByokRemoved: s.byokRemovedSchema,
  NotificationPreferences: s.notificationPreferencesSchema,
  Checkout: s.checkoutSchema,
  AdminCustomer: s.adminCustomerSchema,
  AdminCustomerPage: s.adminCustomerPageSchema,
  AdminCustomerDetail: s.adminCustomerDetailSchema,
  LedgerOperation: s.ledgerOperationSchema,
  Coupon: s.couponSchema,
  Coupons: s.couponsSchema,
  AuditReport: s.auditReportSchema,
  OutboxMessage: s.outboxMessageSchema,
  OutboxMessages: s.outboxMessagesSchema,
  OutboxRetried: s.outboxRetriedSchema,
  WebhookAck: s.webhookAckSchema,
  OpenApiDocument: s.openApiDocumentSchema,
};

const REQUEST_COMPONENTS: Record<string, z.ZodType> = {
  EmptyBody: s.emptyBodySchema,
  TierRequest: s.tierRequestSchema,
  PortalRequest: s.portalRequestSchema,
  RedeemRequest: s.redeemRequestSchema,
  AutoRechargeInput: s.autoRechargeInputSchema,
  SpendCapInput: s.spendCapInputSchema,
  ByokKeyInput: s.byokKeyInputSchema,
  NotificationPreferencesInput: s.notificationPreferencesInputSchema,
  GrantInput: s.grantInputSchema,
  AdjustInput: s.adjustInputSchema,
  CouponInput: s.couponInputSchema,
  CouponUpdate: s.couponUpdateSchema,
};

const TAGS: Record<RouteScope, string> = {
  public: 'No authentication.',
  customer: 'The calling customer’s own data: the bearer token names the customer; no route takes a customer id.',
  admin: 'Operators: the bearer token must carry the `admin` role.',
  webhook: 'Provider events, authenticated by their signature only.',
};

const componentRef = (id: string) => `#/components/schemas/${id}`;

function metaOf(schema: z.ZodType): { description?: string; example?: unknown } {
  return (z.globalRegistry.get(schema) ?? {}) as { description?: string; example?: unknown };
}

/** Components from a registry, without the `$schema` / `$id` that standalone JSON Schemas carry. */
function components(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Record<string, Json> {
  const generated = z.toJSONSchema(registry, { io, uri: componentRef, unrepresentable: 'any' }) as { schemas: Record<string, Json> };
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
}

function register(registry: z.core.$ZodRegistry<{ id: string }>, schema: z.ZodType, id: string): string {
  const known = registry.get(schema);
  if (known) return known.id;
  registry.add(schema, { id });
  return id;
}

/** Query or path parameters from a strict object schema: one parameter per property. */
function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    description: property.description ?? name,
    schema: property,
    ...(property.example !== undefined ? { example: property.example } : {}),
  }));
}

const IDEMPOTENCY_HEADER: Json = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe: the same key with the same body answers as the first call did; with another body, 409 IDEMPOTENCY_CONFLICT. Without it every call is new. 1-200 visible ASCII characters, scoped to the caller.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
  example: '5f0c7a52-6a43-4c36-9f0d-2d1e5b0b8e61',
};

function problemResponse(description: string, status: number, code: string, detail: string): Json {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: { $ref: componentRef('Problem') },
        example: { type: `https://tally.dev/errors/${code.toLowerCase()}`, title: description, status, detail, code },
      },
    },
  };
}

function errorResponses(route: AnyRoute): Json {
  const out: Json = {};
  if (route.params || route.query || route.body || route.mutation) {
    out['400'] = problemResponse('Bad request', 400, 'VALIDATION', 'Invalid body: tier: must be a lower-case slug');
  }
  if (route.scope === 'customer' || route.scope === 'admin') {
    out['401'] = problemResponse('Unauthenticated', 401, 'UNAUTHENTICATED', 'Sign in to call this route');
    out['403'] = problemResponse(
      'Forbidden',
      403,
      'FORBIDDEN',
      route.scope === 'admin' ? 'This route is for admins' : 'This route is for customers',
    );
  }
  out['404'] = problemResponse('Not found', 404, 'NOT_FOUND', 'Unknown customer "cus_ada"');
  out.default = problemResponse('Any other error, with a stable code (docs/http.md)', 500, 'INTERNAL', 'Something went wrong on our side');
  return out;
}

export interface OpenApiOptions {
  /** Default: every route of the table. The handler passes the routes its options enable. */
  routes?: readonly AnyRoute[];
  /** Where the routes are mounted; becomes the server URL. */
  basePath?: string;
  title?: string;
  version?: string;
}

export function createOpenApiDocument(options: OpenApiOptions = {}): Json {
  const routes = options.routes ?? ALL_ROUTES;
  const requests = z.registry<{ id: string }>();
  const responses = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(REQUEST_COMPONENTS)) requests.add(schema, { id });
  for (const [id, schema] of Object.entries(RESPONSE_COMPONENTS)) responses.add(schema, { id });
  const capitalized = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const responseId = register(responses, route.response.schema, `${capitalized(route.id)}Response`);
    const operation: Json = {
      operationId: route.id,
      summary: route.summary,
      description: route.description,
      tags: [route.scope],
      security: route.scope === 'customer' || route.scope === 'admin' ? [{ bearerAuth: [] }] : [],
      parameters: [
        ...parameters(route.params, 'path'),
        ...parameters(route.query, 'query'),
        ...(route.mutation ? [IDEMPOTENCY_HEADER] : []),
      ],
      responses: {
        [String(route.response.status)]: {
          description: metaOf(route.response.schema).description ?? route.summary,
          content: Object.fromEntries(
            (route.response.media ?? ['application/json']).map((media) => [
              media,
              media === 'application/json'
                ? { schema: { $ref: componentRef(responseId) }, example: metaOf(route.response.schema).example }
                : media === 'application/pdf'
                  ? { schema: { type: 'string', format: 'binary' } }
                  : { schema: { type: 'string' } },
            ]),
          ),
        },
        ...errorResponses(route),
      },
    };
    if (route.body) {
      const requestId = register(requests, route.body, `${capitalized(route.id)}Request`);
      operation.requestBody = {
        required: !route.body.safeParse({}).success,
        description: metaOf(route.body).description ?? route.summary,
        content: { 'application/json': { schema: { $ref: componentRef(requestId) }, example: metaOf(route.body).example } },
      };
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Json>)[route.method.toLowerCase()] = operation;
  }

  const schemas = { ...components(responses, 'output'), ...components(requests, 'input') };
  const scopes = [...new Set(routes.map((route) => route.scope))];
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: options.title ?? 'Tally API',
      version: options.version ?? '1',
      description:
        'Credits and subscription billing. Amounts are decimal strings of integers (micros, cents, nano-USD), times ISO 8601 in UTC. Errors are RFC 9457 problem+json with a stable `code`.',
    },
    servers: [{ url: options.basePath || '/' }],
    tags: scopes.map((scope) => ({ name: scope, description: TAGS[scope] })),
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'Whatever the app’s `authenticate` accepts' } },
    },
  };
}
