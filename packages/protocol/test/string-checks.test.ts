import { describe, expect, it } from 'vitest';
import { checkDnsName, checkPathPrefix, checkRouteHost, checkServiceName } from '../src/index.js';

// The rules the config file, the admin API and the dashboard's form all apply (string-checks.ts).

describe('service name: one RFC 1123 label, at most 63 characters', () => {
  it.each(['web', 'image-lobby', 'a', '0abc', 'a'.repeat(63)])('accepts %j as it is', (name) => {
    expect(checkServiceName(name)).toEqual({ value: name });
  });
  it.each(['', 'Web', 'image_lobby', '-web', 'web-', 'a.b', 'a'.repeat(64), 'wéb'])('refuses %j', (name) => {
    expect(checkServiceName(name)).toEqual({ error: "must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)" });
  });
});

describe('DNS name: RFC 1123 labels, 253 characters in all', () => {
  it.each([
    ['image-lobby.cloud.svc.cluster.local', 'image-lobby.cloud.svc.cluster.local'],
    ['svc.local.', 'svc.local.'],
    ['Upper.Case.Example', 'upper.case.example'],
    ['x', 'x'],
  ])('accepts %j as %j', (text, value) => {
    expect(checkDnsName(text)).toEqual({ value });
  });
  it.each(['', 'bad..name', '-x.example', 'under_score.example', `${'a'.repeat(64)}.example`, `${'abcdefghi.'.repeat(26)}com`, 'has space.example'])(
    'refuses %j, quoting it',
    (text) => {
      expect(checkDnsName(text)).toEqual({ error: `must be a DNS name (labels of a-z, 0-9, '-', 1-63 chars), got ${JSON.stringify(text)}` });
    },
  );
});

describe('route host: a host name without port or wildcard', () => {
  it.each([
    ['api.example.com', 'api.example.com'],
    ['API.Example.com', 'api.example.com'],
    ['example.com.', 'example.com'],
  ])('accepts %j as %j', (text, value) => {
    expect(checkRouteHost(text)).toEqual({ value });
  });
  it.each([
    ['*.example.com', 'wildcards are not supported (list each host)'],
    ['api.example.com:443', 'must not include a port (routes match the Host header without it)'],
    ['bad..host', `must be a host name (labels of a-z, 0-9, '-', 1-63 chars), got "bad..host"`],
    ['under_score.com', `must be a host name (labels of a-z, 0-9, '-', 1-63 chars), got "under_score.com"`],
  ])('refuses %j: %s', (text, error) => {
    expect(checkRouteHost(text)).toEqual({ error });
  });
});

describe('path prefix: starts with /, no spaces, query or fragment', () => {
  it.each(['/', '/recognize', '/api/v2/'])('accepts %j', (text) => {
    expect(checkPathPrefix(text)).toEqual({ value: text });
  });
  it.each([
    ['', 'must start with "/", got ""'],
    ['recognize', 'must start with "/", got "recognize"'],
    ['/with space', 'must be a path without spaces, query or fragment'],
    ['/q?x=1', 'must be a path without spaces, query or fragment'],
    ['/frag#x', 'must be a path without spaces, query or fragment'],
  ])('refuses %j', (text, error) => {
    expect(checkPathPrefix(text)).toEqual({ error });
  });
});
