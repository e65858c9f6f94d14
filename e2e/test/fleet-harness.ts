import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Podgate, resolveConfig } from '@podgate/podgate';
import type { LabDnsServer } from '@podgate/lab';
import type { PeerView, ServiceView } from '@podgate/protocol';
import { request } from 'undici';

/*
 * Instances of one fleet, each a whole podgate (its own control plane, data plane, state
 * directory, proxy and admin ports) in this process, sharing a test's own redis-server.
 */

export const OPERATOR_TOKEN = 'fleet-e2e-operator-token-0123456789';
export const SERVICE = 'images';
export const DNS_NAME = 'images.fleet.svc.cluster.local';
export const POD_PORT = 18090;

export interface FleetInstance {
  podgate: Podgate;
  stateDir: string;
  id: string;
  url: string;
  admin: string;
}

export async function startInstance(dns: LabDnsServer, redisUrl: string, stateDir = mkdtempSync(join(tmpdir(), 'podgate-fleet-'))): Promise<FleetInstance> {
  const podgate = await Podgate.start(
    resolveConfig({
      listen: '127.0.0.1:0',
      dns: { nameservers: [dns.nameserver], timeout: '300ms', attempts: 2, minRefresh: '500ms', maxRefresh: '5s', jitter: 0 },
      log: { level: 'silent' },
      workers: 1,
      stateDir,
      admin: { listen: '127.0.0.1:0', tokens: [{ name: 'alice', token: OPERATOR_TOKEN, role: 'operator' }] },
      services: { [SERVICE]: { dnsName: DNS_NAME, port: POD_PORT, timeouts: { connect: '1s', responseHeader: '5s' } } },
      fleet: { redis: redisUrl, name: 'e2e' },
    }),
    { dashboardDir: null },
  );
  return { podgate, stateDir, id: podgate.control.fleet().self, url: `http://127.0.0.1:${podgate.port}`, admin: `http://${podgate.adminAddress}` };
}

/** An admin API call with the operator token. */
export async function api(
  instance: FleetInstance,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await request(`${instance.admin}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

export function peerOf(instance: FleetInstance, address: string, service = SERVICE): PeerView | undefined {
  return instance.podgate.control.getService(service)?.peers.find((p) => p.address === address);
}

export function serviceOf(instance: FleetInstance, name: string): ServiceView | null {
  return instance.podgate.control.getService(name);
}

export async function until(check: () => boolean, ms: number, what = 'condition'): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}
