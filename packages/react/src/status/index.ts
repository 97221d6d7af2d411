export { describeError } from './messages.js';
export { EmptyState, ErrorState, type ErrorStateProps, LoadingState, type LoadingStateProps } from './status-views.js';
