/**
 * The email contract (docs/notifications.md): the templates and their data, the renderer and
 * transport ports, the delivery log and the scheduler's claimed runs. Core renders nothing and sends
 * nothing itself: `@tally/react/emails` renders, `@tally/adapters/email` sends, and the notifier
 * (notifier.ts) connects outbox events to both.
 */
import type { OutboxMessage, Page } from '../ledger/types.js';
import type { NotificationCategory } from './preferences.js';
import type { ScheduledReportJob } from './reports.js';

/** The mails to customers: each belongs to a preference category the customer can turn off (unless required). */
export const CUSTOMER_EMAIL_TEMPLATES = [
  'welcome',
  'low_balance',
  'monthly_reset',
  'coupon_redeemed',
  'tier_upgraded',
  'tier_downgraded',
  'payment_failed',
] as const;

/** The mails to the app's admins: not about one customer, sent to the addresses the app configured. */
export const ADMIN_EMAIL_TEMPLATES = ['analytics_report'] as const;

/** Every template, in the order an admin page lists them. */
export const EMAIL_TEMPLATES = [...CUSTOMER_EMAIL_TEMPLATES, ...ADMIN_EMAIL_TEMPLATES] as const;

export type CustomerEmailTemplateId = (typeof CUSTOMER_EMAIL_TEMPLATES)[number];
export type AdminEmailTemplateId = (typeof ADMIN_EMAIL_TEMPLATES)[number];
export type EmailTemplateId = (typeof EMAIL_TEMPLATES)[number];

export function isAdminEmailTemplate(template: EmailTemplateId): template is AdminEmailTemplateId {
  return (ADMIN_EMAIL_TEMPLATES as readonly string[]).includes(template);
}

/**
 * The preference category that decides whether a template's mail goes out; null for an admin mail,
 * which no customer preference governs (it has no unsubscribe link either).
 */
export const EMAIL_TEMPLATE_CATEGORY: Readonly<Record<EmailTemplateId, NotificationCategory | null>> = Object.freeze({
  welcome: 'welcome',
  low_balance: 'low_balance',
  monthly_reset: 'monthly_reset',
  coupon_redeemed: 'coupon_redeemed',
  tier_upgraded: 'tier_changed',
  tier_downgraded: 'tier_changed',
  payment_failed: 'payment_failed',
  analytics_report: null,
});

/**
 * What every template gets. Amounts are exact: credits in micros (1 credit = 1,000,000 micros),
 * money in minor units of `currency` (cents for USD). Renderers format them with core's formatters,
 * never through a float.
 */
export interface EmailDataBase {
  customerId: string;
  /** For the greeting; null greets without a name. */
  customerName: string | null;
}

export interface WelcomeEmailData extends EmailDataBase {
  tierName: string;
  /** Credits each period; null for an unlimited tier. */
  allowanceMicros: bigint | null;
}

export interface LowBalanceEmailData extends EmailDataBase {
  /** What is left now (may be ≤ 0 with overdraft). */
  remainingMicros: bigint;
  /** The period's allowance the threshold is measured against. */
  allowanceMicros: bigint;
  /** When the allowance renews; null when nothing renews (e.g. a free tier without a period). */
  renewsAt: Date | null;
}

export interface MonthlyResetEmailData extends EmailDataBase {
  tierName: string;
  allowanceMicros: bigint;
  periodStart: Date;
  periodEnd: Date;
}

export interface CouponRedeemedEmailData extends EmailDataBase {
  code: string;
  benefit:
    | { type: 'credits'; amountMicros: bigint; expiresAt: Date | null }
    | { type: 'percent_off'; percentOffBps: number; durationPeriods: number };
}

export interface TierChangeEmailData extends EmailDataBase {
  fromTierName: string;
  toTierName: string;
  /** `now`: already in effect; `scheduled`: takes effect at `effectiveAt` (period end). */
  timing: 'now' | 'scheduled';
  effectiveAt: Date;
  /** The new tier's price per period, minor units of `currency`; null when the catalog has none. */
  priceMinor: bigint | null;
  currency: string;
  /** Credits per period on the new tier; null for unlimited. */
  allowanceMicros: bigint | null;
}

export interface PaymentFailedEmailData extends EmailDataBase {
  amountDueMinor: bigint;
  currency: string;
  attemptCount: number;
  /** When the provider tries again; null when it will not. */
  nextAttemptAt: Date | null;
}

export const REPORT_CADENCES = ['daily', 'weekly', 'monthly'] as const;
/** How often a scheduled report goes out; each reports the last complete day, ISO week or calendar month. */
export type ReportCadence = (typeof REPORT_CADENCES)[number];

/**
 * The scheduled analytics report to admins (docs/notifications.md, "Scheduled reports"). Every number
 * is exact and comes from `tally.analytics.metric` over `[from, to)`: MRR in minor units of
 * `currency`, credits in micros, revenue and provider cost in nano-USD, ratios in basis points.
 */
export interface AnalyticsReportEmailData {
  /** The schedule's id (`ScheduledReport.id`). */
  reportId: string;
  cadence: ReportCadence;
  /** The period reported, `[from, to)` in UTC: a whole day, ISO week or calendar month. */
  from: Date;
  to: Date;
  /** For the greeting; null greets without a name. */
  recipientName: string | null;
  /** ISO 4217 code of the MRR amounts (the catalog's currency). */
  currency: string;
  /** The `mrr` metric over the period as one bucket. */
  mrr: {
    atStart: bigint;
    atEnd: bigint;
    /** `atEnd − atStart` = new + expansion + reactivation − contraction − churn. */
    net: bigint;
    new: bigint;
    expansion: bigint;
    reactivation: bigint;
    contraction: bigint;
    churn: bigint;
    /** `net / atStart`; null when `atStart` is 0. */
    growthBps: number | null;
  };
  /** The `customers` metric over the period as one bucket. */
  customers: { signUps: number; active: number; total: number };
  /** Calls (charged and logged) and their tokens, from the `usage` metric. */
  calls: number;
  tokens: bigint;
  /** The `margin` metric's total line. */
  creditsChargedMicros: bigint;
  revenueNanoUsd: bigint;
  costNanoUsd: bigint;
  marginNanoUsd: bigint;
  /** `margin / revenue`; null when revenue is 0. */
  marginBps: number | null;
  /** The `top-customers` metric: at most five, most credits first. */
  topCustomers: Array<{ customerId: string; tier: string; creditsMicros: bigint; calls: number }>;
  /** The admin dashboard the mail links to; null leaves the link out. */
  dashboardUrl: string | null;
  /** What the mail carries: the report as one PDF, as CSV files (one per table), or nothing. */
  attachment: 'pdf' | 'csv' | null;
}

export interface EmailTemplateData {
  welcome: WelcomeEmailData;
  low_balance: LowBalanceEmailData;
  monthly_reset: MonthlyResetEmailData;
  coupon_redeemed: CouponRedeemedEmailData;
  tier_upgraded: TierChangeEmailData;
  tier_downgraded: TierChangeEmailData;
  payment_failed: PaymentFailedEmailData;
  analytics_report: AnalyticsReportEmailData;
}

/** How mails look and what they are signed with. Colours are CSS hex colours (#rgb or #rrggbb). */
export interface EmailBrand {
  productName: string;
  /** An absolute https (or http for local demos) URL; null shows the product name instead. */
  logoUrl: string | null;
  /** Buttons, links and the header rule. */
  primaryColor: string;
  /** Text on `primaryColor`. */
  primaryTextColor: string;
  /** The postal address in the footer (CAN-SPAM asks for one). */
  footerAddress: string;
  /** Where the customer manages billing; links in the mails point here. Null leaves them out. */
  dashboardUrl: string | null;
  supportEmail: string | null;
}

export interface EmailRenderContext {
  brand: EmailBrand;
  /** A BCP 47 tag, e.g. `en` or `de`. Renderers fall back to `en` for a locale they lack. */
  locale: string;
  /** The category's one-click unsubscribe link; null for a required category (see `requiredReason`) and for an admin mail. */
  unsubscribeUrl: string | null;
  /** For a required category: why this mail cannot be turned off (shown in the footer). Null for an admin mail. */
  requiredReason: string | null;
}

export interface RenderedEmail {
  subject: string;
  /** A complete HTML document. */
  html: string;
  /** The same content as plain text, links written out. */
  text: string;
}

/** Renders one template; `@tally/react/emails` provides `renderTallyEmail`. Bad data: `VALIDATION`. */
export type EmailRenderer = <T extends EmailTemplateId>(
  template: T,
  data: EmailTemplateData[T],
  context: EmailRenderContext,
) => Promise<RenderedEmail>;

export interface EmailAddress {
  address: string;
  name: string | null;
}

/** A file sent with a mail (a report's PDF or CSV). */
export interface EmailAttachment {
  /** The name the recipient sees: no path, no line breaks. */
  filename: string;
  /** A MIME type, e.g. `application/pdf` or `text/csv; charset=utf-8`. */
  contentType: string;
  content: Uint8Array;
}

/** One mail for a transport. */
export interface OutgoingEmail {
  from: EmailAddress;
  to: EmailAddress;
  subject: string;
  html: string;
  text: string;
  /**
   * Extra headers, e.g. `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058). A transport that
   * cannot carry a header (Microsoft Graph takes only `x-` names) leaves it out; the link in the body
   * still works.
   */
  headers: Record<string, string>;
  /** Stable per logical mail: transports that dedupe or tag (e.g. an `x-tally-dedupe` header) use it. */
  dedupeKey: string;
  /** Files sent with the mail; absent or empty for none. A transport that cannot carry them (too large for Microsoft Graph) refuses the mail with `VALIDATION`. */
  attachments?: EmailAttachment[];
}

export interface EmailSendResult {
  /** The transport's id for the mail (SMTP Message-ID, or null when the API gives none, as Graph's 202 does). */
  messageId: string | null;
}

/**
 * Sends mail. Throwing means "not sent": the notifier logs the failure and the outbox tries again
 * later. A transport that learns when to retry (HTTP 429 `Retry-After`) waits and retries itself a
 * bounded number of times before throwing `PROVIDER_UNAVAILABLE` with `details.retryAfterMs`.
 */
export interface EmailTransport {
  /** For the delivery log: `smtp`, `microsoft-graph`, `memory`. */
  readonly name: string;
  send(email: OutgoingEmail): Promise<EmailSendResult>;
}

export const EMAIL_DELIVERY_STATUSES = ['sent', 'failed', 'suppressed'] as const;
export type EmailDeliveryStatus = (typeof EMAIL_DELIVERY_STATUSES)[number];

/** Why a mail was not sent although nothing failed. */
export type EmailSuppression = 'preference' | 'no_recipient';

/** One line of the delivery log: every attempt, suppression and test send. */
export interface EmailDelivery {
  id: string;
  /** The logical mail's key; a retry of one mail repeats it with a higher `attempt`. */
  dedupeKey: string;
  /** Null for an admin's test send. */
  customerId: string | null;
  template: EmailTemplateId;
  /** The recipient address; null when there was none (`suppressed`, `no_recipient`). */
  to: string | null;
  subject: string | null;
  status: EmailDeliveryStatus;
  /** For `suppressed`. */
  suppression: EmailSuppression | null;
  /** 1 for the first try; > 1 marks a retry. */
  attempt: number;
  /** For `failed`: the transport's error message. */
  error: string | null;
  transport: string | null;
  messageId: string | null;
  test: boolean;
  at: Date;
}

export type RecordEmailDeliveryCommand = Omit<EmailDelivery, 'id'>;

export interface EmailDeliveryQuery {
  customerId?: string;
  status?: EmailDeliveryStatus;
  template?: EmailTemplateId;
  /** The previous page's `nextCursor`. */
  cursor?: string;
  /** 1–500. */
  limit: number;
}

/** A scheduler slot claimed by one instance (docs/notifications.md, "Scheduler"). */
export interface ClaimScheduledRunCommand {
  job: string;
  /** The cron slot this run is for (to the second). */
  slot: Date;
  at: Date;
  /** Until when the claim keeps other instances off; a claim whose lease ran out can be taken over. */
  leaseUntil: Date;
}

/**
 * The storage port for the delivery log and the scheduler (part of `TallyStore`). The memory store,
 * PGlite and Postgres all pass the same conformance cases.
 */
export interface EmailStore {
  /**
   * Appends one line to the log. Unknown template or status, a suppression without `suppressed` (or
   * the reverse), an empty or over-long dedupe key, NUL or an unpaired surrogate in any text, a date
   * outside years 1-9999: `VALIDATION`, and nothing is written.
   */
  recordEmailDelivery(command: RecordEmailDeliveryCommand): Promise<EmailDelivery>;
  /** Newest first (by `at`, then id), a page at a time; filters combine with AND. */
  listEmailDeliveries(query: EmailDeliveryQuery): Promise<Page<EmailDelivery>>;
  /**
   * Claims `(job, slot)` for this instance: true when it was free, or claimed but neither completed
   * nor still leased (a crashed run); false otherwise. Exactly one of many concurrent callers wins.
   */
  claimScheduledRun(command: ClaimScheduledRunCommand): Promise<boolean>;
  /** Marks a claimed run done; it is never claimed again. A slot never claimed: `NOT_FOUND`. */
  completeScheduledRun(command: { job: string; slot: Date; at: Date }): Promise<void>;
  /** The latest slot of `job` that completed, or null. */
  lastScheduledRun(job: string): Promise<Date | null>;
}

export interface EmailTemplateInfo {
  id: EmailTemplateId;
  /** The preference category that governs it; null for an admin mail (no customer, no unsubscribe link). */
  category: NotificationCategory | null;
  /** A required category's mails cannot be turned off (payment failed). */
  required: boolean;
  /** One line for the admin list: when the mail goes out. */
  description: string;
}

/**
 * What `createNotifier` (notifier.ts) returns: the outbox handlers that turn events into mails, and
 * what the admin and unsubscribe routes call.
 */
export interface Notifier {
  /**
   * Outbox handlers for `createOutboxWorker({ handlers })`: one per trigger topic (each enqueues an
   * `email.send` message under the mail's dedupe key, so a mail is enqueued once however often its
   * event is delivered) and `email.send` itself (preference check, render, send, log).
   */
  readonly handlers: Record<string, (message: OutboxMessage) => Promise<void>>;
  templates(): EmailTemplateInfo[];
  /** Renders a template with sample data (or `data`), with a sample unsubscribe link. */
  preview<T extends EmailTemplateId>(template: T, options?: { locale?: string; data?: EmailTemplateData[T] }): Promise<RenderedEmail>;
  /**
   * Renders with sample data and sends now to `to`; logged with `test: true`. A transport failure is
   * logged, then thrown. The admin report carries the sample's PDF when the notifier has `renderPdf`.
   */
  sendTest(template: EmailTemplateId, to: EmailAddress, options?: { locale?: string }): Promise<EmailDelivery>;
  deliveries(query: EmailDeliveryQuery): Promise<Page<EmailDelivery>>;
  /** The signed one-click link for a customer's category; null for a required category. */
  unsubscribeUrl(customerId: string, category: NotificationCategory): Promise<string | null>;
  /**
   * Turns off the token's category for the token's customer only. A forged, altered or foreign token:
   * `FORBIDDEN`, nothing changes. A required category: `VALIDATION` with the reason.
   */
  unsubscribe(token: string): Promise<{ customerId: string; category: NotificationCategory }>;
  /** Enqueues a customer mail under `dedupeKey`; false when that key was already used. An admin template: `VALIDATION`. */
  notify<T extends CustomerEmailTemplateId>(template: T, data: EmailTemplateData[T], dedupeKey: string): Promise<boolean>;
  /** The scheduled low-balance scan: enqueues the mail for every customer under the line. Returns how many were new. */
  scanLowBalance(): Promise<number>;
  /**
   * One run of the scheduled report `reportId` (the `reports` option) for the cron `slot`: reads the
   * metrics of the last complete period before `slot` and enqueues one `analytics_report` mail per
   * recipient under `report:<id>:<period start>:<address>`. Returns how many were new (0 when the
   * period was already reported). An unknown id: `NOT_FOUND`.
   */
  sendReport(reportId: string, slot: Date): Promise<number>;
  /** The scheduled reports as jobs for `createScheduler` (`@tally/adapters/scheduler`): `report:<id>` on each schedule's cron. */
  reportJobs(): ScheduledReportJob[];
}
