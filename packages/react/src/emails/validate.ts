import {
  EMAIL_TEMPLATE_CATEGORY,
  EMAIL_TEMPLATES,
  type EmailRenderContext,
  type EmailTemplateData,
  type EmailTemplateId,
  isAdminEmailTemplate,
  NOTIFICATION_CATEGORIES,
  normalizeCurrency,
  REPORT_CADENCES,
  TallyError,
} from '@tally/core';

/**
 * Checks what a renderer is given before anything renders: a mail is built from data other services
 * sent, and a wrong field should fail loudly (`VALIDATION`, `details.field` naming it) instead of
 * going out as "NaN credits" or a link to nowhere.
 */

function invalid(field: string, message: string): never {
  throw new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const EMAIL_ADDRESS = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') invalid(field, 'must be a non-empty string');
  return value;
}

function nullableText(value: unknown, field: string): void {
  if (value !== null) text(value, field);
}

/** An absolute http(s) URL: mail clients resolve nothing relative, and other schemes are not links people can follow. */
function url(value: unknown, field: string): void {
  const raw = text(value, field);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    invalid(field, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') invalid(field, `must be an absolute http(s) URL, got "${raw}"`);
}

function nullableUrl(value: unknown, field: string): void {
  if (value !== null) url(value, field);
}

function color(value: unknown, field: string): void {
  if (typeof value !== 'string' || !HEX_COLOR.test(value))
    invalid(field, `must be a hex colour like #4f46e5 or #fff, got ${JSON.stringify(value)}`);
}

function amount(value: unknown, field: string, options: { negative?: boolean } = {}): void {
  if (typeof value !== 'bigint') invalid(field, 'must be a bigint');
  if (!options.negative && value < 0n) invalid(field, 'must not be negative');
}

function nullableAmount(value: unknown, field: string): void {
  if (value !== null) amount(value, field);
}

function date(value: unknown, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) invalid(field, 'must be a valid Date');
}

function nullableDate(value: unknown, field: string): void {
  if (value !== null) date(value, field);
}

function integer(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(field, `must be a whole number from ${min} to ${max}`);
  }
}

function currency(value: unknown, field: string): void {
  try {
    normalizeCurrency(value as string);
  } catch {
    invalid(field, `must be an ISO 4217 currency code, got ${JSON.stringify(value)}`);
  }
}

export function checkTemplate(template: unknown): asserts template is EmailTemplateId {
  if (typeof template !== 'string' || !(EMAIL_TEMPLATES as readonly string[]).includes(template)) {
    invalid('template', `must be one of ${EMAIL_TEMPLATES.join(', ')}, got ${JSON.stringify(template)}`);
  }
}

/** A BCP 47 tag in canonical case (`de-at` → `de-AT`). */
export function canonicalLocale(value: unknown, field: string): string {
  const raw = text(value, field);
  try {
    const [canonical] = Intl.getCanonicalLocales(raw);
    if (canonical) return canonical;
  } catch {
    // Reported below with the field's name.
  }
  return invalid(field, `must be a BCP 47 language tag like "en" or "de-AT", got "${raw}"`);
}

/**
 * The brand and the footer's links. A required category (payment failed) has a reason and no
 * unsubscribe link; every other category has a link, because its mails must be easy to turn off.
 */
export function checkContext(template: EmailTemplateId, context: unknown): asserts context is EmailRenderContext {
  if (!isRecord(context)) invalid('context', 'must be an object');
  const brand = context.brand;
  if (!isRecord(brand)) invalid('context.brand', 'must be an object');
  text(brand.productName, 'context.brand.productName');
  nullableUrl(brand.logoUrl, 'context.brand.logoUrl');
  color(brand.primaryColor, 'context.brand.primaryColor');
  color(brand.primaryTextColor, 'context.brand.primaryTextColor');
  text(brand.footerAddress, 'context.brand.footerAddress');
  nullableUrl(brand.dashboardUrl, 'context.brand.dashboardUrl');
  if (brand.supportEmail !== null && (typeof brand.supportEmail !== 'string' || !EMAIL_ADDRESS.test(brand.supportEmail))) {
    invalid('context.brand.supportEmail', `must be an email address or null, got ${JSON.stringify(brand.supportEmail)}`);
  }
  canonicalLocale(context.locale, 'context.locale');
  const category = EMAIL_TEMPLATE_CATEGORY[template];
  const required = NOTIFICATION_CATEGORIES.some((info) => info.id === category && info.required);
  if (category === null) {
    // An admin mail: no customer category, so nothing to unsubscribe from and nothing to explain.
    if (context.unsubscribeUrl !== null) invalid('context.unsubscribeUrl', `must be null: ${template} goes to admins, not customers`);
    if (context.requiredReason !== null) invalid('context.requiredReason', `must be null: ${template} goes to admins, not customers`);
  } else if (required) {
    if (context.unsubscribeUrl !== null) invalid('context.unsubscribeUrl', `must be null: ${category} mails cannot be turned off`);
    text(context.requiredReason, 'context.requiredReason');
  } else {
    url(context.unsubscribeUrl, 'context.unsubscribeUrl');
    if (context.requiredReason !== null) invalid('context.requiredReason', `must be null: ${category} mails can be turned off`);
  }
}

/** Checks one template's own fields (the shared ones are checked by `checkData`). */
type DataCheck = (data: Record<string, unknown>) => void;

const tierChange: DataCheck = (data) => {
  text(data.fromTierName, 'data.fromTierName');
  text(data.toTierName, 'data.toTierName');
  if (data.timing !== 'now' && data.timing !== 'scheduled')
    invalid('data.timing', `must be "now" or "scheduled", got ${JSON.stringify(data.timing)}`);
  date(data.effectiveAt, 'data.effectiveAt');
  nullableAmount(data.priceMinor, 'data.priceMinor');
  currency(data.currency, 'data.currency');
  nullableAmount(data.allowanceMicros, 'data.allowanceMicros');
};

function count(value: unknown, field: string): void {
  integer(value, field, 0, Number.MAX_SAFE_INTEGER);
}

function nullableBps(value: unknown, field: string): void {
  if (value !== null && (typeof value !== 'number' || !Number.isSafeInteger(value)))
    invalid(field, 'must be a whole number of basis points or null');
}

const analyticsReport: DataCheck = (data) => {
  text(data.reportId, 'data.reportId');
  if (!(REPORT_CADENCES as readonly unknown[]).includes(data.cadence)) {
    invalid('data.cadence', `must be one of ${REPORT_CADENCES.join(', ')}, got ${JSON.stringify(data.cadence)}`);
  }
  date(data.from, 'data.from');
  date(data.to, 'data.to');
  if ((data.to as Date) <= (data.from as Date)) invalid('data.to', 'must be after data.from');
  nullableText(data.recipientName, 'data.recipientName');
  currency(data.currency, 'data.currency');
  const mrr = data.mrr;
  if (!isRecord(mrr)) invalid('data.mrr', 'must be an object');
  for (const key of ['atStart', 'atEnd', 'new', 'expansion', 'reactivation', 'contraction', 'churn']) amount(mrr[key], `data.mrr.${key}`);
  amount(mrr.net, 'data.mrr.net', { negative: true });
  nullableBps(mrr.growthBps, 'data.mrr.growthBps');
  const customers = data.customers;
  if (!isRecord(customers)) invalid('data.customers', 'must be an object');
  for (const key of ['signUps', 'active', 'total']) count(customers[key], `data.customers.${key}`);
  count(data.calls, 'data.calls');
  amount(data.tokens, 'data.tokens');
  amount(data.creditsChargedMicros, 'data.creditsChargedMicros');
  amount(data.revenueNanoUsd, 'data.revenueNanoUsd');
  amount(data.costNanoUsd, 'data.costNanoUsd');
  amount(data.marginNanoUsd, 'data.marginNanoUsd', { negative: true });
  nullableBps(data.marginBps, 'data.marginBps');
  if (!Array.isArray(data.topCustomers)) invalid('data.topCustomers', 'must be an array');
  data.topCustomers.forEach((customer: unknown, index: number) => {
    const field = `data.topCustomers[${index}]`;
    if (!isRecord(customer)) invalid(field, 'must be an object');
    text(customer.customerId, `${field}.customerId`);
    text(customer.tier, `${field}.tier`);
    amount(customer.creditsMicros, `${field}.creditsMicros`);
    count(customer.calls, `${field}.calls`);
  });
  nullableUrl(data.dashboardUrl, 'data.dashboardUrl');
  if (data.attachment !== null && data.attachment !== 'pdf' && data.attachment !== 'csv') {
    invalid('data.attachment', `must be "pdf", "csv" or null, got ${JSON.stringify(data.attachment)}`);
  }
};

const DATA_CHECKS: Record<EmailTemplateId, DataCheck> = {
  welcome(data) {
    text(data.tierName, 'data.tierName');
    nullableAmount(data.allowanceMicros, 'data.allowanceMicros');
  },
  low_balance(data) {
    amount(data.remainingMicros, 'data.remainingMicros', { negative: true });
    amount(data.allowanceMicros, 'data.allowanceMicros');
    nullableDate(data.renewsAt, 'data.renewsAt');
  },
  monthly_reset(data) {
    text(data.tierName, 'data.tierName');
    amount(data.allowanceMicros, 'data.allowanceMicros');
    date(data.periodStart, 'data.periodStart');
    date(data.periodEnd, 'data.periodEnd');
    if ((data.periodEnd as Date) <= (data.periodStart as Date)) invalid('data.periodEnd', 'must be after data.periodStart');
  },
  coupon_redeemed(data) {
    text(data.code, 'data.code');
    const benefit = data.benefit;
    if (!isRecord(benefit)) invalid('data.benefit', 'must be an object');
    if (benefit.type === 'credits') {
      amount(benefit.amountMicros, 'data.benefit.amountMicros');
      nullableDate(benefit.expiresAt, 'data.benefit.expiresAt');
    } else if (benefit.type === 'percent_off') {
      integer(benefit.percentOffBps, 'data.benefit.percentOffBps', 1, 10_000);
      integer(benefit.durationPeriods, 'data.benefit.durationPeriods', 1, 1_000);
    } else {
      invalid('data.benefit.type', `must be "credits" or "percent_off", got ${JSON.stringify(benefit.type)}`);
    }
  },
  tier_upgraded: tierChange,
  tier_downgraded: tierChange,
  payment_failed(data) {
    amount(data.amountDueMinor, 'data.amountDueMinor');
    currency(data.currency, 'data.currency');
    integer(data.attemptCount, 'data.attemptCount', 1, 1_000);
    nullableDate(data.nextAttemptAt, 'data.nextAttemptAt');
  },
  analytics_report: analyticsReport,
};

export function checkData<T extends EmailTemplateId>(template: T, data: unknown): asserts data is EmailTemplateData[T] {
  if (!isRecord(data)) invalid('data', 'must be an object');
  // An admin mail is about no customer; its greeting name is checked with its own fields.
  if (!isAdminEmailTemplate(template)) {
    text(data.customerId, 'data.customerId');
    nullableText(data.customerName, 'data.customerName');
  }
  DATA_CHECKS[template](data);
}
