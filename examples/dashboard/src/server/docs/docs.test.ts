import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type ServerType, serve } from '@hono/node-server';
import { TallyError } from '@tally/core';
import { createTallyClient } from '@tally/core/client';
import { routes } from '@tally/core/http';
import { Hono } from 'hono';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_CALLS } from './client-calls.ts';
import { codeSamples, type OperationSamples, withCodeSamples } from './code-samples.ts';
import { GUIDES } from './guides.ts';
import { parsePalette } from './palette.ts';
import { createDocsApp } from './routes.ts';
import { createDocsTestBackend, DOCS_TOKENS, type DocsTestBackend } from './test-backend.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const repoRoot = resolve(import.meta.dirname, '../../../../..');

type Json = Record<string, unknown>;
interface Operation {
  path: string;
  method: string;
  operation: Json;
}

function operationsOf(document: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
    for (const [method, operation] of Object.entries(item)) out.push({ path, method, operation });
  }
  return out;
}

const scopeOf = (operation: Json) => (operation.tags as string[])[0];
const tokenFor = (operation: Json) => (scopeOf(operation) === 'admin' ? DOCS_TOKENS.admin : DOCS_TOKENS.customer);
const sourceOf = (entry: OperationSamples, lang: string) => entry.samples.find((sample) => sample.lang === lang)?.source ?? '';

let backend: DocsTestBackend;
let server: ServerType;
let baseUrl: string;
let document: Json;
let samples: OperationSamples[];
let scratch: string;

beforeAll(async () => {
  backend = await createDocsTestBackend();
  const app = new Hono();
  app.route('/', createDocsApp({ openapi: backend.openapi, apiBase: '' }));
  app.all('/v1/*', (c) => backend.handler(c.req.raw));
  server = await new Promise<ServerType>((ready) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready(started));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  document = (await backend.openapi()) as Json;
  samples = codeSamples(document, { baseUrl });
  scratch = await mkdtemp(join(tmpdir(), 'tally-docs-samples-'));
});

afterAll(async () => {
  await new Promise<void>((done) => server?.close(() => done()));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the OpenAPI document of a handler with every option', () => {
  it('has every route of the table, each with a description and curl, JavaScript and Python samples', () => {
    const operations = operationsOf(document);
    expect(new Set(operations.map(({ operation }) => operation.operationId))).toEqual(new Set(routes.map((route) => route.id)));
    expect(samples).toHaveLength(operations.length);
    for (const { path, method, operation } of operations) {
      expect(typeof operation.description === 'string' && operation.description.trim().length > 20, `${method} ${path}`).toBe(true);
      const entry = samples.find((s) => s.path === path && s.method === method);
      expect(entry?.samples.map((sample) => sample.label)).toEqual(['curl', 'JavaScript', 'Python']);
      for (const sample of entry?.samples ?? []) expect(sample.source.trim(), `${sample.label} of ${operation.operationId}`).not.toBe('');
    }
  });

  it('puts the samples on every operation as x-codeSamples and leaves its input alone', () => {
    const before = JSON.stringify(document);
    const decorated = withCodeSamples(document, { baseUrl });
    expect(JSON.stringify(document)).toBe(before);
    for (const { operation } of operationsOf(decorated as Json)) {
      const entry = samples.find((s) => s.operationId === operation.operationId);
      expect(operation['x-codeSamples']).toEqual(entry?.samples);
    }
  });

  it('uses the operation’s own examples, amounts as exact strings', () => {
    for (const { operation } of operationsOf(document)) {
      const entry = samples.find((s) => s.operationId === operation.operationId) as OperationSamples;
      const body = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const example = body?.['application/json']?.example as Json | undefined;
      if (example && Object.keys(example).length > 0) {
        const curlBody = /-d '([\s\S]*)'$/.exec(sourceOf(entry, 'shell'))?.[1];
        expect(JSON.parse(curlBody ?? 'null'), operation.operationId as string).toEqual(example);
        for (const [key, value] of Object.entries(example)) {
          if (!/(Micros|Cents|NanoUsd)$/.test(key)) continue;
          expect(typeof value).toBe('string');
          expect(sourceOf(entry, 'python')).toContain(`"${key}": "${value}"`);
          if (CLIENT_CALLS[operation.operationId as string]) expect(sourceOf(entry, 'javascript')).toContain(`${key}: '${value}'`);
        }
      }
      for (const parameter of (operation.parameters as Json[]) ?? []) {
        if (parameter.example === undefined || parameter.name === 'cursor') continue;
        const value = String(parameter.example);
        if (parameter.in === 'path') expect(sourceOf(entry, 'shell')).toContain(`/${encodeURIComponent(value)}`);
        if (parameter.in === 'query') expect(sourceOf(entry, 'python')).toContain(`"${parameter.name}": "${value}"`);
        if (parameter.in === 'header') expect(sourceOf(entry, 'shell')).toContain(`${parameter.name}: ${value}`);
      }
      const secured = (operation.security as unknown[]).length > 0;
      expect(sourceOf(entry, 'shell').includes('Authorization: Bearer $TALLY_TOKEN'), operation.operationId as string).toBe(secured);
    }
    const grant = samples.find((s) => s.operationId === 'adminGrantCredits') as OperationSamples;
    expect(sourceOf(grant, 'javascript')).toContain("tally.admin.grant(\n  'cus_ada',");
    expect(sourceOf(grant, 'javascript')).toContain("amountMicros: '5000000'");
  });
});

describe('the Python samples', () => {
  it('compile', async () => {
    const files = await Promise.all(
      samples.map(async (entry) => {
        const file = join(scratch, `${entry.operationId}.py`);
        await writeFile(file, sourceOf(entry, 'python'));
        return file;
      }),
    );
    const { stderr } = await run('python3', ['-m', 'py_compile', ...files]);
    expect(stderr).toBe('');
  });

  it('compiling catches a broken sample (the check can fail)', async () => {
    const file = join(scratch, 'broken.py');
    await writeFile(file, sourceOf(samples[0] as OperationSamples, 'python').replace('timeout=10,\n)', 'timeout=10,\n'));
    await expect(run('python3', ['-m', 'py_compile', file])).rejects.toThrow();
  });
});

describe('the JavaScript samples', () => {
  it('call methods that exist on a real client, for every customer and admin operation', () => {
    const client = createTallyClient({ baseUrl: 'http://127.0.0.1' }) as unknown as Record<string, unknown>;
    const ids = new Set(operationsOf(document).map(({ operation }) => operation.operationId as string));
    for (const [operationId, call] of Object.entries(CLIENT_CALLS)) {
      expect(ids.has(operationId), `${operationId} is in the document`).toBe(true);
      const method = call.method.reduce<unknown>((target, key) => (target as Record<string, unknown> | undefined)?.[key], client);
      expect(typeof method, `tally.${call.method.join('.')}`).toBe('function');
      const entry = samples.find((s) => s.operationId === operationId) as OperationSamples;
      expect(sourceOf(entry, 'javascript')).toContain(`await tally.${call.method.join('.')}(`);
    }
    for (const { operation } of operationsOf(document)) {
      if (scopeOf(operation) === 'customer' || scopeOf(operation) === 'admin') {
        expect(CLIENT_CALLS[operation.operationId as string], `${operation.operationId} has a client call`).toBeDefined();
      }
    }
  });

  it('type-check against the client’s declarations', async () => {
    const dir = join(scratch, 'typecheck');
    const files = samples.map((entry) => join(dir, `${entry.operationId}.ts`));
    await mkdir(dir, { recursive: true });
    await Promise.all(samples.map((entry, i) => writeFile(files[i] as string, sourceOf(entry, 'javascript'))));
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      moduleDetection: ts.ModuleDetectionKind.Force,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      // fetch, Response and process come from Node's types, as in a Node script.
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules/@types')],
      paths: { '@tally/core/client': [join(dirname(require.resolve('@tally/core/package.json')), 'dist/client.d.ts')] },
    });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file ? d.file.fileName.slice(dir.length + 1) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  }, 180_000);
});

describe('the samples of the GET operations, run for real against the handler on 127.0.0.1', () => {
  const gets = () => operationsOf(document).filter(({ method }) => method === 'get');

  it('curl answers 2xx', async () => {
    const failures: string[] = [];
    for (const { operation } of gets()) {
      const entry = samples.find((s) => s.operationId === operation.operationId) as OperationSamples;
      // The sample as a reader pastes it into a shell, plus curl's own status report.
      const command = `${sourceOf(entry, 'shell')} --silent --show-error --output /dev/null --write-out '%{http_code}'`;
      const { stdout } = await run('sh', ['-c', command], { env: { PATH: process.env.PATH, TALLY_TOKEN: tokenFor(operation) } });
      if (!/^2\d\d$/.test(stdout)) failures.push(`${operation.operationId}: ${stdout}`);
    }
    expect(gets().length).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  it('curl without the token is refused (the samples do send it)', async () => {
    const entry = samples.find((s) => s.operationId === 'getBalance') as OperationSamples;
    const command = `${sourceOf(entry, 'shell')} --silent --output /dev/null --write-out '%{http_code}'`;
    const { stdout } = await run('sh', ['-c', command], { env: { PATH: process.env.PATH, TALLY_TOKEN: '' } });
    expect(stdout).toBe('401');
  });

  it('JavaScript (the typed client, or fetch) runs without an error', async () => {
    const clientUrl = pathToFileURL(require.resolve('@tally/core/client')).href;
    const jobs = await Promise.all(
      gets().map(async ({ operation }) => {
        const entry = samples.find((s) => s.operationId === operation.operationId) as OperationSamples;
        const file = join(scratch, `${entry.operationId}.mjs`);
        await writeFile(file, sourceOf(entry, 'javascript').replace("'@tally/core/client'", JSON.stringify(clientUrl)));
        return { id: entry.operationId, url: pathToFileURL(file).href, token: tokenFor(operation) };
      }),
    );
    const runner = join(scratch, 'run-samples.mjs');
    await writeFile(
      runner,
      `const results = [];
for (const job of JSON.parse(process.argv[2])) {
  process.env.TALLY_TOKEN = job.token;
  try { await import(job.url); results.push({ id: job.id, ok: true }); }
  catch (error) { results.push({ id: job.id, ok: false, error: String(error) }); }
}
process.stdout.write('\\n@@' + JSON.stringify(results));`,
    );
    const { stdout } = await run(process.execPath, [runner, JSON.stringify(jobs)], { maxBuffer: 64 * 1024 * 1024 });
    const results = JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3)) as Array<{ id: string; ok: boolean; error?: string }>;
    expect(results).toHaveLength(jobs.length);
    expect(results.filter((result) => !result.ok)).toEqual([]);
  });

  const hasRequests = (() => {
    try {
      execFileSync('python3', ['-c', 'import requests'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  // Compiling covers every Python sample everywhere; running them needs the `requests` package.
  it.skipIf(!hasRequests)(
    `Python (requests) runs without an error${hasRequests ? '' : ' (SKIPPED: python3 has no `requests` module)'}`,
    async () => {
      const jobs = gets().map(({ operation }) => {
        const entry = samples.find((s) => s.operationId === operation.operationId) as OperationSamples;
        return { id: entry.operationId, source: sourceOf(entry, 'python'), token: tokenFor(operation) };
      });
      const runner = join(scratch, 'run_samples.py');
      await writeFile(
        runner,
        `import contextlib, io, json, os, sys
results = []
for job in json.load(sys.stdin):
    os.environ["TALLY_TOKEN"] = job["token"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(job["source"], job["id"], "exec"), {"__name__": "__main__"})
        results.append({"id": job["id"], "ok": True})
    except Exception as error:
        results.append({"id": job["id"], "ok": False, "error": repr(error)})
print(json.dumps(results))
`,
      );
      const child = run('python3', [runner], { maxBuffer: 16 * 1024 * 1024 });
      child.child.stdin?.end(JSON.stringify(jobs));
      const results = JSON.parse((await child).stdout) as Array<{ id: string; ok: boolean; error?: string }>;
      expect(results).toHaveLength(jobs.length);
      expect(results.filter((result) => !result.ok)).toEqual([]);
    },
  );
});

describe('the portal’s routes (app.request)', () => {
  const docsApp = () => createDocsApp({ openapi: backend.openapi, apiBase: '' });

  it('serves /docs, /redoc, the guides and the bundles with their content types', async () => {
    const app = docsApp();
    const expectations: Array<[string, string]> = [
      ['/docs', 'text/html'],
      ['/redoc', 'text/html'],
      ['/docs/guides', 'text/html'],
      ...GUIDES.map((guide): [string, string] => [`/docs/guides/${guide.slug}`, 'text/html']),
      ['/docs/openapi.json', 'application/json'],
      ['/docs/assets/scalar/standalone.js', 'text/javascript'],
      ['/docs/assets/redoc/redoc.standalone.js', 'text/javascript'],
      ['/docs/assets/scalar.js', 'text/javascript'],
      ['/docs/assets/redoc.js', 'text/javascript'],
      ['/docs/assets/theme.js', 'text/javascript'],
      ['/docs/assets/tally.css', 'text/css'],
      ['/docs/assets/docs.css', 'text/css'],
      ['/docs/assets/scalar-theme.css', 'text/css'],
      ['/docs/assets/favicon.svg', 'image/svg+xml'],
    ];
    for (const [path, type] of expectations) {
      const response = await app.request(`http://127.0.0.1${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain(type);
      await response.arrayBuffer();
    }
  });

  it('pages load scripts and styles from their own origin only', async () => {
    const app = docsApp();
    for (const path of ['/docs', '/redoc', '/docs/guides/getting-started']) {
      const response = await app.request(`http://127.0.0.1${path}`);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await response.text();
      expect(html).not.toMatch(/<script(?![^>]*type="application\/json")[^>]*>[^<]+<\/script>/);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    const redoc = await (await app.request('http://127.0.0.1/docs/assets/redoc/redoc.standalone.js')).text();
    expect(redoc).not.toContain('cdn.redoc.ly');
  });

  it('serves the document with samples for this server, its guides and tag names', async () => {
    const app = createDocsApp({ openapi: backend.openapi, apiBase: '/api' });
    const served = (await (await app.request('http://docs.example.com/docs/openapi.json')).json()) as Json;
    expect(served.servers).toEqual([{ url: 'http://docs.example.com/api', description: 'This Tally API' }]);
    expect((served.info as Json).description).toContain('[Webhooks](/docs/guides/webhooks)');
    expect((served.tags as Json[]).map((tag) => tag['x-displayName'])).toEqual(['Public', 'Customer', 'Admin', 'Webhooks']);
    const balance = (served.paths as Record<string, Record<string, Json>>)['/v1/balance']?.get ?? {};
    const [curl] = balance['x-codeSamples'] as Array<{ source: string }>;
    expect(curl?.source).toContain("'http://docs.example.com/api/v1/balance'");
  });

  it('answers an unknown guide or asset with 404', async () => {
    const app = docsApp();
    expect((await app.request('http://127.0.0.1/docs/guides/nope')).status).toBe(404);
    expect((await app.request('http://127.0.0.1/docs/assets/../routes.ts')).status).toBe(404);
    expect((await app.request('http://127.0.0.1/docs/assets/nope.js')).status).toBe(404);
  });

  it('refuses bad options and bad documents with VALIDATION', async () => {
    expect(() => createDocsApp({ openapi: backend.openapi, apiBase: 'ftp://x' })).toThrow(TallyError);
    expect(() => createDocsApp({ openapi: backend.openapi, apiBase: 'api' })).toThrow(/apiBase/);
    expect(() => createDocsApp({ openapi: 'nope' as never, apiBase: '' })).toThrow(/openapi/);
    expect(() => codeSamples({ openapi: '3.1.1' }, { baseUrl })).toThrow(TallyError);
    const noExample = { paths: { '/v1/x/{id}': { get: { operationId: 'x', parameters: [{ name: 'id', in: 'path', required: true }] } } } };
    expect(() => codeSamples(noExample, { baseUrl })).toThrow(/"id" has no example/);
  });

  it('reads Tally’s palette from @tally/react’s styles.css, and refuses a sheet without it', async () => {
    const css = await readFile(require.resolve('@tally/react/styles.css'), 'utf8');
    const palette = parsePalette(css);
    expect(palette.light.accent).toMatch(/^#[0-9a-f]{6}$/);
    expect(palette.dark.accent).not.toBe(palette.light.accent);
    expect(() => parsePalette(':root {}')).toThrow(TallyError);
  });
});
