import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, resolveConfig } from '@podgate/config';
import { configErrorOf } from './config-error-of.js';
import { Podgate } from '../src/podgate.js';

/*
 * Issue 17: with a non-loopback admin.listen and no token configured, podgate started anyway,
 * generated an operator token, printed it to standard output and served the admin API on every
 * interface. docs/config.md says such an address "is refused unless tokens are configured".
 */

const TOKEN = { name: 'ops', token: 'operator-token-0123456789', role: 'operator' };
const noEnv = { env: {} };

describe('admin.listen beyond loopback', () => {
  it.each(['0.0.0.0:9901', '[::]:9901', '192.0.2.7:9901', 'admin.example.com:9901', '[::ffff:192.0.2.1]:9901'])(
    'refuses %s without a token, naming the key and the fix',
    (listen) => {
      const err = configErrorOf(() => parseConfig(`admin:\n  listen: "${listen}"\n`, 'podgate.yaml', noEnv));
      expect(err.code).toBe('PODGATE_CONFIG_INVALID');
      expect(err.source).toBe('podgate.yaml');
      expect(err.issues).toHaveLength(1);
      expect(err.issues[0]).toMatchObject({ path: 'admin.listen', line: 2 });
      expect(err.message).toMatch(/^admin\.listen: .* is not a loopback address, and no admin token is configured/);
      expect(err.message).toContain('Configure admin.tokens');
      expect(err.message).toContain('or listen on loopback (127.0.0.1:9901)');
    },
  );

  it('names the address as configured, IPv6 in brackets', () => {
    expect(configErrorOf(() => resolveConfig({ admin: { listen: '0.0.0.0:9901' } }, noEnv)).message).toContain('0.0.0.0:9901 is not a loopback address');
    expect(configErrorOf(() => resolveConfig({ admin: { listen: '[::]:9901' } }, noEnv)).message).toContain('[::]:9901 is not a loopback address');
  });

  it('reports it with the config’s other issues', () => {
    const err = configErrorOf(() => resolveConfig({ admin: { listen: '0.0.0.0:9901' }, workers: 0 }, noEnv));
    expect(err.issues.map((i) => i.path)).toEqual(['admin.listen', 'workers']);
  });

  it('accepts it with admin.tokens, or with a token from the environment', () => {
    expect(resolveConfig({ admin: { listen: '0.0.0.0:9901', tokens: [TOKEN] } }, noEnv).admin.listen).toEqual({ host: '0.0.0.0', port: 9901 });
    expect(resolveConfig({ admin: { listen: '0.0.0.0:9901' } }, { env: { PODGATE_OPERATOR_TOKEN: 'operator-token-0123456789' } }).admin.listen.host).toBe(
      '0.0.0.0',
    );
    expect(resolveConfig({ admin: { listen: '[::]:9901' } }, { env: { PODGATE_VIEWER_TOKEN: 'viewer-token-0123456789' } }).admin.listen.host).toBe('::');
    // An empty variable is no token (loadTokens ignores it too).
    expect(configErrorOf(() => resolveConfig({ admin: { listen: '0.0.0.0:9901' } }, { env: { PODGATE_OPERATOR_TOKEN: '' } })).issues[0]?.path).toBe(
      'admin.listen',
    );
  });

  it.each(['127.0.0.1:9901', '127.0.0.2:0', 'localhost:9901', '[::1]:9901'])('accepts loopback %s without a token (the demo’s case)', (listen) => {
    expect(() => resolveConfig({ admin: { listen } }, noEnv)).not.toThrow();
  });

  it('is refused by Podgate.start for a config built in code, before a token is generated or anything listens', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'podgate-exposure-')), 'state');
    const config = resolveConfig({ workers: 1, listen: '127.0.0.1:0', stateDir, admin: { listen: '127.0.0.1:0' } }, noEnv);
    const exposed = { ...config, admin: { ...config.admin, listen: { host: '0.0.0.0', port: 0 } } };
    const saved = { operator: process.env['PODGATE_OPERATOR_TOKEN'], viewer: process.env['PODGATE_VIEWER_TOKEN'] };
    delete process.env['PODGATE_OPERATOR_TOKEN'];
    delete process.env['PODGATE_VIEWER_TOKEN'];
    try {
      await expect(Podgate.start(exposed, { dashboardDir: null })).rejects.toMatchObject({
        code: 'PODGATE_CONFIG_INVALID',
        issues: [expect.objectContaining({ path: 'admin.listen' })],
      });
    } finally {
      if (saved.operator !== undefined) process.env['PODGATE_OPERATOR_TOKEN'] = saved.operator;
      if (saved.viewer !== undefined) process.env['PODGATE_VIEWER_TOKEN'] = saved.viewer;
    }
    expect(existsSync(join(stateDir, 'admin-token'))).toBe(false);
  });
});
