/**
 * The dashboard on a port: `startDashboard({ dataDir, port: 0 })` for tests and the browser journey,
 * `main.ts` for people. It listens first, so the URL (and with port 0 the port) is known before the
 * dashboard is built with it; requests that come while it starts get a 503 that says so.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createDashboard, type Dashboard, type DashboardOptions } from './app.ts';

export interface StartOptions extends DashboardOptions {
  /** 0 for any free port. */
  port: number;
  /** Default `127.0.0.1`… unless `HOST` says otherwise in main.ts. */
  hostname?: string;
}

export interface RunningDashboard {
  /** Where it listens, e.g. `http://localhost:3000`. */
  url: string;
  dashboard: Dashboard;
  close(): Promise<void>;
}

const STARTING = () =>
  new Response('The Tally dashboard is starting (the first run seeds its sample data); try again in a few seconds.\n', {
    status: 503,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5', 'cache-control': 'no-store' },
  });

export async function startDashboard(options: StartOptions): Promise<RunningDashboard> {
  let dashboard: Dashboard | null = null;
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve(
      { fetch: (request) => (dashboard ? dashboard.app.fetch(request) : STARTING()), port: options.port, hostname },
      () => resolve(started),
    );
    started.once('error', reject);
  });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Live event streams and keep-alive sockets would hold the close open.
      if ('closeAllConnections' in server) server.closeAllConnections();
    });
  const { port } = server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  try {
    dashboard = await createDashboard({ ...options, publicUrl: options.publicUrl ?? url });
  } catch (error) {
    await closeServer();
    throw error;
  }
  const built = dashboard;
  let closing: Promise<void> | null = null;
  return {
    url,
    dashboard: built,
    close() {
      closing ??= (async () => {
        await built.events.close();
        await closeServer();
        await built.close();
      })();
      return closing;
    },
  };
}
