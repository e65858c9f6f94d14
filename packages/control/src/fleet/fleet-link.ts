import { createClient } from '@redis/client';
import type { Logger } from 'pino';
import { parseRecord, recordKey, type FleetChange, type FleetRecord } from './fleet-record.js';

/*
 * One instance's link to its fleet's Redis. Layout (docs/fleet.md), every key under
 * `podgate:<fleet>:`:
 *   version          INCR counter: the version of the next change
 *   state            hash, record key → the latest record (the snapshot a starting instance reads)
 *   changes          stream of records (field `r`), about the last 10,000: what an instance that
 *                    was cut off replays
 *   instances        set of instance ids
 *   instance:<id>    the instance's registration, set again every heartbeat with a 5 s expiry
 * A write is one script (INCR, HSET, XADD together), so the snapshot and the stream never disagree.
 */

export interface InstanceInfo {
  id: string;
  proxy: string;
  admin: string;
  version: string;
  startedAt: number;
}

export interface InstanceView extends InstanceInfo {
  self: boolean;
}

export type FleetState = 'connecting' | 'ok' | 'degraded';

export interface FleetStatus {
  name: string;
  state: FleetState;
  since: number;
  /** Why the fleet is degraded (the last Redis error), or null. */
  error: string | null;
  /** The highest change version applied here. */
  version: number;
}

export interface FleetLinkOptions {
  url: string;
  name: string;
  instance: InstanceInfo;
  logger: Logger;
  /** A record read from the fleet (its own included), in version order within a batch. */
  onRecords: (records: FleetRecord[], snapshot: boolean) => void;
  onStatus: (status: FleetStatus) => void;
  onInstances: (instances: InstanceView[]) => void;
  /**
   * What this instance holds, to write again when Redis comes back without the fleet's data (a
   * restart without persistence, a flushed database): runtime services, manual holds, live hints.
   */
  reseed: () => { change: FleetChange; actor: string }[];
}

/** A write the fleet could not acknowledge: the caller answers 503 and changes nothing. */
export class FleetUnavailableError extends Error {
  readonly code = 'PODGATE_FLEET_UNAVAILABLE';
}

const STREAM_MAXLEN = 10_000;
const HEARTBEAT_MS = 1000;
/** An instance not heard from for this long is gone (5 missed heartbeats). */
const INSTANCE_TTL_MS = 5000;
/** A write, snapshot or heartbeat that Redis has not answered in this long has failed. */
const COMMAND_TIMEOUT_MS = 2000;
const BLOCK_MS = 1000;
const READ_COUNT = 500;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

const WRITE_SCRIPT = `
local v = redis.call('INCR', KEYS[1])
local rec = '{"version":' .. v .. ',' .. string.sub(ARGV[2], 2)
redis.call('HSET', KEYS[2], ARGV[1], rec)
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'r', rec)
return {v, id}
`;

type Client = ReturnType<typeof createClient>;
/** XREAD's reply: per stream, its entries; node-redis gives it as an array or as a map. */
type StreamReply = [string, [string, string[]][]][] | Record<string, [string, string[]][]> | null;

export class FleetLink {
  private readonly commands: Client;
  private readonly reader: Client;
  private readonly prefix: string;
  private lastId: string | null = null;
  private highest = 0;
  private closed = false;
  private status: FleetStatus;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly loop: Promise<void>;
  private wake: (() => void) | null = null;

  constructor(private readonly options: FleetLinkOptions) {
    this.prefix = `podgate:${options.name}:`;
    this.status = { name: options.name, state: 'connecting', since: Date.now(), error: null, version: 0 };
    const clientOptions = {
      url: options.url,
      // A command sent while Redis is away fails at once instead of waiting in a queue: an
      // operator's write is refused (503), never acknowledged later or lost.
      disableOfflineQueue: true,
      socket: { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(RETRY_MIN_MS * 2 ** retries, RETRY_MAX_MS) },
    };
    this.commands = createClient(clientOptions);
    this.reader = createClient(clientOptions);
    for (const client of [this.commands, this.reader]) {
      client.on('error', (err: Error) => this.degrade(err));
    }
    this.loop = this.run();
  }

  get fleetStatus(): FleetStatus {
    return this.status;
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  /** Writes a change and resolves with its record once Redis acknowledged it. */
  async publish(change: FleetChange, actor: string): Promise<FleetRecord> {
    if (this.status.state !== 'ok' || !this.commands.isReady)
      throw new FleetUnavailableError(`the fleet's Redis is unavailable (${this.status.error ?? 'connecting'}): nothing was changed`);
    const body = JSON.stringify({ instance: this.options.instance.id, actor, at: Date.now(), change });
    let reply: unknown;
    try {
      reply = await withTimeout(
        this.commands.sendCommand([
          'EVAL',
          WRITE_SCRIPT,
          '3',
          this.key('version'),
          this.key('state'),
          this.key('changes'),
          recordKey(change),
          body,
          String(STREAM_MAXLEN),
        ]),
        'write',
      );
    } catch (err) {
      this.degrade(err as Error);
      // Sent but unanswered: Redis may have stored it just before failing. Then it is in the stream,
      // and every instance (this one too) applies it when Redis is back; it was not acknowledged.
      throw new FleetUnavailableError(
        `the fleet's Redis did not acknowledge the change (${(err as Error).message}): it was not made here; should Redis have stored it before failing, every instance applies it once Redis is back`,
      );
    }
    const [version] = reply as [number, string];
    const record = JSON.parse(`{"version":${version},${body.slice(1)}`) as FleetRecord;
    this.highest = Math.max(this.highest, version);
    // The writer has applied it (or is about to): its version shows at once, not when the stream echoes it.
    this.publishVersion();
    return record;
  }

  /** The instances whose registration has not expired, this one marked. */
  async instances(): Promise<InstanceView[]> {
    const ids = (await withTimeout(this.commands.sendCommand(['SMEMBERS', this.key('instances')]), 'instances')) as string[];
    if (ids.length === 0) return [];
    const values = (await withTimeout(this.commands.sendCommand(['MGET', ...ids.map((id) => this.key(`instance:${id}`))]), 'instances')) as (string | null)[];
    const live: InstanceView[] = [];
    const gone: string[] = [];
    values.forEach((value, i) => {
      if (value === null) gone.push(ids[i] as string);
      else live.push({ ...(JSON.parse(value) as InstanceInfo), self: ids[i] === this.options.instance.id });
    });
    if (gone.length > 0) await this.commands.sendCommand(['SREM', this.key('instances'), ...gone]);
    return live.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.wake?.();
    if (this.commands.isReady) {
      // Leave at once rather than age out: the others' Instances page is right sooner.
      await withTimeout(this.commands.sendCommand(['DEL', this.key(`instance:${this.options.instance.id}`)]), 'leave').catch(() => undefined);
    }
    for (const client of [this.commands, this.reader]) {
      if (client.isOpen) client.destroy();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        if (!this.commands.isOpen) await this.commands.connect();
        if (!this.reader.isOpen) await this.reader.connect();
        await this.catchUp();
        await this.register();
        this.setState('ok', null);
        failures = 0;
        this.heartbeat ??= setInterval(() => void this.beat(), HEARTBEAT_MS);
        while (!this.closed && this.status.state === 'ok') await this.tail();
      } catch (err) {
        if (this.closed) break;
        this.degrade(err as Error);
        failures++;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, Math.min(RETRY_MIN_MS * 2 ** failures, RETRY_MAX_MS)).unref();
        });
        this.wake = null;
      }
    }
  }

  /**
   * After a start or a reconnect: replay the stream from the last record seen, or read the
   * snapshot when this instance has seen nothing yet or the stream no longer reaches back that
   * far. A Redis whose counter is below what this instance saw lost the fleet's data: write what
   * this instance holds back first.
   */
  private async catchUp(): Promise<void> {
    const counter = Number((await withTimeout(this.commands.sendCommand(['GET', this.key('version')]), 'catch up')) ?? 0);
    if (counter < this.highest) {
      const held = this.options.reseed();
      this.options.logger.warn(
        { fleet: this.options.name, counter, seen: this.highest, records: held.length },
        "the fleet's Redis came back without the fleet's changes: writing this instance's state back",
      );
      this.lastId = null;
      this.highest = 0;
      this.setState('ok', null);
      for (const { change, actor } of held) await this.publish(change, actor);
    }
    if (this.lastId !== null) {
      const first = (await withTimeout(this.commands.sendCommand(['XRANGE', this.key('changes'), '-', '+', 'COUNT', '1']), 'catch up')) as [string, string[]][];
      const oldest = first[0]?.[0];
      if (oldest === undefined || compareIds(oldest, this.lastId) <= 0) return;
      // Trimmed past what this instance saw: the snapshot has everything.
    }
    await this.snapshot();
  }

  private async snapshot(): Promise<void> {
    const replies = (await withTimeout(
      this.commands
        .multi()
        .addCommand(['HGETALL', this.key('state')])
        .addCommand(['XREVRANGE', this.key('changes'), '+', '-', 'COUNT', '1'])
        .exec(),
      'snapshot',
    )) as unknown as [string[] | Record<string, string>, [string, string[]][]];
    const [state, last] = replies;
    const values = Array.isArray(state) ? state.filter((_, i) => i % 2 === 1) : Object.values(state);
    const records = values
      .map(parseRecord)
      .filter((r): r is FleetRecord => r !== null)
      .sort((a, b) => a.version - b.version);
    this.lastId = last[0]?.[0] ?? '0-0';
    for (const r of records) this.highest = Math.max(this.highest, r.version);
    this.options.onRecords(records, true);
    this.publishVersion();
  }

  private async tail(): Promise<void> {
    const reply = (await this.reader.sendCommand([
      'XREAD',
      'COUNT',
      String(READ_COUNT),
      'BLOCK',
      String(BLOCK_MS),
      'STREAMS',
      this.key('changes'),
      this.lastId ?? '$',
    ])) as StreamReply;
    if (reply === null) return;
    const records: FleetRecord[] = [];
    for (const [, entries] of Array.isArray(reply) ? reply : Object.entries(reply)) {
      for (const [id, fields] of entries) {
        this.lastId = id;
        const text = fields[fields.indexOf('r') + 1];
        const record = text === undefined ? null : parseRecord(text);
        if (record === null) continue;
        this.highest = Math.max(this.highest, record.version);
        records.push(record);
      }
    }
    if (records.length > 0) this.options.onRecords(records, false);
    this.publishVersion();
  }

  private async register(): Promise<void> {
    const me = this.options.instance;
    await withTimeout(
      this.commands
        .multi()
        .addCommand(['SADD', this.key('instances'), me.id])
        .addCommand(['SET', this.key(`instance:${me.id}`), JSON.stringify(me), 'PX', String(INSTANCE_TTL_MS)])
        .exec(),
      'register',
    );
    this.options.onInstances(await this.instances());
  }

  private async beat(): Promise<void> {
    if (this.status.state !== 'ok') return;
    try {
      await this.register();
    } catch (err) {
      this.degrade(err as Error);
    }
  }

  private degrade(err: Error): void {
    if (this.closed) return;
    const message = err.message || String(err);
    if (this.status.state !== 'degraded')
      this.options.logger.warn(
        { fleet: this.options.name, err: message },
        `fleet degraded: ${message}; serving from the last known state, operator changes refused until Redis is back`,
      );
    this.setState('degraded', message);
    // The tail's blocking read may hang on a half-dead socket: a fresh connection next round.
    if (this.reader.isOpen) this.reader.destroy();
    this.wake?.();
  }

  private setState(state: FleetState, error: string | null): void {
    if (this.status.state === state && this.status.error === error) return;
    const recovered = this.status.state === 'degraded' && state === 'ok';
    this.status = { ...this.status, state, error, since: state === this.status.state ? this.status.since : Date.now() };
    if (recovered) this.options.logger.info({ fleet: this.options.name }, 'fleet recovered: Redis is back, changes replayed');
    this.options.onStatus(this.status);
  }

  private publishVersion(): void {
    if (this.status.version === this.highest) return;
    this.status = { ...this.status, version: this.highest };
  }
}

/** Compares two stream ids (`ms-seq`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer the ${what} in ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
