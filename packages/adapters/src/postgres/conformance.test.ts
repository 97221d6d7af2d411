import { runStoreConformance } from '@tally/core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { createPostgresStore } from './index.js';

let db: TestDatabase;
let cases = 0;

beforeAll(async () => {
  db = await createTestDatabase('conformance');
});
afterAll(async () => {
  await db.drop();
});

// The same suite as the memory store and PGlite: each case gets an empty schema of its own.
runStoreConformance(
  async () => {
    const schema = `conformance_${++cases}`;
    const store = createPostgresStore({ connectionString: db.url, schema, max: 4 });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await db.query(`drop schema ${schema} cascade`);
      },
    };
  },
  { describe, it },
);
