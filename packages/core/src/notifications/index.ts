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
  type CustomerQuery,
  checkCustomerQuery,
  customerCursor,
  foldAsciiCase,
  MAX_CUSTOMER_PAGE,
  MAX_CUSTOMER_SEARCH,
  type NotificationStore,
} from './store.js';
