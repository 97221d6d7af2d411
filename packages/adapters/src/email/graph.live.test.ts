import { describe, expect, it } from 'vitest';
import { createGraphTransport } from './graph.js';

/**
 * Sends one real mail through Microsoft Graph. Runs only when `GRAPH_TENANT_ID`, `GRAPH_CLIENT_ID`,
 * `GRAPH_CLIENT_SECRET`, `GRAPH_SENDER` (a mailbox the app may send as, `Mail.Send` application
 * permission) and `GRAPH_TEST_TO` (where the mail goes) are set.
 */
const env = {
  tenantId: process.env.GRAPH_TENANT_ID ?? '',
  clientId: process.env.GRAPH_CLIENT_ID ?? '',
  clientSecret: process.env.GRAPH_CLIENT_SECRET ?? '',
  sender: process.env.GRAPH_SENDER ?? '',
  to: process.env.GRAPH_TEST_TO ?? '',
};

// Skipped without those five settings: Microsoft Graph can't be reached from CI, and a real tenant is
// the only way to check what the msw fake can't (that Graph accepts the mail). graph.test.ts covers the rest.
describe.skipIf(Object.values(env).some((value) => value === ''))('Microsoft Graph transport against the real Graph', () => {
  it('sends with List-Unsubscribe left out and is accepted (202)', async () => {
    const transport = createGraphTransport(env);
    const result = await transport.send({
      from: { address: env.sender, name: null },
      to: { address: env.to, name: null },
      subject: 'Tally Graph transport check — ✓',
      html: '<p>Sent by the Tally Microsoft Graph transport test. <a href="https://example.com/unsubscribe">Unsubscribe</a></p>',
      text: 'Sent by the Tally Microsoft Graph transport test.',
      headers: {
        'List-Unsubscribe': '<https://example.com/unsubscribe>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'X-Tally-Check': 'graph-live',
      },
      dedupeKey: `graph-live-${new Date().toISOString()}`,
    });
    expect(result).toEqual({ messageId: null });
  });
});
