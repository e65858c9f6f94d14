import type { ObjectSpec } from './config-spec.js';
import { RETRY_ON_NAMES } from './failure-class.js';

// The one description of the config file: the loader checks it, docs/config.md is rendered from it,
// the admin API's body schema is built from it and the config types are derived from it (config.ts).
// A key is added here and nowhere else. Defaults follow what the seed's nginx/OpenResty setup proved
// (DESIGN.md, "The story it comes from"); the reason for each is in its doc text.
//
// Every spec is `as const satisfies ObjectSpec`: checked against the spec language, and kept literal
// so that the types can be derived from it.

const s = 1000;
const KiB = 1024;
const MiB = 1024 * KiB;

// Plain strings in the resolved type: they are compared with a request's method, which may be any token.
const HEDGE_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'POST', 'PATCH'];

/** Per-service policy: the keys of `defaults`, which every service may override key by key. */
export const policySpec = {
  kind: 'object',
  doc: 'Policy applied to every service; each key can be overridden per service.',
  fields: {
    algorithm: {
      kind: 'enum',
      values: ['round_robin', 'least_request'],
      default: 'round_robin',
      doc: 'How a peer is picked: `round_robin` (as the seed used) or `least_request` (the peer with the fewest requests in flight).',
    },
    retry: {
      kind: 'object',
      doc: 'Retrying a failed try on another peer.',
      fields: {
        tries: {
          kind: 'integer',
          min: 1,
          max: 10,
          default: 3,
          doc: "All attempts, the first included (3 = first + 2 retries), as the seed's `proxy_next_upstream_tries 3`. Keep it above the rollout's `maxUnavailable` pods.",
        },
        on: {
          kind: 'list',
          item: { kind: 'enum', values: RETRY_ON_NAMES, doc: 'A failure class.' },
          unique: true,
          default: ['error', 'timeout', 'invalid_header', 'http_502', 'http_500', 'non_idempotent'],
          doc: "Failures that may be retried once the request was sent (connect failures always are); nginx's `proxy_next_upstream` names. `non_idempotent` allows retrying POST and other unsafe methods. A list replaces the default, it does not merge.",
        },
        deadline: {
          kind: 'duration',
          out: 'deadlineMs',
          default: 30 * s,
          doc: 'No retry starts after this much time since the request arrived.',
        },
        budget: {
          kind: 'object',
          doc: 'Retry budget over a sliding 10 s window: retries after a request reached a pod stay under percent % of the requests plus minPerSecond per second, so a failing service gets at most (1 + percent/100) × its load, not tries × its load. Retries after connect failures (the pod never saw the request) are not counted.',
          fields: {
            percent: {
              kind: 'number',
              min: 0,
              max: 100,
              default: 20,
              doc: "Retries allowed as a share of the requests in the window (0-100; Finagle's default 20).",
            },
            minPerSecond: {
              kind: 'integer',
              min: 0,
              max: 1_000_000,
              default: 10,
              doc: 'Retries per second always allowed, whatever the share (so a quiet service can still retry).',
            },
          },
        },
      },
    },
    timeouts: {
      kind: 'object',
      doc: 'Upstream timeouts.',
      fields: {
        connect: {
          kind: 'duration',
          out: 'connectMs',
          default: 2 * s,
          doc: 'TCP connect to a pod. Short on purpose: a pod gone from the network (`No route to host`) costs the whole connect timeout; the seed saw 4 s average latency with 8 s.',
        },
        responseHeader: {
          kind: 'duration',
          out: 'responseHeaderMs',
          default: 10 * s,
          doc: 'From the request sent to the response header received.',
        },
        idle: { kind: 'duration', out: 'idleMs', default: 60 * s, doc: 'Longest silence while a response body streams.' },
      },
    },
    keepalive: {
      kind: 'object',
      doc: 'Upstream connection pools, one per peer.',
      fields: {
        connections: {
          kind: 'integer',
          min: 0,
          max: 100_000,
          default: 64,
          doc: "Connections per peer in its pool (0 = no limit). The seed's `keepalive 300` was per nginx worker for all peers.",
        },
        idleTimeout: {
          kind: 'duration',
          out: 'idleTimeoutMs',
          default: 30 * s,
          doc: "Idle upstream connections are closed after this; keep it below the pods' own keep-alive timeout.",
        },
      },
    },
    body: {
      kind: 'object',
      doc: 'Request bodies.',
      fields: {
        bufferSize: {
          kind: 'size',
          out: 'bufferBytes',
          default: 1 * MiB,
          doc: 'Request bodies up to this size are buffered and can be replayed on a retry; larger ones stream and are not retried once sending began. At most `maxSize`.',
        },
        maxSize: { kind: 'size', out: 'maxBytes', default: 10 * MiB, doc: 'Larger request bodies are refused with 413.' },
      },
    },
    ejection: {
      kind: 'object',
      doc: 'Passive ejection of failing peers (connect failures eject at once).',
      fields: {
        consecutive5xx: {
          kind: 'integer',
          min: 0,
          max: 1000,
          default: 5,
          doc: 'Consecutive 5xx (or response timeouts) from a peer that eject it. 0 = never.',
        },
        baseTime: {
          kind: 'duration',
          out: 'baseMs',
          default: 30 * s,
          doc: 'Ejection time is baseTime × number of ejections so far, capped at maxTime; then the peer comes back by itself.',
        },
        maxTime: { kind: 'duration', out: 'maxMs', default: 5 * 60 * s, doc: "Cap on one ejection's time. At least `baseTime`." },
        maxEjectedPercent: {
          kind: 'number',
          min: 0,
          max: 100,
          default: 50,
          doc: "At most this share of a service's peers (0-100) is ejected automatically; past it the panic rule routes to them rather than fail everything.",
        },
      },
    },
    rescue: {
      kind: 'object',
      doc: 'Finding dead pods in well under a timeout: stalled tries make podgate probe their peer; a peer that fails the probe is ejected and its stalled tries are re-sent elsewhere at once.',
      fields: {
        enabled: {
          kind: 'boolean',
          default: true,
          doc: 'Probe the peer of a stalled try (a connect, then `OPTIONS *`, which a hung process does not answer), and rescue its tries when the probe fails. A peer that passed its probe but still answers nothing is probed again one stall mark later, then after twice as long each time (by `returnProbe.path` when set).',
        },
        stallFactor: {
          kind: 'number',
          min: 2,
          max: 1000,
          default: 5,
          doc: "A try without a response header after stallFactor × the service's p99 response-header time (last 10 s) has stalled. A stall costs one probe and stops new requests to that peer until the probe passes, so this can be tight.",
        },
        minStall: { kind: 'duration', out: 'minStallMs', default: 150, doc: 'A try never counts as stalled sooner than this.' },
        probeTimeout: {
          kind: 'duration',
          out: 'probeTimeoutMs',
          default: 250,
          doc: "A probe's connect to a suspect peer must complete within this (or within 10 × the median connect time to the service's pods over the last 10 s, at least 50 ms, when that is shorter), or the peer is dead: ejected, its stalled tries rescued. Its `OPTIONS *` must then be answered within 2 × the service's p99 response time (at least 100 ms, at most `returnProbe.timeout`), or the process hangs: the same.",
        },
      },
    },
    connectHedge: {
      kind: 'object',
      doc: 'A try still waiting for its connection moves to another peer (it was never sent, so this is safe for every method) and its peer is probed.',
      fields: {
        enabled: { kind: 'boolean', default: true, doc: 'Move tries whose connection is late.' },
        factor: { kind: 'number', min: 2, max: 1000, default: 10, doc: "Late means after factor × the p99 connect time to the service's pods (last 10 s)..." },
        minDelay: { kind: 'duration', out: 'minDelayMs', default: 50, doc: '...but never sooner than this.' },
      },
    },
    hedge: {
      kind: 'object',
      doc: 'Hedged tries: a stalled try of these methods is also sent to another peer and the first answer wins.',
      fields: {
        methods: {
          kind: 'list',
          item: { kind: 'enum', values: HEDGE_METHODS, doc: 'An HTTP method.' },
          unique: true,
          default: ['GET', 'HEAD'],
          doc: 'Methods that may be sent twice at once. Add POST only when the pods can take a duplicate.',
        },
      },
    },
    returnProbe: {
      kind: 'object',
      doc: 'An automatically ejected peer returns only after a successful probe (healthy peers are never probed); a failed probe ejects it again for longer.',
      fields: {
        path: {
          kind: 'string',
          typeDoc: 'path',
          format: 'probePath',
          default: '',
          defaultDoc: 'none: a connect and `OPTIONS *`',
          doc: 'HTTP GET path whose 2xx/3xx answer passes the probe; empty for a connect and `OPTIONS *` (any status line passes: the process answers). Also asked of a peer whose stalled tries stay unanswered after it passed its probe: a process whose HTTP layer answers while its application is stuck fails it and is ejected, its tries re-sent.',
        },
        timeout: { kind: 'duration', out: 'timeoutMs', default: 1000, doc: 'A probe that takes longer fails.' },
      },
    },
    slowStart: {
      kind: 'object',
      doc: 'New and returning peers get a share of traffic that ramps up (new pods are often cold).',
      fields: {
        window: {
          kind: 'duration',
          out: 'windowMs',
          default: 0,
          allowZero: true,
          doc: 'How long the ramp from 10 % to a full share takes; 0 (the default) turns slow start off. Off by default because during a rolling update it moves load onto the old pods, the ones about to go away; turn it on for pods that need warming up. Peers present at start are not ramped.',
        },
      },
    },
  },
} as const satisfies ObjectSpec;

export const routeSpec = {
  kind: 'object',
  doc: 'A route: requests matching it go to this service. The longest matching prefix wins.',
  fields: {
    host: {
      kind: 'string',
      typeDoc: 'host name',
      format: 'routeHost',
      defaultDoc: 'any host',
      doc: 'Host header to match, without port, lower-cased. No wildcards. Omit to match any host.',
    },
    pathPrefix: {
      kind: 'string',
      typeDoc: 'path',
      format: 'pathPrefix',
      required: true,
      doc: 'Path prefix, starting with `/`.',
    },
  },
} as const satisfies ObjectSpec;

/** The keys a service has besides the policy keys it may override. */
export const serviceOwnFields = {
  dnsName: {
    kind: 'string',
    typeDoc: 'DNS name',
    format: 'dnsName',
    required: true,
    doc: "The headless Service's DNS name (e.g. `image-lobby-production.cloud.svc.cluster.local`), resolved for A and AAAA records; one peer per address.",
  },
  port: { kind: 'integer', min: 1, max: 65535, required: true, doc: 'Port the pods listen on.' },
  routes: {
    kind: 'list',
    item: routeSpec,
    nonEmpty: true,
    maxItems: 64,
    default: [{ pathPrefix: '/' }],
    defaultDoc: '`[{ pathPrefix: / }]`',
    doc: 'Which requests go to this service, at most 64. Two services may not claim the same host + pathPrefix.',
  },
} as const satisfies ObjectSpec['fields'];

export const serviceSpec = {
  kind: 'object',
  doc: 'One service: a headless Service whose pods are the peers.',
  fields: { ...serviceOwnFields, ...policySpec.fields },
} as const satisfies ObjectSpec;

/** Top-level keys except `services`, which is a map checked by resolveConfig. */
export const rootSpec = {
  kind: 'object',
  doc: 'The config file.',
  fields: {
    listen: {
      kind: 'string',
      typeDoc: '"host:port"',
      format: 'listen',
      default: '127.0.0.1:8080',
      doc: 'Where the proxy accepts client traffic: `host:port` or `[v6]:port`. Port 0 picks a free port.',
    },
    dns: {
      kind: 'object',
      doc: 'Service discovery by DNS.',
      fields: {
        nameservers: {
          kind: 'list',
          item: { kind: 'string', typeDoc: 'IP[:port]', format: 'nameserver', doc: 'A nameserver.' },
          default: [],
          defaultDoc: 'none (required when services are configured)',
          doc: 'Cluster DNS servers as `ip:port` (port 53 if omitted), tried in order. Never taken from /etc/resolv.conf: the cluster DNS must be named explicitly.',
        },
        timeout: {
          kind: 'duration',
          out: 'timeoutMs',
          default: 2 * s,
          doc: "Per-query timeout, as the seed's resolver used (c-ares doubles it on each retransmission).",
        },
        attempts: { kind: 'integer', min: 1, max: 10, default: 3, doc: 'Queries per nameserver before giving up.' },
        minRefresh: {
          kind: 'duration',
          out: 'minRefreshMs',
          default: 1 * s,
          doc: "Refresh no sooner than this after an answer, whatever its TTL, and retry a failed or empty answer this often. At most `maxRefresh`. One exception: while fewer than half of a service's pods are alive, it is re-resolved at once and then about once a second, whatever this says ([failover.md](failover.md#running-out-of-pods-re-resolve-every-second)).",
        },
        maxRefresh: {
          kind: 'duration',
          out: 'maxRefreshMs',
          default: 30 * s,
          doc: 'Refresh no later than this after an answer, whatever its TTL (the seed polled every 30 s).',
        },
        emptyGrace: {
          kind: 'duration',
          out: 'emptyGraceMs',
          default: 30 * s,
          allowZero: true,
          doc: 'How long an NXDOMAIN or empty answer keeps the last known good set before the service empties (0 = at once).',
        },
        jitter: {
          kind: 'number',
          min: 0,
          max: 1,
          default: 0.1,
          doc: 'Random extra delay per refresh, as a share of the interval (0.1 = up to +10 %), so services do not refresh in lockstep. Taken off instead of added where adding it would pass `maxRefresh`.',
        },
      },
    },
    client: {
      kind: 'object',
      doc: 'Limits on client connections (the downstream side).',
      fields: {
        headerTimeout: {
          kind: 'duration',
          out: 'headerTimeoutMs',
          default: 10 * s,
          doc: 'Time allowed for a client to send the whole request header (slowloris guard).',
        },
        requestTimeout: {
          kind: 'duration',
          out: 'requestTimeoutMs',
          default: 60 * s,
          doc: 'Time allowed for a client to send the whole request, body included.',
        },
        keepAliveTimeout: {
          kind: 'duration',
          out: 'keepAliveTimeoutMs',
          default: 65 * s,
          doc: 'Idle keep-alive client connections are closed after this; above the 60 s idle timeout of common load balancers in front, so they close first.',
        },
        maxHeaderSize: {
          kind: 'size',
          out: 'maxHeaderBytes',
          min: 1 * KiB,
          default: 16 * KiB,
          doc: "Largest request header block accepted; larger gets 431. Node's default is 16 KiB.",
        },
      },
    },
    front: {
      kind: 'enum',
      values: ['auto', 'native', 'node'],
      default: 'auto',
      doc: "The HTTP/1.1 server that reads client requests ([http-front.md](http-front.md#which-front-serves)): `native`, podgate's own on node's internal parser (fastest); `node`, node:http's server; `auto`, native when the parser passes podgate's start-up self-test, else node (with a warning saying why). `native` with a parser that fails it stops podgate from starting.",
    },
    log: {
      kind: 'object',
      doc: 'Logging.',
      fields: {
        level: {
          kind: 'enum',
          values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          doc: 'Least severe level written.',
        },
        access: { kind: 'boolean', default: true, doc: 'Write one access line per request.' },
      },
    },
    workers: {
      kind: 'string',
      typeDoc: 'auto | integer 1-64',
      format: 'workers',
      acceptNumber: true,
      default: 'auto',
      doc: 'Data-plane processes sharing the proxy port (node:cluster). `auto` = one per core; `1` runs everything in one process. The primary process (discovery, peer tables, admin API) comes on top.',
    },
    stateDir: {
      kind: 'string',
      typeDoc: 'path',
      format: 'nonEmpty',
      default: '.podgate',
      doc: 'Where runtime changes (services added and peers drained or ejected through the API) and the generated admin token are kept, relative to the working directory unless absolute. Created with mode 0700.',
    },
    admin: {
      kind: 'object',
      doc: 'The admin API, live feed and metrics.',
      fields: {
        listen: {
          kind: 'string',
          typeDoc: '"host:port"',
          format: 'listen',
          default: '127.0.0.1:9901',
          doc: 'Where the admin API listens. A non-loopback address is refused (podgate does not start) unless tokens are configured, in `tokens` or the environment: podgate never generates a token for an admin API the network can reach.',
        },
        tokens: {
          kind: 'list',
          item: {
            kind: 'object',
            doc: 'A bearer token.',
            fields: {
              name: { kind: 'string', typeDoc: 'string', format: 'nonEmpty', required: true, doc: 'Who uses it: shown as the actor of their actions.' },
              token: { kind: 'string', typeDoc: 'string', format: 'token', required: true, doc: 'The secret, 16-256 printable characters.' },
              role: {
                kind: 'enum',
                values: ['viewer', 'operator'],
                required: true,
                doc: '`viewer` reads and watches; `operator` also adds and removes services and drains, ejects and restores peers.',
              },
            },
          },
          default: [],
          defaultDoc:
            'none: PODGATE_OPERATOR_TOKEN / PODGATE_VIEWER_TOKEN from the environment, else one operator token generated on first start and kept in stateDir/admin-token',
          doc: 'Bearer tokens for the admin API.',
        },
        allowedOrigins: {
          kind: 'list',
          item: { kind: 'string', typeDoc: 'origin', format: 'origin', doc: 'An origin.' },
          default: [],
          doc: "Browser origins (besides the admin address itself) allowed to open the live feed. The admin address itself is `http://` with `listen`'s host (on loopback also `localhost`, `127.0.0.1` and `[::1]`) or the IP address a browser connected to, and `listen`'s port; a name that merely resolves to it is not, so list the name you open the dashboard by when it is not `listen`'s host, and any origin behind a proxy or port mapping.",
        },
        feed: {
          kind: 'object',
          doc: "Limits on live feed (WebSocket) connections: each may hold up to 1 MiB of unsent messages, so these bound the feed's memory. A connection over a limit is closed at once with code 1013 (try again later) and a reason naming the limit; the dashboard shows it.",
          fields: {
            maxConnections: {
              kind: 'integer',
              min: 1,
              max: 100_000,
              default: 64,
              doc: 'Open feed connections, all tokens together: one per dashboard tab. 64 tabs are more than a team watches at once, and bound the send buffers to about 64 MiB.',
            },
            maxConnectionsPerToken: {
              kind: 'integer',
              min: 1,
              max: 100_000,
              default: 16,
              doc: 'Open feed connections per token (tokens with the same name count together). 16 tabs are plenty for one person; a leaked or looping client then holds at most 16 MiB and leaves room for the others. Raise it when many people share one token.',
            },
          },
        },
      },
    },
    fleet: {
      kind: 'object',
      doc: "Several podgate instances acting as one through a Redis ([fleet.md](fleet.md)): services added or removed and peers drained, ejected or restored through any of them, and the ejections each one's traffic finds, reach the others. Without `redis` the instance is on its own.",
      fields: {
        redis: {
          kind: 'string',
          typeDoc: '"redis://host:port/db" or "rediss://…"',
          format: 'redisUrl',
          default: '',
          defaultDoc: 'none: no fleet',
          doc: "The fleet's Redis. A password goes in the URL (`redis://:secret@host:6379/0`); podgate never logs it. When Redis is away the instance keeps serving from what it knows and refuses operator changes (503) until it is back.",
        },
        name: {
          kind: 'string',
          typeDoc: 'string',
          format: 'fleetName',
          default: 'podgate',
          doc: 'The fleet: instances with the same Redis and name act as one; every key is under `podgate:<name>:`.',
        },
      },
    },
    defaults: policySpec,
  },
} as const satisfies ObjectSpec;
