import { ROLES, type Role } from '@podgate/protocol';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Who made an admin API call: the token's name (recorded as `actor`) and its role. */
export interface Principal {
  name: string;
  role: Role;
}

export interface TokenSpec {
  name: string;
  token: string;
  role: Role;
}

export type AuthErrorCode =
  | 'PODGATE_ADMIN_TOKEN_INVALID' // a configured token is unusable (too short, bad characters, duplicate)
  | 'PODGATE_ADMIN_TOKEN_FILE_INVALID' // <stateDir>/admin-token is empty, unreadable or readable by others
  | 'PODGATE_ADMIN_INSECURE'; // a non-loopback admin listener without a token

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}

// 16 characters of base64url are 96 bits; anything shorter is guessable by a patient client.
const MIN_TOKEN_LENGTH = 16;
// Visible ASCII without ',' so a token also fits in a Sec-WebSocket-Protocol list (RFC 6455 §4.1).
const TOKEN_CHARS = /^[\x21-\x2b\x2d-\x7e]+$/;
const BEARER = /^Bearer +([^\s]+) *$/i;
const WS_PROTOCOL_PREFIX = 'bearer.';
export const TOKEN_FILE = 'admin-token';

interface StoredToken {
  principal: Principal;
  digest: Buffer;
}

// Comparing fixed-length digests keeps timingSafeEqual's equal-length rule from leaking the token's length.
const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Bearer tokens with roles; `operator` can do everything `viewer` can. */
export class TokenAuth {
  readonly #tokens: readonly StoredToken[];

  constructor(tokens: readonly TokenSpec[]) {
    const seen = new Set<string>();
    this.#tokens = tokens.map((spec, i) => {
      const where = `admin token ${i} (${JSON.stringify(spec.name)})`;
      if (typeof spec.name !== 'string' || spec.name.length === 0) throw new AuthError('PODGATE_ADMIN_TOKEN_INVALID', `admin token ${i}: name is required`);
      if (!(ROLES as readonly string[]).includes(spec.role)) {
        throw new AuthError('PODGATE_ADMIN_TOKEN_INVALID', `${where}: role must be one of ${ROLES.join(', ')}`);
      }
      if (typeof spec.token !== 'string' || spec.token.length < MIN_TOKEN_LENGTH) {
        throw new AuthError('PODGATE_ADMIN_TOKEN_INVALID', `${where}: token must be at least ${MIN_TOKEN_LENGTH} characters`);
      }
      if (!TOKEN_CHARS.test(spec.token)) {
        throw new AuthError('PODGATE_ADMIN_TOKEN_INVALID', `${where}: token must be visible ASCII without spaces or commas`);
      }
      if (seen.has(spec.token)) throw new AuthError('PODGATE_ADMIN_TOKEN_INVALID', `${where}: the same token is given twice`);
      seen.add(spec.token);
      return { principal: { name: spec.name, role: spec.role }, digest: digestOf(spec.token) };
    });
  }

  get empty(): boolean {
    return this.#tokens.length === 0;
  }

  /**
   * The principal of the bearer token in `authorization: Bearer x`. Null when there is none or it
   * matches no token. Only the header counts: a token in the URL or in Sec-WebSocket-Protocol is
   * accepted by authenticateUpgrade alone, on the live feed's WebSocket upgrade.
   */
  authenticate(headers: Record<string, string | string[] | undefined>): Principal | null {
    const authorization = first(headers['authorization']);
    if (authorization === undefined) return null;
    return this.#match(BEARER.exec(authorization)?.[1] ?? null);
  }

  /**
   * The principal of a WebSocket upgrade to `path`: the bearer header, else (browsers cannot set
   * headers on a WebSocket) the Sec-WebSocket-Protocol value `bearer.<token>`, else `?token=`.
   * The last two count only on a real upgrade (isWebSocketUpgrade) to exactly `path`; anything
   * else needs the header, as every REST route does.
   */
  authenticateUpgrade(req: UpgradeRequest, path: string): Principal | null {
    if (first(req.headers['authorization']) !== undefined || !isWebSocketUpgrade(req, path)) return this.authenticate(req.headers);
    return this.#match(upgradeToken(req));
  }

  #match(candidate: string | null): Principal | null {
    if (candidate === null) return null;
    const digest = digestOf(candidate);
    let found: Principal | null = null;
    // Every token is compared, so the time taken does not say which one (or whether one) matched.
    for (const stored of this.#tokens) {
      if (timingSafeEqual(digest, stored.digest)) found = stored.principal;
    }
    return found;
  }

  static allows(principal: Principal, need: Role): boolean {
    return need === 'viewer' || principal.role === 'operator';
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What authenticateUpgrade reads of a request (an http.IncomingMessage has it all). */
export interface UpgradeRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** The token list of a header such as Connection (`keep-alive, Upgrade`), lower case. */
function tokenList(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined === undefined ? [] : joined.split(',').map((t) => t.trim().toLowerCase());
}

/** The path of a request target, without the query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * A real WebSocket opening handshake to `path` (RFC 6455 §4.1): GET, `Connection` listing
 * `upgrade` and `Upgrade: websocket` (both case-insensitive), exactly that path. A REST request
 * that merely carries an Upgrade header is none of these.
 */
export function isWebSocketUpgrade(req: UpgradeRequest, path: string): boolean {
  if (req.method !== 'GET') return false;
  if (!tokenList(req.headers['connection']).includes('upgrade')) return false;
  const upgrade = tokenList(req.headers['upgrade']);
  if (upgrade.length !== 1 || upgrade[0] !== 'websocket') return false;
  return pathOf(req.url) === path;
}

function upgradeToken(req: UpgradeRequest): string | null {
  for (const protocol of protocolsOf(req.headers['sec-websocket-protocol'])) {
    if (protocol.startsWith(WS_PROTOCOL_PREFIX) && protocol.length > WS_PROTOCOL_PREFIX.length) return protocol.slice(WS_PROTOCOL_PREFIX.length);
  }
  const url = req.url;
  if (url !== undefined) {
    const query = url.indexOf('?');
    if (query !== -1) {
      const token = new URLSearchParams(url.slice(query + 1)).get('token');
      if (token !== null && token !== '') return token;
    }
  }
  return null;
}

/** Sec-WebSocket-Protocol's values as sent: tokens are case-sensitive, so not lower-cased. */
function protocolsOf(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined === undefined ? [] : joined.split(',').map((p) => p.trim());
}

/**
 * The admin tokens: those in the config; else PODGATE_OPERATOR_TOKEN / PODGATE_VIEWER_TOKEN; else
 * an operator token kept in `<stateDir>/admin-token` (mode 0600), generated on the first start and
 * reused after. `created` is that token when this call generated it, so the caller prints the
 * dashboard URL with it once.
 */
export async function loadTokens(
  configured: readonly TokenSpec[],
  env: NodeJS.ProcessEnv,
  stateDir: string,
): Promise<{ tokens: TokenSpec[]; created: TokenSpec | null }> {
  if (configured.length > 0) return { tokens: [...configured], created: null };
  const fromEnv: TokenSpec[] = [];
  const operator = env['PODGATE_OPERATOR_TOKEN'];
  const viewer = env['PODGATE_VIEWER_TOKEN'];
  if (operator !== undefined && operator !== '') fromEnv.push({ name: 'operator', token: operator, role: 'operator' });
  if (viewer !== undefined && viewer !== '') fromEnv.push({ name: 'viewer', token: viewer, role: 'viewer' });
  if (fromEnv.length > 0) return { tokens: fromEnv, created: null };

  const path = join(stateDir, TOKEN_FILE);
  const existing = await readTokenFile(path);
  if (existing !== null) return { tokens: [{ name: 'admin', token: existing, role: 'operator' }], created: null };
  const token = randomBytes(32).toString('base64url');
  const won = await createTokenFile(stateDir, path, token);
  if (!won) {
    // Another process created it between our read and our link: use theirs.
    const theirs = await readTokenFile(path);
    if (theirs === null) throw new AuthError('PODGATE_ADMIN_TOKEN_FILE_INVALID', `${path} vanished while being created`);
    return { tokens: [{ name: 'admin', token: theirs, role: 'operator' }], created: null };
  }
  const spec: TokenSpec = { name: 'admin', token, role: 'operator' };
  return { tokens: [spec], created: spec };
}

async function readTokenFile(path: string): Promise<string | null> {
  let text: string;
  try {
    const info = await stat(path);
    // Like ssh with a private key: a token others can read is not a secret any more.
    if ((info.mode & 0o077) !== 0) {
      throw new AuthError('PODGATE_ADMIN_TOKEN_FILE_INVALID', `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((err as { code?: unknown }).code === 'PODGATE_ADMIN_TOKEN_FILE_INVALID') throw err;
    throw new AuthError('PODGATE_ADMIN_TOKEN_FILE_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
    // Never overwritten: the operator may have put a token there on purpose.
    throw new AuthError('PODGATE_ADMIN_TOKEN_FILE_INVALID', `${path} does not hold a usable token (at least ${MIN_TOKEN_LENGTH} visible characters)`);
  }
  return token;
}

/** Writes the token to a private temp file, then links it into place: all or nothing, never clobbering. False if the file appeared meanwhile. */
async function createTokenFile(stateDir: string, path: string, token: string): Promise<boolean> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${token}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
