import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createByokKeys,
  createKeyVault,
  createTally,
  customerAccount,
  type Entry,
  formatDecimal,
  type ModelPrice,
  parseDecimal,
  sampleCatalog,
} from '@tally/core';
import { createFakeClock } from '@tally/core/testing';
import { parse } from 'csv-parse/sync';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenRouterClient } from '../openrouter/client.js';
import { createOpenRouterFake } from '../openrouter/testing.js';
import { createPGliteStore } from '../pglite/index.js';
import { runCli } from './index.js';

const COMMANDS = ['migrate', 'seed', 'audit', 'reconcile', 'export', 'sync-provider'];
const BASE_URL = 'https://openrouter.test/api/v1';
const VAULT_KEY = Buffer.alloc(32, 7).toString('base64');

const fake = createOpenRouterFake({ baseUrl: BASE_URL, generationNotFoundPolls: 0 });
const server = setupServer(...fake.handlers);
let dir: string;
let dataDir: string;

beforeAll(async () => {
  server.listen({ onUnhandledFrame: 'error' });
  dir = await mkdtemp(join(tmpdir(), 'tally-cli-'));
  // A parent that does not exist yet, like the default .tally/data.
  dataDir = join(dir, 'tally', 'data');
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI on the temp database with captured output; stderr is not a terminal. */
async function tally(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: {
      write: (text) => {
        stdout += text;
      },
    },
    stderr: {
      write: (text) => {
        stderr += text;
      },
    },
    env: { TALLY_DATA_DIR: dataDir, ...env },
  });
  return { code, stdout, stderr };
}

/** The store the CLI uses, opened by the test between runs (PGlite allows one opener at a time). */
async function withStore<T>(fn: (store: Awaited<ReturnType<typeof createPGliteStore>>) => Promise<T>): Promise<T> {
  const store = await createPGliteStore({ dataDir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function allEntries(store: Awaited<ReturnType<typeof createPGliteStore>>, customerId?: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listEntries({ limit: 500, ...(customerId ? { customerId } : {}), ...(cursor ? { cursor } : {}) });
    entries.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return entries;
}

describe('tally CLI', () => {
  it('prints help listing the six commands, and each command its own', async () => {
    const help = await tally(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    for (const command of COMMANDS) {
      const own = await tally([command, '--help']);
      expect(own.code).toBe(0);
      expect(own.stdout).toContain(`Usage: tally ${command}`);
    }
  });

  it('exits 64 with usage on stderr for no command, an unknown command, an unknown flag or a bad value', async () => {
    const none = await tally([]);
    expect(none).toMatchObject({ code: 64, stdout: '' });
    expect(none.stderr).toContain('Usage: tally <command>');
    const unknown = await tally(['frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const flag = await tally(['audit', '--bogus']);
    expect(flag.code).toBe(64);
    expect(flag.stderr).toContain("'--bogus'");
    expect(flag.stderr).toContain('Usage: tally audit');
    const value = await tally(['seed', '--customers', 'many']);
    expect(value.code).toBe(64);
    expect(value.stderr).toContain('--customers must be a whole number');
    expect(existsSync(dataDir)).toBe(false);
    const missing = await tally(['audit']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain(`no database at ${dataDir}`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('exits 69 when the database cannot be reached', async () => {
    const result = await tally(['audit', '--database-url', 'postgres://tally@127.0.0.1:1/none']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('unreachable');
  });

  it('migrates, seeds with progress, and audits clean', async () => {
    const migrated = await tally(['migrate']);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^applied 1: ledger$/m);
    const again = await tally(['migrate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^schema is up to date \(version \d+\)$/m);

    const seeded = await tally(['seed', '--seed', '7', '--customers', '5', '--days', '3']);
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('for 5 customers over 3 days');
    expect(seeded.stdout).toContain('audit clean');
    // Not a terminal: one plain line per tenth, no escape codes.
    expect(seeded.stderr).not.toContain('\x1b');
    const steps = seeded.stderr.split('\n').filter((line) => line.startsWith('seeding '));
    expect(steps[0]).toBe('seeding 0 %');
    expect(steps.at(-1)).toBe('seeding 100 %');
    const percents = steps.map((line) => Number(/^seeding (\d+) %$/.exec(line)?.[1]));
    for (const [index, percent] of percents.entries()) {
      expect(percent % 10).toBe(0);
      if (index > 0) expect(percent).toBeGreaterThan(percents[index - 1] as number);
    }

    const audit = await tally(['audit']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^customers {2}5$/m);
    expect(audit.stdout).toMatch(/^zero-sum {3}yes$/m);
    expect(audit.stdout).toMatch(/^issues {5}none$/m);

    const json = await tally(['audit', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    const entries = await withStore((store) => allEntries(store));
    expect(report).toMatchObject({ ok: true, customers: 5, entries: entries.length, totalMicros: '0', issues: [] });
  });

  it("exports a customer's transactions as CSV whose amounts match the ledger exactly", async () => {
    const { customerId, entries } = await withStore(async (store) => {
      const all = await allEntries(store);
      const counts = new Map<string, number>();
      for (const entry of all) counts.set(entry.customerId, (counts.get(entry.customerId) ?? 0) + 1);
      const busiest = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
      return { customerId: busiest, entries: await allEntries(store, busiest) };
    });
    expect(entries.length).toBeGreaterThan(5);
    const out = join(dir, 'transactions.csv');
    const result = await tally(['export', 'transactions', '--customer', customerId, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`wrote ${entries.length} entries`);
    const text = await readFile(out, 'utf8');
    const [header, ...rows] = parse(text) as string[][];
    expect(header).toEqual(['time', 'kind', 'amount', 'bucket kind', 'model', 'tokens', 'provider cost (nano-USD)']);
    expect(rows).toHaveLength(entries.length);
    rows.forEach((row, index) => {
      const entry = entries[index] as Entry;
      const signed = entry.toAccount === customerAccount(customerId) ? entry.amountMicros : -entry.amountMicros;
      expect(row.slice(0, 3)).toEqual([entry.createdAt.toISOString(), entry.kind, formatDecimal(signed, 6, { minFractionDigits: 2 })]);
      expect(row[4]).toBe(entry.usage?.model ?? '');
      expect(row[6]).toBe(entry.usage ? String(entry.usage.providerCostNanoUsd) : '');
      if (entry.bucketId !== null) expect(['allowance', 'purchased', 'coupon', 'adjustment']).toContain(row[3]);
    });
    const total = rows.reduce((sum, row) => sum + parseDecimal(row[2] as string, 6, { allowNegative: true }), 0n);
    const ledger = entries.reduce(
      (sum, entry) => sum + (entry.toAccount === customerAccount(customerId) ? entry.amountMicros : -entry.amountMicros),
      0n,
    );
    expect(total).toBe(ledger);

    const stdout = await tally(['export', 'transactions', '--customer', customerId]);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toBe(text);
    const unknown = await tally(['export', 'transactions', '--customer', 'nobody']);
    expect(unknown.code).toBe(64);
    expect((await tally(['export', 'invoices', '--customer', customerId])).code).toBe(64);
  });

  it('reconcile needs OPENROUTER_API_KEY and --since', async () => {
    const noKey = await tally(['reconcile', '--since', '2026-11-01']);
    expect(noKey.code).toBe(64);
    expect(noKey.stderr).toContain('OPENROUTER_API_KEY is not set');
    const noSince = await tally(['reconcile'], { OPENROUTER_API_KEY: fake.apiKey });
    expect(noSince.code).toBe(64);
    expect(noSince.stderr).toContain('--since is required');
  });

  it('reconciles metered calls against OpenRouter: exit 0 without drift, 1 beyond --max-drift-bps', async () => {
    const clock = createFakeClock('2026-11-20T10:00:00Z');
    /** A completion on the fake, metered at `price` (default: the catalog's). */
    const call = async (tallyApi: ReturnType<typeof createTally>, customerId: string, model: string, key: string, price?: ModelPrice) => {
      fake.nextUsage({ promptTokens: 1200, completionTokens: 300 });
      const response = await fetch(`${BASE_URL}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fake.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      const generationId = (await response.json()).id as string;
      await tallyApi.meter({
        customerId,
        model,
        usage: { inputTokens: 1200, outputTokens: 300 },
        generationId,
        idempotencyKey: key,
        ...(price ? { price } : {}),
      });
      clock.advance(1_000);
    };
    await withStore(async (store) => {
      const api = createTally({ catalog: sampleCatalog, store, clock });
      for (const customerId of ['rc-exact', 'rc-drift']) await api.customers.upsert({ customerId, tier: 'starter' });
      await call(api, 'rc-exact', 'openai/gpt-4o', 'rc-1');
      await call(api, 'rc-exact', 'openai/gpt-4o-mini', 'rc-2');
      // Charged at gpt-4o-mini's price for a gpt-4o call: far less than OpenRouter billed.
      await call(api, 'rc-drift', 'openai/gpt-4o', 'rc-3', sampleCatalog.models['openai/gpt-4o-mini']);
    });
    const env = { OPENROUTER_API_KEY: fake.apiKey };
    const args = ['reconcile', '--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z', '--openrouter-url', BASE_URL];

    const exact = await tally([...args, '--customer', 'rc-exact'], env);
    expect(exact.stderr).toContain('reconciling: 1 ledger pages');
    expect(exact.code).toBe(0);
    expect(exact.stdout).toMatch(/calls compared {9}2$/m);
    expect(exact.stdout).toMatch(/^ {2}openai\/gpt-4o +1 .* 0\.00 +0$/m);
    expect(exact.stdout).toMatch(/^ {2}rc-exact +2 /m);

    const drift = await tally([...args, '--json'], env);
    expect(drift.code).toBe(1);
    const report = JSON.parse(drift.stdout);
    expect(report.totals.compared).toBe(3);
    expect(report.byCustomer.map((group: { key: string; driftNanoUsd: string }) => [group.key, group.driftNanoUsd !== '0'])).toEqual([
      ['rc-drift', true],
      ['rc-exact', false],
    ]);
    // A threshold above the drift lets it pass.
    expect((await tally([...args, '--max-drift-bps', '1000000'], env)).code).toBe(0);
  });

  it('sync-provider reads the stored keys from OpenRouter and names the low ones', async () => {
    const management = createOpenRouterClient({ managementKey: fake.managementKey, baseUrl: BASE_URL, retry: { limit: 0 } });
    const spent = await management.createKey({ name: 'spent', limitNanoUsd: 1_000_000_000n });
    const fresh = await management.createKey({ name: 'fresh', limitNanoUsd: 1_000_000_000n });
    await withStore(async (store) => {
      const vault = createKeyVault({ keys: { k1: VAULT_KEY }, activeKeyId: 'k1' });
      const keys = createByokKeys({ store, vault });
      const api = createTally({ catalog: sampleCatalog, store });
      for (const customerId of ['sp-low', 'sp-ok']) await api.customers.upsert({ customerId, tier: 'starter' });
      await keys.set('sp-low', 'openrouter', spent.key);
      await keys.set('sp-ok', 'openrouter', fresh.key);
    });
    // 0.95 USD of the 1 USD limit: under 10 % left.
    fake.nextUsage({ promptTokens: 380_000, completionTokens: 0 });
    const response = await fetch(`${BASE_URL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${spent.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);

    const env = { OPENROUTER_MANAGEMENT_KEY: fake.managementKey, TALLY_BYOK_KEYS: `k1=${VAULT_KEY}` };
    expect((await tally(['sync-provider'], { TALLY_BYOK_KEYS: env.TALLY_BYOK_KEYS })).code).toBe(64);
    expect((await tally(['sync-provider'], { OPENROUTER_MANAGEMENT_KEY: fake.managementKey })).code).toBe(64);
    const result = await tally(['sync-provider', '--openrouter-url', BASE_URL], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^checked 2 keys: 2 synced, 1 low \(1 newly, notified\), 0 failed, 0 skipped$/m);
    expect(result.stdout).toContain('  low: sp-low (byok) 0.05 USD left of 1.00 USD');
    expect(result.stdout).not.toContain('sp-ok');
    const notices = await withStore((store) => store.listOutbox({ limit: 100 }));
    expect(notices.filter((message) => message.topic === 'provider.balance_low')).toHaveLength(1);
  });

  const bin = fileURLToPath(new URL('../../bin/tally.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)));
  it.skipIf(!built)(
    `runs as a process through bin/tally.js${built ? '' : ' (SKIPPED: dist/cli.js missing, run `pnpm --filter @tally/adapters build`)'}`,
    () => {
      const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      for (const command of COMMANDS) expect(help.stdout).toContain(`  ${command} `);
      const bad = spawnSync(process.execPath, [bin, 'audit', '--bogus'], { encoding: 'utf8' });
      expect(bad.status).toBe(64);
      expect(bad.stderr).toContain('Usage: tally audit');
    },
  );
});
