import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { ADA, BOB, type Caller, createHarness, deadLetter, type Harness, seedCustomers } from '../http/test-support.js';
import { tallyRejection } from '../testing/rejection.js';
import { createTallyClient } from './client.js';

const CREDIT = 1_000_000n;
/** Ada after seeding: 20 starter credits − 429 micros for the metered call − the 123,000 micros spend. */
const ADA_BALANCE = 20n * CREDIT - 429n - 123_000n;

/** A client whose "network" is the handler itself, signed in as `as`; `seen` records every request. */
function clientFor(h: Harness, as: Caller, fetchImpl?: (request: Request) => Promise<Response>) {
  const seen: Request[] = [];
  const client = createTallyClient({
    baseUrl: 'https://api.example.com/',
    headers: (): Record<string, string> => (as === 'anonymous' ? {} : { authorization: `Bearer ${as}` }),
    fetch: async (request) => {
      seen.push(request.clone());
      const response = await (fetchImpl ?? h.handler)(request);
      await h.deliverEvents();
      return response;
    },
  });
  return { client, seen };
}

describe('createTallyClient against the real handler', () => {
  it('reads: me, balance, usage, transactions, tiers, packs, caps, keys, preferences', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const { client, seen } = clientFor(h, 'ada');
    expect((await client.me()).customerId).toBe(ADA);
    expect((await client.balance()).balanceMicros).toBe(String(ADA_BALANCE));
    const usage = await client.usage({ groupBy: 'day', from: '2026-11-01T00:00:00Z' });
    expect(usage.rows).toEqual([expect.objectContaining({ key: '2026-11-02', calls: 2, chargedMicros: '123429' })]);
    const page = await client.transactions({ kind: ['spend', 'usage'], limit: 1 });
    expect(page.items.map((e) => e.kind)).toEqual(['spend']);
    const next = await client.transactions({ kind: ['spend', 'usage'], limit: 1, cursor: page.nextCursor as string });
    expect(next.items.map((e) => e.kind)).toEqual(['usage']);
    expect(new URL(seen.at(-1)?.url as string).search).toBe(`?cursor=${page.nextCursor}&limit=1&kind=spend%2Cusage`);
    expect((await client.tiers()).current).toBe('starter');
    expect((await client.creditPacks()).map((p) => p.id)).toEqual(['credits-10', 'credits-50']);
    expect((await client.spendCaps()).map((c) => c.dailyMicros)).toEqual(['5000000']);
    expect((await client.byokKeys()).map((k) => k.last4)).toEqual(['ADA1']);
    expect((await client.notificationPreferences()).categories).toHaveLength(7);
    expect((await client.autoRecharge()).enabled).toBe(false);
    expect(seen.every((r) => r.url.startsWith('https://api.example.com/v1/'))).toBe(true);
    expect(seen.every((r) => !r.headers.has('idempotency-key'))).toBe(true);
  });

  it('writes: tier change, cancel and resume, portal, coupon, pack, auto-recharge, caps, keys, preferences', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const { client, seen } = clientFor(h, 'ada');
    const preview = await client.previewTierChange('professional');
    expect(preview.direction).toBe('upgrade');
    const scheduled = await client.changeTier('trial');
    expect(scheduled.status).toBe('scheduled');
    expect((await client.resumeSubscription()).scheduledChange).toBeNull();
    expect((await client.cancelSubscription()).scheduledChange).toEqual({ tier: null, at: '2026-12-02T00:00:00.000Z' });
    expect((await client.resumeSubscription()).scheduledChange).toBeNull();
    expect((await client.paymentMethodPortal({ returnUrl: 'https://app.example.com/x' })).url).toContain('portal');
    expect((await client.paymentMethodPortal()).url).toContain('portal');
    expect((await client.redeemCoupon('welcome10')).grantedMicros).toBe('10000000');
    expect((await client.buyCreditPack('credits-10')).url).toContain('checkout');
    const recharge = { enabled: true, thresholdMicros: '1000000', packId: 'credits-10', maxPerMonth: 3 };
    expect(await client.setAutoRecharge(recharge)).toEqual(recharge);
    expect((await client.setSpendCap({ dailyMicros: null, monthlyMicros: '9000000' })).monthlyMicros).toBe('9000000');
    expect((await client.setByokKey('openrouter', 'sk-or-v1-client-Kq7w')).last4).toBe('Kq7w');
    expect(await client.removeByokKey('openrouter')).toEqual({ provider: 'openrouter', removed: true });
    const prefs = await client.setNotificationPreferences({ categories: [{ id: 'tier_changed', enabled: false }] });
    expect(prefs.categories.find((c) => c.id === 'tier_changed')?.enabled).toBe(false);
    const upgraded = await client.changeTier('professional');
    expect(upgraded.status).toBe('charged');
    expect((await client.me()).tier.id).toBe('professional');
    // Every write carried a key of its own.
    const keys = seen.filter((r) => r.method !== 'GET').map((r) => r.headers.get('idempotency-key'));
    expect(keys.every((key) => typeof key === 'string' && /^[0-9a-f-]{36}$/.test(key))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('admin: customers, customer, grant, adjust, coupons, audit, dead letters', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const { client } = clientFor(h, 'admin');
    const page = await client.admin.customers({ search: 'cus_', limit: 1 });
    expect(page.items.map((c) => c.id)).toEqual([ADA]);
    expect((await client.admin.customers({ cursor: page.nextCursor as string })).items.map((c) => c.id)).toEqual([BOB]);
    expect((await client.admin.customer(BOB)).subscription?.tier).toBe('professional');
    const granted = await client.admin.grant(ADA, { amountMicros: '1000000', kind: 'coupon' }, { idempotencyKey: 'grant-1' });
    const replayed = await client.admin.grant(ADA, { amountMicros: '1000000', kind: 'coupon' }, { idempotencyKey: 'grant-1' });
    expect(replayed).toMatchObject({ operationId: granted.operationId, replayed: true });
    expect(replayed.balance.balanceMicros).toBe(String(ADA_BALANCE + CREDIT));
    const adjusted = await client.admin.adjust(ADA, { amountMicros: '-500', reason: 'typo' }, { idempotencyKey: 'adjust-1' });
    expect(adjusted.balance.balanceMicros).toBe(String(ADA_BALANCE + CREDIT - 500n));
    const coupon = await client.admin.createCoupon({
      code: 'autumn5',
      benefit: { kind: 'percent_off', percentOffBps: 500, durationPeriods: 1 },
    });
    expect(coupon.code).toBe('AUTUMN5');
    expect((await client.admin.setCouponActive('AUTUMN5', false)).active).toBe(false);
    expect((await client.admin.coupons()).map((c) => c.code)).toContain('AUTUMN5');
    expect((await client.admin.audit()).ok).toBe(true);
    const id = await deadLetter(h);
    expect((await client.admin.deadLetters()).map((m) => m.id)).toEqual([id]);
    expect(await client.admin.retryDeadLetter(id)).toEqual({ id, retried: true });
  });

  it('a problem response becomes a TallyError with the problem’s code, status and body', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    const ada = clientFor(h, 'ada').client;
    const missing = await tallyRejection(ada.redeemCoupon('NOPE123'));
    expect(TallyError.is(missing, 'COUPON_NOT_FOUND')).toBe(true);
    expect(missing.details).toMatchObject({ status: 404, problem: { code: 'COUPON_NOT_FOUND', status: 404 } });
    const invalid = await tallyRejection(ada.setSpendCap({ dailyMicros: 'lots', monthlyMicros: null }));
    expect(invalid.code).toBe('VALIDATION');
    expect(invalid.issues.map((i) => i.path)).toEqual([['dailyMicros']]);
    const forbidden = await tallyRejection(ada.admin.audit());
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(forbidden.details.status).toBe(403);
    const anonymous = await tallyRejection(clientFor(h, 'anonymous').client.me());
    expect(anonymous.code).toBe('UNAUTHENTICATED');
    await ada.redeemCoupon('WELCOME10', { idempotencyKey: 'same' });
    const conflict = await tallyRejection(ada.redeemCoupon('BOBONLY77', { idempotencyKey: 'same' }));
    expect(conflict.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('keeps one Idempotency-Key across its own retries: a write retried after a 503 acts once', async () => {
    const h = await createHarness();
    await seedCustomers(h);
    let attempts = 0;
    const { client, seen } = clientFor(h, 'admin', async (request) => {
      attempts++;
      const response = await h.handler(request);
      // The first answer is lost on the way back: the grant happened, the client sees a 503.
      if (attempts === 1) return new Response('upstream timeout', { status: 503 });
      return response;
    });
    const result = await client.admin.grant(ADA, { amountMicros: '700000' });
    expect(attempts).toBe(2);
    const keys = seen.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    expect(result.replayed).toBe(true);
    expect(result.balance.balanceMicros).toBe(String(ADA_BALANCE + 700_000n));
  });

  it('a server that answers without a problem body or not at all is PROVIDER_UNAVAILABLE', async () => {
    const h = await createHarness();
    const down = createTallyClient({
      baseUrl: 'https://api.example.com',
      timeoutMs: 1000,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const error = await tallyRejection(down.balance());
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    const teapot = createTallyClient({ baseUrl: 'https://api.example.com', fetch: async () => new Response('<html>', { status: 418 }) });
    const odd = await tallyRejection(teapot.balance());
    expect(odd.code).toBe('INTERNAL');
    expect(odd.details.status).toBe(418);
    expect(h.errors).toEqual([]);
  });
});
