export { useNotificationPreferences, useSetNotificationPreferences } from './hooks.js';
export { NotificationPreferences, type NotificationPreferencesProps } from './notification-preferences.js';
