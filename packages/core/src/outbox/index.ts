export { createOutboxWorker, type OutboxHandler, type OutboxRound, type OutboxWorkerOptions, outboxBackoffMs } from './worker.js';
