import type { SqlDriver } from './driver.js';
import { schemaV1 } from './schema-v1.js';
import { schemaV2 } from './schema-v2.js';
import { schemaV3 } from './schema-v3.js';
import { schemaV4 } from './schema-v4.js';
import { schemaV5 } from './schema-v5.js';
import { schemaV6 } from './schema-v6.js';
import { schemaV7 } from './schema-v7.js';
import { schemaV8 } from './schema-v8.js';
import { schemaV9 } from './schema-v9.js';
import { schemaV10 } from './schema-v10.js';
import { schemaV11 } from './schema-v11.js';
import { schemaV12 } from './schema-v12.js';
import { schemaV13 } from './schema-v13.js';
import { schemaV14 } from './schema-v14.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Migrations in order. Never edit one that has shipped; add the next version instead. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'ledger', sql: schemaV1 },
  { version: 2, name: 'billing', sql: schemaV2 },
  { version: 3, name: 'provider keys', sql: schemaV3 },
  { version: 4, name: 'spend caps', sql: schemaV4 },
  { version: 5, name: 'notifications and customer search', sql: schemaV5 },
  { version: 6, name: 'email delivery log and scheduled runs', sql: schemaV6 },
  { version: 7, name: 'call log of uncharged calls', sql: schemaV7 },
  { version: 8, name: 'journal metric rollups', sql: schemaV8 },
  { version: 9, name: 'usage batch items at their own times', sql: schemaV9 },
  { version: 10, name: 'active customers by day', sql: schemaV10 },
  { version: 11, name: 'MRR points', sql: schemaV11 },
  { version: 12, name: 'running totals by span class', sql: schemaV12 },
  { version: 13, name: 'rollups folded by a job', sql: schemaV13 },
  { version: 14, name: 'folding planned per call', sql: schemaV14 },
];

// Any constant shared by every Tally process; two migrators on one database queue on it.
const MIGRATION_LOCK = 7_263_518_401;

export interface MigrationResult {
  applied: number[];
  current: number;
}

/**
 * Brings the schema to the latest version. Holds a transaction-scoped advisory lock, so running it
 * twice, or from several processes at once, applies each migration exactly once.
 */
export async function migrate(driver: SqlDriver): Promise<MigrationResult> {
  return driver.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    if (driver.schema) await tx.query(`create schema if not exists ${driver.schema}`);
    await tx.query(
      'create table if not exists tally_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
    );
    const { rows } = await tx.query<{ version: number }>('select version from tally_migrations');
    const done = new Set(rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('insert into tally_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { applied, current: Math.max(0, ...done, ...applied) };
  });
}
