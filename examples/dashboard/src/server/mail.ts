/**
 * The demo's mail: the real notifier and react-email templates, sent to an in-process capture
 * transport instead of SMTP, so nothing needs a mail server. The notifier's delivery log (what the
 * admin's email page shows, `GET /v1/admin/emails/log`) records every send as it would with SMTP; the
 * capture keeps the last mails in memory. Production: `createSmtpTransport` or `createGraphTransport`
 * from `@tally/adapters/email`.
 */
import {
  type Billing,
  createNotifier,
  type EmailSendResult,
  type EmailTransport,
  type Notifier,
  type OutgoingEmail,
  SAMPLE_EMAIL_BRAND,
  type Tally,
} from '@tally/core';
import { renderTallyEmail } from '@tally/react/emails';
import { displayName, mailbox } from './people.ts';

export interface CaptureTransport extends EmailTransport {
  /** The most recent mails, oldest first (at most `keep`). */
  recent(): readonly OutgoingEmail[];
}

export function createCaptureTransport(keep = 100): CaptureTransport {
  const mails: OutgoingEmail[] = [];
  let sent = 0;
  return {
    name: 'demo-capture',
    async send(email): Promise<EmailSendResult> {
      mails.push(email);
      if (mails.length > keep) mails.splice(0, mails.length - keep);
      sent++;
      return { messageId: `<demo-${sent}-${Date.now()}@tally.example>` };
    },
    recent: () => [...mails],
  };
}

export function createDemoNotifier(options: {
  tally: Tally;
  billing: Billing;
  transport: EmailTransport;
  publicUrl: string;
  unsubscribeSecret: string;
}): Notifier {
  return createNotifier({
    tally: options.tally,
    billing: options.billing,
    render: renderTallyEmail,
    transport: options.transport,
    from: { address: 'billing@example.com', name: 'Tally demo' },
    recipients: async (customerId) => ({ address: mailbox(customerId), name: displayName(customerId) }),
    brand: { ...SAMPLE_EMAIL_BRAND, dashboardUrl: `${options.publicUrl}/app` },
    unsubscribe: { secret: options.unsubscribeSecret, url: `${options.publicUrl}/v1/unsubscribe` },
  });
}
