import type { Role } from '@podgate/protocol';
import { createContext, useContext } from 'react';
import type { ApiClient } from '../lib/api-client.js';
import type { ServiceHistory } from '../lib/history.js';

export interface Session {
  token: string;
  role: Role;
  api: ApiClient;
  history: ServiceHistory;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; only used below the sign-in. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside a signed-in page');
  return session;
}

export const useCanOperate = (): boolean => useSession().role === 'operator';
