import pg from 'pg';
import type { SqlDriver } from '../sql/driver.js';
import { createSqlStore, type SqlStore } from '../sql/store.js';

export type { MigrationResult } from '../sql/migrate.js';
export type { SqlStore } from '../sql/store.js';

export interface PostgresStoreOptions {
  /** e.g. `postgres://user@127.0.0.1:5432/app`. Ignored when `pool` is given. */
  connectionString?: string;
  /** Your own pool; Tally will not end it on `close()`. */
  pool?: pg.Pool;
  /** Keep Tally's tables in this schema (created by `migrate()`). Only with `connectionString`. */
  schema?: string;
  /** Pool size when Tally creates the pool. Default 10. */
  max?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** node-postgres's `DatabaseError`, also from a copy of pg other than ours (an app's own pool): it has a severity and a SQLSTATE. */
const answeredByServer = (error: unknown): boolean =>
  error instanceof pg.DatabaseError ||
  (error instanceof Error &&
    typeof (error as { severity?: unknown }).severity === 'string' &&
    typeof (error as { code?: unknown }).code === 'string');

/**
 * Runs one query on a pooled connection and gives the connection back even when the query failed.
 * `pool.query` would close it instead: it hands the query's error to `release`, which ends the
 * connection, so every refusal a ledger function raises (insufficient credits, a spend cap, a
 * conflicting key) cost a new connection, with the functions compiled and the statements prepared
 * again on it. An error the server answered (a `DatabaseError`, with its SQLSTATE) leaves the
 * connection ready for the next query; any other (the connection lost, a client-side timeout with the
 * query still running) ends it, as before. A connection the server ended is not queryable any more,
 * and the pool drops it on release either way.
 */
async function onPooled<T>(pool: pg.Pool, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // Heard between checkout and release (the server ending the connection); otherwise the process would crash.
  const onError = () => {};
  client.on('error', onError);
  let failure: Error | undefined;
  try {
    return await run(client);
  } catch (error) {
    if (!answeredByServer(error)) failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    client.release(failure);
  }
}

function poolDriver(pool: pg.Pool, ownsPool: boolean, schema: string | undefined): SqlDriver {
  const driver: SqlDriver = {
    query: (text, params, name) =>
      onPooled(pool, (client) => client.query({ text, values: params as unknown[], ...(name ? { name } : {}) })) as never,
    async exec(script) {
      await onPooled(pool, (client) => client.query(script));
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      // The server may end this connection mid-transaction; the failing query reports it, so the
      // client's own 'error' event must not go unheard (it would crash the process).
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('begin');
        const result = await fn(clientDriver(client, schema));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.off('error', onError);
        // A connection that could not even roll back (e.g. terminated) must not go back to the pool.
        client.release(broken ? true : undefined);
      }
    },
    close: async () => {
      if (ownsPool) await pool.end();
    },
    ...(schema ? { schema } : {}),
  };
  return driver;
}

function clientDriver(client: pg.PoolClient, schema: string | undefined): SqlDriver {
  const driver: SqlDriver = {
    query: async (text, params, name) => (await client.query({ text, values: params as unknown[], ...(name ? { name } : {}) })) as never,
    async exec(script) {
      await client.query(script);
    },
    // Already inside a transaction: nested work joins it.
    transaction: (fn) => fn(driver),
    close: async () => {},
    ...(schema ? { schema } : {}),
  };
  return driver;
}

/**
 * The ledger on PostgreSQL for production: any number of app instances can share one database.
 * Call `migrate()` once at deploy time (it is safe to call from every instance).
 */
export function createPostgresStore(options: PostgresStoreOptions): SqlStore {
  if (options.schema !== undefined && !SCHEMA.test(options.schema)) {
    throw new RangeError(`schema must match ${SCHEMA}`);
  }
  if (options.pool && options.schema) throw new RangeError('schema can only be set when Tally creates the pool');
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
  // A pooled connection the server ends while idle (restart, pg_terminate_backend) is reported as a pool
  // error; without a listener that would crash the app. The pool replaces the connection by itself.
  if (!options.pool) pool.on('error', () => {});
  return createSqlStore(poolDriver(pool, !options.pool, options.schema));
}
