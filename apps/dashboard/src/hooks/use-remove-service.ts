import { useMutation, useQueryClient } from '@tanstack/react-query';
import { removeServiceOptions } from '../lib/mutations.js';
import { useSession } from './session-context.js';

/** DELETE /services/:name: gone from the list at once, put back on error. */
export function useRemoveService() {
  const { api } = useSession();
  const client = useQueryClient();
  return useMutation(removeServiceOptions(client, api));
}
