import { LabRedis } from '@podgate/lab';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetLink, FleetUnavailableError, type FleetStatus, type InstanceView } from '../src/fleet/fleet-link.js';
import { FleetLedger, type FleetChange, type FleetRecord } from '../src/fleet/fleet-record.js';

interface Node {
  link: FleetLink;
  ledger: FleetLedger;
  records: FleetRecord[];
  statuses: FleetStatus[];
  instances: InstanceView[];
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FleetLink against a real redis-server', () => {
  const redises: LabRedis[] = [];
  const links: FleetLink[] = [];
  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await Promise.all(redises.splice(0).map((r) => r.close()));
  });

  function join(redis: LabRedis, id: string, fleet = 'test'): Node {
    const ledger = new FleetLedger();
    const records: FleetRecord[] = [];
    const statuses: FleetStatus[] = [];
    let instances: InstanceView[] = [];
    const link = new FleetLink({
      url: redis.url,
      name: fleet,
      instance: { id, proxy: '127.0.0.1:1', admin: '127.0.0.1:2', version: 'test', startedAt: Date.now() },
      logger: pino({ level: 'silent' }),
      onRecords: (batch) => {
        for (const r of batch) if (ledger.accept(r)) records.push(r);
      },
      onStatus: (s) => statuses.push(s),
      onInstances: (list) => (instances = list),
      reseed: () => ledger.records().map((r) => ({ change: r.change, actor: r.actor })),
    });
    links.push(link);
    return {
      link,
      ledger,
      records,
      statuses,
      get instances() {
        return instances;
      },
    };
  }

  const drain: FleetChange = { kind: 'peer_held', service: 'svc', address: '127.0.0.9:80', hold: 'drain' };

  it('delivers a change written by one instance to the others, under one increasing version', async () => {
    const redis = await LabRedis.start();
    redises.push(redis);
    const a = join(redis, 'a');
    const b = join(redis, 'b');
    await until(() => a.link.fleetStatus.state === 'ok' && b.link.fleetStatus.state === 'ok');
    const first = await a.link.publish(drain, 'alice');
    const second = await b.link.publish({ kind: 'peer_restored', service: 'svc', address: '127.0.0.9:80' }, 'bob');
    expect(second.version).toBeGreaterThan(first.version);
    await until(() => a.records.length === 2 && b.records.length === 2);
    expect(b.records.map((r) => [r.instance, r.actor, r.change.kind])).toEqual([
      ['a', 'alice', 'peer_held'],
      ['b', 'bob', 'peer_restored'],
    ]);
    await until(() => a.instances.length === 2);
    expect(a.instances.map((i) => [i.id, i.self])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('refuses writes while Redis is down, replays what it missed once Redis is back (appendonly)', async () => {
    const redis = await LabRedis.start({ appendonly: true });
    redises.push(redis);
    const a = join(redis, 'a');
    const b = join(redis, 'b');
    await until(() => a.link.fleetStatus.state === 'ok' && b.link.fleetStatus.state === 'ok');
    await a.link.publish(drain, 'alice');
    await until(() => b.records.length === 1);
    await redis.kill9();
    await expect(a.link.publish({ ...drain, hold: 'eject' }, 'alice')).rejects.toBeInstanceOf(FleetUnavailableError);
    await until(() => a.link.fleetStatus.state === 'degraded' && b.link.fleetStatus.state === 'degraded');
    expect(a.link.fleetStatus.error).not.toBeNull();
    await redis.restart();
    // Written as soon as A is back, while B may still be reconnecting: B replays it from the stream.
    await until(() => a.link.fleetStatus.state === 'ok', 10_000);
    await a.link.publish({ ...drain, hold: 'eject' }, 'alice');
    await until(() => b.link.fleetStatus.state === 'ok' && b.records.length === 2, 10_000);
    // Each new Redis error is a status of its own; the states in order are these.
    expect(b.statuses.map((s) => s.state).filter((s, i, all) => s !== all[i - 1])).toEqual(['ok', 'degraded', 'ok']);
    expect(b.ledger.get('hold:svc|127.0.0.9:80')?.change).toMatchObject({ hold: 'eject' });
  });

  it('writes its state back when Redis returns without the fleet data (no persistence)', async () => {
    const redis = await LabRedis.start();
    redises.push(redis);
    const a = join(redis, 'a');
    await until(() => a.link.fleetStatus.state === 'ok');
    await a.link.publish(drain, 'alice');
    await until(() => a.records.length === 1);
    await redis.kill9();
    await redis.restart();
    await until(() => a.link.fleetStatus.state === 'ok' && a.link.fleetStatus.since > 0, 10_000);
    // A newcomer reads the snapshot, which the first instance wrote back.
    const b = join(redis, 'b');
    await until(() => b.ledger.get('hold:svc|127.0.0.9:80') !== undefined, 10_000);
    expect(b.ledger.get('hold:svc|127.0.0.9:80')?.change).toMatchObject({ hold: 'drain' });
    expect(b.ledger.get('hold:svc|127.0.0.9:80')?.actor).toBe('alice');
  });

  it('keeps fleets apart by name', async () => {
    const redis = await LabRedis.start();
    redises.push(redis);
    const a = join(redis, 'a', 'one');
    const b = join(redis, 'b', 'two');
    await until(() => a.link.fleetStatus.state === 'ok' && b.link.fleetStatus.state === 'ok');
    await a.link.publish(drain, 'alice');
    await until(() => a.records.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.records).toEqual([]);
    expect(b.instances.map((i) => i.id)).toEqual(['b']);
  });
});
