import type { UsageQuery } from '../provider/client.js';
import * as keys from '../provider/keys.js';
import { type TallyQueryResult, useTallyQuery } from '../provider/query.js';
import type { WireUsage } from '../provider/wire.js';

/** Charged usage in `[from, to)`, grouped by model or UTC day (`GET /v1/usage`). */
export function useUsage(query: UsageQuery = {}): TallyQueryResult<WireUsage> {
  return useTallyQuery(keys.usageReport(query), (client) => client.usage(query));
}
