/*
 * The admin token: taken from `#token=...` (podgate prints the dashboard URL that way) or typed
 * in, kept in sessionStorage (gone when the tab closes), and taken off the URL at once so it does
 * not stay in the address bar, the history or a screenshot.
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

// The bits of window.location, window.history and window.sessionStorage used here (no DOM types:
// this module is tested in Node).
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

interface SessionEnv {
  location: { hash: string; pathname: string; search: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url?: string | null): void };
  storage: StorageLike;
}

/** Moves a token found in the URL into storage; returns the stored token, if any. */
export function takeToken(env: SessionEnv): string | null {
  const fromHash = tokenFromHash(env.location.hash);
  if (fromHash !== null) {
    env.storage.setItem(TOKEN_KEY, fromHash);
    env.history.replaceState(env.history.state, '', `${env.location.pathname}${env.location.search}#/`);
    return fromHash;
  }
  return env.storage.getItem(TOKEN_KEY);
}

export function storeToken(storage: Pick<StorageLike, 'setItem'>, token: string): void {
  storage.setItem(TOKEN_KEY, token);
}

export function forgetToken(storage: Pick<StorageLike, 'removeItem'>): void {
  storage.removeItem(TOKEN_KEY);
}
