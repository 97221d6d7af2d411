import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { createMemoryStore } from '../ledger/memory-store.js';
import type { TallyStore } from '../ledger/types.js';
import { createFakeClock } from '../testing/index.js';
import { createByokKeys } from './keys.js';
import { createKeyVault } from './vault.js';

const OLD_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const NEW_KEY = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const SECRET = 'sk-or-v1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1234';
const OTHER = 'sk-or-v1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb5678';

async function setup(store: TallyStore = createMemoryStore()) {
  const clock = createFakeClock('2026-11-05T00:00:00Z');
  for (const customerId of ['ada', 'bob', 'cy']) {
    await store.upsertCustomer({ customerId, tier: 'starter', overdraftLimitMicros: 0n, unlimited: false, at: clock.now() });
  }
  const vault = createKeyVault({ keys: { old: OLD_KEY }, activeKeyId: 'old' });
  return { store, clock, vault, keys: createByokKeys({ store, vault, clock }) };
}

async function caught(action: () => Promise<unknown>): Promise<TallyError> {
  try {
    await action();
  } catch (error) {
    if (TallyError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a TallyError');
}

describe('createByokKeys', () => {
  it('stores a sealed key and shows only last4; resolve opens it', async () => {
    const { store, keys } = await setup();
    const info = await keys.set('ada', 'openrouter', SECRET);
    expect(info).toEqual({
      provider: 'openrouter',
      source: 'byok',
      last4: '1234',
      keyId: 'old',
      providerKeyHash: null,
      createdAt: new Date('2026-11-05T00:00:00Z'),
      updatedAt: new Date('2026-11-05T00:00:00Z'),
    });
    expect(await keys.get('ada', 'openrouter')).toEqual(info);
    const stored = await store.getProviderKey('ada', 'openrouter', 'byok');
    expect(stored?.sealed.startsWith('v1.old.')).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(SECRET.slice(9, 30));
    expect(await keys.resolve('ada', 'openrouter')).toBe(SECRET);
    expect(await keys.resolve('bob', 'openrouter')).toBeNull();
    expect(await keys.get('ada', 'openai')).toBeNull();
  });

  it('replacing a key keeps createdAt, moves updatedAt, and resolves to the new secret', async () => {
    const { keys, clock } = await setup();
    await keys.set('ada', 'openrouter', SECRET);
    clock.advance(60_000);
    const info = await keys.set('ada', 'openrouter', OTHER);
    expect(info.createdAt).toEqual(new Date('2026-11-05T00:00:00Z'));
    expect(info.updatedAt).toEqual(new Date('2026-11-05T00:01:00Z'));
    expect(info.last4).toBe('5678');
    expect(await keys.resolve('ada', 'openrouter')).toBe(OTHER);
  });

  it('keeps a BYOK and a provisioned key of one provider apart; a provisioned key needs its hash', async () => {
    const { keys } = await setup();
    await keys.set('ada', 'openrouter', SECRET);
    const provisioned = await keys.set('ada', 'openrouter', OTHER, { source: 'provisioned', providerKeyHash: 'abc123' });
    expect(provisioned).toMatchObject({ source: 'provisioned', providerKeyHash: 'abc123', last4: '5678' });
    expect(await keys.resolve('ada', 'openrouter')).toBe(SECRET);
    expect(await keys.resolve('ada', 'openrouter', 'provisioned')).toBe(OTHER);
    expect((await caught(() => keys.set('ada', 'openrouter', OTHER, { source: 'provisioned' }))).code).toBe('VALIDATION');
    expect((await caught(() => keys.set('ada', 'openrouter', OTHER, { providerKeyHash: 'abc123' }))).code).toBe('VALIDATION');
  });

  it('refuses an unknown customer (NOT_FOUND) and bad input (VALIDATION) without storing or echoing the secret', async () => {
    const { store, keys } = await setup();
    expect((await caught(() => keys.set('ghost', 'openrouter', SECRET))).code).toBe('NOT_FOUND');
    const bad: Array<[string, string, unknown]> = [
      ['ada', 'OpenRouter', SECRET],
      ['ada', 'open router', SECRET],
      ['ada', '', SECRET],
      ['ada', 'x'.repeat(65), SECRET],
      ['ada', 'openrouter', ''],
      ['ada', 'openrouter', '   '],
      ['ada', 'openrouter', ` ${SECRET}`],
      ['ada', 'openrouter', `${SECRET}\n`],
      ['ada', 'openrouter', 's'.repeat(8193)],
      ['ada', 'openrouter', 42],
      ['ada with space', 'openrouter', SECRET],
    ];
    for (const [customerId, provider, secret] of bad) {
      const error = await caught(() => keys.set(customerId, provider, secret as string));
      expect(error.code).toBe('VALIDATION');
      expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(SECRET.slice(9));
    }
    expect((await caught(() => keys.get('ada', 'Open Router'))).code).toBe('VALIDATION');
    expect((await store.listProviderKeys({ limit: 10 })).items).toEqual([]);
  });

  it('remove deletes the key once', async () => {
    const { keys } = await setup();
    await keys.set('ada', 'openrouter', SECRET);
    expect(await keys.remove('ada', 'openrouter')).toBe(true);
    expect(await keys.remove('ada', 'openrouter')).toBe(false);
    expect(await keys.get('ada', 'openrouter')).toBeNull();
    expect(await keys.resolve('ada', 'openrouter')).toBeNull();
  });

  it('rotate re-seals keys of a retired vault key in batches, until none is left', async () => {
    const { store, keys, clock } = await setup();
    await keys.set('ada', 'openrouter', SECRET);
    await keys.set('bob', 'openrouter', OTHER);
    await keys.set('cy', 'anthropic', 'sk-ant-cccccccccccccccccccc9012');
    await keys.set('cy', 'openrouter', SECRET, { source: 'provisioned', providerKeyHash: 'h1' });
    const vault = createKeyVault({ keys: { old: OLD_KEY, new: NEW_KEY }, activeKeyId: 'new' });
    const rotating = createByokKeys({ store, vault, clock });
    expect(await rotating.rotate({ limit: 3 })).toBe(3);
    expect(await rotating.rotate({ limit: 3 })).toBe(1);
    expect(await rotating.rotate()).toBe(0);
    // Only the new vault key is needed now.
    const retired = createByokKeys({ store, vault: createKeyVault({ keys: { new: NEW_KEY }, activeKeyId: 'new' }), clock });
    expect(await retired.resolve('ada', 'openrouter')).toBe(SECRET);
    expect(await retired.resolve('bob', 'openrouter')).toBe(OTHER);
    expect(await retired.resolve('cy', 'anthropic')).toBe('sk-ant-cccccccccccccccccccc9012');
    expect(await retired.resolve('cy', 'openrouter', 'provisioned')).toBe(SECRET);
    const listed = (await store.listProviderKeys({ limit: 10 })).items;
    expect(listed.map((record) => [record.customerId, record.keyId, record.last4])).toEqual([
      ['ada', 'new', '1234'],
      ['bob', 'new', '5678'],
      ['cy', 'new', '9012'],
      ['cy', 'new', '1234'],
    ]);
    expect((await caught(() => rotating.rotate({ limit: 0 }))).code).toBe('VALIDATION');
  });

  it('rotate leaves a key that was replaced while it was being re-sealed as the replacement wrote it', async () => {
    const base = createMemoryStore();
    const { keys, clock } = await setup(base);
    await keys.set('ada', 'openrouter', SECRET);
    await keys.set('bob', 'openrouter', SECRET);
    const vault = createKeyVault({ keys: { old: OLD_KEY, new: NEW_KEY }, activeKeyId: 'new' });
    const customer = createByokKeys({ store: base, vault, clock });
    // The customer saves a new key right after the sweep read the page.
    const racing: TallyStore = {
      ...base,
      async listProviderKeys(query) {
        const page = await base.listProviderKeys(query);
        await customer.set('ada', 'openrouter', OTHER);
        return page;
      },
    };
    const rotating = createByokKeys({ store: racing, vault, clock });
    expect(await rotating.rotate()).toBe(1);
    expect(await customer.resolve('ada', 'openrouter')).toBe(OTHER);
    expect(await customer.resolve('bob', 'openrouter')).toBe(SECRET);
  });
});
