import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import type { AppEnvironment, EventStream } from './environment.ts';

/**
 * The server's event stream (`GET /demo/events`): `ledger` when an entry is written, `health` every
 * few seconds for admins. Pages subscribe to the events they care about; while the stream is down
 * (`status !== 'open'`) they poll instead, so the numbers keep moving either way.
 */

export type LiveStatus = 'connecting' | 'open' | 'closed';
export type LiveEventName = 'ledger' | 'health';

export interface LedgerEvent {
  customerId: string | null;
  at: string;
}

type Listener = (data: unknown) => void;

interface LiveContextValue {
  status: LiveStatus;
  subscribe(name: LiveEventName, listener: Listener): () => void;
}

const LiveContext = createContext<LiveContextValue>({ status: 'closed', subscribe: () => () => {} });

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

export function LiveEventsProvider({
  open,
  enabled,
  children,
}: {
  open: AppEnvironment['openEvents'];
  /** Only a signed-in principal may listen. */
  enabled: boolean;
  children: ReactNode;
}) {
  const [status, setStatus] = useState<LiveStatus>('closed');
  const listeners = useRef(new Map<LiveEventName, Set<Listener>>());
  const [value] = useState<Omit<LiveContextValue, 'status'>>(() => ({
    subscribe(name, listener) {
      const set = listeners.current.get(name) ?? new Set<Listener>();
      listeners.current.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  }));

  useEffect(() => {
    if (!enabled) {
      setStatus('closed');
      return;
    }
    let stream: EventStream;
    try {
      stream = open('/demo/events');
    } catch {
      setStatus('closed');
      return;
    }
    setStatus('connecting');
    const dispatch = (name: LiveEventName) => (event: MessageEvent<string>) => {
      const data = parse(event.data);
      for (const listener of listeners.current.get(name) ?? []) listener(data);
    };
    stream.addEventListener('open', () => setStatus('open'));
    // EventSource reconnects by itself; until it does, the pages poll.
    stream.addEventListener('error', () => setStatus(stream.readyState === 2 ? 'closed' : 'connecting'));
    stream.addEventListener('ledger', dispatch('ledger'));
    stream.addEventListener('health', dispatch('health'));
    return () => stream.close();
  }, [enabled, open]);

  return <LiveContext.Provider value={{ status, subscribe: value.subscribe }}>{children}</LiveContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext).status;
}

/** Calls `listener` with each event's parsed data; the latest listener is used without resubscribing. */
export function useLiveEvent(name: LiveEventName, listener: Listener): void {
  const { subscribe } = useContext(LiveContext);
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe(name, (data) => latest.current(data)), [subscribe, name]);
}

/** Runs `tick` every `ms` while `active` (e.g. while the event stream is down). */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => latest.current(), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
}

export function isLedgerEvent(data: unknown): data is LedgerEvent {
  return typeof data === 'object' && data !== null && 'customerId' in data;
}
