import { LabDnsServer, LabPod, nodeRequest, proxyConfig, serviceConfig } from '@podgate/lab';
import type { EventView, PodgateConfig, ServiceConfig } from '@podgate/protocol';
import type { ProxyServer } from '@podgate/proxy';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { levelOf } from '../src/event-level.js';
import { ControlPlane, startInProcessDataPlane } from '../src/index.js';

const NAME = 'levels.lab.svc.cluster.local';
const PORT = 18319;
const logger = pino({ level: 'silent' });
let dns: LabDnsServer;
let pods: LabPod[];
let control: ControlPlane;
let proxy: ProxyServer;
let url: string;

function config(): PodgateConfig {
  const c = proxyConfig([serviceConfig('svc', PORT, { dnsName: NAME })]);
  c.dns = { ...c.dns, nameservers: [dns.nameserver], minRefreshMs: 200, maxRefreshMs: 1000 };
  return c;
}

function publish(listed: readonly LabPod[]): void {
  dns.setRecords(NAME, { a: listed.map((p) => p.host), ttl: 1 });
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Requests until one lands on the dead pod and ejects it; returns its ejection event. */
async function ejectionOf(address: string): Promise<EventView> {
  const ejected = (): EventView | undefined => control.events(0, 1000).events.find((e) => e.type === 'peer_ejected' && e.address === address);
  for (let i = 0; i < 20 && ejected() === undefined; i++) await nodeRequest(`${url}/recognize`, { method: 'POST', body: 'x' });
  const event = ejected();
  if (event === undefined) throw new Error(`${address} was never ejected`);
  return event;
}

const current = (id: number): EventView | undefined => control.events(id - 1, 1).events[0];

beforeEach(async () => {
  dns = await LabDnsServer.start();
  pods = [];
  for (let i = 1; i <= 3; i++) pods.push(await LabPod.start({ name: `levels-${i}`, host: `127.219.0.${i}`, port: PORT }));
  publish(pods);
  control = await ControlPlane.start({ config: config(), parseService: (input) => input as ServiceConfig, logger });
  ({ proxy } = startInProcessDataPlane(control, config(), logger));
  url = `http://127.0.0.1:${(await proxy.listen()).port}`;
  await until(() => (proxy.service('svc')?.table.size ?? 0) === 3);
});

afterEach(async () => {
  await proxy.close(100);
  await control.close();
  await Promise.all(pods.map((p) => p.close()));
  await dns.close();
});

describe('event levels', () => {
  it("settles a rollout's ejection as routine, in place, once DNS stops listing the pod", async () => {
    const [gone, ...rest] = pods as [LabPod, ...LabPod[]];
    const sent: EventView[] = [];
    control.subscribe((change) => {
      if (change.kind === 'event') sent.push(change.event);
    });
    // Kubernetes unlists a terminating pod as it signals it; podgate's cached answer still lists it.
    await gone.terminate('refuse');
    publish(rest);
    const ejection = await ejectionOf(gone.address);
    expect(ejection.level).toBe('notice');
    // Refused at connect, or cut on a kept connection, depending on which the next request met.
    expect(['connect_refused', 'closed_before_header', 'reset_before_header']).toContain(ejection.reason);
    await until(() => current(ejection.id)?.level !== 'notice');
    expect(current(ejection.id)).toMatchObject({
      level: 'routine',
      detail: expect.stringMatching(/; left DNS (\d+ ms|\d+\.\d s) later: a routine termination$/),
    });
    // The feed sent the same event again, settled.
    expect(sent.filter((e) => e.id === ejection.id).map((e) => e.level)).toEqual(['notice', 'routine']);
  });

  it('settles the ejection of a pod DNS still lists as an alert, once a query sent 2 s later still lists it', async () => {
    const [dead] = pods as [LabPod];
    await dead.terminate('refuse');
    const ejection = await ejectionOf(dead.address);
    expect(ejection.level).toBe('notice');
    await until(() => current(ejection.id)?.level !== 'notice');
    expect(current(ejection.id)).toMatchObject({
      level: 'alert',
      detail: expect.stringMatching(/; DNS still lists it \d\.\d s later: a pod in rotation is failing$/),
    });
  });

  it('records membership churn as routine, rescued requests and DNS failures as notices, and a service left without pods as an alert', () => {
    expect(['peer_added', 'peer_removed', 'peer_terminating', 'peer_returned', 'operator_action', 'dns_recovered'].map((t) => levelOf(t))).toEqual(
      Array(6).fill('routine'),
    );
    expect(levelOf('peer_ejected', 'operator_eject')).toBe('routine');
    expect([levelOf('requests_rescued'), levelOf('dns_failed'), levelOf('dns_empty'), levelOf('peer_ejected', 'stalled')]).toEqual(Array(4).fill('notice'));
    expect([levelOf('dns_emptied'), levelOf('panic_entered'), levelOf('fleet_degraded'), levelOf('peer_ejected', 'consecutive_5xx')]).toEqual(
      Array(4).fill('alert'),
    );
  });
});
