// Node's http server speaks IncomingMessage/ServerResponse; the Tally handler speaks Fetch's
// Request/Response. These two functions are the whole bridge.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TallyHandler } from '@tally/core/http';

export function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const method = req.method ?? 'GET';
  // The body streams through as it arrives (the handler stops reading past 64 KB).
  const body = method === 'GET' || method === 'HEAD' ? null : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  return new Request(url, { method, headers, body, ...(body ? { duplex: 'half' } : {}) } as RequestInit);
}

export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
}

export function createNodeServer(handler: TallyHandler): Server {
  return createServer((req, res) => {
    handler(toRequest(req))
      .then((response) => sendResponse(res, response))
      .catch((error: unknown) => {
        // The handler answers every error itself; this is only for a broken connection.
        console.error(error);
        res.destroy();
      });
  });
}
