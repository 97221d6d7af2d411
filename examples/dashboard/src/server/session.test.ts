/** Sign-in tokens: what signs verifies, anything changed or signed with another key does not. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessions } from './session.ts';

const sessions = createSessions(randomBytes(32).toString('base64url'));

describe('demo sessions', () => {
  it('verifies what it signed, for a customer and for the admin', () => {
    expect(sessions.verify(sessions.sign({ customerId: 'cus_ada', roles: [] }))).toEqual({ customerId: 'cus_ada', roles: [] });
    expect(sessions.verify(sessions.sign(sessions.admin()))).toEqual({ customerId: null, roles: ['admin'] });
  });

  it('refuses tokens signed with another key, altered, truncated or malformed', () => {
    const other = createSessions(randomBytes(32).toString('base64url'));
    const token = sessions.sign({ customerId: 'cus_ada', roles: [] });
    const [version, payload, mac] = token.split('.') as [string, string, string];
    const as = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      other.sign({ customerId: 'cus_ada', roles: [] }),
      `${version}.${as({ c: 'cus_bob', r: [] })}.${mac}`,
      `${version}.${as({ c: null, r: ['admin'] })}.${mac}`,
      `v2.${payload}.${mac}`,
      `${version}.${payload}.${mac.slice(0, -1)}`,
      `${version}.${payload}.${mac}=`,
      `${version}.${payload}`,
      `${token}.extra`,
      '',
      'x'.repeat(3000),
    ];
    for (const candidate of forged) expect(sessions.verify(candidate), candidate.slice(0, 80)).toBeNull();
  });

  it('never hands out a principal that is neither a customer nor the admin, even when signed', () => {
    expect(sessions.verify(sessions.sign({ customerId: null, roles: [] }))).toBeNull();
    expect(sessions.verify(sessions.sign({ customerId: null, roles: ['support'] }))).toBeNull();
    expect(sessions.verify(sessions.sign({ customerId: 'has space', roles: [] }))).toBeNull();
  });

  it('reads the cookie first, then a bearer token', async () => {
    const customer = sessions.sign({ customerId: 'cus_ada', roles: [] });
    const admin = sessions.sign(sessions.admin());
    const request = (headers: Record<string, string>) => new Request('http://localhost/v1/me', { headers });
    expect(await sessions.authenticate(request({ cookie: `theme=dark; tally_demo=${customer}` }))).toEqual({
      customerId: 'cus_ada',
      roles: [],
    });
    expect(await sessions.authenticate(request({ authorization: `Bearer ${admin}` }))).toEqual({ customerId: null, roles: ['admin'] });
    expect(await sessions.authenticate(request({ cookie: `tally_demo=${customer}`, authorization: `Bearer ${admin}` }))).toEqual({
      customerId: 'cus_ada',
      roles: [],
    });
    expect(await sessions.authenticate(request({}))).toBeNull();
    expect(sessions.signInCookie(customer, new Request('https://demo.example.com/'))).toMatch(/; Secure$/);
    expect(sessions.signInCookie(customer, request({}))).not.toMatch(/Secure/);
  });
});
