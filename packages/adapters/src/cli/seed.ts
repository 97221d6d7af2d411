import { createTally, formatCredits } from '@tally/core';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';
import { type CliIo, createProgress, EXIT, loadCatalog, openStore, STORE_HELP, type StoreFlags, wholeNumber } from './context.js';

export const seedHelp = `Usage: tally seed [--seed 42] [--customers 300] [--days 90] [store options]

Writes deterministic sample data (customers across the tiers, daily usage, purchases, coupons,
tier changes, a failed payment) into the ledger, then audits it. The same seed gives the same data.
Progress goes to stderr. Exit 1 when the audit afterwards finds issues.

  --seed <n>        Random seed (default 42)
  --customers <n>   Customers to create (default 300)
  --days <n>        Days of usage, ending 2026-11-01 (default 90)

${STORE_HELP}`;

export interface SeedFlags extends StoreFlags {
  seed?: string | undefined;
  customers?: string | undefined;
  days?: string | undefined;
  catalog?: string | undefined;
}

export async function seedCommand(flags: SeedFlags, io: CliIo): Promise<number> {
  const seed = wholeNumber(flags.seed, 'seed', 42, { max: 2 ** 32 - 1 });
  const customers = wholeNumber(flags.customers, 'customers', 300, { max: 1_000_000 });
  const days = wholeNumber(flags.days, 'days', 90, { max: 3_650 });
  const catalog = await loadCatalog(flags.catalog);
  const store = await openStore(flags, io, { create: true, migrate: true });
  try {
    // The sample data carries its own timestamps: the ledger's clock follows them.
    const clock = createFakeClock();
    const tally = createTally({ catalog, store, clock });
    const events = generateSampleData({ seed, customers, days, catalog });
    io.stdout.write(`seed ${seed}: ${events.length.toLocaleString('en-US')} events for ${customers} customers over ${days} days\n`);
    const progress = createProgress(io, 'seeding');
    const summary = await applySampleData(tally, events, (at) => clock.set(at), progress.update);
    // applySampleData reports every few thousand events, never the end: finish the line here.
    progress.update(events.length, events.length);
    progress.done();
    for (const [key, value] of Object.entries(summary)) io.stdout.write(`  ${key.padEnd(16)} ${value.toLocaleString('en-US')}\n`);
    const audit = await tally.audit();
    io.stdout.write(
      `ledger: ${audit.entries.toLocaleString('en-US')} entries, revenue ${formatCredits(audit.systemBalances['system:revenue'] ?? 0n)} credits, ` +
        `audit ${audit.ok ? 'clean' : `FAILED (${audit.issues.length} issues)`}\n`,
    );
    return audit.ok ? EXIT.ok : EXIT.checkFailed;
  } finally {
    await store.close();
  }
}
