export * from './client.js';
export * from './store.js';
