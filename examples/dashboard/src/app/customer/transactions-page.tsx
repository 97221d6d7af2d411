import { TransactionHistory } from '@tally/react';
import { Page } from '../page.tsx';

/** Every ledger entry of the customer, newest first, filterable by kind. */
export function TransactionsPage() {
  return (
    <Page title="Transactions" intro="Every credit added and spent, newest first. Metered calls show their model and tokens.">
      <TransactionHistory title="Ledger entries" />
    </Page>
  );
}
