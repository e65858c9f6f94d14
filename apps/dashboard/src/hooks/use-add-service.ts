import { useMutation, useQueryClient } from '@tanstack/react-query';
import { addServiceOptions } from '../lib/mutations.js';
import { useSession } from './session-context.js';

/** POST /services: listed at once, replaced by the server's view, taken back out on error. */
export function useAddService() {
  const { api } = useSession();
  const client = useQueryClient();
  return useMutation(addServiceOptions(client, api));
}
