import { type AuditReport, createTally, formatCredits } from '@tally/core';
import { type CliIo, EXIT, loadCatalog, openStore, STORE_HELP, type StoreFlags, toJson } from './context.js';

export const auditHelp = `Usage: tally audit [--json] [store options]

Checks the ledger: every account's entries sum to zero, balances, debts, buckets and holds match
the journal, idempotency records match their operations. Prints a summary, or the full report
with --json (amounts as strings of micros). Exit 1 when there are issues.

  --json   Print the report as JSON

${STORE_HELP}`;

export interface AuditFlags extends StoreFlags {
  json?: boolean | undefined;
  catalog?: string | undefined;
}

/** Issue counts by code, most frequent first. */
function byCode(report: AuditReport): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const issue of report.issues) counts.set(issue.code, (counts.get(issue.code) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export async function auditCommand(flags: AuditFlags, io: CliIo): Promise<number> {
  const catalog = await loadCatalog(flags.catalog);
  const store = await openStore(flags, io, { create: false, migrate: false });
  try {
    const report = await createTally({ catalog, store }).audit();
    if (flags.json) {
      io.stdout.write(toJson(report));
    } else {
      const n = (value: number) => value.toLocaleString('en-US');
      io.stdout.write(`customers  ${n(report.customers)}\n`);
      io.stdout.write(`entries    ${n(report.entries)}\n`);
      io.stdout.write(`buckets    ${n(report.buckets)}\n`);
      io.stdout.write(`holds      ${n(report.holds)}\n`);
      io.stdout.write(
        `zero-sum   ${report.totalMicros === 0n ? 'yes' : `NO (${formatCredits(report.totalMicros, { minFractionDigits: 2, maxFractionDigits: 6 })} credits)`}\n`,
      );
      for (const [account, micros] of Object.entries(report.systemBalances).sort(([a], [b]) => a.localeCompare(b))) {
        io.stdout.write(`  ${account.padEnd(20)} ${formatCredits(micros, { minFractionDigits: 2, maxFractionDigits: 6 })}\n`);
      }
      const codes = byCode(report);
      io.stdout.write(codes.length === 0 ? 'issues     none\n' : `issues     ${n(report.issues.length)}\n`);
      for (const [code, count] of codes) io.stdout.write(`  ${code.padEnd(20)} ${n(count)}\n`);
      for (const issue of report.issues.slice(0, 20)) {
        io.stdout.write(`  ${issue.code} ${issue.subject}: expected ${issue.expected}, actual ${issue.actual}\n`);
      }
      if (report.issues.length > 20) io.stdout.write(`  … ${n(report.issues.length - 20)} more (use --json for all)\n`);
    }
    return report.ok ? EXIT.ok : EXIT.checkFailed;
  } finally {
    await store.close();
  }
}
