import { TallyError } from '@tally/core';

/** The little the SQL store needs from a Postgres client: node-postgres and PGlite both fit. */
export interface SqlDriver {
  /**
   * `name` asks for a named prepared statement, parsed and planned once per connection (drivers
   * without them ignore it). Only for fixed statement texts.
   */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements (no parameters). */
  exec(script: string): Promise<void>;
  /** Runs `fn` on one connection between BEGIN and COMMIT (ROLLBACK when it throws). */
  transaction<T>(fn: (driver: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The schema the connections use (search_path), created by `migrate()`. */
  schema?: string;
}

const TALLY_ERROR = /TALLY:([A-Z_]+):([\s\S]*)$/;

/** Errors raised by the ledger functions arrive as `TALLY:<CODE>:<message>`; make them TallyErrors again. */
export function translateError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  const match = TALLY_ERROR.exec(message);
  if (!match) return error;
  const [, code, text] = match;
  return new TallyError(code as ConstructorParameters<typeof TallyError>[0], text ?? '', { cause: error });
}

/** Parameters as Postgres text: bigints as decimal strings, dates as ISO timestamps. */
export function toParam(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return value;
}
