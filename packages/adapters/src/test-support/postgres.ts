import pg from 'pg';

/** The machine's Postgres (trust auth on 127.0.0.1:5432); override with TALLY_TEST_DATABASE_URL. */
export const ADMIN_URL = process.env.TALLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs one statement as the admin user in this database. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

/** A database of its own for this test run (`tally_test_<pid>_<label>`), dropped afterwards. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `tally_test_${process.pid}_${label}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  client.on('error', () => {});
  return {
    url: url.toString(),
    name,
    query: async (text, params) => (await client.query(text, params)).rows,
    async drop() {
      await client.end().catch(() => {});
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/**
 * Empties every Tally table of the connection's schema (the journal, the call log, the rollups and
 * their queue: everything but the migration record) and restarts their ids, so a property run starts
 * from an empty store and a counterexample holds all that led to it.
 */
export const EMPTY_TALLY_TABLES = `do $$ begin execute (select 'truncate ' || string_agg(quote_ident(tablename), ', ') || ' restart identity cascade'
  from pg_tables where schemaname = current_schema() and tablename <> 'tally_migrations'); end $$`;
