import { serve } from '@hono/node-server';
import { createApp } from './app.ts';

const port = Number(process.env.PORT ?? 3000);
const app = await createApp();
serve({ fetch: app.fetch, port }, (info) => {
  console.log(`Hono with the Tally API on http://localhost:${info.port}/v1 — try:`);
  console.log(`  curl -H 'authorization: Bearer demo-customer' http://localhost:${info.port}/v1/balance`);
});
