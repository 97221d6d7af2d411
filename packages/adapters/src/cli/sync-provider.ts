import { createByokKeys, createKeyVault, formatDecimal, type KeyVault, type ProviderBalance } from '@tally/core';
import { createOpenRouterClient } from '../openrouter/client.js';
import { createProviderSync } from '../openrouter/sync.js';
import { type CliIo, CliUsageError, EXIT, openStore, STORE_HELP, type StoreFlags, wholeNumber } from './context.js';

export const syncProviderHelp = `Usage: tally sync-provider [--low-ratio-bps 1000] [--openrouter-url <url>] [store options]

One pass of the OpenRouter provider sync: reads what is left on every customer's stored OpenRouter
key (provisioned keys with the management key, BYOK keys with their own), writes the balance
snapshots, enqueues a provider.balance_low message for each key that turned low, and prints the
keys checked and the low ones. Exit 1 when some keys could not be read, 69 when OpenRouter is
unreachable.

Environment:
  OPENROUTER_MANAGEMENT_KEY   OpenRouter management key (required)
  TALLY_BYOK_KEYS             Vault keys that open the stored keys: "id=base64[,id=base64…]",
                              the first one active (required)

  --low-ratio-bps <n>      Low below this share of the key's limit (default 1000 = 10 %)
  --openrouter-url <url>   OpenRouter API base URL (default https://openrouter.ai/api/v1)

${STORE_HELP}`;

export interface SyncProviderFlags extends StoreFlags {
  'low-ratio-bps'?: string | undefined;
  'openrouter-url'?: string | undefined;
}

/** `TALLY_BYOK_KEYS`: the vault keys by id, the first one the active key. */
export function vaultFromEnv(value: string | undefined): KeyVault {
  if (!value) throw new CliUsageError('TALLY_BYOK_KEYS is not set: the vault keys are needed to open stored customer keys');
  const keys: Record<string, string> = {};
  let active: string | undefined;
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    const id = part.slice(0, at).trim();
    if (at <= 0 || !id) throw new CliUsageError('TALLY_BYOK_KEYS must look like "id=base64key[,id=base64key…]"');
    keys[id] = part.slice(at + 1).trim();
    active ??= id;
  }
  try {
    return createKeyVault({ keys, activeKeyId: active as string });
  } catch (error) {
    throw new CliUsageError(`TALLY_BYOK_KEYS: ${(error as Error).message}`);
  }
}

const usd = (nanoUsd: bigint | null) => (nanoUsd === null ? 'no limit' : `${formatDecimal(nanoUsd, 9, { minFractionDigits: 2 })} USD`);

export async function syncProviderCommand(flags: SyncProviderFlags, io: CliIo): Promise<number> {
  const ratioBps = wholeNumber(flags['low-ratio-bps'], 'low-ratio-bps', 1000, { max: 10_000 });
  const managementKey = io.env.OPENROUTER_MANAGEMENT_KEY;
  if (!managementKey) throw new CliUsageError('OPENROUTER_MANAGEMENT_KEY is not set: sync-provider reads provisioned keys with it');
  const vault = vaultFromEnv(io.env.TALLY_BYOK_KEYS);
  const baseUrl = flags['openrouter-url'] ? { baseUrl: flags['openrouter-url'] } : {};

  const store = await openStore(flags, io, { create: false, migrate: false });
  try {
    const sync = createProviderSync({
      store,
      keys: createByokKeys({ store, vault }),
      client: createOpenRouterClient({ managementKey, ...baseUrl }),
      clientForKey: (apiKey) => createOpenRouterClient({ apiKey, ...baseUrl }),
      lowBalance: { ratioBps },
    });
    const report = await sync.runOnce();
    io.stdout.write(
      `checked ${report.synced + report.failed} keys: ${report.synced} synced, ${report.low} low ` +
        `(${report.notified} newly, notified), ${report.failed} failed, ${report.skipped} skipped\n`,
    );
    // The report counts low keys; the snapshots name them.
    const low: ProviderBalance[] = [];
    const customers = new Set<string>();
    let after: string | undefined;
    do {
      const page = await store.listProviderKeys({ limit: 1000, ...(after === undefined ? {} : { after }) });
      for (const record of page.items) customers.add(record.customerId);
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
    for (const customerId of customers) {
      for (const balance of await store.listProviderBalances(customerId))
        if (balance.low && balance.provider === 'openrouter') low.push(balance);
    }
    for (const balance of low) {
      io.stdout.write(
        `  low: ${balance.customerId} (${balance.source}) ${usd(balance.remainingNanoUsd)} left of ${usd(balance.limitNanoUsd)}\n`,
      );
    }
    for (const error of report.errors) {
      io.stderr.write(
        `  failed: ${error.customerId} (${error.source}) ${error.code}${error.status === null ? '' : ` ${error.status}`}: ${error.message}\n`,
      );
    }
    if (report.errors.some((error) => error.code === 'PROVIDER_UNAVAILABLE')) return EXIT.unavailable;
    return report.failed > 0 ? EXIT.checkFailed : EXIT.ok;
  } finally {
    await store.close();
  }
}
