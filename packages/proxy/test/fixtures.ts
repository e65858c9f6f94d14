import { LabPod, proxyConfig, serviceConfig, type ServiceOverrides } from '@podgate/lab';
import { pino } from 'pino';
import { ProxyServer } from '@podgate/proxy';
import type { FrontSetting } from '../src/front/front-choice.js';

export interface Harness {
  proxy: ProxyServer;
  url: string;
  pods: LabPod[];
  close(): Promise<void>;
}

/** A proxy on 127.0.0.1 with one service over `podCount` lab pods on 127.<subnet>.0.x; `front` serves its clients. */
export async function startHarness(
  subnet: number,
  podCount: number,
  overrides: ServiceOverrides = {},
  port = 18100 + subnet,
  front: FrontSetting = 'native',
): Promise<Harness> {
  const pods: LabPod[] = [];
  for (let i = 1; i <= podCount; i++) pods.push(await LabPod.start({ name: `pod-${i}`, host: `127.${subnet}.0.${i}`, port }));
  const config = proxyConfig([serviceConfig('svc', port, overrides)]);
  config.front = front;
  const proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
  const addr = await proxy.listen();
  if (front !== 'auto' && proxy.frontKind !== front) throw new Error(`the harness asked for the ${front} front and got ${String(proxy.frontKind)}`);
  proxy.setAddresses(
    'svc',
    pods.map((p) => p.host),
  );
  return {
    proxy,
    url: `http://127.0.0.1:${addr.port}`,
    pods,
    async close() {
      await proxy.close(100);
      await Promise.all(pods.map((p) => p.close()));
    },
  };
}

// Issue 5: every mechanism is measured with the slow timeouts an operator would configure, so a
// test passes only when the mechanism (not a timeout) made it fast.
const SLOW = { timeouts: { connectMs: 5000, responseHeaderMs: 10_000 } } satisfies ServiceOverrides;

/** A proxy with slow timeouts over `hosts` (service `svc` on `port`); its close goes on `cleanup`. */
export async function slowProxyOver(port: number, hosts: string[], overrides: ServiceOverrides, cleanup: (() => Promise<void>)[]) {
  const proxy = new ProxyServer({ config: proxyConfig([serviceConfig('svc', port, { ...SLOW, ...overrides })]), logger: pino({ level: 'silent' }) });
  const address = await proxy.listen();
  cleanup.push(() => proxy.close(100));
  proxy.setAddresses('svc', hosts);
  const service = proxy.service('svc');
  if (service === undefined) throw new Error('no service');
  return { url: `http://127.0.0.1:${address.port}`, proxy, service, peer: (host: string) => service.table.get(`${host}:${port}`) };
}
