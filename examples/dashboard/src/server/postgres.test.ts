/**
 * `DATABASE_URL`: the same dashboard on the machine's Postgres, in a database of its own (created and
 * dropped here). The data folder then only keeps the secrets.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../packages/adapters/src/test-support/postgres.ts';
import { createDashboard } from './app.ts';
import { DEMO_CUSTOMER } from './seed.ts';
import { startDashboard } from './serve.ts';
import { TEST_SAMPLE, tempDataDir, tokenOf } from './test-support.ts';

let database: TestDatabase;
let folder: Awaited<ReturnType<typeof tempDataDir>>;

beforeAll(async () => {
  [database, folder] = await Promise.all([createTestDatabase('dashboard'), tempDataDir('postgres')]);
});

afterAll(async () => {
  await database?.drop();
  await folder?.remove();
});

describe('the dashboard on Postgres', () => {
  it('migrates, seeds, serves over HTTP and measures the database it is given', async () => {
    const running = await startDashboard({
      port: 0,
      dataDir: folder.dir,
      databaseUrl: database.url,
      sample: TEST_SAMPLE,
      background: false,
      log: () => {},
    });
    const { dashboard, url } = running;
    try {
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      expect(dashboard.db.kind).toBe('postgres');
      expect(dashboard.seeded).toMatchObject({ customers: TEST_SAMPLE.customers + 1, auditOk: true });
      expect(existsSync(join(folder.dir, 'pglite'))).toBe(false);
      const [row] = await database.query<{ n: string }>('select count(*)::text as n from tally_customers');
      expect(Number(row?.n)).toBe(TEST_SAMPLE.customers + 1);

      const signIn = await fetch(`${url}/demo/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ as: DEMO_CUSTOMER }),
      });
      expect(signIn.status).toBe(204);
      const cookie = `tally_demo=${tokenOf(signIn)}`;
      const before = (await dashboard.tally.balance(DEMO_CUSTOMER)).balanceMicros;
      const response = await fetch(`${url}/demo/playground`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Hello from Postgres', powerLevel: 'precision', stream: true }),
      });
      const answer = (await response.json()) as { chargedMicros: string; balanceMicros: string };
      expect(response.status).toBe(200);
      expect(before - BigInt(answer.balanceMicros)).toBe(BigInt(answer.chargedMicros));

      const health = (await (
        await fetch(`${url}/demo/health`, { headers: { authorization: `Bearer ${dashboard.tokens.admin}` } })
      ).json()) as {
        signals: Array<{ id: string; value: number | null }>;
      };
      const latency = health.signals.find((signal) => signal.id === 'database_latency');
      expect(latency?.value).toBeGreaterThan(0);
    } finally {
      await running.close();
    }
    // A second start on the same database seeds nothing.
    const again = await createDashboard({
      dataDir: folder.dir,
      databaseUrl: database.url,
      sample: TEST_SAMPLE,
      background: false,
      log: () => {},
    });
    try {
      expect(again.seeded).toBeNull();
    } finally {
      await again.close();
    }
  });
});
