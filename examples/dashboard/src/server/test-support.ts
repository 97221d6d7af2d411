/** Helpers for the server's tests: a temporary data folder, a small sample, and requests to the app. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { SampleSize } from './seed.ts';

/** Small enough that a test's first start takes a few seconds. */
export const TEST_SAMPLE: SampleSize = { seed: 7, customers: 8, days: 21 };

export async function tempDataDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tally-dashboard-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface CallOptions {
  /** Sent as the `tally_demo` cookie. */
  token?: string;
  /** Sent as `Authorization: Bearer`. */
  bearer?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/** `call('POST', '/demo/sign-in', { json })` against the app, in process. */
export function caller(app: Hono) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<Response> => {
    const headers = new Headers(options.headers);
    if (options.token !== undefined) headers.set('cookie', `tally_demo=${options.token}`);
    if (options.bearer !== undefined) headers.set('authorization', `Bearer ${options.bearer}`);
    let body: string | undefined;
    if (options.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(options.form).toString();
    }
    return app.request(`http://localhost${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  };
}

/** The `tally_demo` token a sign-in response set. */
export function tokenOf(response: Response): string {
  const cookie = response.headers.get('set-cookie') ?? '';
  const match = /^tally_demo=([^;]+);/.exec(cookie);
  if (!match?.[1]) throw new Error(`no tally_demo cookie in "${cookie}"`);
  return match[1];
}

/** Reads server-sent events until `until` accepts one or the stream ends; every event read is returned. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (event: { event: string; data: string }) => boolean,
): Promise<Array<{ event: string; data: string }>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const seen: Array<{ event: string; data: string }> = [];
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return seen;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length === 0) continue;
        const parsed = { event, data: data.join('\n') };
        seen.push(parsed);
        if (until(parsed)) return seen;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
