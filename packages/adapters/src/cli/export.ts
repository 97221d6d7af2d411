import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import {
  type Bucket,
  createTally,
  csvStream,
  customerAccount,
  type Entry,
  GRANT_SOURCE,
  type ReportColumn,
  type ReportRow,
  type Tally,
} from '@tally/core';
import { type CliIo, CliUsageError, EXIT, isoDate, loadCatalog, openStore, STORE_HELP, type StoreFlags } from './context.js';

export const exportHelp = `Usage: tally export transactions --customer <id> [--from <ISO>] [--to <ISO>] [--out file.csv] [store options]

Writes the customer's ledger entries, newest first, as CSV (RFC 4180, UTF-8) to the file or to
stdout, streamed page by page. Columns: time, kind, amount (credits; positive when credit came in,
negative when it went out), bucket kind, model, tokens (input + output), provider cost (nano-USD).

  --customer <id>   The customer (required)
  --from <ISO>      Entries at or after this time
  --to <ISO>        Entries before this time
  --out <file>      Write here instead of stdout

${STORE_HELP}`;

export interface ExportFlags extends StoreFlags {
  customer?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  out?: string | undefined;
  catalog?: string | undefined;
}

export const TRANSACTION_COLUMNS: readonly ReportColumn[] = [
  { key: 'time', label: 'time', kind: 'date' },
  { key: 'kind', label: 'kind', kind: 'text' },
  { key: 'amount', label: 'amount', kind: 'credits' },
  { key: 'bucketKind', label: 'bucket kind', kind: 'text' },
  { key: 'model', label: 'model', kind: 'text' },
  { key: 'tokens', label: 'tokens', kind: 'integer' },
  { key: 'providerCost', label: 'provider cost (nano-USD)', kind: 'integer' },
];

const PAGE = 500;
const KIND_BY_SOURCE = new Map(Object.entries(GRANT_SOURCE).map(([kind, account]) => [account, kind as Bucket['kind']]));

/** Every page of a transactions query, following the cursor. */
async function* entries(tally: Tally, query: Parameters<Tally['transactions']>[0]): AsyncGenerator<Entry> {
  let cursor: string | undefined;
  do {
    const page = await tally.transactions({ ...query, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/**
 * The kind of each of the customer's buckets, including spent and expired ones: a bucket is created
 * by a grant (or a positive adjustment) drawn from its kind's system account, so every one of them
 * is named by the entry that filled it, whatever window is exported.
 */
async function bucketKinds(tally: Tally, customerId: string): Promise<Map<string, Bucket['kind']>> {
  const kinds = new Map<string, Bucket['kind']>();
  for await (const entry of entries(tally, { customerId, kinds: ['grant', 'adjust'] })) {
    const kind = KIND_BY_SOURCE.get(entry.fromAccount);
    if (entry.bucketId !== null && kind !== undefined && entry.toAccount === customerAccount(customerId)) kinds.set(entry.bucketId, kind);
  }
  return kinds;
}

/** An entry as a CSV row, signed as the customer sees it. */
export function transactionRow(entry: Entry, kinds: ReadonlyMap<string, Bucket['kind']>): ReportRow {
  const incoming = entry.toAccount === customerAccount(entry.customerId);
  return {
    time: entry.createdAt,
    kind: entry.kind,
    amount: incoming ? entry.amountMicros : -entry.amountMicros,
    bucketKind: entry.bucketId === null ? null : (kinds.get(entry.bucketId) ?? null),
    model: entry.usage?.model ?? null,
    tokens: entry.usage ? entry.usage.inputTokens + entry.usage.outputTokens : null,
    providerCost: entry.usage?.providerCostNanoUsd ?? null,
  };
}

/** A sink for CSV bytes on the injected stdout, waiting for `drain` when the real stdout asks to. */
function stdoutSink(io: CliIo): WritableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const out = io.stdout as CliIo['stdout'] & { once?: (event: 'drain', listener: () => void) => unknown };
  const write = async (text: string) => {
    const accepted = (out.write as (text: string) => unknown)(text);
    if (accepted === false && typeof out.once === 'function') await new Promise<void>((resolve) => out.once?.('drain', resolve));
  };
  return new WritableStream<Uint8Array>({
    write: (chunk) => write(decoder.decode(chunk, { stream: true })),
    close: () => write(decoder.decode()),
  });
}

export async function exportCommand(what: string | undefined, flags: ExportFlags, io: CliIo): Promise<number> {
  if (what !== 'transactions')
    throw new CliUsageError(
      what === undefined ? 'export needs what to export: transactions' : `cannot export "${what}": only transactions`,
    );
  const customerId = flags.customer;
  if (!customerId) throw new CliUsageError('--customer is required');
  const from = flags.from === undefined ? undefined : isoDate(flags.from, 'from');
  const to = flags.to === undefined ? undefined : isoDate(flags.to, 'to');
  if (from && to && from.getTime() >= to.getTime()) throw new CliUsageError('--from must be before --to');
  const catalog = await loadCatalog(flags.catalog);
  const store = await openStore(flags, io, { create: false, migrate: false });
  try {
    if ((await store.getCustomer(customerId)) === null) throw new CliUsageError(`no customer "${customerId}"`);
    const tally = createTally({ catalog, store });
    const kinds = await bucketKinds(tally, customerId);
    let count = 0;
    async function* rows(): AsyncGenerator<ReportRow> {
      for await (const entry of entries(tally, { customerId: customerId as string, ...(from ? { from } : {}), ...(to ? { to } : {}) })) {
        count++;
        if (flags.out !== undefined && count % 10_000 === 0) io.stderr.write(`exported ${count.toLocaleString('en-US')} entries\n`);
        yield transactionRow(entry, kinds);
      }
    }
    const sink = flags.out === undefined ? stdoutSink(io) : (Writable.toWeb(createWriteStream(flags.out)) as WritableStream<Uint8Array>);
    await csvStream(TRANSACTION_COLUMNS, rows()).pipeTo(sink);
    if (flags.out !== undefined) io.stderr.write(`wrote ${count.toLocaleString('en-US')} entries to ${flags.out}\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
