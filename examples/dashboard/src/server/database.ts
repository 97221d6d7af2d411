/**
 * The demo's database: PGlite in the data folder by default (nothing to install), Postgres when a URL
 * is given. The store gets the connection; the demo keeps a handle of its own for the few reads the
 * health page and the live events need (and its two small tables, created here).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPGliteStore, type SqlStore } from '@tally/adapters/pglite';
import { createPostgresStore, type PostgresStoreOptions } from '@tally/adapters/postgres';

type Pool = NonNullable<PostgresStoreOptions['pool']>;
type PoolConstructor = new (config: { connectionString: string; max: number }) => Pool;

/**
 * `pg`, loaded only when Postgres is asked for. It ships no types and the dashboard has no @types/pg,
 * so its Pool is typed as the Postgres adapter's option is (the adapter package has the types).
 */
async function loadPool(): Promise<PoolConstructor> {
  const specifier: string = 'pg';
  const module = (await import(specifier)) as { default: { Pool: PoolConstructor } };
  return module.default.Pool;
}

export interface DemoDatabase {
  kind: 'pglite' | 'postgres';
  /** Where the data is, for the start-up message (a Postgres URL without its password). */
  location: string;
  store: SqlStore;
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * Tables of the demo itself, next to Tally's: webhook deliveries (for the health score) and the
 * seed's completion mark.
 */
const DEMO_SCHEMA = `
create table if not exists demo_webhook_deliveries (
  id bigint generated always as identity primary key,
  provider text not null,
  status integer not null,
  error text,
  received_at timestamptz not null
);
create index if not exists demo_webhook_deliveries_received on demo_webhook_deliveries (received_at);
create table if not exists demo_state (
  key text primary key,
  value text not null,
  updated_at timestamptz not null
);`;

/** Where PGlite keeps its files inside the data folder. */
export const pgliteDir = (dataDir: string) => join(dataDir, 'pglite');

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres';
  }
}

export async function openDatabase(options: { dataDir: string; databaseUrl?: string | undefined }): Promise<DemoDatabase> {
  if (options.databaseUrl) {
    const Pool = await loadPool();
    const pool = new Pool({ connectionString: options.databaseUrl, max: 10 });
    // A dropped idle connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const store = createPostgresStore({ pool });
    try {
      await store.migrate();
      await pool.query(DEMO_SCHEMA);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return {
      kind: 'postgres',
      location: withoutPassword(options.databaseUrl),
      store,
      query: async <Row>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as Row[],
      async close() {
        await store.close();
        await pool.end();
      },
    };
  }
  const dir = pgliteDir(options.dataDir);
  const db = await PGlite.create({ dataDir: dir });
  try {
    const store = await createPGliteStore({ db });
    await db.exec(DEMO_SCHEMA);
    return {
      kind: 'pglite',
      location: dir,
      store,
      query: async <Row>(text: string, params?: unknown[]) => (await db.query<Row>(text, params)).rows,
      async close() {
        await store.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Deletes the PGlite files of a data folder (an unfinished first run); secrets stay. */
export async function removePGliteData(dataDir: string): Promise<void> {
  await rm(pgliteDir(dataDir), { recursive: true, force: true });
}
