import { LabPod, proxyConfig, serviceConfig, type ServiceOverrides } from '@podgate/lab';
import { pino } from 'pino';
import { ProxyServer } from '@podgate/proxy';

export interface Harness {
  proxy: ProxyServer;
  url: string;
  pods: LabPod[];
  close(): Promise<void>;
}

/** A proxy on 127.0.0.1 with one service over `podCount` lab pods on 127.<subnet>.0.x. */
export async function startHarness(subnet: number, podCount: number, overrides: ServiceOverrides = {}, port = 18100 + subnet): Promise<Harness> {
  const pods: LabPod[] = [];
  for (let i = 1; i <= podCount; i++) pods.push(await LabPod.start({ name: `pod-${i}`, host: `127.${subnet}.0.${i}`, port }));
  const proxy = new ProxyServer({ config: proxyConfig([serviceConfig('svc', port, overrides)]), logger: pino({ level: 'silent' }) });
  const addr = await proxy.listen();
  proxy.setAddresses('svc', pods.map((p) => p.host));
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

