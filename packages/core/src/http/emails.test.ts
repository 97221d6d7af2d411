/**
 * The admin email routes and the public unsubscribe routes over the handler: what an admin page and a
 * mail provider's one-click POST see, and that a token is the only credential unsubscribe takes.
 */
import { describe, expect, it } from 'vitest';
import * as s from './schemas.js';
import { ADA, BOB, createHarness, type Harness, seedCustomers, unsubscribeToken } from './test-support.js';

async function seeded(): Promise<Harness> {
  const h = await createHarness();
  await seedCustomers(h);
  return h;
}

async function categories(h: Harness, customerId: string): Promise<Record<string, boolean>> {
  return (await h.store.getNotificationPreferences(customerId)).categories;
}

describe('admin email routes', () => {
  it('lists the templates with the category that governs each', async () => {
    const h = await seeded();
    const body = s.emailTemplatesSchema.parse(await (await h.call('GET', '/v1/admin/emails/templates', { as: 'admin' })).json());
    expect(body.templates.map((t) => [t.id, t.category, t.required])).toEqual([
      ['welcome', 'welcome', false],
      ['low_balance', 'low_balance', false],
      ['monthly_reset', 'monthly_reset', false],
      ['coupon_redeemed', 'coupon_redeemed', false],
      ['tier_upgraded', 'tier_changed', false],
      ['tier_downgraded', 'tier_changed', false],
      ['payment_failed', 'payment_failed', true],
      // The admin report: no customer, so no preference category.
      ['analytics_report', null, false],
    ]);
  });

  it('previews a template as JSON, as the bare HTML document and as the text part, all from one rendering', async () => {
    const h = await seeded();
    const preview = s.emailPreviewSchema.parse(await (await h.call('GET', '/v1/admin/emails/preview/low_balance', { as: 'admin' })).json());
    expect(preview).toMatchObject({ template: 'low_balance', locale: 'en' });
    // The sample data's 74,250,000 micros left of 1,000 credits.
    expect(preview.text).toContain('74.25');

    const html = await h.call('GET', '/v1/admin/emails/preview/low_balance', { as: 'admin', query: { format: 'html' } });
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await html.text()).toBe(preview.html);

    const text = await h.call('GET', '/v1/admin/emails/preview/low_balance', { as: 'admin', query: { format: 'text' } });
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe(preview.text);
  });

  it('refuses an unknown template or format with VALIDATION', async () => {
    const h = await seeded();
    for (const [path, query] of [
      ['/v1/admin/emails/preview/newsletter', {}],
      ['/v1/admin/emails/preview/welcome', { format: 'pdf' }],
    ] as const) {
      const response = await h.call('GET', path, { as: 'admin', query });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe('VALIDATION');
    }
  });

  it('sends a test mail now and shows it in the delivery log as a test', async () => {
    const h = await seeded();
    const sent = s.emailTestResultSchema.parse(
      await (
        await h.call('POST', '/v1/admin/emails/test', { as: 'admin', body: { template: 'payment_failed', to: 'ops@example.com' } })
      ).json(),
    );
    expect(sent.delivery).toMatchObject({
      template: 'payment_failed',
      to: 'ops@example.com',
      status: 'sent',
      test: true,
      customerId: null,
    });
    expect(h.emails.sent.at(-1)?.to.address).toBe('ops@example.com');

    const log = s.emailDeliveryPageSchema.parse(
      await (await h.call('GET', '/v1/admin/emails/log', { as: 'admin', query: { template: 'payment_failed' } })).json(),
    );
    expect(log.items[0]).toEqual(sent.delivery);

    const bad = await h.call('POST', '/v1/admin/emails/test', { as: 'admin', body: { template: 'welcome', to: 'not an address' } });
    expect(bad.status).toBe(400);
  });
});

describe('unsubscribe', () => {
  it('turns off only the token’s category for only the token’s customer (one-click POST, RFC 8058)', async () => {
    const h = await seeded();
    const beforeBob = await categories(h, BOB);
    const token = await unsubscribeToken(h, ADA, 'low_balance');
    const response = await h.call('POST', '/v1/unsubscribe', {
      query: { token },
      rawBody: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ category: 'low_balance', unsubscribed: true });
    const ada = await categories(h, ADA);
    expect(ada.low_balance).toBe(false);
    expect(Object.entries(ada).filter(([, on]) => !on)).toEqual([['low_balance', false]]);
    expect(await categories(h, BOB)).toEqual(beforeBob);
  });

  it('refuses a forged or altered token with 403 and changes nothing', async () => {
    const h = await seeded();
    const before = [await categories(h, ADA), await categories(h, BOB)];
    const token = await unsubscribeToken(h, ADA, 'low_balance');
    const [payload, mac] = token.split('.') as [string, string];
    const flipped = (text: string) => `${text.slice(0, -1)}${text.endsWith('A') ? 'B' : 'A'}`;
    const bobPayload = (await unsubscribeToken(h, BOB, 'welcome')).split('.')[0] as string;
    for (const forged of [`${payload}.${flipped(mac)}`, `${flipped(payload)}.${mac}`, `${bobPayload}.${mac}`, 'preview', payload]) {
      const response = await h.call('POST', '/v1/unsubscribe', { query: { token: forged } });
      expect(response.status, forged).toBe(403);
    }
    expect([await categories(h, ADA), await categories(h, BOB)]).toEqual(before);
  });

  it('shows a page for the link in the body that changes nothing until its button is pressed', async () => {
    const h = await seeded();
    const token = await unsubscribeToken(h, ADA, 'monthly_reset');
    const page = await h.call('GET', '/v1/unsubscribe', { query: { token } });
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain(`token=${encodeURIComponent(token)}`);
    expect((await categories(h, ADA)).monthly_reset).toBe(true);

    // The button posts the form from a browser, which asks for HTML back.
    const done = await h.call('POST', '/v1/unsubscribe', {
      query: { token },
      rawBody: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(done.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await done.text()).toContain('monthly reset');
    expect((await categories(h, ADA)).monthly_reset).toBe(false);
  });

  it('is off without the notifier option', async () => {
    const h = await createHarness({ notifier: undefined });
    const response = await h.call('POST', '/v1/unsubscribe', { query: { token: 'x' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
  });
});
