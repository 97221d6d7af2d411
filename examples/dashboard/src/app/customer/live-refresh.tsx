import { tallyKeys } from '@tally/react';
import { useEffect, useRef } from 'react';
import { useDashboard } from '../context.tsx';
import { isLedgerEvent, useInterval, useLiveEvent, useLiveStatus } from '../live.tsx';

/** What a new ledger entry can change on the customer's pages. */
export const LEDGER_KEYS = [tallyKeys.me, tallyKeys.balance, tallyKeys.transactions, tallyKeys.usage, tallyKeys.spendCaps] as const;

/** Loads the customer's balance, meter and history again; several calls close together make one reload. */
export function useLedgerRefresh(): () => void {
  const { cache } = useDashboard();
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );
  return () => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      for (const key of LEDGER_KEYS) void cache.invalidate(key);
    }, 250);
  };
}

/**
 * Keeps the signed-in customer's numbers live: a `ledger` event for them reloads balance, meter and
 * history; while the event stream is down, they are reloaded every 15 seconds instead.
 */
export function CustomerLiveRefresh({ customerId }: { customerId: string }) {
  const refresh = useLedgerRefresh();
  const live = useLiveStatus();
  useLiveEvent('ledger', (data) => {
    if (!isLedgerEvent(data) || data.customerId === null || data.customerId === customerId) refresh();
  });
  useInterval(refresh, 15_000, live !== 'open');
  return null;
}
