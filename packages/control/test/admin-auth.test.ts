import * as crypto from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadTokens, TokenAuth, type TokenSpec } from '../src/admin/auth.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const OPERATOR = 'op-0123456789abcdef';
const VIEWER = 'view-0123456789abcdef';
const tokens: TokenSpec[] = [
  { name: 'alice', token: OPERATOR, role: 'operator' },
  { name: 'victor', token: VIEWER, role: 'viewer' },
];

describe('TokenAuth', () => {
  const auth = new TokenAuth(tokens);

  it('finds the principal of a bearer token, the scheme in any case', () => {
    expect(auth.authenticate({ authorization: `Bearer ${OPERATOR}` })).toEqual({ name: 'alice', role: 'operator' });
    expect(auth.authenticate({ authorization: `bearer ${VIEWER}` })).toEqual({ name: 'victor', role: 'viewer' });
  });

  it('refuses a missing, wrong, truncated or differently-schemed token', () => {
    expect(auth.authenticate({})).toBeNull();
    expect(auth.authenticate({ authorization: `Bearer ${OPERATOR}x` })).toBeNull();
    expect(auth.authenticate({ authorization: `Bearer ${OPERATOR.slice(0, -1)}` })).toBeNull();
    expect(auth.authenticate({ authorization: `Basic ${OPERATOR}` })).toBeNull();
    expect(auth.authenticate({ authorization: 'Bearer' })).toBeNull();
    expect(auth.authenticate({ authorization: `Bearer ${OPERATOR} extra` })).toBeNull();
  });

  it('takes only the Authorization header in authenticate, whatever else the request carries', () => {
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-protocol': `podgate.v1, bearer.${OPERATOR}` };
    expect(auth.authenticate(upgrade)).toBeNull();
    expect(auth.authenticate({ ...upgrade, authorization: `Bearer ${VIEWER}` })).toEqual({ name: 'victor', role: 'viewer' });
  });

  describe('authenticateUpgrade', () => {
    const PATH = '/api/v1/live';
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket' };

    it('takes ?token= and the bearer.<token> subprotocol on a real WebSocket upgrade to the path', () => {
      expect(auth.authenticateUpgrade({ method: 'GET', url: `${PATH}?token=${VIEWER}`, headers: upgrade }, PATH)).toEqual({ name: 'victor', role: 'viewer' });
      expect(
        auth.authenticateUpgrade({ method: 'GET', url: PATH, headers: { ...upgrade, 'sec-websocket-protocol': `podgate.v1, bearer.${OPERATOR}` } }, PATH),
      ).toEqual({
        name: 'alice',
        role: 'operator',
      });
      // Connection is a token list, compared without case; so is Upgrade's value.
      const browserish = { connection: 'keep-alive, UPGRADE', upgrade: 'WebSocket' };
      expect(auth.authenticateUpgrade({ method: 'GET', url: `${PATH}?token=${VIEWER}`, headers: browserish }, PATH)).toEqual({
        name: 'victor',
        role: 'viewer',
      });
      expect(auth.authenticateUpgrade({ method: 'GET', url: `${PATH}?token=nope-nope-nope-nope`, headers: upgrade }, PATH)).toBeNull();
      // The header still wins, as on every route.
      expect(
        auth.authenticateUpgrade({ method: 'GET', url: `${PATH}?token=${OPERATOR}`, headers: { ...upgrade, authorization: `Bearer ${VIEWER}` } }, PATH)?.name,
      ).toBe('victor');
    });

    it.each<[string, { method: string; url: string; headers: Record<string, string> }]>([
      ['a POST', { method: 'POST', url: `${PATH}?token=${OPERATOR}`, headers: upgrade }],
      ['a request without Connection: upgrade', { method: 'GET', url: `${PATH}?token=${OPERATOR}`, headers: { upgrade: 'websocket' } }],
      [
        'a request with Connection: keep-alive only',
        { method: 'GET', url: `${PATH}?token=${OPERATOR}`, headers: { upgrade: 'websocket', connection: 'keep-alive' } },
      ],
      ['an upgrade to something else', { method: 'GET', url: `${PATH}?token=${OPERATOR}`, headers: { ...upgrade, upgrade: 'h2c' } }],
      ['an upgrade to another path', { method: 'GET', url: `/api/v1/services?token=${OPERATOR}`, headers: upgrade }],
      ['an upgrade to a path below it', { method: 'GET', url: `${PATH}/x?token=${OPERATOR}`, headers: upgrade }],
      [
        'a subprotocol token on another path',
        { method: 'GET', url: '/api/v1/services', headers: { ...upgrade, 'sec-websocket-protocol': `bearer.${OPERATOR}` } },
      ],
      ['a subprotocol token on a POST', { method: 'POST', url: PATH, headers: { ...upgrade, 'sec-websocket-protocol': `bearer.${OPERATOR}` } }],
    ])('ignores a token outside the header on %s', (_what, req) => {
      expect(auth.authenticateUpgrade(req, PATH)).toBeNull();
    });
  });

  it('compares with timingSafeEqual against every token, not stopping at a match', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(auth.authenticate({ authorization: `Bearer ${OPERATOR}` })).not.toBeNull();
    expect(spy).toHaveBeenCalledTimes(tokens.length);
    spy.mockClear();
    // A candidate of another length is hashed first, so it is compared too rather than rejected early.
    expect(auth.authenticate({ authorization: 'Bearer x' })).toBeNull();
    expect(spy).toHaveBeenCalledTimes(tokens.length);
  });

  it('lets an operator do what a viewer does, and not the other way round', () => {
    expect(TokenAuth.allows({ name: 'a', role: 'operator' }, 'operator')).toBe(true);
    expect(TokenAuth.allows({ name: 'a', role: 'operator' }, 'viewer')).toBe(true);
    expect(TokenAuth.allows({ name: 'v', role: 'viewer' }, 'viewer')).toBe(true);
    expect(TokenAuth.allows({ name: 'v', role: 'viewer' }, 'operator')).toBe(false);
  });

  it('is empty with no tokens', () => {
    expect(new TokenAuth([]).empty).toBe(true);
    expect(auth.empty).toBe(false);
  });

  it.each<[string, TokenSpec[]]>([
    ['a short token', [{ name: 'a', token: 'short', role: 'operator' }]],
    ['a token with a space', [{ name: 'a', token: 'has a space in it!!', role: 'operator' }]],
    ['a token with a comma', [{ name: 'a', token: 'has,a,comma,in,it,!!', role: 'operator' }]],
    ['a token without a name', [{ name: '', token: OPERATOR, role: 'operator' }]],
    ['an unknown role', [{ name: 'a', token: OPERATOR, role: 'admin' as 'operator' }]],
    [
      'the same token twice',
      [
        { name: 'a', token: OPERATOR, role: 'operator' },
        { name: 'b', token: OPERATOR, role: 'viewer' },
      ],
    ],
  ])('refuses %s with PODGATE_ADMIN_TOKEN_INVALID', (_what, specs) => {
    expect(() => new TokenAuth(specs)).toThrow(expect.objectContaining({ code: 'PODGATE_ADMIN_TOKEN_INVALID' }));
  });
});

describe('loadTokens', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podgate-auth-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the configured tokens and nothing else', async () => {
    const env = { PODGATE_OPERATOR_TOKEN: 'env-operator-0123456789' };
    expect(await loadTokens(tokens, env, dir)).toEqual({ tokens, created: null });
    await expect(stat(join(dir, 'admin-token'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes operator and viewer tokens from the environment when none are configured', async () => {
    const env = { PODGATE_OPERATOR_TOKEN: 'env-operator-0123456789', PODGATE_VIEWER_TOKEN: 'env-viewer-0123456789' };
    expect(await loadTokens([], env, dir)).toEqual({
      tokens: [
        { name: 'operator', token: 'env-operator-0123456789', role: 'operator' },
        { name: 'viewer', token: 'env-viewer-0123456789', role: 'viewer' },
      ],
      created: null,
    });
    await expect(stat(join(dir, 'admin-token'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('generates an operator token once, in a 0600 file, and reuses it on the next start', async () => {
    const stateDir = join(dir, 'state');
    const first = await loadTokens([], {}, stateDir);
    expect(first.created).not.toBeNull();
    expect(first.tokens).toEqual([first.created]);
    expect(first.created).toMatchObject({ name: 'admin', role: 'operator' });
    expect(first.created?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = join(stateDir, 'admin-token');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.created?.token);
    // The generated token passes TokenAuth's own checks.
    expect(new TokenAuth(first.tokens).authenticate({ authorization: `Bearer ${first.created?.token}` })?.role).toBe('operator');

    const second = await loadTokens([], {}, stateDir);
    expect(second).toEqual({ tokens: first.tokens, created: null });
  });

  it('gives one token to concurrent first starts', async () => {
    const results = await Promise.all([loadTokens([], {}, dir), loadTokens([], {}, dir), loadTokens([], {}, dir)]);
    const seen = new Set(results.map((r) => r.tokens[0]?.token));
    expect(seen.size).toBe(1);
    expect(results.filter((r) => r.created !== null)).toHaveLength(1);
  });

  it('refuses a token file others can read, and an empty one, without overwriting either', async () => {
    const file = join(dir, 'admin-token');
    await writeFile(file, 'shared-0123456789abcdef\n', { mode: 0o644 });
    await chmod(file, 0o644);
    await expect(loadTokens([], {}, dir)).rejects.toMatchObject({ code: 'PODGATE_ADMIN_TOKEN_FILE_INVALID', message: expect.stringContaining('chmod 600') });
    await writeFile(file, '\n', { mode: 0o600 });
    await chmod(file, 0o600);
    await expect(loadTokens([], {}, dir)).rejects.toMatchObject({ code: 'PODGATE_ADMIN_TOKEN_FILE_INVALID' });
    expect(await readFile(file, 'utf8')).toBe('\n');
  });
});
