import { describe, expect, it } from 'vitest';
import { hostName, Router } from '../src/router.js';

const router = new Router<string>([
  { route: { pathPrefix: '/' }, target: 'default' },
  { route: { pathPrefix: '/api' }, target: 'api' },
  { route: { pathPrefix: '/api/v2' }, target: 'api-v2' },
  { route: { host: 'img.example.test', pathPrefix: '/recognize' }, target: 'img' },
  { route: { host: 'img.example.test', pathPrefix: '/' }, target: 'img-root' },
  { route: { host: 'only.example.test', pathPrefix: '/x' }, target: 'only-x' },
]);

describe('router', () => {
  it('takes the longest matching prefix', () => {
    expect(router.match('a.test', '/api/v2/items?q=1')).toBe('api-v2');
    expect(router.match('a.test', '/api/v1')).toBe('api');
    expect(router.match('a.test', '/other')).toBe('default');
  });

  it('prefers routes of the request Host, case and port aside', () => {
    expect(router.match('IMG.example.test:8080', '/recognize/now')).toBe('img');
    expect(router.match('img.example.test', '/api')).toBe('img-root');
  });

  it('falls back to host-less routes when the Host routes do not match the path', () => {
    expect(router.match('only.example.test', '/x/1')).toBe('only-x');
    expect(router.match('only.example.test', '/api')).toBe('api');
  });

  it('matches nothing when no route fits', () => {
    const r = new Router<string>([{ route: { host: 'a.test', pathPrefix: '/a' }, target: 'a' }]);
    expect(r.match('b.test', '/a')).toBeNull();
    expect(r.match(undefined, '/a')).toBeNull();
  });

  it('strips the port from hosts, IPv6 included', () => {
    expect(hostName('Example.test:80')).toBe('example.test');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('example.test')).toBe('example.test');
  });
});
