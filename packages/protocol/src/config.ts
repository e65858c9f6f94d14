import type { RetryOn } from './failure-class.js';
import type { BalancingAlgorithm } from './peer-state.js';

/**
 * The resolved configuration: what the config loader produces after validation, with every default
 * filled in and every duration in milliseconds, every size in bytes. The YAML file's keys and their
 * documentation live in apps/podgate (the schema); this is the shape the rest of the code trusts.
 */
export interface PodgateConfig {
  /** Where the proxy accepts client traffic. */
  listen: { host: string; port: number };
  dns: DnsConfig;
  /** Limits on client connections (the downstream side). */
  client: ClientLimits;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; access: boolean };
  services: ServiceConfig[];
  /** Data-plane worker processes; 1 = everything in one process. */
  workers: number;
  /** Where runtime changes and the generated admin token are kept. */
  stateDir: string;
  admin: AdminConfig;
}

export interface AdminConfig {
  listen: { host: string; port: number };
  tokens: { name: string; token: string; role: 'viewer' | 'operator' }[];
  allowedOrigins: string[];
  /** Limits on live feed (WebSocket) connections; one over a limit is closed with 1013 and a reason naming it. */
  feed: { maxConnections: number; maxConnectionsPerToken: number };
}

export interface DnsConfig {
  /** `host:port` of each nameserver, tried in order. */
  nameservers: string[];
  /** Per-query timeout (c-ares doubles it on each retransmission). */
  timeoutMs: number;
  /** Queries per nameserver before giving up. */
  attempts: number;
  /** Refresh no sooner than this after an answer, whatever its TTL. */
  minRefreshMs: number;
  /** Refresh no later than this after an answer, whatever its TTL. */
  maxRefreshMs: number;
  /** How long an NXDOMAIN or empty answer keeps the last known good set before the service empties. */
  emptyGraceMs: number;
  /** Random extra delay per refresh, as a share of the interval (0.1 = up to +10 %). */
  jitter: number;
}

export interface ClientLimits {
  /** Time allowed for a client to send the whole request header (slowloris guard). */
  headerTimeoutMs: number;
  /** Time allowed for a client to send the whole request, body included. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections from clients are closed after this. */
  keepAliveTimeoutMs: number;
  /** Largest request header block accepted (bytes); larger gets 431. */
  maxHeaderBytes: number;
}

export interface RouteConfig {
  /** Host header to match (without port), or undefined for any host. Lower case. */
  host?: string;
  /** Path prefix, starts with `/`. The longest matching prefix wins. */
  pathPrefix: string;
}

export interface ServiceConfig {
  /** Service name: RFC 1123 label, unique. */
  name: string;
  /** The headless Service's DNS name, resolved for A and AAAA records. */
  dnsName: string;
  /** Port the pods listen on. */
  port: number;
  routes: RouteConfig[];
  algorithm: BalancingAlgorithm;
  retry: RetryConfig;
  timeouts: {
    /** TCP connect to a pod. */
    connectMs: number;
    /** From the request sent to the response header received. */
    responseHeaderMs: number;
    /** Longest silence while a response body streams. */
    idleMs: number;
  };
  keepalive: {
    /** Connections per peer in its pool (0 = no limit). */
    connections: number;
    /** Idle upstream connections are closed after this. */
    idleTimeoutMs: number;
  };
  body: {
    /** Request bodies up to this size are buffered and can be replayed on a retry. */
    bufferBytes: number;
    /** Larger request bodies are refused with 413. */
    maxBytes: number;
  };
  ejection: {
    /** Consecutive 5xx (or response timeouts) from a peer that eject it. 0 = never. */
    consecutive5xx: number;
    /** Ejection time is base × number of ejections so far, capped at max. */
    baseMs: number;
    maxMs: number;
    /** At most this share of peers (0-100) is ejected automatically; past it the panic rule routes to them. */
    maxEjectedPercent: number;
  };
  /** Stalled tries make podgate probe their peer; a dead peer's stalled tries are re-sent at once. */
  rescue: { enabled: boolean; stallFactor: number; minStallMs: number; probeTimeoutMs: number };
  /** Tries whose connection is late move to another peer. */
  connectHedge: { enabled: boolean; factor: number; minDelayMs: number };
  /** Methods whose stalled tries are also sent to another peer (first answer wins). */
  hedge: { methods: string[] };
  /** Ejected peers return after a successful probe: HTTP GET `path`, or a TCP connect when empty. */
  returnProbe: { path: string; timeoutMs: number };
  /** New and returning peers ramp from 10 % to a full share over this window (0 = off). */
  slowStart: { windowMs: number };
}

export interface RetryConfig {
  /** All attempts, the first included (3 = first + 2 retries). */
  tries: number;
  /** Which failures may be retried once the request was sent (connect failures always are). */
  on: RetryOn[];
  /** No retry starts after this much time since the request arrived. */
  deadlineMs: number;
  /**
   * Retries after the request reached a pod, per service over a sliding 10 s window, stay under
   * percent % of the requests plus minPerSecond per second. Connect failures are not counted.
   */
  budget: { percent: number; minPerSecond: number };
}
