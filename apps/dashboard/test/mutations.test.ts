import type { PeerView, ServiceInput, ServiceView } from '@podgate/protocol';
import { MutationObserver, QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { ApiRequestError, type ApiClient } from '../src/lib/api-client.js';
import { applyFeedMessage, serviceKey, servicesKey } from '../src/lib/feed-cache.js';
import { addServiceOptions, peerActionOptions, removeServiceOptions } from '../src/lib/mutations.js';
import { fleet, peer, service } from './fixtures.js';

/** A server answer the test releases when it wants, to look at the page in between. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function fakeApi(overrides: Partial<ApiClient>): ApiClient {
  const refuse = () => Promise.reject(new Error('not in this test'));
  return {
    listServices: refuse,
    getService: refuse,
    addService: refuse,
    removeService: refuse,
    peerAction: refuse,
    events: refuse,
    fleet: refuse,
    session: refuse,
    status: refuse,
    ...overrides,
  };
}

const conflict = (message: string) => new ApiRequestError(409, { error: 'PODGATE_CONFLICT', message, field: 'body.name' });

function seeded(): QueryClient {
  const client = new QueryClient();
  applyFeedMessage(client, {
    type: 'snapshot',
    at: 0,
    events: [],
    fleet: fleet(),
    services: [service('web', { peers: [peer('127.10.0.1:80'), peer('127.10.0.2:80')] })],
  });
  return client;
}

const stateOf = (client: QueryClient, address: string) => ({
  list: client.getQueryData<ServiceView[]>(servicesKey)?.[0]?.peers.find((p) => p.address === address)?.state,
  detail: client.getQueryData<ServiceView>(serviceKey('web'))?.peers.find((p) => p.address === address)?.state,
});

describe('peer action mutation', () => {
  it('shows the action at once in the list and the service, then takes the server answer', async () => {
    const client = seeded();
    const answer = deferred<PeerView>();
    const observer = new MutationObserver(client, peerActionOptions(client, fakeApi({ peerAction: () => answer.promise })));
    const done = observer.mutate({ service: 'web', address: '127.10.0.1:80', action: 'drain' });
    await new Promise((r) => setTimeout(r, 0));
    expect(stateOf(client, '127.10.0.1:80')).toEqual({ list: 'draining', detail: 'draining' });
    answer.resolve(peer('127.10.0.1:80', { state: 'drained', hold: 'drain', reason: 'operator_drain' }));
    await done;
    expect(stateOf(client, '127.10.0.1:80')).toEqual({ list: 'drained', detail: 'drained' });
    expect(stateOf(client, '127.10.0.2:80')).toEqual({ list: 'active', detail: 'active' });
  });

  it('rolls back and keeps the error when the server refuses', async () => {
    const client = seeded();
    const observer = new MutationObserver(
      client,
      peerActionOptions(
        client,
        fakeApi({
          peerAction: () => Promise.reject(new ApiRequestError(404, { error: 'PODGATE_NOT_FOUND', message: 'service web has no peer 127.10.0.1:80' })),
        }),
      ),
    );
    await expect(observer.mutate({ service: 'web', address: '127.10.0.1:80', action: 'eject' })).rejects.toThrow('service web has no peer 127.10.0.1:80');
    expect(stateOf(client, '127.10.0.1:80')).toEqual({ list: 'active', detail: 'active' });
    expect(observer.getCurrentResult().error?.message).toBe('service web has no peer 127.10.0.1:80');
  });
});

describe('peer action while the fleet is degraded', () => {
  it("rolls back and keeps the fleet's 503 message for the page's alert", async () => {
    const client = seeded();
    const message = "the fleet's Redis is unavailable (connect ECONNREFUSED 127.0.0.1:6379): nothing was changed";
    const observer = new MutationObserver(
      client,
      peerActionOptions(client, fakeApi({ peerAction: () => Promise.reject(new ApiRequestError(503, { error: 'PODGATE_FLEET_UNAVAILABLE', message })) })),
    );
    await expect(observer.mutate({ service: 'web', address: '127.10.0.1:80', action: 'drain' })).rejects.toThrow(message);
    expect(stateOf(client, '127.10.0.1:80')).toEqual({ list: 'active', detail: 'active' });
    expect(observer.getCurrentResult().error).toMatchObject({ status: 503, code: 'PODGATE_FLEET_UNAVAILABLE', message });
  });
});

describe('add service mutation', () => {
  const input: ServiceInput = { name: 'api', dnsName: 'api.local', port: 80, routes: [{ pathPrefix: '/api' }] };

  it('lists the service at once and replaces it with the server view', async () => {
    const client = seeded();
    const answer = deferred<ServiceView>();
    const observer = new MutationObserver(client, addServiceOptions(client, fakeApi({ addService: () => answer.promise })));
    const done = observer.mutate(input);
    await new Promise((r) => setTimeout(r, 0));
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.map((s) => s.name)).toEqual(['api', 'web']);
    answer.resolve(service('api', { source: 'api', peers: [peer('127.10.1.1:80')] }));
    await done;
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.find((s) => s.name === 'api')?.peers).toHaveLength(1);
    expect(client.getQueryData<ServiceView>(serviceKey('api'))?.source).toBe('api');
  });

  it('takes the placeholder back out on a 409 and keeps the server message', async () => {
    const client = seeded();
    const observer = new MutationObserver(
      client,
      addServiceOptions(client, fakeApi({ addService: () => Promise.reject(conflict('route any host /api is already served')) })),
    );
    await expect(observer.mutate(input)).rejects.toThrow('route any host /api is already served');
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.map((s) => s.name)).toEqual(['web']);
  });
});

describe('remove service mutation', () => {
  it('puts the service back when the server refuses', async () => {
    const client = seeded();
    const answer = deferred<void>();
    const observer = new MutationObserver(client, removeServiceOptions(client, fakeApi({ removeService: () => answer.promise })));
    const done = observer.mutate('web');
    await new Promise((r) => setTimeout(r, 0));
    expect(client.getQueryData<ServiceView[]>(servicesKey)).toEqual([]);
    answer.reject(conflict('service web comes from the config file: remove it there and reload'));
    await expect(done).rejects.toThrow('comes from the config file');
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.map((s) => s.name)).toEqual(['web']);
  });
});
