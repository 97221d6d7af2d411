export {
  createOutboxWorker,
  type OutboxBatchHandler,
  type OutboxHandler,
  type OutboxRound,
  type OutboxWorkerOptions,
  outboxBackoffMs,
} from './worker.js';
