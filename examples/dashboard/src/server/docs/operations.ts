/**
 * The operations of an OpenAPI document, read into what a code sample needs: the URL with the
 * operation's own example values, the header parameters, the request body example and whether the
 * call carries a bearer token. Everything comes from the document; a value it does not give is an
 * error, never made up.
 */
import { TallyError } from '@tally/core';

type Json = Record<string, unknown>;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface SampleOperation {
  operationId: string;
  method: HttpMethod;
  /** The path template of the document, e.g. `/v1/admin/customers/{id}`. */
  path: string;
  tags: string[];
  /** Path parameters by name, with their example values. */
  pathParams: Record<string, string>;
  /** Query parameters in the document's order, with their example values. */
  query: Array<[name: string, value: string]>;
  /** Header parameters with examples (e.g. `Idempotency-Key`). */
  headers: Array<[name: string, value: string]>;
  /** The JSON request body example; undefined when the operation sends none (or only `{}`). */
  body: unknown;
  /** The operation needs `Authorization: Bearer …` (its security, else the document's). */
  bearer: boolean;
  /** The success answer is JSON only; false when it can also be HTML, CSV, PDF or text. */
  jsonOnly: boolean;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(message: string): TallyError {
  return new TallyError('VALIDATION', `OpenAPI document: ${message}`);
}

/** `#/components/parameters/X` style references, resolved inside the document. */
function resolve(document: Json, value: unknown): unknown {
  if (!isObject(value) || typeof value.$ref !== 'string') return value;
  const ref = value.$ref;
  if (!ref.startsWith('#/')) throw invalid(`only local references are supported, not "${ref}"`);
  let node: unknown = document;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : undefined;
  }
  if (node === undefined) throw invalid(`the reference "${ref}" does not resolve`);
  return node;
}

function exampleOf(parameter: Json): unknown {
  if (parameter.example !== undefined) return parameter.example;
  if (isObject(parameter.examples)) {
    const first = Object.values(parameter.examples)[0];
    if (isObject(first) && first.value !== undefined) return first.value;
  }
  const schema = isObject(parameter.schema) ? parameter.schema : {};
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  return undefined;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Which security the operation has: bearer, or none. Other schemes (API keys, OAuth flows) are not
 * what Tally declares, so they are refused rather than rendered wrong.
 */
function needsBearer(document: Json, operation: Json, label: string): boolean {
  const security = Array.isArray(operation.security) ? operation.security : Array.isArray(document.security) ? document.security : [];
  const schemes = isObject(document.components) && isObject(document.components.securitySchemes) ? document.components.securitySchemes : {};
  let bearer = false;
  for (const requirement of security) {
    if (!isObject(requirement)) continue;
    for (const name of Object.keys(requirement)) {
      const scheme = resolve(document, schemes[name]);
      if (!isObject(scheme)) throw invalid(`${label}: unknown security scheme "${name}"`);
      if (scheme.type !== 'http' || String(scheme.scheme).toLowerCase() !== 'bearer') {
        throw invalid(`${label}: security scheme "${name}" is not HTTP bearer`);
      }
      bearer = true;
    }
  }
  return bearer;
}

function requestBodyExample(document: Json, operation: Json, label: string): unknown {
  const requestBody = resolve(document, operation.requestBody);
  if (requestBody === undefined) return undefined;
  if (!isObject(requestBody) || !isObject(requestBody.content)) throw invalid(`${label}: requestBody has no content`);
  const json = requestBody.content['application/json'];
  if (!isObject(json)) throw invalid(`${label}: only JSON request bodies are supported`);
  const schema = resolve(document, json.schema);
  const example = json.example ?? (isObject(schema) ? schema.example : undefined);
  if (example === undefined) {
    if (requestBody.required === true) throw invalid(`${label}: the required request body has no example`);
    return undefined;
  }
  // An empty object is what an empty body means to the handler: the sample sends none.
  return isObject(example) && Object.keys(example).length === 0 ? undefined : example;
}

function successIsJsonOnly(operation: Json): boolean {
  const responses = isObject(operation.responses) ? operation.responses : {};
  const success = Object.entries(responses).find(([status]) => /^2\d\d$/.test(status))?.[1];
  if (!isObject(success) || !isObject(success.content)) return true;
  return Object.keys(success.content).every((media) => media === 'application/json' || media.endsWith('+json'));
}

/**
 * Every operation of the document (path × method), in document order. A sample shows the first call a
 * reader would make: every parameter the document gives an example for, except the pagination
 * `cursor`, which only ever comes from a previous page's `nextCursor`.
 */
export function sampleOperations(document: unknown): SampleOperation[] {
  if (!isObject(document) || !isObject(document.paths)) throw invalid('not an object with `paths`');
  const out: SampleOperation[] = [];
  for (const [path, rawItem] of Object.entries(document.paths)) {
    const item = resolve(document, rawItem);
    if (!isObject(item)) throw invalid(`path item ${path} is not an object`);
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const label = `${method.toUpperCase()} ${path}`;
      if (!isObject(operation)) throw invalid(`${label} is not an object`);
      if (typeof operation.operationId !== 'string' || operation.operationId === '') throw invalid(`${label} has no operationId`);
      const own = Array.isArray(operation.parameters) ? operation.parameters : [];
      const parameters = new Map<string, Json>();
      for (const raw of [...shared, ...own]) {
        const parameter = resolve(document, raw);
        if (!isObject(parameter) || typeof parameter.name !== 'string' || typeof parameter.in !== 'string') {
          throw invalid(`${label}: a parameter has no name or location`);
        }
        parameters.set(`${parameter.in}:${parameter.name}`, parameter);
      }
      const pathParams: Record<string, string> = {};
      const query: Array<[string, string]> = [];
      const headers: Array<[string, string]> = [];
      for (const parameter of parameters.values()) {
        const name = parameter.name as string;
        const example = exampleOf(parameter);
        if (example === undefined) {
          if (parameter.required === true || parameter.in === 'path') throw invalid(`${label}: parameter "${name}" has no example`);
          continue;
        }
        if (parameter.in === 'path') pathParams[name] = asText(example);
        else if (parameter.in === 'query' && name !== 'cursor') query.push([name, asText(example)]);
        else if (parameter.in === 'header') headers.push([name, asText(example)]);
      }
      for (const [, name = ''] of path.matchAll(/\{([^}]+)\}/g)) {
        if (!(name in pathParams)) throw invalid(`${label}: path parameter "${name}" is not declared`);
      }
      out.push({
        operationId: operation.operationId,
        method,
        path,
        tags: Array.isArray(operation.tags) ? operation.tags.filter((tag): tag is string => typeof tag === 'string') : [],
        pathParams,
        query,
        headers,
        body: requestBodyExample(document, operation, label),
        bearer: needsBearer(document, operation, label),
        jsonOnly: successIsJsonOnly(operation),
      });
    }
  }
  return out;
}

/** `:`, `,` and `@` may stand unescaped in a query (RFC 3986), which keeps times and lists readable. */
function queryComponent(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%40/gi, '@');
}

/** The operation's path with its example path parameters filled in (percent-encoded). */
export function concretePath(operation: SampleOperation): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(operation.pathParams[name] as string));
}

/** The whole URL: base, path and the example query string. */
export function sampleUrl(baseUrl: string, operation: SampleOperation): string {
  const search = operation.query.map(([name, value]) => `${queryComponent(name)}=${queryComponent(value)}`).join('&');
  return `${baseUrl.replace(/\/+$/, '')}${concretePath(operation)}${search ? `?${search}` : ''}`;
}
