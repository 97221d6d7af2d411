// `pnpm seed`: writes deterministic sample data (customers, 90 days of usage, purchases, coupons,
// tier changes, a failed payment) into a Tally ledger.
//   pnpm seed [--seed 42] [--customers 300] [--days 90] [--data-dir .tally/data | --database-url postgres://…]
// Without a target it uses an in-memory PGlite database and only prints what it wrote.
import { parseArgs } from 'node:util';
import { createPGliteStore } from '@tally/adapters/pglite';
import { createPostgresStore } from '@tally/adapters/postgres';
import { createTally, formatCredits, sampleCatalog } from '@tally/core';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    customers: { type: 'string', default: '300' },
    days: { type: 'string', default: '90' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const seed = Number(values.seed);
const customers = Number(values.customers);
const days = Number(values.days);
for (const [name, value] of Object.entries({ seed, customers, days })) {
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(64);
  }
}

const started = performance.now();
const store = values['database-url']
  ? createPostgresStore({ connectionString: values['database-url'] })
  : await createPGliteStore(values['data-dir'] ? { dataDir: values['data-dir'] } : {});
await store.migrate();
const clock = createFakeClock();
const tally = createTally({ catalog: sampleCatalog, store, clock });
const events = generateSampleData({ seed, customers, days });
console.log(`seed ${seed}: ${events.length.toLocaleString('en-US')} events for ${customers} customers over ${days} days`);
const summary = await applySampleData(
  tally,
  events,
  (at) => clock.set(at),
  (done, total) => {
    process.stdout.write(`\r  ${Math.round((done / total) * 100)} %`);
  },
);
process.stdout.write('\r      \r');
const audit = await tally.audit();
console.table(summary);
console.log(
  `ledger: ${audit.entries.toLocaleString('en-US')} entries, revenue ${formatCredits(audit.systemBalances['system:revenue'] ?? 0n)} credits, ` +
    `audit ${audit.ok ? 'clean' : `FAILED (${audit.issues.length} issues)`} · ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
await store.close();
if (!audit.ok) process.exit(1);
