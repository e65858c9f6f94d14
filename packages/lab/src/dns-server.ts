import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv4, type Server, type Socket } from 'node:net';
import { LabDnsError } from './dns-error.js';
import {
  DnsClass,
  DnsRcode,
  DnsType,
  answerRecordBytes,
  encodeResponse,
  ipv4Rdata,
  MAX_MESSAGE_BYTES,
  ipv6Rdata,
  parseQuery,
  type DnsAnswer,
  type DnsResponse,
} from './dns-wire.js';

export { LabDnsError, type LabDnsErrorCode } from './dns-error.js';

export interface LabDnsServerOptions {
  /** Loopback address to bind (127.0.0.0/8 or ::1). Default 127.0.0.1. */
  host?: string;
  /** Port for both UDP and TCP. Default 0: an ephemeral port free on both. */
  port?: number;
  /**
   * Largest UDP answer (bytes). Default 512 (RFC 1035 §4.2.1). Bigger answers go out truncated (TC
   * bit, no answer section) so the resolver retries over TCP. An EDNS0 payload size is honoured only
   * up to this value. Over TCP an answer is at most 65,535 bytes: a bigger one carries the records
   * that fit, with TC set (as CoreDNS does).
   */
  maxUdpPayload?: number;
  /**
   * Answer as a stale caching resolver between podgate and the cluster DNS would: each change of a
   * name (setRecords, removeName) becomes visible only this long after it was made, the previous
   * answer being served until then (issue 12: DNS that lags the cluster by seconds). Default 0.
   * A name first set after start is NXDOMAIN for that long; setStaleMs() turns staleness on later.
   */
  staleMs?: number;
  /** Clock in ms, for tests; default Date.now. */
  now?: () => number;
}

export interface LabDnsRecords {
  a?: string[];
  aaaa?: string[];
  /** Seconds. Default 5. */
  ttl?: number;
}

export interface LabDnsStats {
  udpQueries: number;
  tcpQueries: number;
  /** UDP answers sent truncated (TC, no records) so the resolver asks again over TCP. */
  truncated: number;
  /** TCP answers too big for one DNS message (64 KiB), sent with the records that fit and TC set. */
  tcpTruncated: number;
}

interface StoredRecords {
  a: Buffer[];
  aaaa: Buffer[];
  ttl: number;
}

/** One change of a name: its records (null: removed) as answered from `visibleAt` on. */
interface NameVersion {
  visibleAt: number;
  records: StoredRecords | null;
}

// CoreDNS's kubernetes plugin answers with a 5 s TTL by default.
const DEFAULT_TTL_SECONDS = 5;
// RFC 1035 §4.2.1: UDP messages are 512 bytes or less unless EDNS0 says otherwise.
const CLASSIC_UDP_PAYLOAD = 512;
// RFC 2181 §8: a TTL is an unsigned 31-bit number.
const MAX_TTL_SECONDS = 2 ** 31 - 1;
// RFC 7766 §6.2.3 asks servers to close idle TCP connections after a few seconds.
const TCP_IDLE_TIMEOUT_MS = 5_000;
const MAX_TCP_CONNECTIONS = 128;
// Ephemeral ports are picked for UDP; TCP on the same number is free almost always, so a few tries do.
const BIND_ATTEMPTS = 8;
// A day: far longer than any test, and a typo in seconds-vs-ms shows up as an error.
const MAX_STALE_MS = 24 * 3600_000;

/** A DNS server for tests and the demo, speaking RFC 1035 over UDP and TCP on one loopback port. */
export class LabDnsServer {
  readonly host: string;
  readonly port: number;
  readonly stats: LabDnsStats = { udpQueries: 0, tcpQueries: 0, truncated: 0, tcpTruncated: 0 };

  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #maxUdpPayload: number;
  readonly #now: () => number;
  /** Each name's changes in the order they were made; the last visible one is answered. */
  readonly #versions = new Map<string, NameVersion[]>();
  #staleMs: number;
  readonly #connections = new Set<Socket>();
  #silent = false;
  #servfail: boolean | 'A' | 'AAAA' = false;
  /** Names that fail on their own (failName), the others answering as usual. */
  readonly #failingNames = new Map<string, 'servfail' | 'silent'>();
  #closing: Promise<void> | null = null;

  private constructor(host: string, port: number, maxUdpPayload: number, staleMs: number, now: () => number, udp: UdpSocket, tcp: Server) {
    this.host = host;
    this.port = port;
    this.#maxUdpPayload = maxUdpPayload;
    this.#staleMs = staleMs;
    this.#now = now;
    this.#udp = udp;
    this.#tcp = tcp;
    udp.on('message', (message, remote) => this.#onUdpMessage(message, remote.address, remote.port));
    // A send to a vanished client must not crash the test run.
    udp.on('error', () => undefined);
    tcp.on('connection', (socket) => this.#onTcpConnection(socket));
    tcp.on('error', () => undefined);
  }

  static async start(options: LabDnsServerOptions = {}): Promise<LabDnsServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const maxUdpPayload = options.maxUdpPayload ?? CLASSIC_UDP_PAYLOAD;
    const staleMs = options.staleMs ?? 0;
    checkStaleMs(staleMs);
    if (!isLoopback(host)) {
      throw new LabDnsError('PODGATE_LAB_DNS_INVALID_OPTION', `invalid host ${host}: the lab binds loopback only`);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new LabDnsError('PODGATE_LAB_DNS_INVALID_OPTION', `invalid port ${port}`);
    }
    // RFC 6891 §6.2.5: payload sizes under 512 are treated as 512.
    if (!Number.isInteger(maxUdpPayload) || maxUdpPayload < CLASSIC_UDP_PAYLOAD || maxUdpPayload > 65_535) {
      throw new LabDnsError('PODGATE_LAB_DNS_INVALID_OPTION', `invalid maxUdpPayload ${maxUdpPayload} (512 to 65535)`);
    }
    let lastError: unknown = null;
    for (let attempt = 0; attempt < (port === 0 ? BIND_ATTEMPTS : 1); attempt += 1) {
      const udp = createSocket(isIPv4(host) ? 'udp4' : 'udp6');
      try {
        await bindUdp(udp, host, port);
      } catch (error) {
        udp.close();
        lastError = error;
        continue;
      }
      const tcp = createServer();
      tcp.maxConnections = MAX_TCP_CONNECTIONS;
      try {
        await listenTcp(tcp, host, udp.address().port);
        return new LabDnsServer(host, udp.address().port, maxUdpPayload, staleMs, options.now ?? Date.now, udp, tcp);
      } catch (error) {
        udp.close();
        lastError = error;
      }
    }
    throw new LabDnsError('PODGATE_LAB_DNS_BIND_FAILED', `cannot bind UDP and TCP on ${host}:${port}`, {
      cause: lastError,
    });
  }

  /** `host:port` as podgate's `dns.nameservers` and `Resolver#setServers` expect it. */
  get nameserver(): string {
    return isIPv4(this.host) ? `${this.host}:${this.port}` : `[${this.host}]:${this.port}`;
  }

  /** Replaces every record of `name` (case-insensitive, trailing dot optional). */
  setRecords(name: string, records: LabDnsRecords): void {
    const ttl = records.ttl ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
      throw new LabDnsError('PODGATE_LAB_DNS_INVALID_OPTION', `invalid ttl ${ttl} for ${name}`);
    }
    this.#change(normaliseName(name), {
      a: (records.a ?? []).map((address) => rdataOrThrow(ipv4Rdata(address), address, 'IPv4')),
      aaaa: (records.aaaa ?? []).map((address) => rdataOrThrow(ipv6Rdata(address), address, 'IPv6')),
      ttl,
    });
  }

  /** Later queries for `name` get NXDOMAIN (staleMs later when stale). */
  removeName(name: string): void {
    this.#change(normaliseName(name), null);
  }

  /** The staleness of changes made from now on (see `staleMs`); earlier changes keep theirs. */
  setStaleMs(staleMs: number): void {
    checkStaleMs(staleMs);
    this.#staleMs = staleMs;
  }

  get staleMs(): number {
    return this.#staleMs;
  }

  /** While silent, every query is dropped: UDP ignored, TCP accepted but never answered. */
  setSilent(silent: boolean): void {
    this.#silent = silent;
  }

  /** While set, every query (or only those of one type, e.g. AAAA) is answered SERVFAIL. */
  setServfail(servfail: boolean, only?: 'A' | 'AAAA'): void {
    this.#servfail = servfail ? (only ?? true) : false;
  }

  /**
   * While set, queries for `name` alone fail: answered SERVFAIL, or dropped (`silent`) as by an
   * upstream that times out; null ends it. Other names answer as usual.
   */
  failName(name: string, failure: 'servfail' | 'silent' | null): void {
    const key = normaliseName(name);
    if (failure === null) this.#failingNames.delete(key);
    else this.#failingNames.set(key, failure);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const socket of this.#connections) socket.destroy();
      this.#connections.clear();
      let pending = 2;
      const done = (): void => {
        pending -= 1;
        if (pending === 0) resolve();
      };
      this.#tcp.close(done);
      this.#udp.close(done);
    });
    return this.#closing;
  }

  #change(key: string, records: StoredRecords | null): void {
    const versions = this.#versions.get(key) ?? [];
    versions.push({ visibleAt: this.#now() + this.#staleMs, records });
    this.#versions.set(key, versions);
    this.#visible(key);
  }

  /** The records answered now for `key` (null: NXDOMAIN); drops the versions no query can see again. */
  #visible(key: string): StoredRecords | null {
    const versions = this.#versions.get(key);
    if (versions === undefined) return null;
    const now = this.#now();
    // The latest change already visible wins, even over an earlier one still pending (staleness
    // lowered in between): each change shows staleMs after it was made, never an older one after it.
    let shown = -1;
    for (let i = versions.length - 1; i >= 0; i--) {
      if ((versions[i] as NameVersion).visibleAt <= now) {
        shown = i;
        break;
      }
    }
    if (shown > 0) versions.splice(0, shown);
    if (versions.length === 1 && shown >= 0 && versions[0]?.records === null) this.#versions.delete(key);
    return shown >= 0 ? (versions[0] as NameVersion).records : null;
  }

  #onUdpMessage(message: Buffer, address: string, port: number): void {
    this.stats.udpQueries += 1;
    if (this.#silent) return;
    const reply = this.#answer(message, 'udp');
    if (reply !== null && this.#closing === null) this.#udp.send(reply, port, address, () => undefined);
  }

  #onTcpConnection(socket: Socket): void {
    this.#connections.add(socket);
    socket.setTimeout(TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => this.#connections.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // RFC 1035 §4.2.2: each message is preceded by its length in two bytes. Each turn consumes
      // at least two bytes, so the loop ends with the chunk.
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        this.stats.tcpQueries += 1;
        if (this.#silent) continue;
        const reply = this.#answer(message, 'tcp');
        if (reply === null) continue;
        const frame = Buffer.alloc(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        socket.write(frame);
      }
    });
  }

  /** The reply to one message, or null when it is to be dropped. */
  #answer(message: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
    const query = parseQuery(message);
    if (query.kind === 'drop') return null;
    const base = { id: query.id, opcode: query.opcode, recursionDesired: query.recursionDesired };
    if (query.kind === 'formerr') {
      return encodeResponse({ ...base, rcode: DnsRcode.FORMERR, question: null, answers: [], truncated: false, ednsPayloadSize: null });
    }
    const { question, ednsPayloadSize } = query;
    const response: DnsResponse = {
      ...base,
      rcode: DnsRcode.NOERROR,
      question,
      answers: [],
      truncated: false,
      // RFC 6891 §7: a responder that understands EDNS0 includes an OPT record in its reply.
      ednsPayloadSize: ednsPayloadSize === null ? null : this.#maxUdpPayload,
    };
    if (query.opcode !== 0) return encodeResponse({ ...response, rcode: DnsRcode.NOTIMP });
    const failType = this.#servfail === 'A' ? DnsType.A : this.#servfail === 'AAAA' ? DnsType.AAAA : null;
    const nameFailure = this.#failingNames.get(question.key);
    if (nameFailure === 'silent') return null;
    if (this.#servfail === true || (failType !== null && question.type === failType) || nameFailure === 'servfail') {
      return encodeResponse({ ...response, rcode: DnsRcode.SERVFAIL });
    }
    const records = this.#visible(question.key);
    if (records === null) return encodeResponse({ ...response, rcode: DnsRcode.NXDOMAIN });
    const answers: DnsAnswer[] = [];
    if (question.class === DnsClass.IN || question.class === DnsClass.ANY) {
      const found = question.type === DnsType.A ? records.a : question.type === DnsType.AAAA ? records.aaaa : [];
      for (const rdata of found) answers.push({ type: question.type, ttl: records.ttl, rdata });
    }
    const limit = transport === 'tcp' ? MAX_MESSAGE_BYTES : this.#udpLimit(ednsPayloadSize);
    const emptyBytes = encodeResponse(response).length;
    const fullBytes = answers.reduce((sum, answer) => sum + answerRecordBytes(answer), emptyBytes);
    if (fullBytes <= limit) return encodeResponse({ ...response, answers });
    if (transport === 'udp') {
      // No answer section: the resolver retries over TCP (RFC 7766 §5).
      this.stats.truncated += 1;
      return encodeResponse({ ...response, truncated: true });
    }
    // Over 64 KiB (about 4,090 A or 2,340 AAAA records): no DNS message can carry it. Like CoreDNS
    // (miekg/dns Msg.Truncate), send the records that fit with TC set; c-ares takes them as the answer.
    this.stats.tcpTruncated += 1;
    let fitting = 0;
    for (let bytes = emptyBytes; fitting < answers.length; fitting += 1) {
      bytes += answerRecordBytes(answers[fitting] as DnsAnswer);
      if (bytes > limit) break;
    }
    return encodeResponse({ ...response, answers: answers.slice(0, fitting), truncated: true });
  }

  #udpLimit(ednsPayloadSize: number | null): number {
    if (ednsPayloadSize === null) return CLASSIC_UDP_PAYLOAD;
    return Math.min(this.#maxUdpPayload, Math.max(CLASSIC_UDP_PAYLOAD, ednsPayloadSize));
  }
}

function checkStaleMs(staleMs: number): void {
  if (!Number.isInteger(staleMs) || staleMs < 0 || staleMs > MAX_STALE_MS) {
    throw new LabDnsError('PODGATE_LAB_DNS_INVALID_OPTION', `invalid staleMs ${staleMs} (0 to ${MAX_STALE_MS})`);
  }
}

function isLoopback(host: string): boolean {
  return host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

function normaliseName(name: string): string {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = bare.split('.');
  // RFC 1035 §2.3.4: 63 octets a label, 255 a name on the wire (253 as text).
  if (bare.length === 0 || bare.length > 253 || labels.some((label) => label.length === 0 || label.length > 63)) {
    throw new LabDnsError('PODGATE_LAB_DNS_INVALID_NAME', `invalid DNS name ${JSON.stringify(name)}`);
  }
  return bare.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function rdataOrThrow(rdata: Buffer | null, address: string, family: string): Buffer {
  if (rdata === null) throw new LabDnsError('PODGATE_LAB_DNS_INVALID_ADDRESS', `invalid ${family} address ${address}`);
  return rdata;
}

function bindUdp(udp: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(tcp: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, host, exclusive: true }, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
}
