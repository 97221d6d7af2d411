// Shared by the benchmarks: goal lines, and a database of the bench's own that is dropped at the
// end, on errors and on Ctrl-C.
import pg from 'pg';

export function goal(label: string, pass: boolean, detail: string): string {
  return `- ${label}: **${pass ? 'PASS' : 'FAIL'}** (${detail})`;
}

export interface BenchDatabase {
  /** Call once the database exists: from then on `drop()` removes it. */
  created(): void;
  /** Drops the database (idempotent). A failure is printed and fails the run. */
  drop(): Promise<void>;
}

export function benchDatabase(adminUrl: string, name: string): BenchDatabase {
  let exists = false;
  async function drop(): Promise<void> {
    if (!exists) return;
    exists = false;
    const admin = new pg.Client({ connectionString: adminUrl });
    admin.on('error', () => {});
    try {
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
    } catch (error) {
      console.error(`could not drop ${name}:`, error);
      process.exitCode = 1;
    } finally {
      await admin.end().catch(() => {});
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: dropping ${name}`);
      void drop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  return {
    created: () => {
      exists = true;
    },
    drop,
  };
}
