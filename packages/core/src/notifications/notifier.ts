/**
 * `createNotifier` (docs/notifications.md): outbox events → `email.send` messages → rendered, sent and
 * logged mails, and the scheduled analytics reports to admins (reports.ts). Core renders and sends
 * nothing itself: the renderer (`@tally/react/emails`), the transport (`@tally/adapters/email`) and a
 * report's PDF renderer (`@tally/adapters/pdf`) are passed in. Every step that must happen once runs
 * through the outbox, so a transport that is down only delays mail: the message stays until a send succeeds.
 */
import type { Billing } from '../billing/service.js';
import { TallyError } from '../errors/index.js';
import type { Tally } from '../ledger/tally.js';
import type { OutboxMessage, Page } from '../ledger/types.js';
import { identifier } from '../ledger/validate.js';
import { type Clock, systemClock } from '../time/index.js';
import { formatDecimal } from '../units/decimal.js';
import { ADDRESS, checkAddress, checkLocale, httpUrl, invalid, isAddress } from './checks.js';
import {
  type AdminEmailTemplateId,
  type CustomerEmailTemplateId,
  EMAIL_TEMPLATE_CATEGORY,
  EMAIL_TEMPLATES,
  type EmailAddress,
  type EmailAttachment,
  type EmailBrand,
  type EmailDelivery,
  type EmailDeliveryQuery,
  type EmailRenderer,
  type EmailSendResult,
  type EmailTemplateData,
  type EmailTemplateId,
  type EmailTemplateInfo,
  type EmailTransport,
  isAdminEmailTemplate,
  type Notifier,
  type OutgoingEmail,
  type RecordEmailDeliveryCommand,
  type RenderedEmail,
} from './email.js';
import { emailSample } from './email-samples.js';
import { type AdminMailPayload, decodeEmailPayload, type EmailSendPayload, encodeEmailPayload } from './payload.js';
import {
  isNotificationCategory,
  NOTIFICATION_CATEGORIES,
  type NotificationCategory,
  type NotificationCategoryInfo,
} from './preferences.js';
import {
  type CheckedScheduledReport,
  checkScheduledReports,
  type ReportPdfRenderer,
  readAnalyticsReport,
  reportAttachments,
  reportPeriod,
  type ScheduledReport,
  type ScheduledReportJob,
  sampleAnalyticsReport,
} from './reports.js';
import { createTriggers } from './triggers.js';
import { createUnsubscribeSigner } from './unsubscribe.js';

/** The outbox topic of a mail waiting to be sent. */
export const EMAIL_SEND_TOPIC = 'email.send';

/** Who a customer's mail goes to; the app knows, Tally does not store addresses. */
export interface EmailRecipient {
  address: string;
  name: string | null;
  /** A BCP 47 tag; the notifier's `locale` when absent. */
  locale?: string;
}

export interface NotifierOptions {
  tally: Tally;
  /** Reads subscription periods through billing when given; otherwise straight from the store. */
  billing?: Billing;
  render: EmailRenderer;
  transport: EmailTransport;
  from: EmailAddress;
  /** The customer's address, or null when there is none (the mail is logged as suppressed, `no_recipient`). */
  recipients(customerId: string): Promise<EmailRecipient | null>;
  brand: EmailBrand;
  unsubscribe: {
    /** The HMAC key of the links: at least 32 characters, or 32 random bytes. Changing it voids every link sent. */
    secret: string | Uint8Array;
    /** The absolute URL of `POST /v1/unsubscribe`; the token is added as `?token=`. */
    url: string;
  };
  /** Default `en`. */
  locale?: string;
  /** Low balance: available credit below this share of the period's allowance, in basis points. Default 1000 (10 %). */
  lowBalanceThresholdBps?: number;
  /** Scheduled analytics reports to admins; `reportJobs()` turns them into scheduler jobs. */
  reports?: ScheduledReport[];
  /** Renders a report's PDF when its mail is sent (`renderReportPdf` from `@tally/adapters/pdf`); needed by `attach: 'pdf'`. */
  renderPdf?: ReportPdfRenderer;
  clock?: Clock;
}

const TEMPLATE_DESCRIPTIONS: Record<EmailTemplateId, (thresholdPercent: string) => string> = {
  welcome: () => 'When a customer is created: their tier and the credits it includes.',
  low_balance: (percent) => `Once per period, when the credit available falls below ${percent} % of the period’s allowance.`,
  monthly_reset: () => 'When a new period’s allowance is granted (not the first one, which the welcome mail covers).',
  coupon_redeemed: () => 'When a customer redeems a coupon: the credits or the discount it gave.',
  tier_upgraded: () => 'When a customer moves to a higher tier.',
  tier_downgraded: () => 'When a move to a lower tier is scheduled, and again when it takes effect.',
  payment_failed: () => 'When a payment fails, with the amount due and the next try. Always sent: it cannot be turned off.',
  analytics_report: () =>
    'A scheduled analytics report (daily, weekly or monthly) to the admin addresses configured in reports. Not tied to a customer: no preference category, no unsubscribe link.',
};

const MAX_MAIL_KEY = 400;
const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
/** A preview or test mail shows where the link goes without carrying a token that works. */
const SAMPLE_TOKEN = 'preview';

function checkBrand(brand: EmailBrand): EmailBrand {
  if (typeof brand !== 'object' || brand === null) throw invalid('brand', 'must be an object');
  if (typeof brand.productName !== 'string' || brand.productName.trim() === '') throw invalid('brand.productName', 'must not be blank');
  for (const key of ['primaryColor', 'primaryTextColor'] as const) {
    if (typeof brand[key] !== 'string' || !HEX_COLOR.test(brand[key]))
      throw invalid(`brand.${key}`, 'must be a hex colour (#rgb or #rrggbb)');
  }
  if (typeof brand.footerAddress !== 'string') throw invalid('brand.footerAddress', 'must be a string');
  if (brand.logoUrl !== null) httpUrl(brand.logoUrl, 'brand.logoUrl');
  if (brand.dashboardUrl !== null) httpUrl(brand.dashboardUrl, 'brand.dashboardUrl');
  if (brand.supportEmail !== null && (typeof brand.supportEmail !== 'string' || !ADDRESS.test(brand.supportEmail))) {
    throw invalid('brand.supportEmail', 'must be null or an email address');
  }
  return { ...brand };
}

function checkTemplate(template: unknown): EmailTemplateId {
  if (typeof template !== 'string' || !(EMAIL_TEMPLATES as readonly string[]).includes(template)) {
    throw invalid('template', `must be one of ${EMAIL_TEMPLATES.join(', ')}`);
  }
  return template as EmailTemplateId;
}

const categoryInfo = (category: NotificationCategory): NotificationCategoryInfo =>
  NOTIFICATION_CATEGORIES.find((info) => info.id === category) as NotificationCategoryInfo;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 2000);

/** Connects outbox events to mails; see `Notifier` (email.ts) and docs/notifications.md. */
export function createNotifier(options: NotifierOptions): Notifier {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const { tally, render, transport, recipients } = options;
  if (typeof tally !== 'object' || tally === null || !tally.store || !tally.catalog)
    throw invalid('tally', 'must be a Tally from createTally');
  if (typeof render !== 'function') throw invalid('render', 'must be a function');
  if (typeof transport !== 'object' || transport === null || typeof transport.send !== 'function' || typeof transport.name !== 'string') {
    throw invalid('transport', 'must be an EmailTransport ({ name, send })');
  }
  if (typeof recipients !== 'function') throw invalid('recipients', 'must be a function');
  const from = checkAddress(options.from, 'from');
  const brand = checkBrand(options.brand);
  if (typeof options.unsubscribe !== 'object' || options.unsubscribe === null) throw invalid('unsubscribe', 'must be { secret, url }');
  const signer = createUnsubscribeSigner(options.unsubscribe.secret);
  const unsubscribeBase = httpUrl(options.unsubscribe.url, 'unsubscribe.url');
  const defaultLocale = checkLocale(options.locale ?? 'en', 'locale');
  const thresholdBps = options.lowBalanceThresholdBps ?? 1000;
  if (!Number.isSafeInteger(thresholdBps) || thresholdBps < 1 || thresholdBps > 10_000) {
    throw invalid('lowBalanceThresholdBps', 'must be a whole number from 1 to 10000');
  }
  const clock = options.clock ?? systemClock;
  const { store, catalog } = tally;
  const billing = options.billing;
  const renderPdf = options.renderPdf ?? null;
  if (renderPdf !== null && typeof renderPdf !== 'function') throw invalid('renderPdf', 'must be a function');
  const schedules: CheckedScheduledReport[] = checkScheduledReports(options.reports, { renderPdf: renderPdf !== null });

  const linkWith = (token: string) => {
    const url = new URL(unsubscribeBase);
    url.searchParams.set('token', token);
    return url.toString();
  };

  async function unsubscribeUrl(customerId: string, category: NotificationCategory): Promise<string | null> {
    if (!isNotificationCategory(category))
      throw invalid('category', `must be one of ${NOTIFICATION_CATEGORIES.map((c) => c.id).join(', ')}`);
    if (categoryInfo(category).required) return null;
    return linkWith(await signer.sign({ customerId: identifier(customerId, 'customerId'), category }));
  }

  /**
   * The render context and headers for a template's category: a link for optional ones, the reason for
   * required ones, and neither for an admin mail, which no category governs.
   */
  function footerOf(template: EmailTemplateId, link: string | null) {
    const category = EMAIL_TEMPLATE_CATEGORY[template];
    if (category === null) return { unsubscribeUrl: null, requiredReason: null, headers: {} };
    const info = categoryInfo(category);
    const unsubscribe = info.required ? null : link;
    const headers: Record<string, string> = unsubscribe
      ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
      : {};
    return { unsubscribeUrl: unsubscribe, requiredReason: info.required ? info.reason : null, headers };
  }

  async function compose<T extends EmailTemplateId>(
    template: T,
    data: EmailTemplateData[T],
    to: EmailAddress,
    locale: string,
    link: string | null,
    key: string,
    attachments: EmailAttachment[] = [],
  ): Promise<OutgoingEmail> {
    const { unsubscribeUrl: url, requiredReason, headers } = footerOf(template, link);
    const rendered = await render(template, data, { brand, locale, unsubscribeUrl: url, requiredReason });
    const email: OutgoingEmail = { from, to, subject: rendered.subject, html: rendered.html, text: rendered.text, headers, dedupeKey: key };
    return attachments.length > 0 ? { ...email, attachments } : email;
  }

  const log = (line: Omit<RecordEmailDeliveryCommand, 'at'>) => store.recordEmailDelivery({ ...line, at: clock.now() });

  /**
   * Whether this mail was already sent or suppressed: a message delivered again after its send (a
   * worker that died before completing it) must not mail twice. Only lines since the message was
   * enqueued can be about it, so the scan stops there.
   */
  async function alreadyHandled(
    message: OutboxMessage,
    customerId: string | null,
    template: EmailTemplateId,
    key: string,
  ): Promise<boolean> {
    let cursor: string | undefined;
    for (;;) {
      const page = await store.listEmailDeliveries({
        template,
        limit: 100,
        ...(customerId === null ? {} : { customerId }),
        ...(cursor ? { cursor } : {}),
      });
      for (const line of page.items) {
        if (line.at.getTime() < message.createdAt.getTime()) return false;
        if (line.dedupeKey === key && !line.test && line.status !== 'failed') return true;
      }
      if (!page.nextCursor) return false;
      cursor = page.nextCursor;
    }
  }

  /** The `email.send` handler: preference check, render, send, log. Throwing leaves the message for a retry. */
  async function sendMessage(message: OutboxMessage): Promise<void> {
    const payload = decodeEmailPayload(message.payload);
    if (payload.admin) return sendAdminMessage(message, payload, payload.admin);
    const { template, key } = payload;
    const data = payload.data as EmailTemplateData[CustomerEmailTemplateId];
    const customerId = data.customerId;
    if (await alreadyHandled(message, customerId, template, key)) return;
    const line = { dedupeKey: key, customerId, template, attempt: message.attempts, test: false };
    const recipient = await recipients(customerId);
    if (recipient === null) {
      await log({
        ...line,
        to: null,
        subject: null,
        status: 'suppressed',
        suppression: 'no_recipient',
        error: null,
        transport: null,
        messageId: null,
      });
      return;
    }
    // Only admin templates have no category, and their payloads name a recipient (handled above).
    const category = EMAIL_TEMPLATE_CATEGORY[template] as NotificationCategory;
    const required = categoryInfo(category).required;
    // Logged as given when it is an address; a bad one is logged as none (the failure line says why).
    const to = isAddress(recipient.address) ? recipient.address : null;
    if (!required && !(await store.getNotificationPreferences(customerId)).categories[category]) {
      await log({
        ...line,
        to,
        subject: null,
        status: 'suppressed',
        suppression: 'preference',
        error: null,
        transport: null,
        messageId: null,
      });
      return;
    }
    await deliver({ ...line, to }, async () => {
      const address = checkAddress({ address: recipient.address, name: recipient.name ?? null }, 'recipient');
      const locale = recipient.locale === undefined ? defaultLocale : checkLocale(recipient.locale, 'recipient.locale');
      const named = { ...data, customerName: data.customerName ?? address.name } as EmailTemplateData[typeof template];
      return compose(template, named, address, locale, required ? null : await unsubscribeUrl(customerId, category), key);
    });
  }

  /**
   * An admin mail (a scheduled report): no customer, so no recipient lookup and no preference; the
   * payload names the address. The attachment is rendered now, from the report the run stored.
   */
  async function sendAdminMessage(message: OutboxMessage, payload: EmailSendPayload, admin: AdminMailPayload): Promise<void> {
    const { template, key } = payload;
    const data = payload.data as EmailTemplateData[AdminEmailTemplateId];
    if (await alreadyHandled(message, null, template, key)) return;
    const line = { dedupeKey: key, customerId: null, template, attempt: message.attempts, test: false, to: admin.to.address };
    await deliver(line, async () => {
      const locale = admin.locale ?? defaultLocale;
      const base = `${data.reportId}-${data.from.toISOString().slice(0, 10)}`;
      const files =
        admin.attach === 'none' || admin.report === null ? [] : await reportAttachments(admin.report, admin.attach, base, renderPdf);
      return compose(template, data, admin.to, locale, null, key, files);
    });
  }

  /**
   * Builds and sends one mail and logs the outcome: `sent` with the transport's id, or `failed` with
   * the error, which is then rethrown (the outbox retries; a test send reports it).
   */
  async function deliver(
    line: Pick<RecordEmailDeliveryCommand, 'dedupeKey' | 'customerId' | 'template' | 'attempt' | 'test' | 'to'>,
    build: () => Promise<OutgoingEmail>,
  ): Promise<EmailDelivery> {
    let subject: string | null = null;
    let sent: EmailSendResult;
    const outcome = { suppression: null, transport: transport.name };
    try {
      const email = await build();
      subject = email.subject;
      sent = await transport.send(email);
    } catch (error) {
      await log({ ...line, ...outcome, subject, status: 'failed', error: errorText(error), messageId: null });
      throw error;
    }
    return log({ ...line, ...outcome, subject, status: 'sent', error: null, messageId: sent.messageId });
  }

  /** Enqueues without checks: the triggers and report runs build their data from the store. */
  async function enqueue<T extends EmailTemplateId>(
    template: T,
    data: EmailTemplateData[T],
    key: string,
    admin?: AdminMailPayload,
  ): Promise<boolean> {
    const row = await store.enqueueOutbox({
      topic: EMAIL_SEND_TOPIC,
      payload: encodeEmailPayload({ template, data, key, ...(admin ? { admin } : {}) }),
      dedupeKey: `email:${key}`,
      at: clock.now(),
    });
    return row !== null;
  }

  const triggers = createTriggers({
    store,
    catalog,
    subscriptionOf: (customerId) => (billing ? billing.getSubscription(customerId) : store.getSubscription(customerId)),
    notify: enqueue,
    thresholdBps,
  });

  const thresholdPercent = formatDecimal(BigInt(thresholdBps), 2);

  /** One run of a schedule: the period before `slot`, read once, one mail per recipient under its own key. */
  async function sendReport(reportId: string, slot: Date): Promise<number> {
    const schedule = schedules.find((candidate) => candidate.id === reportId);
    if (!schedule) throw new TallyError('NOT_FOUND', `No scheduled report "${String(reportId)}"`, { details: { reportId } });
    const period = reportPeriod(schedule.cadence, slot);
    const { data, report } = await readAnalyticsReport(tally, schedule, period, clock.now());
    let enqueued = 0;
    for (const to of schedule.to) {
      // The period, not the slot: a retry, a second instance or a moved cron of the same period sends nothing new.
      const key = `report:${schedule.id}:${period.from.toISOString()}:${to.address.toLowerCase()}`;
      const admin: AdminMailPayload = {
        to,
        locale: schedule.locale,
        attach: schedule.attach,
        report: schedule.attach === 'none' ? null : report,
      };
      if (await enqueue('analytics_report', { ...data, recipientName: to.name }, key, admin)) enqueued++;
    }
    return enqueued;
  }

  return {
    handlers: { ...triggers.handlers, [EMAIL_SEND_TOPIC]: sendMessage },

    templates(): EmailTemplateInfo[] {
      return EMAIL_TEMPLATES.map((id) => {
        const category = EMAIL_TEMPLATE_CATEGORY[id];
        const required = category !== null && categoryInfo(category).required;
        return { id, category, required, description: TEMPLATE_DESCRIPTIONS[id](thresholdPercent) };
      });
    },

    async preview<T extends EmailTemplateId>(
      template: T,
      previewOptions: { locale?: string; data?: EmailTemplateData[T] } = {},
    ): Promise<RenderedEmail> {
      checkTemplate(template);
      const locale = previewOptions.locale === undefined ? defaultLocale : checkLocale(previewOptions.locale, 'locale');
      const data = previewOptions.data ?? emailSample(template);
      const { unsubscribeUrl: url, requiredReason } = footerOf(template, linkWith(SAMPLE_TOKEN));
      return render(template, data, { brand, locale, unsubscribeUrl: url, requiredReason });
    },

    async sendTest(template: EmailTemplateId, to: EmailAddress, testOptions: { locale?: string } = {}): Promise<EmailDelivery> {
      checkTemplate(template);
      const address = checkAddress(to, 'to');
      const locale = testOptions.locale === undefined ? defaultLocale : checkLocale(testOptions.locale, 'locale');
      const at = clock.now();
      // Unique per send: a test is never deduplicated against another one.
      const key = `test:${template}:${at.getTime()}:${Math.random().toString(36).slice(2, 10)}`;
      const line = { dedupeKey: key, customerId: null, template, attempt: 1, test: true, to: address.address };
      return deliver(line, async () => {
        if (!isAdminEmailTemplate(template)) return compose(template, emailSample(template), address, locale, linkWith(SAMPLE_TOKEN), key);
        // The report greets the test's recipient and carries the sample's PDF when there is a renderer, so the whole path is tried.
        const sample = { ...emailSample(template), recipientName: address.name, attachment: renderPdf ? ('pdf' as const) : null };
        const files = renderPdf
          ? await reportAttachments(sampleAnalyticsReport(sample, at), 'pdf', `${sample.reportId}-sample`, renderPdf)
          : [];
        return compose(template, sample, address, locale, null, key, files);
      });
    },

    deliveries: (query: EmailDeliveryQuery): Promise<Page<EmailDelivery>> => store.listEmailDeliveries(query),

    unsubscribeUrl,

    async unsubscribe(token: string) {
      const claim = await signer.verify(token);
      const info = categoryInfo(claim.category);
      if (info.required) {
        throw new TallyError('VALIDATION', `${claim.category} cannot be turned off: ${info.reason}`, {
          details: { field: 'category', category: claim.category, required: true },
        });
      }
      await store.setNotificationPreferences({ customerId: claim.customerId, changes: { [claim.category]: false }, at: clock.now() });
      return claim;
    },

    async notify<T extends CustomerEmailTemplateId>(template: T, data: EmailTemplateData[T], dedupeKey: string): Promise<boolean> {
      checkTemplate(template);
      if (isAdminEmailTemplate(template)) throw invalid('template', `${template} goes to admins: schedule it with the reports option`);
      if (typeof dedupeKey !== 'string' || dedupeKey === '' || dedupeKey.length > MAX_MAIL_KEY || /[\s\0]/.test(dedupeKey)) {
        throw invalid('dedupeKey', `must be 1 to ${MAX_MAIL_KEY} characters without whitespace`);
      }
      if (typeof data !== 'object' || data === null) throw invalid('data', 'must be the template’s data');
      const customerId = identifier(data.customerId, 'data.customerId');
      if (!(await store.getCustomer(customerId))) {
        throw new TallyError('NOT_FOUND', `Unknown customer "${customerId}"`, { details: { customerId } });
      }
      return enqueue(template, data, dedupeKey);
    },

    sendReport,

    reportJobs(): ScheduledReportJob[] {
      return schedules.map((schedule) => ({
        name: `report:${schedule.id}`,
        cron: schedule.cron,
        run: async (slot: Date) => {
          await sendReport(schedule.id, slot);
        },
      }));
    },

    async scanLowBalance(): Promise<number> {
      const at = clock.now();
      let enqueued = 0;
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listCustomers({ limit: 500, ...(cursor ? { cursor } : {}) });
        for (const customer of page.items) if (await triggers.lowBalance(customer.id, at)) enqueued++;
        if (!page.nextCursor) return enqueued;
        cursor = page.nextCursor;
      }
    },
  };
}
