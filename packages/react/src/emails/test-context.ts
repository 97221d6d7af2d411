import {
  EMAIL_TEMPLATE_CATEGORY,
  type EmailBrand,
  type EmailRenderContext,
  type EmailTemplateId,
  NOTIFICATION_CATEGORIES,
  SAMPLE_EMAIL_BRAND,
} from '@tally/core';

/**
 * Render contexts for the email tests and stories: what the notifier passes, i.e. an unsubscribe link
 * for an optional category, core's reason for a required one and neither for an admin mail. Not part
 * of the package.
 */

export const SAMPLE_UNSUBSCRIBE_URL = 'https://app.example.com/v1/unsubscribe?token=sample-token';

/** Core's sentence for a required category (payment failed). */
export function requiredReasonOf(template: EmailTemplateId): string | null {
  const category = NOTIFICATION_CATEGORIES.find((info) => info.id === EMAIL_TEMPLATE_CATEGORY[template]);
  return category?.required ? (category.reason ?? null) : null;
}

export function sampleContext(
  template: EmailTemplateId,
  options: { locale?: string; brand?: Partial<EmailBrand> } = {},
): EmailRenderContext {
  const requiredReason = requiredReasonOf(template);
  return {
    brand: { ...SAMPLE_EMAIL_BRAND, ...options.brand },
    locale: options.locale ?? 'en',
    // An admin mail (no category) has neither a link nor a reason.
    unsubscribeUrl: requiredReason || EMAIL_TEMPLATE_CATEGORY[template] === null ? null : SAMPLE_UNSUBSCRIBE_URL,
    requiredReason,
  };
}
