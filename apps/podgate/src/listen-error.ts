/** Where podgate listens, what for, and how the operator moves it. */
export interface ListenPlace {
  host: string;
  port: number;
  /** `listen (the proxy)`, `admin.listen (the admin API)`. */
  what: string;
  /** `set listen in podgate.yaml to a free address`, `give --port N`. */
  fix: string;
}

/**
 * The one line podgate prints when it cannot listen (node's own message names the code twice and
 * neither the key nor the fix): the address, what it was for, the cause and the fix. Null for an
 * error that is not a failed listen.
 */
export function listenFailure(err: unknown, places: readonly ListenPlace[]): string | null {
  const e = err as { code?: unknown; address?: unknown; port?: unknown; syscall?: unknown };
  if (typeof e.port !== 'number' || (e.syscall !== undefined && e.syscall !== 'listen' && e.syscall !== 'bind')) return null;
  const cause =
    e.code === 'EADDRINUSE'
      ? 'is already in use by another process (EADDRINUSE)'
      : e.code === 'EACCES'
        ? 'needs privileges podgate does not have (EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL'
          ? 'is not an address of this machine (EADDRNOTAVAIL)'
          : null;
  if (cause === null) return null;
  // A port is listened on once, so it alone says which place failed.
  const place = places.find((p) => p.port === e.port);
  const host = typeof e.address === 'string' ? e.address : (place?.host ?? '');
  const address = `${host.includes(':') ? `[${host}]` : host}:${e.port}`;
  return place === undefined ? `${address} ${cause}` : `${address} (${place.what}) ${cause}: ${place.fix}`;
}
