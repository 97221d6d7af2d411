import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDriver } from '../sql/driver.js';
import { createSqlStore, type SqlStore } from '../sql/store.js';

export type { MigrationResult } from '../sql/migrate.js';
export type { SqlStore } from '../sql/store.js';

export interface PGliteStoreOptions {
  /** Where the database lives on disk; omit for an in-memory database. Ignored when `db` is given. */
  dataDir?: string;
  /** Your own PGlite instance; Tally will not close it. */
  db?: PGlite;
  /** Keep Tally's tables in this schema. */
  schema?: string;
  /** Create or upgrade the schema before the store is returned. Default true: zero set-up. */
  migrate?: boolean;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

function driverFor(db: Queryable, root: PGlite | null, owns: boolean): SqlDriver {
  const driver: SqlDriver = {
    query: async (text, params) => {
      const result = await db.query(text, params as unknown[]);
      return { rows: result.rows as never[] };
    },
    exec: async (script) => {
      await db.exec(script);
    },
    transaction: (fn) => (root ? root.transaction((tx) => fn(driverFor(tx, null, false))) : fn(driver)),
    close: async () => {
      if (owns && root) await root.close();
    },
  };
  return driver;
}

/** The ledger on PGlite (Postgres compiled to WebAssembly): the embedded default, nothing to install. */
export async function createPGliteStore(options: PGliteStoreOptions = {}): Promise<SqlStore> {
  if (options.schema !== undefined && !SCHEMA.test(options.schema)) throw new RangeError(`schema must match ${SCHEMA}`);
  const db = options.db ?? (await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {}));
  if (options.schema) await db.exec(`create schema if not exists ${options.schema}; set search_path to ${options.schema}`);
  const store = createSqlStore(driverFor(db, db, !options.db));
  if (options.migrate !== false) await store.migrate();
  return store;
}
