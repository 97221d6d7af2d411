import { createNodeServer } from './server.ts';
import { createDemoHandler } from './tally.ts';

const port = Number(process.env.PORT ?? 3000);
const server = createNodeServer(await createDemoHandler());
server.listen(port, () => {
  console.log(`Tally API on http://localhost:${port}/v1 — try:`);
  console.log(`  curl -H 'authorization: Bearer demo-customer' http://localhost:${port}/v1/balance`);
});
