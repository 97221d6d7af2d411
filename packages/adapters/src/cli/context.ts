import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Catalog, defineCatalog, sampleCatalog, TallyError } from '@tally/core';
import type { SqlStore } from '../sql/store.js';

/** Where the CLI writes and what it reads from the environment: injected so tests capture it. */
export interface CliIo {
  stdout: { write(text: string): void; isTTY?: boolean };
  stderr: { write(text: string): void; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Exit codes (sysexits.h where one fits). */
export const EXIT = { ok: 0, checkFailed: 1, usage: 64, unavailable: 69, software: 70 } as const;

/** Bad arguments or a missing setting: exit 64 with the message (and the command's usage). */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** Options every command that touches the store takes. */
export const STORE_OPTIONS = {
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  catalog: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const STORE_HELP = `Store (one of):
  --database-url <url>   Postgres connection string (env DATABASE_URL)
  --data-dir <dir>       PGlite data directory (env TALLY_DATA_DIR, default .tally/data)
  --catalog <file.json>  Catalog to use instead of the sample catalog (bigints as strings)`;

export interface StoreFlags {
  'database-url'?: string | undefined;
  'data-dir'?: string | undefined;
}

/**
 * Postgres when a URL is given (flag, then `DATABASE_URL`), else PGlite on disk. Tables and data
 * directories are created only when asked: a read-only command should say there is no database.
 * The drivers are imported here, so a command that fails on its arguments never loads them.
 */
export interface OpenStoreOptions {
  /** Make a PGlite data directory that does not exist yet (migrate and seed); else it must exist. */
  create: boolean;
  /** Run migrations before returning. */
  migrate: boolean;
}

export async function openStore(flags: StoreFlags, io: CliIo, options: OpenStoreOptions): Promise<SqlStore> {
  const url = flags['database-url'] ?? io.env.DATABASE_URL;
  if (url) {
    const { createPostgresStore } = await import('../postgres/index.js');
    const store = createPostgresStore({ connectionString: url });
    if (options.migrate) {
      try {
        await store.migrate();
      } catch (error) {
        await store.close();
        throw error;
      }
    }
    return store;
  }
  const { createPGliteStore } = await import('../pglite/index.js');
  const dataDir = flags['data-dir'] ?? io.env.TALLY_DATA_DIR ?? '.tally/data';
  // PGlite creates the directory itself but not its parents; a read-only command should not
  // create an empty database where the user mistyped a path.
  if (options.create) await mkdir(dirname(dataDir), { recursive: true });
  else if (!existsSync(dataDir))
    throw new CliUsageError(`no database at ${dataDir} (run "tally migrate" first, or pass --data-dir / --database-url)`);
  return createPGliteStore({ dataDir, migrate: options.migrate });
}

/** The sample catalog, or a JSON file checked by `defineCatalog` (amounts as strings or numbers). */
export async function loadCatalog(file: string | undefined): Promise<Catalog> {
  if (file === undefined) return sampleCatalog;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliUsageError(`cannot read --catalog ${file}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`--catalog ${file} is not JSON: ${(error as Error).message}`);
  }
  return defineCatalog(input as Parameters<typeof defineCatalog>[0]);
}

/** A whole number flag, checked: `--customers abc` is a usage error, not NaN customers. */
export function wholeNumber(
  value: string | undefined,
  flag: string,
  fallback: number,
  limits: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const min = limits.min ?? 0;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  const parsed = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new CliUsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** An ISO 8601 date flag. */
export function isoDate(value: string, flag: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw new CliUsageError(`--${flag} must be an ISO 8601 date such as 2026-11-01 or 2026-11-01T12:00:00Z, got "${value}"`);
  return date;
}

/** JSON with bigints as strings and dates as ISO text. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`;
}

/**
 * Progress on stderr. On a terminal one line is rewritten in place; otherwise (a log file, CI) a
 * plain line each time another tenth of the work is done, with no escape codes.
 */
export function createProgress(io: CliIo, label: string): { update(done: number, total: number): void; done(): void } {
  const tty = io.stderr.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total) {
      if (total <= 0) return;
      const percent = Math.floor((done * 100) / total);
      if (tty) {
        io.stderr.write(`\r\x1b[2K${label} ${percent} % (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')})`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(percent / 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      io.stderr.write(`${label} ${tenth * 10} %\n`);
    },
    done() {
      if (drawn) io.stderr.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  // Postgres: shutting down, starting up, cannot connect now, database does not exist.
  '57P01',
  '57P02',
  '57P03',
  '08001',
  '08006',
  '3D000',
]);

/** True for a database or provider that could not be reached (exit 69), looking through causes. */
export function isUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (TallyError.is(current) && current.code === 'PROVIDER_UNAVAILABLE') return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    // pg reports a refused connection to every host it tried as an AggregateError.
    if (current instanceof AggregateError && current.errors.some((inner) => isUnavailable(inner))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
