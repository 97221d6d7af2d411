import { PGlite } from '@electric-sql/pglite';
import { runStoreConformance } from '@tally/core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPGliteStore } from './index.js';

// One embedded database for the file (starting PGlite takes a moment); each case gets its own schema.
let db: PGlite;
let cases = 0;

beforeAll(async () => {
  db = await PGlite.create();
});
afterAll(async () => {
  await db.close();
});

runStoreConformance(
  async () => {
    const schema = `conformance_${++cases}`;
    const store = await createPGliteStore({ db, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await db.exec(`drop schema ${schema} cascade; set search_path to public`);
      },
    };
  },
  { describe, it },
);
