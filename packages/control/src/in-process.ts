import type { PodgateConfig } from '@podgate/protocol';
import type { Logger } from 'pino';
import { ProxyServer } from '@podgate/proxy';
import type { ControlPlane } from './control-plane.js';
import { DataPlaneAgent } from '@podgate/proxy';

/**
 * `workers: 1`: the data plane in the primary's own process, attached to the control plane by the
 * same messages as a worker process — copied, as IPC would, so neither side shares objects.
 */
export function startInProcessDataPlane(
  control: ControlPlane,
  config: PodgateConfig,
  logger: Logger,
  worker = 1,
): { proxy: ProxyServer; agent: DataPlaneAgent } {
  let agent: DataPlaneAgent | null = null;
  const proxy = new ProxyServer({
    config: { ...config, services: [] },
    logger,
    onPeerEvent: (e) => agent?.onLocalEvent(e),
    onNotice: (n) => agent?.onNotice(n),
  });
  const ready = new DataPlaneAgent(proxy, worker, (m) => control.fromWorker(worker, structuredClone(m)));
  agent = ready;
  control.attachWorker(worker, (m) => void ready.receive(structuredClone(m)));
  return { proxy, agent: ready };
}
