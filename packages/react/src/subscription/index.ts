export { useCancelSubscription, useResumeSubscription, useSubscription } from './hooks.js';
