import { useQuery } from '@tanstack/react-query';
import { instanceFacts, statusKey, type InstanceFacts } from '../lib/instance-status.js';
import { useSession } from './session-context.js';

// The version and address do not change while the page is open; the workers serving may (a worker restarting).
const REFRESH_MS = 30_000;

/** The header's facts about the podgate the page talks to. */
export function useInstanceStatus() {
  const { api } = useSession();
  return useQuery<InstanceFacts>({
    queryKey: statusKey,
    queryFn: async () => instanceFacts(await api.status(), Date.now()),
    staleTime: REFRESH_MS,
    refetchInterval: REFRESH_MS,
  });
}
