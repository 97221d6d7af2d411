/**
 * `@tally/react/emails`: the seven notification mails as react-email templates, rendered to HTML and
 * plain text. A separate entry point, so apps that only show widgets never load a mail renderer.
 */
export type {
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
