export * from './email.js';
export * from './email-samples.js';
export {
  type CheckedEmailDeliveryQuery,
  checkClaimScheduledRun,
  checkCompleteScheduledRun,
  checkEmailDeliveryQuery,
  checkRecordEmailDelivery,
  checkScheduledJob,
  compareEmailDeliveries,
  EMAIL_SUPPRESSIONS,
  emailDeliveryCursor,
  MAX_EMAIL_DEDUPE_KEY,
  MAX_EMAIL_DELIVERY_PAGE,
  unclaimedRun,
} from './email-store.js';
export { createNotifier, EMAIL_SEND_TOPIC, type EmailRecipient, type NotifierOptions } from './notifier.js';
export {
  checkNotificationChanges,
  checkSetNotificationPreferences,
  isNotificationCategory,
  NOTIFICATION_CATEGORIES,
  type NotificationCategory,
  type NotificationCategoryInfo,
  type NotificationPreferences,
  notificationPreferences,
  type SetNotificationPreferencesCommand,
} from './preferences.js';
export {
  type CheckedScheduledReport,
  DEFAULT_REPORT_CRON,
  REPORT_ATTACHMENTS,
  REPORT_TOP_CUSTOMERS,
  type ReportAttachment,
  type ReportPdfRenderer,
  reportPeriod,
  reportPeriodLabel,
  type ScheduledReport,
  type ScheduledReportJob,
} from './reports.js';
export {
  type CustomerQuery,
  checkCustomerQuery,
  customerCursor,
  foldAsciiCase,
  MAX_CUSTOMER_PAGE,
  MAX_CUSTOMER_SEARCH,
  type NotificationStore,
} from './store.js';
export { NOTIFICATION_TOPICS, type TierChangedEvent } from './triggers.js';
