import { useMutation, useQueryClient } from '@tanstack/react-query';
import { peerActionOptions } from '../lib/mutations.js';
import { useSession } from './session-context.js';

/** Drain, eject or restore a peer: shown at once, confirmed by the server's PeerView, undone on error. */
export function usePeerAction() {
  const { api } = useSession();
  const client = useQueryClient();
  return useMutation(peerActionOptions(client, api));
}
