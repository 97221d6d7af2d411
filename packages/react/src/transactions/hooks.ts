import type { TransactionsQuery } from '../provider/client.js';
import * as keys from '../provider/keys.js';
import { type TallyQueryResult, useTallyQuery } from '../provider/query.js';
import type { WireEntry, WirePage } from '../provider/wire.js';

/** One page of ledger entries, newest first; pass the page's `nextCursor` for the next one. */
export function useTransactions(query: TransactionsQuery = {}): TallyQueryResult<WirePage<WireEntry>> {
  return useTallyQuery(keys.transactionsPage(query), (client) => client.transactions(query));
}
