/**
 * `@tally/react/emails`: the notification mails (seven to customers, the scheduled report to admins)
 * as react-email templates, rendered to HTML and plain text. A separate entry point, so apps that only
 * show widgets never load a mail renderer.
 */
export type {
  AnalyticsReportEmailMessages,
  AnalyticsReportFactLabels,
  CommonEmailMessages,
  CouponRedeemedEmailMessages,
  EmailFactLabels,
  EmailMessages,
  LowBalanceEmailMessages,
  MonthlyResetEmailMessages,
  PaymentFailedEmailMessages,
  TierChangeEmailMessages,
  WelcomeEmailMessages,
} from './messages.js';
export { type CreateEmailRendererOptions, createEmailRenderer, EMAIL_MESSAGES, renderTallyEmail } from './render.js';
