import type { ServiceView } from '@podgate/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { createApiClient, errorMessage, isApiRequestError } from '../lib/api-client.js';
import { servicesKey, sortServices } from '../lib/feed-cache.js';
import { ServiceHistory } from '../lib/history.js';
import { forgetToken, storeToken, takeToken } from '../lib/session.js';
import { SessionContext, type Session } from '../hooks/session-context.js';
import { Shell } from './shell.js';
import { SignIn } from './sign-in.js';

function initialToken(): string | null {
  try {
    return takeToken({ location: window.location, history: window.history, storage: window.sessionStorage });
  } catch {
    return null; // sessionStorage can be disabled; the form still works for this page's life.
  }
}

/** Sign-in, then the dashboard for the token's role. */
export function App() {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(initialToken);
  const [refusal, setRefusal] = useState<string | null>(null);

  const signIn = useCallback((next: string) => {
    try {
      storeToken(window.sessionStorage, next);
    } catch {
      // Kept in memory only.
    }
    setRefusal(null);
    setToken(next);
  }, []);

  const signOut = useCallback(
    (reason: string | null = null) => {
      try {
        forgetToken(window.sessionStorage);
      } catch {
        // Nothing stored.
      }
      client.clear();
      setRefusal(reason);
      setToken(null);
    },
    [client],
  );

  // A token revoked while signed in (removed from the config and reloaded): back to the sign-in,
  // saying why, rather than a page of failing requests.
  useEffect(() => {
    if (token === null) return undefined;
    const check = (err: unknown): void => {
      if (isApiRequestError(err) && err.status === 401) setTimeout(() => signOut(`The token was refused: ${err.message}.`), 0);
    };
    const offQueries = client.getQueryCache().subscribe((e) => {
      if (e.type === 'updated' && e.action.type === 'error') check(e.action.error);
    });
    const offMutations = client.getMutationCache().subscribe((e) => {
      if (e.type === 'updated' && e.action.type === 'error') check(e.action.error);
    });
    return () => {
      offQueries();
      offMutations();
    };
  }, [client, token, signOut]);

  // Who the token is: a first read of the services (at least viewer), then the role probe.
  const who = useQuery({
    queryKey: ['session', token],
    enabled: token !== null,
    staleTime: Infinity,
    retry: false,
    queryFn: async () => {
      const api = createApiClient(token ?? '');
      const services = await api.listServices();
      const role = await api.role();
      client.setQueryData<ServiceView[]>(servicesKey, (old) => old ?? sortServices(services));
      return { api, role };
    },
  });

  const api = who.data?.api;
  const role = who.data?.role;
  const session = useMemo<Session | null>(
    () => (token === null || api === undefined || role === undefined ? null : { token, api, role, history: new ServiceHistory(), signOut: () => signOut() }),
    [token, api, role, signOut],
  );

  if (token === null) return <SignIn onSignIn={signIn} refusal={refusal} />;
  if (who.isError) {
    const err = who.error;
    if (isApiRequestError(err) && err.status === 401) return <SignIn onSignIn={signIn} refusal={`The token was refused: ${err.message}.`} />;
    return (
      <main className="center-page">
        <div role="alert" className="alert">
          Could not sign in: {errorMessage(err)}
        </div>
        <div className="row-gap">
          <button type="button" onClick={() => void who.refetch()}>
            Try again
          </button>
          <button type="button" onClick={() => signOut()}>
            Use another token
          </button>
        </div>
      </main>
    );
  }
  if (session === null) {
    return (
      <main className="center-page" aria-busy="true">
        <p>Signing in…</p>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}
