/*
 * Where everything listens. Loopback only (127.0.0.0/8), on addresses and ports clear of the
 * tests' and the demo's: those use 127.0.1.x, 127.10-199.x.y (lab subnets), 18080 and 181xx-184xx.
 */

/** The four upstream "pods", one port. */
export const POD_HOSTS = ['127.0.10.1', '127.0.10.2', '127.0.10.3', '127.0.10.4'] as const;
export const POD_PORT = 18700;

/** Proxies under test, each on its own port of 127.0.0.1. */
export const PROXY_HOST = '127.0.0.1';
export const PORTS = {
  podgate1w: 18701,
  podgate2w: 18702,
  fastify: 18703,
  httpProxy: 18704,
  nginx: 18705,
  caddy: 18706,
  podgateIdle: 18707,
  podgateProfile: 18708,
  podgateSoak: 18709,
} as const;

/** Admin API of each podgate run (it cannot be turned off); viewer token only. */
export const ADMIN_PORTS = { podgate1w: 18711, podgate2w: 18712, podgateIdle: 18717, podgateProfile: 18718, podgateSoak: 18719 } as const;

/** Source addresses of the idle keep-alive client, so 10,000 connections never run out of ports. */
export const IDLE_CLIENT_HOSTS = ['127.0.11.1', '127.0.11.2', '127.0.11.3', '127.0.11.4'] as const;

/**
 * The soak's pods: a LabCluster (pods come and go in rolling updates, each on a fresh address) in
 * 127.203.x.y, clear of the lab tests' subnets (10-199, 201-202) and of the four pods above.
 */
export const SOAK_SUBNET = 203;
export const SOAK_POD_PORT = 18790;
export const SOAK_DNS_NAME = 'soak.bench.svc.cluster.local';

/** The name the lab DNS server answers with the four pods. */
export const SERVICE_DNS_NAME = 'pods.bench.svc.cluster.local';

export function podUrls(): string[] {
  return POD_HOSTS.map((host) => `http://${host}:${POD_PORT}`);
}

/** Every address the bench listens on, to check that none is taken before it starts. */
export function allListenAddresses(): Array<{ host: string; port: number }> {
  return [
    ...POD_HOSTS.map((host) => ({ host, port: POD_PORT })),
    ...Object.values(PORTS).map((port) => ({ host: PROXY_HOST, port })),
    ...Object.values(ADMIN_PORTS).map((port) => ({ host: PROXY_HOST, port })),
  ];
}
