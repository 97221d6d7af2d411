/**
 * Test tools for the notifier: a transport that keeps what it is given and a plain renderer. Both are
 * real implementations of the ports (email.ts), small enough to read in a test, and not meant for
 * production mail: apps render with `@tally/react/emails` and send with `@tally/adapters/email`.
 */
import { TallyError } from '../errors/index.js';
import type { TallyStore } from '../ledger/types.js';
import {
  type AdminEmailTemplateId,
  type EmailDataBase,
  type EmailRenderContext,
  type EmailRenderer,
  type EmailSendResult,
  type EmailTemplateData,
  type EmailTemplateId,
  type EmailTransport,
  isAdminEmailTemplate,
  type OutgoingEmail,
  type RenderedEmail,
} from '../notifications/email.js';
import { escapeHtml } from '../notifications/html.js';
import { formatCredits } from '../units/credits.js';
import { formatDecimal } from '../units/decimal.js';
import { formatMoney } from '../units/money.js';

/** A transport for tests: records every mail it accepts (attachments included), and can be told to fail. */
export interface MemoryEmailTransport extends EmailTransport {
  /** Every mail accepted, oldest first (copies: changing them changes nothing). */
  readonly sent: readonly OutgoingEmail[];
  /** Makes the next `count` sends throw `PROVIDER_UNAVAILABLE`, as a transport whose server is down does. */
  failNext(count: number): void;
  /** How many sends were refused so far. */
  readonly failures: number;
  /** Forgets the mails accepted so far. */
  clear(): void;
}

/** A test tool: an `EmailTransport` that keeps mails in memory. Message ids are `<memory-N@tally.test>`. */
export function createMemoryEmailTransport(): MemoryEmailTransport {
  const sent: OutgoingEmail[] = [];
  let failing = 0;
  let failures = 0;
  let counter = 0;
  return {
    name: 'memory',
    get sent() {
      return sent.map((email) => structuredClone(email));
    },
    get failures() {
      return failures;
    },
    async send(email: OutgoingEmail): Promise<EmailSendResult> {
      if (failing > 0) {
        failing--;
        failures++;
        throw new TallyError('PROVIDER_UNAVAILABLE', 'memory transport: told to fail this send', { details: { retryAfterMs: null } });
      }
      sent.push(structuredClone(email));
      return { messageId: `<memory-${++counter}@tally.test>` };
    },
    failNext(count: number) {
      if (!Number.isSafeInteger(count) || count < 0) throw new TallyError('VALIDATION', 'failNext takes a whole number ≥ 0');
      failing = count;
    },
    clear() {
      sent.length = 0;
    },
  };
}

function bad(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

function big(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint') throw bad(field, 'must be a bigint');
  return value;
}

function day(value: unknown, field: string): string {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) throw bad(field, 'must be a valid Date');
  return value.toISOString().slice(0, 10);
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, 'must be a string');
  return value;
}

function count(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) throw bad(field, 'must be a whole number');
  return value as number;
}

const DAY_MS = 86_400_000;

/** Basis points as an exact percentage, `n/a` for a ratio without a denominator. */
const percent = (bps: unknown, field: string) => (bps === null ? 'n/a' : `${formatDecimal(BigInt(count(bps, field)), 2)} %`);

/** Nano-USD with every digit that matters: the test renderer shows amounts exactly. */
const usd = (nano: unknown, field: string) => `USD ${formatDecimal(big(nano, field), 9, { minFractionDigits: 2 })}`;

/** The admin report's lines: every headline number, exactly. */
function reportContent(
  d: EmailTemplateData['analytics_report'],
  product: string,
  money: (value: unknown, field: string) => string,
  credits: (value: unknown, field: string) => string,
): { subject: string; lines: string[] } {
  const from = day(d.from, 'from');
  day(d.to, 'to');
  const last = day(new Date(d.to.getTime() - DAY_MS), 'to');
  const period = from === last ? from : `${from} to ${last}`;
  const m = d.mrr;
  const net = big(m.net, 'mrr.net');
  const lines = [
    `MRR ${money(m.atEnd, 'mrr.atEnd')} at the end, ${net > 0n ? '+' : ''}${money(net, 'mrr.net')} (${percent(m.growthBps, 'mrr.growthBps')}) from ${money(m.atStart, 'mrr.atStart')}.`,
    `New ${money(m.new, 'mrr.new')}, expansion ${money(m.expansion, 'mrr.expansion')}, reactivation ${money(m.reactivation, 'mrr.reactivation')}, contraction ${money(m.contraction, 'mrr.contraction')}, churn ${money(m.churn, 'mrr.churn')}.`,
    `${count(d.customers.signUps, 'customers.signUps')} sign-ups, ${count(d.customers.active, 'customers.active')} active customers, ${count(d.customers.total, 'customers.total')} in total.`,
    `${count(d.calls, 'calls')} calls, ${big(d.tokens, 'tokens')} tokens, ${credits(d.creditsChargedMicros, 'creditsChargedMicros')} credits charged.`,
    `Revenue ${usd(d.revenueNanoUsd, 'revenueNanoUsd')}, provider cost ${usd(d.costNanoUsd, 'costNanoUsd')}, margin ${usd(d.marginNanoUsd, 'marginNanoUsd')} (${percent(d.marginBps, 'marginBps')}).`,
  ];
  if (!Array.isArray(d.topCustomers)) throw bad('topCustomers', 'must be an array');
  if (d.topCustomers.length === 0) lines.push('No customer was charged credits.');
  d.topCustomers.forEach((c, index) => {
    lines.push(
      `${index + 1}. ${str(c.customerId, 'topCustomers.customerId')} (${str(c.tier, 'topCustomers.tier')}): ${credits(c.creditsMicros, 'topCustomers.creditsMicros')} credits, ${count(c.calls, 'topCustomers.calls')} calls.`,
    );
  });
  if (d.attachment !== null) lines.push(`The full report is attached (${d.attachment === 'pdf' ? 'PDF' : 'CSV'}).`);
  if (d.dashboardUrl !== null) lines.push(`Dashboard: ${str(d.dashboardUrl, 'dashboardUrl')}`);
  return { subject: `${product} ${str(d.cadence, 'cadence')} report: ${period}`, lines };
}

/** Subject and body lines of one template, in plain English. */
function contentOf(
  template: EmailTemplateId,
  data: EmailTemplateData[EmailTemplateId],
  context: EmailRenderContext,
): { subject: string; lines: string[] } {
  const product = context.brand.productName;
  const locale = context.locale;
  const credits = (value: unknown, field: string) => formatCredits(big(value, field), { locale });
  const money = (value: unknown, currency: unknown, field: string) =>
    formatMoney({ currency: str(currency, 'currency'), amount: big(value, field) }, locale);
  switch (template) {
    case 'analytics_report': {
      const d = data as EmailTemplateData['analytics_report'];
      return reportContent(d, product, (value, field) => money(value, d.currency, field), credits);
    }
    case 'welcome': {
      const d = data as EmailTemplateData['welcome'];
      const allowance =
        d.allowanceMicros === null ? 'unlimited credits' : `${credits(d.allowanceMicros, 'allowanceMicros')} credits each period`;
      return { subject: `Welcome to ${product}`, lines: [`You are on the ${str(d.tierName, 'tierName')} tier, with ${allowance}.`] };
    }
    case 'low_balance': {
      const d = data as EmailTemplateData['low_balance'];
      const lines = [
        `You have ${credits(d.remainingMicros, 'remainingMicros')} credits left of your ${credits(d.allowanceMicros, 'allowanceMicros')} credit allowance.`,
      ];
      if (d.renewsAt !== null) lines.push(`Your allowance renews on ${day(d.renewsAt, 'renewsAt')}.`);
      return { subject: `Your ${product} credits are running low`, lines };
    }
    case 'monthly_reset': {
      const d = data as EmailTemplateData['monthly_reset'];
      return {
        subject: `Your ${str(d.tierName, 'tierName')} credits are renewed`,
        lines: [
          `${credits(d.allowanceMicros, 'allowanceMicros')} credits for ${day(d.periodStart, 'periodStart')} to ${day(d.periodEnd, 'periodEnd')}.`,
        ],
      };
    }
    case 'coupon_redeemed': {
      const d = data as EmailTemplateData['coupon_redeemed'];
      const code = str(d.code, 'code');
      const benefit = d.benefit;
      if (benefit?.type === 'credits') {
        const until = benefit.expiresAt === null ? '' : `, usable until ${day(benefit.expiresAt, 'benefit.expiresAt')}`;
        return {
          subject: `Coupon ${code} redeemed`,
          lines: [`Coupon ${code} added ${credits(benefit.amountMicros, 'benefit.amountMicros')} credits${until}.`],
        };
      }
      if (benefit?.type === 'percent_off') {
        if (!Number.isSafeInteger(benefit.percentOffBps) || !Number.isSafeInteger(benefit.durationPeriods))
          throw bad('benefit', 'must hold whole numbers');
        const percent = formatDecimal(BigInt(benefit.percentOffBps), 2);
        return {
          subject: `Coupon ${code} redeemed`,
          lines: [`Coupon ${code} takes ${percent} % off your next ${benefit.durationPeriods} invoices.`],
        };
      }
      throw bad('benefit', 'must be a credits or percent_off benefit');
    }
    case 'tier_upgraded':
    case 'tier_downgraded': {
      const d = data as EmailTemplateData['tier_upgraded'];
      const when = d.timing === 'now' ? `since ${day(d.effectiveAt, 'effectiveAt')}` : `from ${day(d.effectiveAt, 'effectiveAt')}`;
      const lines = [`Your plan moves from ${str(d.fromTierName, 'fromTierName')} to ${str(d.toTierName, 'toTierName')} ${when}.`];
      if (d.priceMinor !== null)
        lines.push(`${str(d.toTierName, 'toTierName')} costs ${money(d.priceMinor, d.currency, 'priceMinor')} per period.`);
      lines.push(
        d.allowanceMicros === null
          ? 'It includes unlimited credits.'
          : `It includes ${credits(d.allowanceMicros, 'allowanceMicros')} credits each period.`,
      );
      return { subject: template === 'tier_upgraded' ? `Your ${product} plan is upgraded` : `Your ${product} plan is downgraded`, lines };
    }
    case 'payment_failed': {
      const d = data as EmailTemplateData['payment_failed'];
      if (!Number.isSafeInteger(d.attemptCount) || d.attemptCount < 1) throw bad('attemptCount', 'must be a whole number ≥ 1');
      const lines = [`We could not collect ${money(d.amountDueMinor, d.currency, 'amountDueMinor')} (attempt ${d.attemptCount}).`];
      lines.push(
        d.nextAttemptAt === null
          ? 'We will not try again: please update your payment method.'
          : `We will try again on ${day(d.nextAttemptAt, 'nextAttemptAt')}.`,
      );
      return { subject: `Your ${product} payment failed`, lines };
    }
  }
}

/**
 * A test tool: an `EmailRenderer` that writes each template as a few plain sentences (English only,
 * amounts through core's exact formatters), as HTML with everything escaped and as text. Like the real
 * renderer, the footer carries the unsubscribe link or, for a required category, the reason.
 */
export function createTextEmailRenderer(): EmailRenderer {
  return async <T extends EmailTemplateId>(
    template: T,
    data: EmailTemplateData[T],
    context: EmailRenderContext,
  ): Promise<RenderedEmail> => {
    if (typeof data !== 'object' || data === null) throw bad('data', 'must be an object');
    const { subject, lines } = contentOf(template, data, context);
    const admin = isAdminEmailTemplate(template);
    const name = admin ? (data as EmailTemplateData[AdminEmailTemplateId]).recipientName : (data as EmailDataBase).customerName;
    const greeting = name ? `Hi ${name},` : 'Hi,';
    const footer: string[] = [];
    if (admin) footer.push(`You receive this report because your address is on ${context.brand.productName}'s report list.`);
    if (context.unsubscribeUrl !== null) footer.push(`Unsubscribe: ${context.unsubscribeUrl}`);
    if (context.requiredReason !== null) footer.push(context.requiredReason);
    footer.push(context.brand.footerAddress);
    const text = [greeting, '', ...lines, '', '--', ...footer].join('\n');
    const paragraphs = [greeting, ...lines].map((line) => `<p>${escapeHtml(line)}</p>`).join('');
    const footerHtml = [
      admin ? escapeHtml(footer[0] as string) : null,
      context.unsubscribeUrl !== null ? `<a href="${escapeHtml(context.unsubscribeUrl)}">Unsubscribe</a>` : null,
      context.requiredReason !== null ? escapeHtml(context.requiredReason) : null,
      escapeHtml(context.brand.footerAddress),
    ]
      .filter((part) => part !== null)
      .map((part) => `<p>${part}</p>`)
      .join('');
    const html = `<!doctype html><html lang="${escapeHtml(context.locale)}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>${paragraphs}<hr>${footerHtml}</body></html>`;
    return { subject, html, text };
  };
}

/**
 * Runs `workers` together until no undelivered message of `topics` is left, moving `clock` a minute
 * whenever a round claims nothing (so retry waits pass). Throws when the outbox does not drain within
 * `maxRounds`: a message that never settles is a bug the test should see.
 */
export async function drainOutbox(options: {
  store: TallyStore;
  workers: ReadonlyArray<{ runOnce(): Promise<{ claimed: number }> }>;
  topics: ReadonlySet<string>;
  clock: { advance(ms: number): void };
  maxRounds?: number;
}): Promise<void> {
  const { store, workers, topics, clock } = options;
  for (let round = 0; round < (options.maxRounds ?? 500); round++) {
    const results = await Promise.all(workers.map((worker) => worker.runOnce()));
    if (results.some((result) => result.claimed > 0)) continue;
    const waiting = await store.listOutbox({ delivered: false, dead: false, limit: 100_000 });
    if (!waiting.some((message) => topics.has(message.topic))) return;
    clock.advance(60_000);
  }
  throw new Error('the outbox did not drain');
}
