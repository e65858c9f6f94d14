import type { Role } from '@podgate/protocol';
import { createContext, useContext } from 'react';
import type { ApiClient } from '../lib/api-client.js';
import type { ServiceHistory } from '../lib/history.js';

export interface Session {
  token: string;
  /** The token's name, as the server records it for the changes made with it. */
  name: string;
  role: Role;
  api: ApiClient;
  history: ServiceHistory;
  /** The token is kept on this browser (localStorage), not only for this tab. */
  remembered: boolean;
  setRemembered: (remember: boolean) => void;
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
