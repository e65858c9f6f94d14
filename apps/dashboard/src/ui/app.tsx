import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { browserTokenStores } from '../hooks/browser-storage.js';
import { SessionContext, type Session } from '../hooks/session-context.js';
import { createApiClient, errorMessage, isApiRequestError } from '../lib/api-client.js';
import { ServiceHistory } from '../lib/history.js';
import { forgetToken, storeToken, takeToken, type StoredToken } from '../lib/session.js';
import { Shell } from './shell.js';
import { SignIn } from './sign-in.js';

const initialToken = (): StoredToken | null => takeToken({ location: window.location, history: window.history, stores: browserTokenStores() });

/** Sign-in, then the dashboard for the token's role. */
export function App() {
  const client = useQueryClient();
  const [stored, setStored] = useState<StoredToken | null>(initialToken);
  const [refusal, setRefusal] = useState<string | null>(null);
  const token = stored?.token ?? null;
  const remembered = stored?.remembered ?? false;

  const signIn = useCallback((next: string, remember: boolean) => {
    storeToken(browserTokenStores(), next, remember);
    setRefusal(null);
    setStored({ token: next, remembered: remember });
  }, []);

  const setRemembered = useCallback(
    (remember: boolean) => {
      if (token === null) return;
      storeToken(browserTokenStores(), token, remember);
      setStored({ token, remembered: remember });
    },
    [token],
  );

  const signOut = useCallback(
    (reason: string | null = null) => {
      forgetToken(browserTokenStores());
      client.clear();
      setRefusal(reason);
      setStored(null);
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

  // Who the token is (GET /session): its name and role, asked without changing anything.
  const who = useQuery({
    queryKey: ['session', token],
    enabled: token !== null,
    staleTime: Infinity,
    retry: false,
    queryFn: async () => {
      const api = createApiClient(token ?? '');
      return { api, ...(await api.session()) };
    },
  });

  const me = who.data;
  // The history lives as long as the token: a change of the remember setting keeps the charts.
  const history = useMemo(() => (token === null ? null : new ServiceHistory()), [token]);
  const session = useMemo<Session | null>(
    () =>
      token === null || me === undefined || history === null
        ? null
        : { token, name: me.name, role: me.role, api: me.api, history, remembered, setRemembered, signOut: () => signOut() },
    [token, me, history, remembered, setRemembered, signOut],
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
