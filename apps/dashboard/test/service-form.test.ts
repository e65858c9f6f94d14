import { checkDnsName, checkPathPrefix, checkRouteHost, checkServiceName, type StringCheck } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import { EMPTY_SERVICE_FORM, fieldOfApiError, toServiceInput, validateField, validateServiceForm, type ServiceFormField } from '../src/lib/service-form.js';

describe('service form: name (RFC 1123 label, at most 63)', () => {
  it.each(['web', 'image-lobby', 'a', '0abc', 'a'.repeat(63)])('accepts %j', (name) => {
    expect(validateField('name', name)).toBeNull();
  });
  it.each(['', 'Web', 'image_lobby', '-web', 'web-', 'a.b', 'a'.repeat(64), 'wéb'])('refuses %j', (name) => {
    expect(validateField('name', name)).not.toBeNull();
  });
});

describe('service form: DNS name', () => {
  it.each(['image-lobby.cloud.svc.cluster.local', 'svc.local.', 'Upper.Case.Example', 'x'])('accepts %j', (name) => {
    expect(validateField('dnsName', name)).toBeNull();
  });
  it.each(['', 'bad..name', '-x.example', 'under_score.example', `${'a'.repeat(64)}.example`, `${'abcdefghi.'.repeat(26)}com`, 'has space.example'])(
    'refuses %j',
    (name) => {
      expect(validateField('dnsName', name)).not.toBeNull();
    },
  );
});

describe('service form: port (integer 1-65535)', () => {
  it.each(['1', '80', '8080', '65535'])('accepts %j', (port) => {
    expect(validateField('port', port)).toBeNull();
  });
  it.each(['', '0', '65536', '80.5', '-1', 'http', '1e3'])('refuses %j', (port) => {
    expect(validateField('port', port)).not.toBeNull();
  });
});

describe('service form: path prefix (starts with /)', () => {
  it.each(['/', '/recognize', '/api/v2/'])('accepts %j', (path) => {
    expect(validateField('pathPrefix', path)).toBeNull();
  });
  it.each(['', 'recognize', '/with space', '/q?x=1', '/frag#x'])('refuses %j', (path) => {
    expect(validateField('pathPrefix', path)).not.toBeNull();
  });
});

describe('service form: host (optional, no port, no wildcard)', () => {
  it.each(['', 'api.example.com', 'API.Example.com', 'example.com.'])('accepts %j', (host) => {
    expect(validateField('host', host)).toBeNull();
  });
  it.each(['*.example.com', 'api.example.com:443', 'bad..host', 'under_score.com'])('refuses %j', (host) => {
    expect(validateField('host', host)).not.toBeNull();
  });
});

describe('service form: the rules of the config file and the API', () => {
  const shared: [ServiceFormField, StringCheck<unknown>, string[]][] = [
    ['name', checkServiceName, ['web', 'Web', 'a'.repeat(64), 'image_lobby']],
    ['dnsName', checkDnsName, ['web.local', 'bad..name', 'under_score.example']],
    ['pathPrefix', checkPathPrefix, ['/api', 'api', '/q?x=1']],
    ['host', checkRouteHost, ['api.example.com', '*.example.com', 'api.example.com:443', 'bad..host']],
  ];
  it.each(shared)('checks %s with the shared rule, in its words', (field, check, texts) => {
    for (const text of texts) {
      const checked = check(text);
      expect(validateField(field, text), text).toBe('error' in checked ? checked.error : null);
    }
  });

  it("bounds the port by the config schema's range, in the config file's words", () => {
    expect(validateField('port', '70000')).toBe('must be 1-65535');
  });
});

describe('validateServiceForm and toServiceInput', () => {
  it('names every failing field at once', () => {
    const errors = validateServiceForm({ ...EMPTY_SERVICE_FORM, name: 'Bad', port: '0' });
    expect(Object.keys(errors).sort()).toEqual(['dnsName', 'name', 'port']);
  });

  it('builds the API body: trimmed, DNS name and host lower-cased, port a number, one route', () => {
    const values = { name: ' web ', dnsName: 'Web.Prod.svc.cluster.local', port: ' 8080', pathPrefix: '/api', host: 'API.example.com.' };
    expect(validateServiceForm(values)).toEqual({});
    expect(toServiceInput(values)).toEqual({
      name: 'web',
      dnsName: 'web.prod.svc.cluster.local',
      port: 8080,
      routes: [{ host: 'api.example.com', pathPrefix: '/api' }],
    });
  });

  it('leaves the host out of the route when empty (any host)', () => {
    const input = toServiceInput({ name: 'web', dnsName: 'web.local', port: '80', pathPrefix: '/', host: '' });
    expect(input.routes).toEqual([{ pathPrefix: '/' }]);
  });
});

describe('fieldOfApiError', () => {
  it('maps the API field paths onto the form fields', () => {
    expect(fieldOfApiError({ field: 'body.name' })).toBe('name');
    expect(fieldOfApiError({ field: 'body.dnsName' })).toBe('dnsName');
    expect(fieldOfApiError({ field: 'body.port' })).toBe('port');
    expect(fieldOfApiError({ field: 'body.routes.0.pathPrefix' })).toBe('pathPrefix');
    expect(fieldOfApiError({ field: 'body.routes.0.host' })).toBe('host');
    // 409: a route another service already serves.
    expect(fieldOfApiError({ field: 'body.routes' })).toBe('pathPrefix');
  });
  it('leaves other errors to the form as a whole', () => {
    expect(fieldOfApiError({})).toBeNull();
    expect(fieldOfApiError({ field: 'body' })).toBeNull();
    expect(fieldOfApiError({ field: 'body.retry.tries' })).toBeNull();
  });
});
