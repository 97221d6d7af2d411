import { render } from '@react-email/render';
import {
  type CustomerEmailTemplateId,
  EMAIL_TEMPLATE_CATEGORY,
  type EmailRenderContext,
  type EmailRenderer,
  type EmailTemplateData,
  type EmailTemplateId,
  isAdminEmailTemplate,
  TallyError,
} from '@tally/core';
import type { EmailView } from './layout.js';
import { type EmailMessageCatalog, emailFormat, resolveLocale } from './locale.js';
import type { EmailMessages } from './messages.js';
import { en } from './messages.js';
import { de } from './messages-de.js';
import type { EmailTemplate } from './template.js';
import { analyticsReportEmail } from './templates/analytics-report.js';
import { couponRedeemedEmail } from './templates/coupon-redeemed.js';
import { lowBalanceEmail } from './templates/low-balance.js';
import { monthlyResetEmail } from './templates/monthly-reset.js';
import { paymentFailedEmail } from './templates/payment-failed.js';
import { tierDowngradedEmail, tierUpgradedEmail } from './templates/tier-changed.js';
import { welcomeEmail } from './templates/welcome.js';
import { canonicalLocale, checkContext, checkData, checkTemplate } from './validate.js';

/** The built-in message sets: English (the fallback) and German. */
export const EMAIL_MESSAGES: Readonly<Record<'en' | 'de', EmailMessages>> = Object.freeze({ en, de });

const TEMPLATES: { [T in EmailTemplateId]: EmailTemplate<T> } = {
  welcome: welcomeEmail,
  low_balance: lowBalanceEmail,
  monthly_reset: monthlyResetEmail,
  coupon_redeemed: couponRedeemedEmail,
  tier_upgraded: tierUpgradedEmail,
  tier_downgraded: tierDowngradedEmail,
  payment_failed: paymentFailedEmail,
  analytics_report: analyticsReportEmail,
};

/**
 * The plain text keeps headings as written (html-to-text shouts them in capitals by default), and
 * mail links show their address once, without a `mailto:` copy.
 */
const TEXT_OPTIONS = {
  selectors: [
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'a[href^="mailto:"]', format: 'anchor', options: { ignoreHref: true } },
  ],
};

export interface CreateEmailRendererOptions {
  /**
   * Messages by BCP 47 tag, over the built-in ones: `{ de: { paymentFailed: {…} } }` rewords one
   * template in German, `{ fr: {…} }` adds French. Each group (`common`, `welcome`, …) replaces the
   * built-in group whole; groups a locale leaves out come from the built-in set of its language, else English.
   */
  messages?: Record<string, Partial<EmailMessages>>;
}

function messageCatalog(overrides: Record<string, Partial<EmailMessages>> = {}): EmailMessageCatalog {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new TallyError('VALIDATION', 'messages must be an object of message sets by locale', { details: { field: 'messages' } });
  }
  const catalog = new Map<string, EmailMessages>(Object.entries(EMAIL_MESSAGES));
  for (const [tag, partial] of Object.entries(overrides)) {
    const locale = canonicalLocale(tag, `messages.${tag}`);
    if (typeof partial !== 'object' || partial === null) {
      throw new TallyError('VALIDATION', `messages.${tag} must be an object`, { details: { field: `messages.${tag}` } });
    }
    const base = catalog.get(locale) ?? catalog.get(locale.split('-')[0] ?? '') ?? en;
    catalog.set(locale, { ...base, ...partial });
  }
  return catalog;
}

/**
 * An `EmailRenderer` for the notifier: checks its input (`VALIDATION` naming the field), then renders
 * one React element twice with @react-email/render, once as an HTML document and once as plain text,
 * so the two can never say different things. The subject comes from the same messages.
 */
export function createEmailRenderer(options: CreateEmailRendererOptions = {}): EmailRenderer {
  const catalog = messageCatalog(options.messages);
  return async function renderEmail<T extends EmailTemplateId>(template: T, data: EmailTemplateData[T], context: EmailRenderContext) {
    checkTemplate(template);
    checkContext(template, context);
    checkData(template, data);
    const resolved = resolveLocale(catalog, canonicalLocale(context.locale, 'context.locale'));
    const admin = isAdminEmailTemplate(template);
    const view: EmailView = {
      brand: context.brand,
      messages: resolved.messages,
      format: emailFormat(resolved),
      audience: admin ? 'admin' : 'customer',
      category: EMAIL_TEMPLATE_CATEGORY[template],
      unsubscribeUrl: context.unsubscribeUrl,
      requiredReason: context.requiredReason,
      customerName: admin
        ? (data as EmailTemplateData['analytics_report']).recipientName
        : (data as EmailTemplateData[CustomerEmailTemplateId]).customerName,
    };
    const definition = TEMPLATES[template] as EmailTemplate<T>;
    const subject = definition.subject(data, view);
    const element = <definition.Email data={data} view={view} />;
    const [html, text] = await Promise.all([render(element), render(element, { plainText: true, htmlToTextOptions: TEXT_OPTIONS })]);
    return { subject, html, text };
  };
}

/** The renderer with the built-in English and German messages. */
export const renderTallyEmail: EmailRenderer = createEmailRenderer();
