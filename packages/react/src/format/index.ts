export { formatBps, formatCents, formatCreditsNumber, formatCreditsText, formatNanoUsdText, integer, percentOf } from './amounts.js';
export { formatDate, formatDateTime } from './dates.js';
export { providerName } from './providers.js';
