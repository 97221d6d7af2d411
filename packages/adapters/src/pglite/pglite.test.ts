import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTally, sampleCatalog } from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { describe, expect, it } from 'vitest';
import { migrations } from '../sql/migrate.js';
import { createPGliteStore } from './index.js';

describe('PGlite store', () => {
  it('keeps the ledger in a data folder across restarts, and migrating again changes nothing', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tally-pglite-'));
    try {
      const clock = createFakeClock('2026-11-05T00:00:00Z');
      const first = await createPGliteStore({ dataDir });
      const tally = createTally({ catalog: sampleCatalog, store: first, clock });
      await tally.customers.upsert({ customerId: 'kept', tier: 'starter' });
      await tally.grant({ customerId: 'kept', kind: 'purchased', amountMicros: 7_000_000n, idempotencyKey: 'kept-1' });
      await tally.spend({ customerId: 'kept', amountMicros: 2_500_000n, idempotencyKey: 'kept-2' });
      await first.close();

      const second = await createPGliteStore({ dataDir });
      expect(await second.migrate()).toEqual({ applied: [], current: Math.max(...migrations.map((m) => m.version)) });
      const again = createTally({ catalog: sampleCatalog, store: second, clock });
      expect((await again.balance('kept')).balanceMicros).toBe(4_500_000n);
      // The idempotency keys survived too: the same spend is a replay, not a second charge.
      expect((await again.spend({ customerId: 'kept', amountMicros: 2_500_000n, idempotencyKey: 'kept-2' })).replayed).toBe(true);
      expect((await again.audit()).ok).toBe(true);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
