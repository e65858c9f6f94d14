import { describe, expect, it } from 'vitest';
import { ApiRequestError, createApiClient, errorMessage } from '../src/lib/api-client.js';

type Call = { url: string; init: RequestInit | undefined };

function fakeFetch(status: number, body: unknown, calls: Call[] = []) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    calls.push({ url, init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
}

describe('who the token is', () => {
  it('asks GET /api/v1/session, changing nothing', async () => {
    const calls: Call[] = [];
    const api = createApiClient('tok', fakeFetch(200, { name: 'alice', role: 'operator' }, calls));
    expect(await api.session()).toEqual({ name: 'alice', role: 'operator' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('/api/v1/session');
    expect(calls[0]?.init?.method).toBe('GET');
    expect(calls[0]?.init?.body).toBeUndefined();
    expect((calls[0]?.init?.headers as Record<string, string>).authorization).toBe('Bearer tok');
  });

  it('fails with the server message on 401', async () => {
    const api = createApiClient('bad', fakeFetch(401, { error: 'PODGATE_UNAUTHORIZED', message: 'a valid bearer token is required' }));
    await expect(api.session()).rejects.toMatchObject({ status: 401, code: 'PODGATE_UNAUTHORIZED', message: 'a valid bearer token is required' });
  });

  it('reads the instance from GET /api/v1/status', async () => {
    const calls: Call[] = [];
    const api = createApiClient('tok', fakeFetch(200, { id: 'host:8080', version: '0.1.0' }, calls));
    expect(await api.status()).toMatchObject({ id: 'host:8080', version: '0.1.0' });
    expect(calls[0]?.url).toBe('/api/v1/status');
  });
});

describe('errors', () => {
  it('carries the API error code, message and field', async () => {
    const api = createApiClient('tok', fakeFetch(409, { error: 'PODGATE_CONFLICT', message: 'service web already exists', field: 'body.name' }));
    const err = await api.addService({ name: 'web', dnsName: 'web.local', port: 80 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiRequestError);
    expect(err).toMatchObject({ status: 409, code: 'PODGATE_CONFLICT', field: 'body.name' });
    expect(errorMessage(err)).toBe('service web already exists');
  });

  it("carries the fleet's 503 with its message, which the page shows as is", async () => {
    const message = "the fleet's Redis is unavailable (connect ECONNREFUSED 127.0.0.1:6379): nothing was changed";
    const api = createApiClient('tok', fakeFetch(503, { error: 'PODGATE_FLEET_UNAVAILABLE', message }));
    const err = await api.peerAction('web', '127.10.0.7:8080', 'drain').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'PODGATE_FLEET_UNAVAILABLE' });
    expect(errorMessage(err)).toBe(message);
  });

  it('reads the fleet from GET /api/v1/fleet', async () => {
    const calls: Call[] = [];
    const api = createApiClient('tok', fakeFetch(200, { name: 'demo', state: 'ok' }, calls));
    expect(await api.fleet()).toMatchObject({ name: 'demo', state: 'ok' });
    expect(calls[0]?.url).toBe('/api/v1/fleet');
    expect(calls[0]?.init?.method).toBe('GET');
  });

  it('says what happened when the answer is not an API error', async () => {
    const api = createApiClient('tok', fakeFetch(502, 'Bad gateway'));
    await expect(api.listServices()).rejects.toMatchObject({ status: 502, code: 'HTTP_502' });
  });

  it('names an unreachable API', async () => {
    const api = createApiClient('tok', async () => {
      throw new TypeError('fetch failed');
    });
    await expect(api.listServices()).rejects.toMatchObject({ status: 0, code: 'PODGATE_UNREACHABLE' });
  });

  it('URL-encodes the address of a peer action', async () => {
    const calls: Call[] = [];
    const api = createApiClient('tok', fakeFetch(200, { address: '[::1]:80' }, calls));
    await api.peerAction('web', '[::1]:80', 'drain');
    expect(calls[0]?.url).toBe('/api/v1/services/web/peers/%5B%3A%3A1%5D%3A80/drain');
  });
});
