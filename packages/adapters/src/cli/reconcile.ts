import { formatDecimal, TallyError } from '@tally/core';
import { createOpenRouterClient } from '../openrouter/client.js';
import { type DriftGroup, type ReconcileReport, reconcileProviderCosts } from '../openrouter/reconcile.js';
import { type CliIo, CliUsageError, EXIT, isoDate, openStore, STORE_HELP, type StoreFlags, toJson, wholeNumber } from './context.js';

export const reconcileHelp = `Usage: tally reconcile --since <ISO> [--until <ISO>] [--customer <id>] [--max-drift-bps 100] [--json] [store options]

Compares what the ledger charged as provider cost for managed OpenRouter calls with the cost
OpenRouter reports for each generation, and prints the drift per model and per customer.
Needs OPENROUTER_API_KEY. Exit 1 when the drift of any model or customer (or of the total)
exceeds --max-drift-bps; 69 when OpenRouter cannot be reached.

  --since <ISO>            Start (inclusive), e.g. 2026-11-01
  --until <ISO>            End (exclusive); default now
  --customer <id>          Only this customer's calls
  --max-drift-bps <n>      Allowed |drift| / charged in basis points (default 100 = 1 %)
  --json                   Print the report as JSON (amounts in nano-USD, as strings)
  --openrouter-url <url>   OpenRouter API base URL (default https://openrouter.ai/api/v1)

${STORE_HELP}`;

export interface ReconcileFlags extends StoreFlags {
  since?: string | undefined;
  until?: string | undefined;
  customer?: string | undefined;
  'max-drift-bps'?: string | undefined;
  json?: boolean | undefined;
  'openrouter-url'?: string | undefined;
}

const usd = (nanoUsd: bigint) => formatDecimal(nanoUsd, 9, { minFractionDigits: 2 });

/** Drift in basis points with two decimals, from parts per million. */
const bps = (ppm: bigint | null) => (ppm === null ? 'n/a' : formatDecimal(ppm, 2));

/** A group is over the threshold when |drift| exceeds it; drift on zero charged cost always is. */
export function beyondThreshold(group: Pick<DriftGroup, 'driftNanoUsd' | 'driftPpm'>, maxBps: number): boolean {
  if (group.driftPpm === null) return group.driftNanoUsd !== 0n;
  const ppm = group.driftPpm < 0n ? -group.driftPpm : group.driftPpm;
  return ppm > BigInt(maxBps) * 100n;
}

function printGroups(io: CliIo, title: string, groups: DriftGroup[], maxBps: number): void {
  io.stdout.write(`\nby ${title}:\n`);
  if (groups.length === 0) {
    io.stdout.write('  (no compared calls)\n');
    return;
  }
  const width = Math.max(title.length, ...groups.map((group) => group.key.length));
  io.stdout.write(
    `  ${title.padEnd(width)}  ${'calls'.padStart(6)}  ${'charged USD'.padStart(16)}  ${'reported USD'.padStart(16)}  ${'drift USD'.padStart(16)}  drift bps\n`,
  );
  for (const group of groups) {
    const flag = beyondThreshold(group, maxBps) ? '  !' : '';
    io.stdout.write(
      `  ${group.key.padEnd(width)}  ${String(group.calls).padStart(6)}  ${usd(group.chargedNanoUsd).padStart(16)}  ${usd(group.reportedNanoUsd).padStart(16)}  ` +
        `${usd(group.driftNanoUsd).padStart(16)}  ${bps(group.driftPpm)}${flag}\n`,
    );
  }
}

function printReport(io: CliIo, report: ReconcileReport, maxBps: number): void {
  const t = report.totals;
  io.stdout.write(
    `reconciled ${report.from.toISOString()} – ${report.to.toISOString()}${report.customerId ? ` for ${report.customerId}` : ''}\n`,
  );
  io.stdout.write(`  entries scanned        ${t.entriesScanned}\n`);
  io.stdout.write(`  calls compared         ${t.compared}\n`);
  io.stdout.write(`  charged / reported     ${usd(t.chargedNanoUsd)} / ${usd(t.reportedNanoUsd)} USD\n`);
  io.stdout.write(`  drift                  ${usd(t.driftNanoUsd)} USD (${bps(t.driftPpm)} bps, threshold ${maxBps} bps)\n`);
  io.stdout.write(`  calls with any drift   ${t.beyondTolerance}\n`);
  io.stdout.write(`  missing at OpenRouter  ${t.missing}, lookups failed ${t.failed}\n`);
  io.stdout.write(`  BYOK calls (skipped)   ${t.byokCalls}, without generation id ${t.withoutGenerationId}\n`);
  printGroups(io, 'model', report.byModel, maxBps);
  printGroups(io, 'customer', report.byCustomer, maxBps);
}

export async function reconcileCommand(flags: ReconcileFlags, io: CliIo): Promise<number> {
  if (flags.since === undefined) throw new CliUsageError('--since is required');
  const from = isoDate(flags.since, 'since');
  const to = flags.until === undefined ? new Date() : isoDate(flags.until, 'until');
  if (from.getTime() >= to.getTime()) throw new CliUsageError('--since must be before --until');
  const maxBps = wholeNumber(flags['max-drift-bps'], 'max-drift-bps', 100, { max: 1_000_000 });
  const apiKey = io.env.OPENROUTER_API_KEY;
  if (!apiKey) throw new CliUsageError('OPENROUTER_API_KEY is not set: reconcile reads generation costs with the inference key');
  const client = createOpenRouterClient({ apiKey, ...(flags['openrouter-url'] ? { baseUrl: flags['openrouter-url'] } : {}) });

  const store = await openStore(flags, io, { create: false, migrate: false });
  try {
    const tty = io.stderr.isTTY === true;
    let lastPages = 0;
    let report: ReconcileReport;
    try {
      report = await reconcileProviderCosts({
        store,
        client,
        from,
        to,
        ...(flags.customer === undefined ? {} : { customerId: flags.customer }),
        onProgress: (progress) => {
          const line = `reconciling: ${progress.pages} ledger pages, ${progress.checked}/${progress.calls} calls checked`;
          if (tty) io.stderr.write(`\r\x1b[2K${line}`);
          else if (progress.pages !== lastPages) io.stderr.write(`${line}\n`);
          lastPages = progress.pages;
        },
      });
    } finally {
      if (tty) io.stderr.write('\r\x1b[2K');
    }
    if (flags.json) io.stdout.write(toJson({ ...report, maxDriftBps: maxBps }));
    else printReport(io, report, maxBps);
    const groups = [...report.byModel, ...report.byCustomer, report.totals];
    return groups.some((group) => beyondThreshold(group, maxBps)) ? EXIT.checkFailed : EXIT.ok;
  } catch (error) {
    if (TallyError.is(error) && error.code === 'PROVIDER_UNAVAILABLE') {
      const partial = error.details.report as ReconcileReport | undefined;
      if (partial) io.stderr.write(`partial result before OpenRouter became unreachable: ${partial.totals.compared} calls compared\n`);
    }
    throw error;
  } finally {
    await store.close();
  }
}
