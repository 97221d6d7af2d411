/**
 * Code samples for every operation of Tally's OpenAPI document, in curl, JavaScript (the typed client
 * of `@tally/core/client`) and Python (`requests`), generated from the document itself: its paths,
 * parameter examples, request body examples and security. A route that changes changes its samples;
 * nothing is written by hand. `withCodeSamples` puts them on the operations as `x-codeSamples`, which
 * Scalar and Redoc both render.
 */
import { CLIENT_CALLS } from './client-calls.ts';
import { jsLiteral, jsString, pyLiteral, pyString, shellQuote } from './literals.ts';
import { concretePath, type SampleOperation, sampleOperations, sampleUrl } from './operations.ts';

export type SampleLanguage = 'shell' | 'javascript' | 'python';

/** The `x-codeSamples` entry shape (Redoc's; Scalar reads the same). */
export interface CodeSample {
  lang: SampleLanguage;
  label: 'curl' | 'JavaScript' | 'Python';
  source: string;
}

export interface OperationSamples {
  operationId: string;
  method: string;
  path: string;
  samples: CodeSample[];
}

export interface CodeSampleOptions {
  /** Where the API is mounted, e.g. `http://localhost:3000` (paths in the document start with `/v1`). */
  baseUrl: string;
}

/** The environment variable the samples read the bearer token from. */
export const TOKEN_VARIABLE = 'TALLY_TOKEN';

/** Webhooks are sent and signed by the provider: a replay needs the delivery's own signature header. */
const WEBHOOK_SIGNATURE_HEADERS: Record<string, string> = {
  stripeWebhook: 'Stripe-Signature',
  lagoWebhook: 'X-Lago-Signature',
};
const WEBHOOK_NOTE = [
  'The provider sends and signs this request itself. To replay a delivery, send its raw body',
  'and signature unchanged (see the webhooks guide).',
];

const isWebhook = (operation: SampleOperation) => operation.tags.includes('webhook');
const envName = (header: string) => header.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
const signatureHeader = (operation: SampleOperation) =>
  isWebhook(operation) ? WEBHOOK_SIGNATURE_HEADERS[operation.operationId] : undefined;
const compactJson = (value: unknown) => {
  const compact = JSON.stringify(value);
  return compact.length <= 80 ? compact : JSON.stringify(value, null, 2);
};

// ---- curl

function curlSample(baseUrl: string, operation: SampleOperation): string {
  const method = operation.method.toUpperCase();
  const lines: string[] = [];
  if (isWebhook(operation)) lines.push(...WEBHOOK_NOTE.map((line) => `# ${line}`));
  const args: string[] = [`${method === 'GET' ? '' : `-X ${method} `}${shellQuote(sampleUrl(baseUrl, operation))}`];
  // Double quotes so the shell puts the token in.
  if (operation.bearer) args.push(`-H "Authorization: Bearer $${TOKEN_VARIABLE}"`);
  for (const [name, value] of operation.headers) args.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  const signature = signatureHeader(operation);
  if (isWebhook(operation)) {
    args.push(`-H 'Content-Type: application/json'`);
    if (signature) args.push(`-H "${signature}: $${envName(signature)}"`);
    args.push('--data-binary @event.json');
  } else if (operation.body !== undefined) {
    args.push(`-H 'Content-Type: application/json'`);
    args.push(`-d ${shellQuote(compactJson(operation.body)).replace(/\n/g, '\n  ')}`);
  }
  const [first, ...rest] = args;
  lines.push([`curl ${first}`, ...rest.map((arg) => `  ${arg}`)].join(' \\\n'));
  return lines.join('\n');
}

// ---- JavaScript

/** `target(args)`: on one line when it fits, else the last argument spread over lines when only it is long, else one argument a line. */
function callExpression(target: string, args: unknown[]): string {
  const inline = `${target}(${args.map((arg) => jsLiteral(arg)).join(', ')})`;
  if (inline.length <= 100 && !inline.includes('\n')) return inline;
  const leading = args.slice(0, -1).map((arg) => jsLiteral(arg));
  const last = jsLiteral(args.at(-1));
  const hugs = /^[[{]/.test(last) && leading.every((arg) => !arg.includes('\n')) && `${target}(${leading.join(', ')}`.length <= 80;
  if (hugs) return `${target}(${[...leading, last].join(', ')})`;
  return `${target}(\n${args.map((arg) => `  ${jsLiteral(arg, '  ')},`).join('\n')}\n)`;
}

function clientSample(baseUrl: string, operation: SampleOperation): string | null {
  const call = CLIENT_CALLS[operation.operationId];
  if (!call) return null;
  const options = [`  baseUrl: ${jsString(baseUrl.replace(/\/+$/, ''))},`];
  if (operation.bearer) options.push(`  headers: () => ({ authorization: \`Bearer \${process.env.${TOKEN_VARIABLE}}\` }),`);
  return [
    "import { createTallyClient } from '@tally/core/client';",
    '',
    `const tally = createTallyClient({\n${options.join('\n')}\n});`,
    '',
    `const result = await ${callExpression(`tally.${call.method.join('.')}`, call.args(operation))};`,
    'console.log(result);',
  ].join('\n');
}

function fetchSample(baseUrl: string, operation: SampleOperation): string {
  const method = operation.method.toUpperCase();
  const headers: string[] = [];
  if (operation.bearer) headers.push(`authorization: \`Bearer \${process.env.${TOKEN_VARIABLE}}\``);
  for (const [name, value] of operation.headers) headers.push(`${jsString(name.toLowerCase())}: ${jsString(value)}`);
  const init: string[] = [];
  if (method !== 'GET') init.push(`method: ${jsString(method)}`);
  const lines: string[] = [];
  const signature = signatureHeader(operation);
  if (isWebhook(operation)) {
    lines.push("import { readFile } from 'node:fs/promises';", '', ...WEBHOOK_NOTE.map((line) => `// ${line}`));
    headers.push(`'content-type': 'application/json'`);
    if (signature) headers.push(`${jsString(signature.toLowerCase())}: process.env.${envName(signature)} ?? ''`);
    init.push(`body: await readFile('event.json', 'utf8')`);
  } else if (operation.body !== undefined) {
    headers.push(`'content-type': 'application/json'`);
    init.push(`body: JSON.stringify(${jsLiteral(operation.body, '  ')})`);
  }
  if (headers.length > 0) init.splice(method !== 'GET' ? 1 : 0, 0, `headers: {\n${headers.map((h) => `    ${h},`).join('\n')}\n  }`);
  const url = jsString(sampleUrl(baseUrl, operation));
  lines.push(
    init.length === 0
      ? `const response = await fetch(${url});`
      : `const response = await fetch(${url}, {\n${init.map((i) => `  ${i},`).join('\n')}\n});`,
  );
  lines.push(`if (!response.ok) throw new Error(\`\${response.status}: \${await response.text()}\`);`);
  lines.push(
    operation.jsonOnly
      ? 'console.log(await response.json());'
      : "console.log(response.headers.get('content-type')?.startsWith('application/json') ? await response.json() : await response.text());",
  );
  return lines.join('\n');
}

// ---- Python

const PY_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

function pythonSample(baseUrl: string, operation: SampleOperation): string {
  const headers: Array<[string, string]> = [];
  if (operation.bearer) headers.push([pyString('Authorization'), `f"Bearer {os.environ['${TOKEN_VARIABLE}']}"`]);
  for (const [name, value] of operation.headers) headers.push([pyString(name), pyString(value)]);
  const signature = signatureHeader(operation);
  const lines: string[] = [];
  const args: string[] = [pyString(`${baseUrl.replace(/\/+$/, '')}${concretePath(operation)}`)];
  if (operation.query.length > 0) args.push(`params=${pyLiteral(Object.fromEntries(operation.query), '    ')}`);
  if (isWebhook(operation)) {
    headers.push([pyString('Content-Type'), pyString('application/json')]);
    if (signature) headers.push([pyString(signature), `os.environ[${pyString(envName(signature))}]`]);
  }
  if (headers.length > 0) {
    const inline = `{${headers.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
    args.push(`headers=${inline.length <= 72 ? inline : `{\n${headers.map(([k, v]) => `        ${k}: ${v},`).join('\n')}\n    }`}`);
  }
  if (isWebhook(operation)) args.push('data=body');
  else if (operation.body !== undefined) args.push(`json=${pyLiteral(operation.body, '    ')}`);
  args.push('timeout=10');

  const usesOs = operation.bearer || signature !== undefined;
  lines.push(...(usesOs ? ['import os', ''] : []), 'import requests', '');
  if (isWebhook(operation)) {
    lines.push(...WEBHOOK_NOTE.map((line) => `# ${line}`));
    lines.push('with open("event.json", "rb") as delivery:', '    body = delivery.read()', '');
  }
  const call = PY_METHODS.has(operation.method)
    ? `requests.${operation.method}(`
    : `requests.request(${pyString(operation.method.toUpperCase())}, `;
  lines.push(`response = ${call}\n${args.map((arg) => `    ${arg},`).join('\n')}\n)`);
  lines.push('response.raise_for_status()');
  if (operation.jsonOnly) lines.push('print(response.json())');
  else {
    lines.push('if response.headers.get("content-type", "").startswith("application/json"):', '    print(response.json())');
    lines.push('else:', '    print(response.text)');
  }
  return lines.join('\n');
}

// ---- the document

function samplesFor(baseUrl: string, operation: SampleOperation): CodeSample[] {
  return [
    { lang: 'shell', label: 'curl', source: curlSample(baseUrl, operation) },
    { lang: 'javascript', label: 'JavaScript', source: clientSample(baseUrl, operation) ?? fetchSample(baseUrl, operation) },
    { lang: 'python', label: 'Python', source: pythonSample(baseUrl, operation) },
  ];
}

/** curl, JavaScript and Python samples for every operation (path × method) of the document. */
export function codeSamples(document: unknown, options: CodeSampleOptions): OperationSamples[] {
  return sampleOperations(document).map((operation) => ({
    operationId: operation.operationId,
    method: operation.method,
    path: operation.path,
    samples: samplesFor(options.baseUrl, operation),
  }));
}

/** A copy of the document with `x-codeSamples` on every operation; the input is left as it was. */
export function withCodeSamples<T extends object>(document: T, options: CodeSampleOptions): T {
  const copy = structuredClone(document) as T & { paths: Record<string, Record<string, Record<string, unknown>>> };
  for (const entry of codeSamples(copy, options)) {
    const operation = copy.paths[entry.path]?.[entry.method];
    if (operation) operation['x-codeSamples'] = entry.samples;
  }
  return copy;
}
