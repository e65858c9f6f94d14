/*
 * The admin token: taken from `#token=...` (podgate prints the dashboard URL that way) or typed
 * in, and taken off the URL at once so it does not stay in the address bar, the history or a
 * screenshot. It is kept in sessionStorage (this tab only, gone when it closes) and, when the
 * operator asks to be remembered on this browser, in localStorage too, so a second tab or a
 * bookmark opens signed in. Remembering is off by default: localStorage outlives the tab.
 */

export const TOKEN_KEY = 'podgate.token';

/** The token in a `#token=...` hash (other parameters may follow with &), or null. */
export function tokenFromHash(hash: string): string | null {
  const text = hash.replace(/^#\/?/, '');
  if (!text.startsWith('token=')) return null;
  const params = new URLSearchParams(text);
  const token = params.get('token');
  return token === null || token === '' ? null : token;
}

// The bits of window.sessionStorage and window.localStorage used here (no DOM types: this module
// is tested in Node).
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** This tab's storage and the browser's; null (or a throwing one) where the browser refuses storage. */
export interface TokenStores {
  session: StorageLike | null;
  local: StorageLike | null;
}

export interface StoredToken {
  token: string;
  /** Also kept in localStorage: other tabs and later visits open signed in. */
  remembered: boolean;
}

interface SessionEnv {
  location: { hash: string; pathname: string; search: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url?: string | null): void };
  stores: TokenStores;
}

// Storage can be disabled or full (a SecurityError or QuotaExceededError): the token then lives
// in memory for this page's life, and the sign-in still works.
function read(store: StorageLike | null): string | null {
  try {
    return store?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

function write(store: StorageLike | null, token: string | null): void {
  try {
    if (token === null) store?.removeItem(TOKEN_KEY);
    else store?.setItem(TOKEN_KEY, token);
  } catch {
    // Kept in memory only.
  }
}

/**
 * The token to start with: one in the URL (moved into storage; a remembered one is replaced by
 * it), else this tab's, else the one remembered on this browser; null when there is none.
 */
export function takeToken(env: SessionEnv): StoredToken | null {
  const { stores } = env;
  const remembered = read(stores.local);
  const fromHash = tokenFromHash(env.location.hash);
  if (fromHash !== null) {
    env.history.replaceState(env.history.state, '', `${env.location.pathname}${env.location.search}#/`);
    storeToken(stores, fromHash, remembered !== null);
    return { token: fromHash, remembered: remembered !== null };
  }
  const own = read(stores.session);
  if (own !== null) return { token: own, remembered: own === remembered };
  if (remembered !== null) {
    write(stores.session, remembered);
    return { token: remembered, remembered: true };
  }
  return null;
}

/** Keeps the token for this tab and, with `remember`, for this browser; without, forgets the browser's copy. */
export function storeToken(stores: TokenStores, token: string, remember: boolean): void {
  write(stores.session, token);
  write(stores.local, remember ? token : null);
}

/** Signing out: neither this tab nor the browser keeps the token. */
export function forgetToken(stores: TokenStores): void {
  write(stores.session, null);
  write(stores.local, null);
}
