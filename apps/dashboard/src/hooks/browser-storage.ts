import type { StorageLike, TokenStores } from '../lib/session.js';

// Reading window.localStorage itself throws (SecurityError) where the browser blocks storage.
function storageOf(get: () => StorageLike): StorageLike | null {
  try {
    return get();
  } catch {
    return null;
  }
}

/** This tab's sessionStorage and the browser's localStorage, where the browser allows them. */
export function browserTokenStores(): TokenStores {
  return { session: storageOf(() => window.sessionStorage), local: storageOf(() => window.localStorage) };
}
