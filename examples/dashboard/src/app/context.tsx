import type { TallyCache, TallyClient } from '@tally/core/client';
import { createContext, useContext } from 'react';
import type { DemoApi, Principal } from './demo-api.ts';
import type { AppEnvironment } from './environment.ts';

/** What every page can reach: the typed client and its cache, the demo routes, and who is signed in. */
export interface Dashboard {
  env: AppEnvironment;
  demo: DemoApi;
  client: TallyClient;
  cache: TallyCache;
  principal: Principal | null;
  /** Signs in as a sample customer's id or `admin`; resolves with the new session's principal. */
  signIn(as: string): Promise<Principal>;
  signOut(): Promise<void>;
}

export const DashboardContext = createContext<Dashboard | null>(null);

export function useDashboard(): Dashboard {
  const value = useContext(DashboardContext);
  if (!value) throw new Error('useDashboard must be used inside the dashboard app');
  return value;
}
