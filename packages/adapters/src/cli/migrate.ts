import { migrations } from '../sql/migrate.js';
import { type CliIo, EXIT, openStore, STORE_HELP, type StoreFlags } from './context.js';

export const migrateHelp = `Usage: tally migrate [store options]

Creates or upgrades Tally's tables to the latest schema and prints the versions it applied.
Safe to run from several processes at once (an advisory lock queues them).

${STORE_HELP}`;

export async function migrateCommand(flags: StoreFlags, io: CliIo): Promise<number> {
  const store = await openStore(flags, io, { create: true, migrate: false });
  try {
    const result = await store.migrate();
    const names = new Map(migrations.map((migration) => [migration.version, migration.name]));
    for (const version of result.applied) io.stdout.write(`applied ${version}: ${names.get(version) ?? ''}\n`);
    io.stdout.write(
      result.applied.length === 0 ? `schema is up to date (version ${result.current})\n` : `schema is at version ${result.current}\n`,
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
