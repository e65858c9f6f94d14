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
