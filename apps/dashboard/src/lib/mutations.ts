import type { PeerAction, PeerView, ServiceInput, ServiceView } from '@podgate/protocol';
import type { MutationOptions, QueryClient } from '@tanstack/react-query';
import type { ApiClient } from './api-client.js';
import { serviceKey, servicesKey, updateService, writeService } from './feed-cache.js';
import {
  addServiceOptimistic,
  optimisticPeer,
  placeholderService,
  removeServiceOptimistic,
  rollbackAddService,
  rollbackPeer,
  rollbackRemoveService,
  withPeer,
} from './optimistic.js';

/*
 * The dashboard's mutations as react-query options, free of React so they are tested against a real
 * QueryClient: each shows its change at once, takes the server's answer when it comes, and undoes
 * only its own change when the server refuses (the page shows the error).
 */

export interface PeerActionVars {
  service: string;
  address: string;
  action: PeerAction;
}

type PeerRollback = { previous: PeerView; optimistic: PeerView } | null;

/** Drain, eject or restore a peer. */
export function peerActionOptions(
  client: QueryClient,
  api: ApiClient,
  now: () => number = Date.now,
): MutationOptions<PeerView, Error, PeerActionVars, PeerRollback> {
  return {
    mutationFn: ({ service, address, action }) => api.peerAction(service, address, action),
    onMutate: async ({ service, address, action }) => {
      await client.cancelQueries({ queryKey: serviceKey(service), exact: true });
      await client.cancelQueries({ queryKey: servicesKey, exact: true });
      const view = client.getQueryData<ServiceView>(serviceKey(service)) ?? client.getQueryData<ServiceView[]>(servicesKey)?.find((s) => s.name === service);
      const previous = view?.peers.find((p) => p.address === address);
      if (previous === undefined) return null;
      const optimistic = optimisticPeer(previous, action, now());
      updateService(client, service, (s) => withPeer(s, address, () => optimistic));
      return { previous, optimistic };
    },
    onError: (_err, { service, address }, rollback) => {
      if (rollback === null || rollback === undefined) return;
      updateService(client, service, (s) => withPeer(s, address, (current) => rollbackPeer(current, rollback.optimistic, rollback.previous)));
    },
    onSuccess: (peer, { service }) => {
      updateService(client, service, (s) => withPeer(s, peer.address, () => peer));
    },
  };
}

/** POST /services: listed at once (no pods yet), replaced by the server's view, taken back out on error. */
export function addServiceOptions(client: QueryClient, api: ApiClient): MutationOptions<ServiceView, Error, ServiceInput, { placeholder: ServiceView }> {
  return {
    mutationFn: (input) => api.addService(input),
    onMutate: async (input) => {
      await client.cancelQueries({ queryKey: servicesKey, exact: true });
      const placeholder = placeholderService(input);
      client.setQueryData<ServiceView[]>(servicesKey, (old) => addServiceOptimistic(old ?? [], placeholder));
      return { placeholder };
    },
    onError: (_err, _input, context) => {
      if (context === undefined) return;
      client.setQueryData<ServiceView[]>(servicesKey, (old) => (old === undefined ? old : rollbackAddService(old, context.placeholder)));
    },
    onSuccess: (view) => writeService(client, view),
  };
}

/** DELETE /services/:name: gone from the list at once, put back on error. */
export function removeServiceOptions(client: QueryClient, api: ApiClient): MutationOptions<void, Error, string, { previous: ServiceView | undefined }> {
  return {
    mutationFn: (name) => api.removeService(name),
    onMutate: async (name) => {
      await client.cancelQueries({ queryKey: servicesKey, exact: true });
      const previous = client.getQueryData<ServiceView[]>(servicesKey)?.find((s) => s.name === name);
      client.setQueryData<ServiceView[]>(servicesKey, (old) => (old === undefined ? old : removeServiceOptimistic(old, name)));
      return { previous };
    },
    onError: (_err, _name, context) => {
      const previous = context?.previous;
      if (previous === undefined) return;
      client.setQueryData<ServiceView[]>(servicesKey, (old) => rollbackRemoveService(old ?? [], previous));
    },
  };
}
